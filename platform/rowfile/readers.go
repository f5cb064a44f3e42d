package rowfile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CSV reads a CSV file row by row, after its header.
type CSV struct {
	r *csv.Reader
	// Header is the file's first row as written; Sep the separator
	// guessed from it.
	Header []string
	Sep    rune
}

// OpenCSV opens a CSV file of what (see Open) and reads its header. The
// separator is the one the header line holds most of: ',', ';' (a French
// spreadsheet's) or a tab. An empty file or a malformed header is a
// RowError of line 1.
func OpenCSV(in io.Reader, what string) (*CSV, error) {
	br := Open(in, what)
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
	return &CSV{r: r, Header: append([]string(nil), head...), Sep: sep}, nil
}

// Next reads a row: its fields (valid until the next call) and its line.
// It returns io.EOF at the end, and a RowError naming the line for a
// malformed row or one whose field count is not the header's.
func (c *CSV) Next() (fields []string, line int64, err error) {
	fields, err = c.r.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, err
		}
		return nil, 0, csvError(err)
	}
	l, _ := c.r.FieldPos(0)
	if len(fields) != len(c.Header) {
		return nil, int64(l), RowError{Line: int64(l), Msg: fmt.Sprintf("%d fields, the header has %d", len(fields), len(c.Header))}
	}
	return fields, int64(l), nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return RowError{Line: int64(pe.Line), Column: fmt.Sprintf("#%d", pe.Column), Msg: "malformed CSV: " + pe.Err.Error()}
	}
	var re RowError
	if errors.As(err, &re) {
		return re
	}
	return err
}

// JSON reads a JSON file of objects: one array of them, or one per line
// (NDJSON). An object's "line" is its position, from 1.
type JSON struct {
	dec   *json.Decoder
	array bool
	n     int64
	// Malformed is the message of an object that does not decode, with
	// the byte and the decoder's error (default "malformed JSON at byte
	// %d: %v").
	Malformed string
}

// OpenJSON opens a JSON file of what (see Open); numbers decode as
// json.Number. An empty file is a RowError of line 1.
func OpenJSON(in io.Reader, what string) (*JSON, error) {
	br := Open(in, what)
	dec := json.NewDecoder(br)
	dec.UseNumber()
	j := &JSON{dec: dec, Malformed: "malformed JSON at byte %d: %v"}
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

// Next decodes the next object into v and returns its line; io.EOF at
// the end. An object that does not decode is a RowError saying where: a
// file cut short names the byte where its last object starts.
func (j *JSON) Next(v any) (line int64, err error) {
	if j.array && !j.dec.More() {
		return 0, io.EOF
	}
	j.n++
	if err := j.dec.Decode(v); err != nil {
		if err == io.EOF && !j.array {
			return 0, io.EOF
		}
		var re RowError
		if errors.As(err, &re) {
			return j.n, re
		}
		at, cut := JSONErrorAt(err, j.dec.InputOffset())
		if cut {
			return j.n, RowError{Line: j.n, Msg: fmt.Sprintf("the file ends inside the object that starts at byte %d: is it complete?", at)}
		}
		return j.n, RowError{Line: j.n, Msg: fmt.Sprintf(j.Malformed, at, err)}
	}
	return j.n, nil
}
