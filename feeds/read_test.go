package feeds

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/platform/db"
)

// TestGenerationReadsEveryProductInOrder stores products whose text carries
// what the readers must survive — the separator the SQLite reader packs
// columns with, the escapes of PostgreSQL's COPY text format — among enough
// products, with holes in the ids, to span many ranges; the feed must list
// every product once, by id, with its text intact.
func TestGenerationReadsEveryProductInOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	awkward := []string{"unit\x1fseparator", `back\slash \N \t`, "tab\there", "new\nline", "carriage\rreturn", "quote \" and ; comma,", "\\", "é☀️ – ok"}
	var products []catalog.Product
	for i := range 2600 {
		title := fmt.Sprintf("Produit %04d", i)
		if i%300 == 7 {
			title = awkward[(i/300)%len(awkward)] + fmt.Sprintf(" %04d", i)
		}
		products = append(products, catalog.Product{SKU: fmt.Sprintf("R-%04d", i), Title: title, Description: "Desc " + title,
			Link: "https://shop.example/r", ImageLink: "https://cdn.example/r.jpg", Brand: "Rb", Condition: "new", Price: 1000 + int64(i),
			Currency: "EUR", Availability: "in_stock", UpdatedAt: t0})
	}
	if err := e.svc.DB.WithContext(ctx).CreateInBatches(products, db.InsertBatch).Error; err != nil {
		t.Fatal(err)
	}
	// Holes in the ids: whole ranges empty, others partly.
	if err := e.svc.DB.WithContext(ctx).Exec("DELETE FROM products WHERE sku >= 'R-1000' AND sku < 'R-2300' OR sku IN ('R-0003', 'R-2599') OR sku LIKE 'F-%'").Error; err != nil {
		t.Fatal(err)
	}
	var want []catalog.Product
	if err := e.svc.DB.WithContext(ctx).Order("id").Find(&want).Error; err != nil {
		t.Fatal(err)
	}
	f := e.feed(t, &Feed{Name: "all", Format: Generic, Separator: ",", Columns: []Column{{Header: "id", Template: "{sku}"},
		{Header: "title", Template: "{title}"}, {Header: "description", Template: "{description}"}}})
	run, err := e.svc.Generate(ctx, f.ID, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(e.read(t, f, f.FileName()))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = rows[1:]
	if len(rows) != len(want) || run.ItemsRead != int64(len(want)) {
		t.Fatalf("%d rows, %d read, want %d products", len(rows), run.ItemsRead, len(want))
	}
	crlf := strings.NewReplacer("\r\n", "\n")
	for i, p := range want {
		if rows[i][0] != p.SKU {
			t.Fatalf("row %d is %s, want %s (products by id)", i, rows[i][0], p.SKU)
		}
		if got, w := crlf.Replace(rows[i][1]), crlf.Replace(clean(strings.TrimSpace(p.Title))); got != w {
			t.Errorf("%s: title %q, want %q", p.SKU, got, w)
		}
		if got, w := crlf.Replace(rows[i][2]), crlf.Replace(clean(strings.TrimSpace(p.Description))); got != w {
			t.Errorf("%s: description %q, want %q", p.SKU, got, w)
		}
	}
	// A SKU list is read by ranges on PostgreSQL too (COPY takes no
	// parameters); R-0007's title holds the separator.
	some := e.feed(t, &Feed{Name: "some", Format: Generic, Separator: ",", SKUs: "R-2400\nR-0007, R-0001\nR-1500",
		Columns: []Column{{Header: "id", Template: "{sku}"}, {Header: "title", Template: "{title}"}}})
	if _, err := e.svc.Generate(ctx, some.ID, "test", nil); err != nil {
		t.Fatal(err)
	}
	rows, err = csv.NewReader(bytes.NewReader(e.read(t, some, some.FileName()))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[1][0] != "R-0001" || rows[2][0] != "R-0007" || rows[3][0] != "R-2400" || rows[2][1] != "unitseparator 0007" {
		t.Fatalf("SKU-list feed: %q", rows)
	}
}

// TestGenerationAppliesFilters: availability, price range, brand and
// product type keep exactly the products they describe, whichever way the
// engine reads them (COPY on PostgreSQL, a filtered query on SQLite).
func TestGenerationAppliesFilters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var products []catalog.Product
	for i := range 40 {
		avail := []string{"in_stock", "out_of_stock"}[i%2]
		products = append(products, catalog.Product{SKU: fmt.Sprintf("Q-%02d", i), Title: "Produit", Description: "Desc", Link: "https://shop.example/q",
			ImageLink: "https://cdn.example/q.jpg", Brand: []string{"Nordik", "Lumen"}[i%4/2], ProductType: "Maison > Salon", Condition: "new",
			Price: int64(1000 + 100*i), Currency: "EUR", Availability: avail, UpdatedAt: t0})
	}
	if err := e.svc.DB.WithContext(ctx).Create(&products).Error; err != nil {
		t.Fatal(err)
	}
	lo, hi := int64(1500), int64(3000)
	f := e.feed(t, &Feed{Name: "filtered", Format: Generic, Separator: ",", Availability: "in_stock", PriceMin: &lo, PriceMax: &hi, Brands: "nordik",
		ProductTypes: "Maison", Columns: []Column{{Header: "id", Template: "{sku}"}}})
	if _, err := e.svc.Generate(ctx, f.ID, "test", nil); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(e.read(t, f, f.FileName()))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[0])
	}
	// in stock: even i; Nordik: i%4 < 2, so i%4 == 0; 1500 <= price <= 3000: 5 <= i <= 20.
	if want := "Q-08 Q-12 Q-16 Q-20"; strings.Join(got, " ") != want {
		t.Fatalf("filtered feed lists %v, want %s", got, want)
	}
}

