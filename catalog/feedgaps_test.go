package catalog

import (
	"context"
	"strings"
	"testing"

	"github.com/rampe/rampe/platform/i18n"
)

const gapsCSV = "sku;title;price;brand;gtin;description;link;image_link\n" +
	"G-1;Complet;10;Lumen;4006381333931;Une bougie;https://shop.example/1;https://cdn.example/1.jpg\n" +
	"G-2;Sans description;10;Lumen;4006381333931;;https://shop.example/2;https://cdn.example/2.jpg\n" +
	"G-3;Sans rien;0;Lumen;;;;\n" +
	"G-4;Sans description ni GTIN;10;Lumen;;;https://shop.example/4;https://cdn.example/4.jpg\n" +
	"G-5;Sans description;10;;;;https://shop.example/5;https://cdn.example/5.jpg\n" +
	"G-6;Sans description;10;;;;https://shop.example/6;https://cdn.example/6.jpg\n"

func gapOf(r FeedGapReport, g FeedGap) FeedGapCount {
	for _, c := range r.Gaps {
		if c.Gap == g {
			return c
		}
	}
	return FeedGapCount{}
}

// An import keeps the products the feeds will leave out, and counts them
// as it reads: by missing value, naming the first three SKUs; the import's
// record keeps the report for its page, in French and English.
func TestImportCountsWhatTheFeedsRequire(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	imp, err := s.StartImport(ctx, "gaps.csv", "csv", int64(len(gapsCSV)), false, "ana")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.RunImport(ctx, imp, strings.NewReader(gapsCSV), Options{})
	if err != nil || res.Imported != 6 {
		t.Fatalf("import: %+v %v", res, err)
	}
	r := res.FeedGaps
	if r.LeftOut != 5 {
		t.Errorf("left out: %d, want 5", r.LeftOut)
	}
	if d := gapOf(r, GapDescription); d.Count != 5 || strings.Join(d.SKUs, " ") != "G-2 G-3 G-4" {
		t.Errorf("description: %+v", d)
	}
	for g, want := range map[FeedGap]string{GapLink: "G-3", GapImage: "G-3", GapPrice: "G-3", GapIdentifiers: "G-3 G-4"} {
		if c := gapOf(r, g); strings.Join(c.SKUs, " ") != want || c.Count != int64(len(c.SKUs)) {
			t.Errorf("gap %b: %+v, want %s", g, c, want)
		}
	}
	stored, err := s.GetImport(ctx, imp.ID)
	if err != nil || len(stored.FeedGaps.Gaps) != 5 || stored.FeedGaps.LeftOut != 5 {
		t.Fatalf("stored report: %+v %v", stored.FeedGaps, err)
	}
	en, fr := i18n.Text(i18n.EN, stored.FeedGaps.Lines()[1]), i18n.Text(i18n.FR, stored.FeedGaps.Lines()[1])
	if en != "5 without description (G-2, G-3, G-4…): left out of the Google and generic feeds" ||
		fr != "5 sans description (G-2, G-3, G-4…) : écartés des flux Google et génériques" {
		t.Errorf("description line: %q / %q", en, fr)
	}
	if title := stored.FeedGaps.Title(); i18n.Text(i18n.FR, title) != "5 produits importés n'ont pas ce que les flux comparateurs exigent :" {
		t.Errorf("title: %q", i18n.Text(i18n.FR, title))
	}
	// A complete catalog says nothing.
	res, err = s.Import(ctx, strings.NewReader("sku;title;price;gtin;description;link;image_link\nG-1;Complet;10;4006381333931;Une bougie;https://shop.example/1;https://cdn.example/1.jpg\n"), Options{})
	if err != nil || res.FeedGaps.Title() != nil || len(res.FeedGaps.Gaps) != 0 {
		t.Fatalf("complete: %+v %v", res.FeedGaps, err)
	}
}

// A duplicate SKU dropped by an import that skips invalid rows is not
// counted: the report is what was imported.
func TestFeedGapsLeaveOutDroppedDuplicates(t *testing.T) {
	s := newStore(t)
	body := "sku;title;price;description;link;image_link\n" +
		"D-1;Chaise;10;Une chaise;https://shop.example/1;https://cdn.example/1.jpg\n" +
		"D-2;Table;10;;https://shop.example/2;https://cdn.example/2.jpg\n" +
		"D-1;Chaise bis;10;;https://shop.example/1;\n" +
		"D-3;Lampe;10;;https://shop.example/3;https://cdn.example/3.jpg\n"
	res, err := s.Import(context.Background(), strings.NewReader(body), Options{SkipInvalid: true})
	if err != nil || res.Imported != 3 || res.Invalid != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	r := res.FeedGaps
	if d := gapOf(r, GapDescription); r.LeftOut != 2 || len(r.Gaps) != 1 || d.Count != 2 || strings.Join(d.SKUs, " ") != "D-2 D-3" {
		t.Fatalf("report: %+v", r)
	}
}
