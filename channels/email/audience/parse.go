package audience

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
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
	r      *csv.Reader
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
	br := rowfile.Open(in, "file of contacts")
	peek, _ := br.Peek(4096)
	first := string(peek)
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	sep := ','
	if strings.Count(first, ";") > strings.Count(first, ",") {
		sep = ';'
	}
	if strings.Count(first, "\t") > strings.Count(first, string(sep)) {
		sep = '\t'
	}
	r := csv.NewReader(br)
	r.Comma, r.FieldsPerRecord, r.ReuseRecord = sep, -1, true
	head, err := r.Read()
	if err == io.EOF {
		return nil, RowError{Line: 1, Msg: "the file is empty"}
	}
	if err != nil {
		return nil, csvError(err)
	}
	c := &csvReader{r: r, header: make([]string, len(head))}
	seen := map[string]bool{}
	for i, h := range head {
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
		return nil, RowError{Line: 1, Column: "email", Msg: fmt.Sprintf("missing column \"email\" (header: %s)", strings.Join(head, string(sep)))}
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

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return RowError{Line: int64(pe.Line), Column: fmt.Sprintf("#%d", pe.Column), Msg: "malformed CSV: " + pe.Err.Error()}
	}
	return err
}

func (c *csvReader) next() (record, error) {
	fields, err := c.r.Read()
	if err != nil {
		if err == io.EOF {
			return record{}, err
		}
		return record{}, csvError(err)
	}
	line, _ := c.r.FieldPos(0)
	rec := record{line: int64(line), values: map[string]string{}, attrs: map[string]string{}}
	if len(fields) != len(c.header) {
		return rec, RowError{Line: rec.line, Msg: fmt.Sprintf("%d fields, the header has %d", len(fields), len(c.header))}
	}
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
type jsonReader struct {
	dec   *json.Decoder
	array bool
	n     int64
}

func newJSONReader(in io.Reader) (*jsonReader, error) {
	br := rowfile.Open(in, "file of contacts")
	dec := json.NewDecoder(br)
	dec.UseNumber()
	j := &jsonReader{dec: dec}
	b, _ := br.Peek(64)
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 {
		return nil, RowError{Line: 1, Msg: "the file is empty"}
	}
	if t[0] == '[' {
		if _, err := dec.Token(); err != nil {
			return nil, RowError{Line: 1, Msg: "malformed JSON: " + err.Error()}
		}
		j.array = true
	}
	return j, nil
}

func (j *jsonReader) next() (record, error) {
	if j.array && !j.dec.More() {
		return record{}, io.EOF
	}
	j.n++
	var obj map[string]json.RawMessage
	if err := j.dec.Decode(&obj); err != nil {
		if err == io.EOF && !j.array {
			return record{}, io.EOF
		}
		var re RowError
		if errors.As(err, &re) {
			return record{}, re
		}
		at, cut := rowfile.JSONErrorAt(err, j.dec.InputOffset())
		if cut {
			return record{}, RowError{Line: j.n, Msg: fmt.Sprintf("the file ends inside the object that starts at byte %d: is it complete?", at)}
		}
		return record{}, RowError{Line: j.n, Msg: fmt.Sprintf("malformed JSON at byte %d: %v (want an object per contact)", at, err)}
	}
	rec := record{line: j.n, values: map[string]string{}, attrs: map[string]string{}}
	for k, raw := range obj {
		if strings.EqualFold(k, "attributes") {
			var attrs map[string]*string
			if err := json.Unmarshal(raw, &attrs); err != nil {
				return rec, RowError{Line: j.n, Column: k, Value: truncate(string(raw), 200), Msg: "want an object of strings"}
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
			return rec, RowError{Line: j.n, Column: k, Msg: "unknown field, and not a valid attribute name"}
		}
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			return rec, RowError{Line: j.n, Column: k, Value: truncate(string(raw), 200), Msg: "want a string"}
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
