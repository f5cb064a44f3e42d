package feeds

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampe/rampe/landing"
)

var update = flag.Bool("update", false, "rewrite the golden files of feeds/testdata")

// TestGoldenFiles pins each format's exact bytes for a fixed catalog, instant
// and promotion: run with -update after an intended change, and read the diff.
func TestGoldenFiles(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, _ := e.promos.Create(ctx, landing.PromotionInput{Name: "BF", Kind: landing.PercentOff, Value: "12.5", Scope: landing.ScopeBrand, ScopeValue: "Nordik",
		StartsAt: "2026-11-27T00:00", EndsAt: "2026-12-01T00:00", TimeZone: "Europe/Paris"})
	if _, err := e.promos.Publish(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	defs := []*Feed{
		{Name: "google", Format: GoogleXML, TitleTemplate: "{brand} {title}", Shipping: "FR:::4.90 EUR", UTMSource: "google", UTMMedium: "comparison"},
		{Name: "google-tsv", Format: GoogleTSV, UTMSource: "google"},
		{Name: "idealo", Format: IdealoCSV, DeliveryTime: "1-3 jours", Shipping: "4.90", UTMSource: "idealo"},
		{Name: "kelkoo", Format: Generic, Separator: "|", DecimalComma: true, Columns: []Column{{Header: "id", Template: "{sku}"},
			{Header: "name", Template: "{title}"}, {Header: "price", Template: "{price_value}"}, {Header: "sale", Template: "{sale_price_value}"}}},
	}
	for _, f := range defs {
		e.feed(t, f)
		if _, err := e.svc.Generate(ctx, f.ID, "golden", nil); err != nil {
			t.Fatal(err)
		}
		got := e.read(t, f, f.FileName())
		path := filepath.Join("testdata", f.FileName()+".golden")
		if *update {
			os.MkdirAll("testdata", 0o755)
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./feeds -run Golden -update)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", f.FileName(), path, got, want)
		}
	}
}
