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

// TestCopyDecoder feeds the COPY text decoder rows cut at every byte, with
// escapes, and bad rows that must be refused with what is wrong.
func TestCopyDecoder(t *testing.T) {
	line := "42\t1999\tSKU-1\tTitre \\t tab\tDesc\\nline \\\\ back\thttps://l\thttps://i\t\tBrand\t\t\tnew\tType\t\t\tEUR\tin_stock\n"
	stream := strings.Repeat(line, 3)
	for cut := 1; cut < len(stream); cut += 7 {
		d := &copyDecoder{}
		if _, err := d.Write([]byte(stream[:cut])); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Write([]byte(stream[cut:])); err != nil {
			t.Fatal(err)
		}
		if err := d.finish(); err != nil {
			t.Fatal(err)
		}
		batch := d.batch
		if len(batch) != 3 || batch[2].ID != 42 || batch[2].Price != 1999 || batch[2].Title != "Titre \t tab" || batch[2].Description != "Desc\nline \\ back" ||
			batch[2].Currency != "EUR" || batch[2].Availability != "in_stock" || batch[2].Condition != "new" {
			t.Fatalf("cut at %d: %+v", cut, batch)
		}
	}
	for _, bad := range []struct{ row, want string }{
		{"1\t2\tonly three\n", "fields"},
		{"x\t1999" + strings.Repeat("\ta", 15) + "\n", "COPY id"},
		{"1\tcheap" + strings.Repeat("\ta", 15) + "\n", "COPY price"},
		{"1\t2" + strings.Repeat("\ta", 16) + "\n", "more than"},
		{"1\t2\t\\N" + strings.Repeat("\ta", 14) + "\n", "NULL"},
	} {
		d := &copyDecoder{}
		if _, err := d.Write([]byte(bad.row)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error about %s", bad.row, err, bad.want)
		}
	}
	d := &copyDecoder{}
	d.Write([]byte("1\t2\tpartial"))
	if err := d.finish(); err == nil {
		t.Error("a stream ending inside a row was accepted")
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

// TestSplitJoined: a range read joined is trusted only when it is exactly
// the products it claims; anything else sends the range to the row-by-row
// reader, and what was appended before is taken back.
func TestSplitJoined(t *testing.T) {
	rec := func(id, price string, texts ...string) string {
		fields := make([]string, len(packedColumns))
		copy(fields, texts)
		return id + "\x1f" + price + "\x1f" + strings.Join(fields, "\x1f")
	}
	prior := []catalog.Product{{ID: 1}}
	good := rec("7", "1999", "SKU-7", "Titre é") + "\x1e" + rec("9", "-5", "SKU-9", "", "", "", "", "", "", "", "", "", "", "", "", "EUR", "in_stock")
	got, ok := splitJoined(good, 2, prior)
	if !ok || len(got) != 3 || got[1].ID != 7 || got[1].Price != 1999 || got[1].SKU != "SKU-7" || got[1].Title != "Titre é" ||
		got[2].ID != 9 || got[2].Price != -5 || got[2].Currency != "EUR" || got[2].Availability != "in_stock" {
		t.Fatalf("well-formed range: ok=%v %+v", ok, got)
	}
	for name, bad := range map[string]struct {
		s string
		n int64
	}{
		"fewer products than counted":     {good, 3},
		"a text holds a unit separator":   {rec("7", "1", "SKU\x1f7") + "\x1e" + rec("9", "1", "SKU-9"), 2},
		"a text holds a record separator": {rec("7", "1", "SKU\x1e7") + "\x1e" + rec("9", "1", "SKU-9"), 2},
		"ids not ascending":               {rec("9", "1", "SKU-9") + "\x1e" + rec("7", "1", "SKU-7"), 2},
		"an id that is not a number":      {rec("x", "1", "SKU-7"), 1},
		"a price that is not a number":    {rec("7", "1.5", "SKU-7"), 1},
	} {
		got, ok := splitJoined(bad.s, bad.n, prior)
		if ok || len(got) != 1 {
			t.Errorf("%s: ok=%v, %d products (want refused, the 1 before kept)", name, ok, len(got))
		}
	}
}

// TestJoinedRangeOfOrdinaryProducts: SQLite's joined text of ordinary
// products is one splitJoined takes whole, in id order — the fast path is
// the one taken, not the row-by-row fallback.
func TestJoinedRangeOfOrdinaryProducts(t *testing.T) {
	e := newEnv(t)
	if db.IsPostgres(e.svc.DB) {
		t.Skip("the joined reader is SQLite's; PostgreSQL reads with COPY")
	}
	ctx := context.Background()
	var want []catalog.Product
	if err := e.svc.DB.WithContext(ctx).Order("id").Find(&want).Error; err != nil || len(want) < 2 {
		t.Fatalf("catalog: %d products, %v", len(want), err)
	}
	f := &Feed{}
	n, joined, err := e.svc.joinedRange(ctx, f, 0, int64(want[len(want)-1].ID)+1)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := splitJoined(joined, n, nil)
	if !ok || len(got) != len(want) {
		t.Fatalf("joined range of %d products: ok=%v, %d split", len(want), ok, len(got))
	}
	for i, p := range want {
		if g := got[i]; g.ID != p.ID || g.Price != p.Price || g.SKU != p.SKU || g.Title != p.Title || g.Description != p.Description || g.Availability != p.Availability {
			t.Errorf("product %d: got %+v, want %+v", i, g, p)
		}
	}
}
