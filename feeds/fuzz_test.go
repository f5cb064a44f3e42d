package feeds

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
)

// FuzzWriters feeds arbitrary product text to every writer and checks that
// the output always parses back to the cleaned text.
func FuzzWriters(f *testing.F) {
	for _, s := range []string{"Chaise", `a"b;c,d`, "<script>&amp;</script>", "tab\there\nnewline", "\x00\x01\x1f bell\x07", "été ☀️", "\xff\xfe bad utf8", "]]>"} {
		f.Add(s, s+" desc")
	}
	f.Fuzz(func(t *testing.T, title, desc string) {
		p := &catalog.Product{SKU: "Z-1", Title: title, Description: desc, Link: "https://shop.example/z", ImageLink: "https://cdn.example/z.jpg",
			Price: 1000, Currency: "EUR", Availability: "in_stock", Condition: "new", Brand: "B"}
		for _, format := range []string{GoogleXML, GoogleTSV, IdealoCSV} {
			fd := &Feed{Name: "z", Format: format, TitleTemplate: "{title}", Currency: "EUR"}
			var it Item
			newBuilder(fd, landing.NewIndex(nil), time.Now()).build(p, &it, nil)
			var buf bytes.Buffer
			if err := writeHead(fd, &buf, "z", "https://rampe.example"); err != nil {
				t.Fatal(err)
			}
			enc, err := newEncoder(fd, &buf)
			if err != nil {
				t.Fatal(err)
			}
			if err := enc.Item(&it); err != nil {
				t.Fatal(err)
			}
			if err := enc.Close(); err != nil {
				t.Fatal(err)
			}
			buf.WriteString(tail(fd))
			wantTitle, wantDesc := it.Values[AttrTitle], it.Values[AttrDescription]
			switch format {
			case GoogleXML:
				var doc struct {
					Items []struct {
						Title string `xml:"http://base.google.com/ns/1.0 title"`
						Desc  string `xml:"http://base.google.com/ns/1.0 description"`
					} `xml:"channel>item"`
				}
				if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
					t.Fatalf("XML does not parse for %q: %v", title, err)
				}
				// XML normalises \\r\\n and lone \\r to \\n when parsing.
				norm := strings.NewReplacer("\r\n", "\n", "\r", "\n")
				if len(doc.Items) != 1 || doc.Items[0].Title != norm.Replace(wantTitle) || doc.Items[0].Desc != norm.Replace(wantDesc) {
					t.Fatalf("XML round trip: %+v, want %q / %q", doc.Items, wantTitle, wantDesc)
				}
			case GoogleTSV:
				lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
				if len(lines) != 2 || strings.Count(lines[1], "\t") != len(googleOrder)-1 {
					t.Fatalf("TSV broke into %d lines for %q", len(lines), title)
				}
			case IdealoCSV:
				r := csv.NewReader(&buf)
				r.Comma = ';'
				rows, err := r.ReadAll()
				if err != nil || len(rows) != 2 {
					t.Fatalf("CSV does not parse for %q: %v", title, err)
				}
				if strings.ReplaceAll(rows[1][1], "\r\n", "\n") != strings.ReplaceAll(wantTitle, "\r\n", "\n") {
					t.Fatalf("CSV title %q, want %q", rows[1][1], wantTitle)
				}
			}
		}
	})
}

// FuzzEscapeXML holds escapeXML to encoding/xml.EscapeText's bytes.
func FuzzEscapeXML(f *testing.F) {
	for _, s := range []string{"", "plain", `<a href="x">&'</a>`, "tab\tnl\ncr\r", "\x00\x01\x7f", "été ☀️ \ufffe \uffff", "\xff\xfe", "\xed\xa0\x80 surrogate", "a\u2028b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want, got bytes.Buffer
		xml.EscapeText(&want, []byte(s))
		w := bufio.NewWriter(&got)
		escapeXML(w, s)
		w.Flush()
		if got.String() != want.String() {
			t.Fatalf("escapeXML(%q) = %q, encoding/xml writes %q", s, got.String(), want.String())
		}
	})
}