// TestGenerationKeepsTheFirstExamplesOfEachRule: every problem is counted,
// but a run stores only the first MaxIssuesPerRule of a rule, in id order,
// however the workers shared the batches.
func TestGenerationKeepsTheFirstExamplesOfEachRule(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n := MaxIssuesPerRule + 500
	var products []catalog.Product
	for i := range n { // no GTIN nor MPN: an identifiers.missing warning each
		products = append(products, catalog.Product{SKU: fmt.Sprintf("W-%05d", i), Title: "Produit", Description: "Desc", Link: "https://shop.example/w",
			ImageLink: "https://cdn.example/w.jpg", Brand: "Nordik", Condition: "new", Price: 1000, Currency: "EUR", Availability: "in_stock", UpdatedAt: t0})
	}
	if err := e.svc.DB.WithContext(ctx).CreateInBatches(products, db.InsertBatch).Error; err != nil {
		t.Fatal(err)
	}
	f := e.feed(t, &Feed{Name: "many", Format: GoogleXML})
	run, err := e.svc.Generate(ctx, f.ID, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if run.ByRule["identifiers.missing"] < n {
		t.Fatalf("counted %d identifiers.missing, want at least %d", run.ByRule["identifiers.missing"], n)
	}
	var kept []Issue
	if err := e.svc.DB.WithContext(ctx).Where("run_id = ? AND rule = ? AND sku LIKE 'W-%'", run.ID, "identifiers.missing").Order("sku").Find(&kept).Error; err != nil {
		t.Fatal(err)
	}
	var all int64
	e.svc.DB.WithContext(ctx).Model(&Issue{}).Where("run_id = ? AND rule = ?", run.ID, "identifiers.missing").Count(&all)
	if all != MaxIssuesPerRule || len(kept) == 0 || kept[0].SKU != "W-00000" {
		t.Fatalf("kept %d identifiers.missing (first %v), want %d from the start", all, kept[:min(1, len(kept))], MaxIssuesPerRule)
	}
	// The W- products come after the env's catalog: the kept ones are the first in id order.
	if last := kept[len(kept)-1].SKU; last >= fmt.Sprintf("W-%05d", MaxIssuesPerRule) {
		t.Fatalf("kept up to %s, beyond the first %d", last, MaxIssuesPerRule)
	}
}
