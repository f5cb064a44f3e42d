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
