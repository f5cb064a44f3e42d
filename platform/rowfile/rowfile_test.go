package rowfile

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestOpenSkipsTheBOMAndRefusesEndlessLines(t *testing.T) {
	b, err := io.ReadAll(Open(strings.NewReader("\uFEFFsku,title\nA,Chaise\n"), "catalog"))
	if err != nil || string(b) != "sku,title\nA,Chaise\n" {
		t.Fatalf("%q %v", b, err)
	}
	_, err = io.ReadAll(Open(strings.NewReader("ok\n"+strings.Repeat("x", MaxLineBytes+1)), "file of contacts"))
	var re RowError
	if !errors.As(err, &re) || re.Line != 2 || !strings.Contains(err.Error(), "CSV or JSON file of contacts") {
		t.Fatalf("%v", err)
	}
}

func TestRowErrorNamesLineColumnAndAShortValue(t *testing.T) {
	e := RowError{Line: 7, Column: "price", Value: strings.Repeat("é", 70), Msg: "not a number"}
	if got := e.Error(); !strings.HasPrefix(got, `line 7, column price, value "`+strings.Repeat("é", 60)+`…": not a number`) {
		t.Fatal(got)
	}
	if got := (RowError{Line: 3, Msg: "bad"}).Error(); got != "line 3: bad" {
		t.Fatal(got)
	}
	for name, want := range map[string]string{"a.JSONL": "json", "b.ndjson": "json", "c.tsv": "csv", "d": "csv"} {
		if FormatFor(name) != want {
			t.Errorf("%s", name)
		}
	}
}

func TestJSONErrorAtNamesWhereTheFileIsCutShort(t *testing.T) {
	for _, tc := range []struct {
		in  string
		at  int64
		cut bool
	}{
		{`[{"a":1},{"a":`, 9, true},      // cut short: where the last object starts
		{`[{"a":1},{"a" 2}]`, 13, false}, // syntax: the bytes read before the fault
		{`[{"a":1},["x"]]`, 14, false},   // wrong type: the decoder's position
	} {
		dec := json.NewDecoder(strings.NewReader(tc.in))
		dec.Token()
		var err error
		for err == nil {
			var m map[string]any
			err = dec.Decode(&m)
		}
		at, cut := JSONErrorAt(err, dec.InputOffset())
		if at != tc.at || cut != tc.cut {
			t.Errorf("%s: at %d cut %v (err %v), want at %d cut %v", tc.in, at, cut, err, tc.at, tc.cut)
		}
	}
}

func TestOpenCSVGuessesTheSeparatorAndNamesBadRows(t *testing.T) {
	for in, sep := range map[string]rune{
		"sku,title\nA,Chaise\n":            ',',
		"sku;titre;prix\nA;Chaise;19,90\n": ';', // a French spreadsheet's export
		"sku\ttitle\nA\tChaise\n":          '\t',
	} {
		c, err := OpenCSV(strings.NewReader(in), "catalog")
		if err != nil || c.Sep != sep {
			t.Fatalf("%q: sep %q, %v", in, c.Sep, err)
		}
		fields, line, err := c.Next()
		if err != nil || line != 2 || fields[0] != "A" || fields[len(fields)-1] == "" {
			t.Fatalf("%q: %q line %d %v", in, fields, line, err)
		}
		if _, _, err := c.Next(); err != io.EOF {
			t.Fatalf("%q: want EOF, got %v", in, err)
		}
	}
	if _, err := OpenCSV(strings.NewReader(""), "catalog"); err == nil || err.Error() != "line 1: the file is empty" {
		t.Fatalf("empty: %v", err)
	}
	c, _ := OpenCSV(strings.NewReader("a,b\n1,2\n3\n\"4,5\n"), "catalog")
	c.Next()
	if _, _, err := c.Next(); err == nil || err.Error() != "line 3: 1 fields, the header has 2" {
		t.Fatalf("short row: %v", err)
	}
	if _, _, err := c.Next(); err == nil || !strings.HasPrefix(err.Error(), "line 4, column #") || !strings.Contains(err.Error(), "malformed CSV") {
		t.Fatalf("broken quote: %v", err)
	}
}

func TestOpenJSONReadsArraysAndLinesAndRefusesEmpty(t *testing.T) {
	for _, in := range []string{`[{"a":"1"},{"a":"2"}]`, "{\"a\":\"1\"}\n{\"a\":\"2\"}\n"} {
		j, err := OpenJSON(strings.NewReader(in), "catalog")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			var m map[string]string
			n, err := j.Next(&m)
			if err == io.EOF {
				break
			}
			if err != nil || n != int64(len(got)+1) {
				t.Fatalf("%q: object %d: %v", in, n, err)
			}
			got = append(got, m["a"])
		}
		if strings.Join(got, ",") != "1,2" {
			t.Fatalf("%q: %v", in, got)
		}
	}
	if _, err := OpenJSON(strings.NewReader(" \n"), "catalog"); err == nil || err.Error() != "line 1: the file is empty" {
		t.Fatalf("empty: %v", err)
	}
}
