package audience

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rampe/rampe/platform/rowfile"
)

// MaxLineBytes bounds one line of an imported file, so that a file with
// no line breaks is never read into memory whole.
const MaxLineBytes = rowfile.MaxLineBytes

// RowError is one problem of an imported row, named by line and column.
type RowError = rowfile.RowError

// columns maps header names, lower-cased, to contact fields; any other
// column is a custom attribute (an "attr." or "attributes." prefix is
// dropped).
var columns = map[string]string{
	"email": "email", "e-mail": "email", "mail": "email", "email_address": "email", "emailaddress": "email", "courriel": "email",
	"name": "name", "full_name": "name", "fullname": "name", "nom": "name",
	"first_name": "first_name", "firstname": "first_name", "given_name": "first_name", "prenom": "first_name", "prénom": "first_name",
	"last_name": "last_name", "lastname": "last_name", "family_name": "last_name", "surname": "last_name",
	"locale": "locale", "language": "locale", "lang": "locale", "langue": "locale",
	"country": "country", "country_code": "country", "pays": "country",
	"time_zone": "time_zone", "timezone": "time_zone", "tz": "time_zone",
	"status": "status", "consent": "status",
}

type record struct {
	line   int64
	values map[string]string // contact fields
	attrs  map[string]string // custom attributes
}

type reader interface {
	next() (record, error) // io.EOF at the end
}

type csvReader struct {
	f      *rowfile.CSV
	header []string // field per column; "attr:NAME" for an attribute
}

func column(h string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(h))
	if f, ok := columns[name]; ok {
		return f, nil
	}
	name = strings.TrimPrefix(strings.TrimPrefix(name, "attributes."), "attr.")
	n, err := AttrName(name)
	if err != nil {
		return "", err
	}
	return "attr:" + n, nil
}

func newCSVReader(in io.Reader) (*csvReader, error) {
	f, err := rowfile.OpenCSV(in, "file of contacts")
	if err != nil {
		return nil, err
	}
	c := &csvReader{f: f, header: make([]string, len(f.Header))}
	seen := map[string]bool{}
	for i, h := range f.Header {
		f, err := column(h)
		if err != nil {
			return nil, RowError{Line: 1, Column: h, Value: h, Msg: "unknown column, and not a valid attribute name: " + err.Error()}
		}
		if seen[f] {
			return nil, RowError{Line: 1, Column: h, Value: h, Msg: "a second column for " + strings.TrimPrefix(f, "attr:")}
		}
		seen[f], c.header[i] = true, f
	}
	if !seen["email"] {
		return nil, RowError{Line: 1, Column: "email", Msg: fmt.Sprintf("missing column \"email\" (header: %s)", strings.Join(f.Header, string(f.Sep)))}
	}
	attrs := 0
	for _, f := range c.header {
		if strings.HasPrefix(f, "attr:") {
			attrs++
		}
	}
	if attrs > MaxAttrs {
		return nil, RowError{Line: 1, Msg: fmt.Sprintf("%d attribute columns; at most %d", attrs, MaxAttrs)}
	}
	return c, nil
}

func (c *csvReader) next() (record, error) {
	fields, line, err := c.f.Next()
	if err != nil {
		return record{line: line}, err
	}
	rec := record{line: line, values: map[string]string{}, attrs: map[string]string{}}
	for i, f := range fields {
		if a, ok := strings.CutPrefix(c.header[i], "attr:"); ok {
			rec.attrs[a] = f
		} else {
			rec.values[c.header[i]] = f
		}
	}
	return rec, nil
}

// jsonReader reads an array of objects or one object per line (NDJSON):
// the fields by name, custom attributes in an "attributes" object of
// strings.
type jsonReader struct{ f *rowfile.JSON }

func newJSONReader(in io.Reader) (*jsonReader, error) {
	f, err := rowfile.OpenJSON(in, "file of contacts")
	if err != nil {
		return nil, err
	}
	f.Malformed = "malformed JSON at byte %d: %v (want an object per contact)"
	return &jsonReader{f: f}, nil
}

func (j *jsonReader) next() (record, error) {
	var obj map[string]json.RawMessage
	n, err := j.f.Next(&obj)
	if err != nil {
		return record{line: n}, err
	}
	rec := record{line: n, values: map[string]string{}, attrs: map[string]string{}}
	for k, raw := range obj {
		if strings.EqualFold(k, "attributes") {
			var attrs map[string]*string
			if err := json.Unmarshal(raw, &attrs); err != nil {
				return rec, RowError{Line: n, Column: k, Value: truncate(string(raw), 200), Msg: "want an object of strings"}
			}
			for a, v := range attrs {
				if v != nil {
					rec.attrs[a] = *v
				}
			}
			continue
		}
		f, err := column(k)
		if err != nil {
			return rec, RowError{Line: n, Column: k, Msg: "unknown field, and not a valid attribute name"}
		}
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			return rec, RowError{Line: n, Column: k, Value: truncate(string(raw), 200), Msg: "want a string"}
		}
		if v == nil {
			continue
		}
		if a, ok := strings.CutPrefix(f, "attr:"); ok {
			rec.attrs[a] = *v
		} else {
			rec.values[f] = *v
		}
	}
	return rec, nil
}

// toInput turns a record into a contact input; first and last names make
// the name when there is no name column.
func (r record) toInput() Input {
	v := r.values
	name := v["name"]
	if strings.TrimSpace(name) == "" {
		name = strings.TrimSpace(strings.TrimSpace(v["first_name"]) + " " + strings.TrimSpace(v["last_name"]))
	}
	return Input{Email: v["email"], Name: name, Locale: v["locale"], Country: v["country"], TimeZone: v["time_zone"], Status: v["status"], Attributes: r.attrs}
}
