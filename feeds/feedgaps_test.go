package feeds

import (
	"slices"
	"testing"
	"time"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
)

// An import warns of the values the feeds require (catalog.FeedGaps):
// each gap is exactly what this package's validation leaves a product out
// for (or warns of), in each format, so the import's warning and the feed
// never disagree.
func TestImportFeedGapsAreTheFeedsRules(t *testing.T) {
	full := catalog.Product{SKU: "Z-1", Title: "Chaise", Description: "Une chaise", Link: "https://shop.example/z",
		ImageLink: "https://cdn.example/z.jpg", Price: 1000, Currency: "EUR", Availability: "in_stock", Condition: "new",
		Brand: "Nordik", GTIN: "4006381333931"}
	cases := []struct {
		gap    catalog.FeedGap
		lack   func(p *catalog.Product)
		rule   string
		idealo bool // idealo applies the rule too
	}{
		{catalog.GapLink, func(p *catalog.Product) { p.Link = "" }, "required.link", true},
		{catalog.GapDescription, func(p *catalog.Product) { p.Description = " \x01\n" }, "required.description", false},
		{catalog.GapImage, func(p *catalog.Product) { p.ImageLink = "" }, "required.image_link", false},
		{catalog.GapPrice, func(p *catalog.Product) { p.Price = 0 }, "price.positive", true},
		{catalog.GapIdentifiers, func(p *catalog.Product) { p.GTIN = "" }, "identifiers.missing", true},
		{0, func(p *catalog.Product) { p.GTIN, p.Brand = "", "" }, "", false}, // custom goods: no brand, no identifier
	}
	rules := func(format string, p *catalog.Product) (blocking, warnings []string) {
		fd := &Feed{Name: "z", Format: format, TitleTemplate: "{title}", Currency: "EUR"}
		var it Item
		for _, pr := range newBuilder(fd, landing.NewIndex(nil), time.Now()).build(p, &it, nil) {
			if pr.Blocking {
				blocking = append(blocking, pr.Rule)
			} else {
				warnings = append(warnings, pr.Rule)
			}
		}
		return blocking, warnings
	}
	if g := full.FeedGaps(); g != 0 {
		t.Fatalf("a complete product has gaps %b", g)
	}
	for _, c := range cases {
		p := full
		c.lack(&p)
		if g := p.FeedGaps(); g != c.gap {
			t.Errorf("%s: catalog says gaps %b, want %b", c.rule, g, c.gap)
		}
		for _, format := range []string{GoogleXML, GoogleTSV, Generic, IdealoCSV} {
			blocking, warnings := rules(format, &p)
			var want []string
			if c.rule != "" && (format != IdealoCSV || c.idealo) {
				want = []string{c.rule}
			}
			got := blocking
			if c.gap == catalog.GapIdentifiers {
				got = warnings
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s in %s: the feed finds %v, want %v", c.rule, format, got, want)
			}
		}
	}
}
