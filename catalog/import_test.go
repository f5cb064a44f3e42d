package catalog

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
	"github.com/rampe/rampe/platform/uploads"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	return &Store{DB: testenv.DB(t, db.Migrations, Migrations, uploads.Migrations)}
}

const goodCSV = "\ufeffSKU;Title;Brand;EAN;Price;Stock;Link;Image\n" +
	"A-1;\"Chaise \"\"Oslo\"\"; chêne\";Nordik;4006381333931;129,90;12;https://shop.example/a1;https://cdn.example/a1.jpg\n" +
	"A-2;Table Été ☀️;Nordik;;349.00 EUR;0;https://shop.example/a2;https://cdn.example/a2.jpg\n"

func TestImportCSVDialectsAndUpsert(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	res, err := s.Import(ctx, strings.NewReader(goodCSV), Options{})
	if err != nil || res.Imported != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	p, _ := s.BySKU(ctx, "A-1")
	if p.Title != `Chaise "Oslo"; chêne` || p.Price != 12990 || p.GTIN != "4006381333931" || p.Availability != "in_stock" || p.Currency != "EUR" {
		t.Fatalf("A-1 = %+v", p)
	}
	p, _ = s.BySKU(ctx, "A-2")
	if p.Title != "Table Été ☀️" || p.Price != 34900 || p.Availability != "out_of_stock" {
		t.Fatalf("A-2 = %+v", p)
	}
	// A comma file with other casing updates by SKU.
	res, err = s.Import(ctx, strings.NewReader("sku,TITLE,price,availability\nA-1,Chaise Oslo,99.50,preorder\nA-3,Lampe,10,in stock\n"), Options{})
	if err != nil || res.Imported != 2 {
		t.Fatalf("second import: %+v %v", res, err)
	}
	if n, _ := s.Count(ctx); n != 3 {
		t.Fatalf("%d products, want 3", n)
	}
	p, _ = s.BySKU(ctx, "A-1")
	if p.Price != 9950 || p.Availability != "preorder" {
		t.Fatalf("A-1 not updated: %+v", p)
	}
}

func TestImportIsAllOrNothingAndNamesLineColumnValue(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	bad := "sku,title,price,gtin,stock,link,availability\n" +
		"B-1,Good,10.00,,1,https://shop.example/b1,in_stock\n" +
		"B-2,Bad price,ten,,1,,in_stock\n" +
		"B-3,Bad gtin,5,4006381333932,1,,in_stock\n" +
		"B-4,Bad stock,5,,lots,,in_stock\n" +
		"B-5,Bad link,5,,1,javascript:alert(1),in_stock\n" +
		"B-1,Twice,5,,1,,in_stock\n" +
		",No sku,5,,1,,in_stock\n" +
		"B-8,Bad availability,5,,1,,maybe\n"
	res, err := s.Import(ctx, strings.NewReader(bad), Options{})
	if !errors.Is(err, ErrInvalidRows) {
		t.Fatalf("err = %v", err)
	}
	if n, _ := s.Count(ctx); n != 0 {
		t.Fatalf("an all-or-nothing import stored %d products", n)
	}
	want := []RowError{
		{Line: 3, Column: "price", Value: "ten"},
		{Line: 4, Column: "gtin", Value: "4006381333932"},
		{Line: 5, Column: "stock_quantity", Value: "lots"},
		{Line: 6, Column: "link", Value: "javascript:alert(1)"},
		{Line: 7, Column: "sku", Value: "B-1"},
		{Line: 8, Column: "sku", Value: ""},
		{Line: 9, Column: "availability", Value: "maybe"},
	}
	if len(res.Errors) != len(want) {
		t.Fatalf("errors: %v", res.Errors)
	}
	for i, w := range want {
		got := res.Errors[i]
		if got.Line != w.Line || got.Column != w.Column || got.Value != w.Value || got.Msg == "" {
			t.Errorf("error %d = %+v, want line %d column %s value %q", i, got, w.Line, w.Column, w.Value)
		}
	}
	if !strings.Contains(res.Errors[4].Msg, "first seen on line 2") {
		t.Errorf("duplicate message: %q", res.Errors[4].Msg)
	}

	// Skipping invalid rows imports the rest; the first of duplicates wins.
	res, err = s.Import(ctx, strings.NewReader(bad), Options{SkipInvalid: true})
	if err != nil || res.Imported != 1 || res.Invalid != 7 {
		t.Fatalf("skip-invalid: %+v %v", res, err)
	}
	p, _ := s.BySKU(ctx, "B-1")
	if p.Title != "Good" {
		t.Fatalf("B-1 = %q; the first occurrence must win", p.Title)
	}
}

func TestImportMalformedFiles(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	cases := map[string]struct {
		body, format, contains string
	}{
		"empty":           {"", "csv", "empty"},
		"missing column":  {"sku,title\nA,B\n", "csv", `missing column "price"`},
		"broken quoting":  {"sku,title,price\nA,\"unterminated,1\n", "csv", "malformed CSV"},
		"field count":     {"sku,title,price\nA,B\n", "csv", "2 fields, the header has 3"},
		"10 MB line":      {"sku,title,price\nA," + strings.Repeat("x", 10<<20) + ",1\n", "csv", "longer than"},
		"json cut short":  {`[{"sku":"A","title":"B","price":1},{"sku":`, "json", "line 2: the file ends inside the object that starts at byte 35"},
		"json syntax":     {`[{"sku":"A","title":"B","price":1},{"sku" "A"}]`, "json", "line 2: malformed JSON at byte 41: invalid character"},
		"json wrong type": {`[{"sku":"A","title":{"x":1},"price":1}]`, "json", "want a string or a number"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := s.Import(ctx, strings.NewReader(tc.body), Options{Format: tc.format})
			if !errors.Is(err, ErrInvalidRows) || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("err = %v, want it to contain %q (result %+v)", err, tc.contains, res)
			}
		})
	}
	if n, _ := s.Count(ctx); n != 0 {
		t.Fatalf("malformed files stored %d products", n)
	}
}

func TestImportJSONArrayAndNDJSON(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	arr := `[{"sku":"J-1","title":"Montre","price":"199.00","brand":"Horla","gtin":["4006381333931"],"stock":3,"extra":"x"},
	         {"sku":"J-2","title":"Bracelet","price":19.9,"currency":"CHF","availability":"backorder"}]`
	res, err := s.Import(ctx, strings.NewReader(arr), Options{Format: "json"})
	if err != nil || res.Imported != 2 || len(res.Ignored) != 1 {
		t.Fatalf("array: %+v %v", res, err)
	}
	p, _ := s.BySKU(ctx, "J-2")
	if p.Price != 1990 || p.Currency != "CHF" {
		t.Fatalf("J-2 = %+v (a JSON number price must not go through a float)", p)
	}
	nd := "{\"sku\":\"J-3\",\"title\":\"Bague\",\"price\":\"50\"}\n{\"sku\":\"J-4\",\"title\":\"Collier\",\"price\":\"-1\"}\n"
	res, err = s.Import(ctx, strings.NewReader(nd), Options{Format: "json"})
	if !errors.Is(err, ErrInvalidRows) || res.Errors[0].Line != 2 || res.Errors[0].Column != "price" {
		t.Fatalf("ndjson: %+v %v", res, err)
	}
}

func TestGTIN(t *testing.T) {
	for _, g := range []string{"4006381333931", "96385074", "036000291452", "10614141000415"} {
		if !ValidGTIN(g) {
			t.Errorf("%s should be valid", g)
		}
	}
	for _, g := range []string{"4006381333932", "123", "40063813339a1", "", "00000000000000000"} {
		if ValidGTIN(g) {
			t.Errorf("%s should be invalid", g)
		}
	}
}

func TestListKeysetAndFilters(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("sku,title,brand,price,availability,product_type\n")
	for i := 0; i < 120; i++ {
		brand := "Alpha"
		if i%3 == 0 {
			brand = "Beta"
		}
		b.WriteString("S" + string(rune('A'+i%26)) + "-" + itoa(i) + ",Produit 50% " + itoa(i) + "," + brand + ",10,in_stock,Maison > Salon\n")
	}
	if _, err := s.Import(ctx, strings.NewReader(b.String()), Options{}); err != nil {
		t.Fatal(err)
	}
	page, more, _ := s.List(ctx, Query{Limit: 50})
	page2, _, _ := s.List(ctx, Query{Limit: 50, After: page[len(page)-1].ID})
	if len(page) != 50 || !more || page2[0].ID <= page[49].ID {
		t.Fatalf("keyset paging broken")
	}
	beta, _, _ := s.List(ctx, Query{Brand: "Beta", Limit: 500})
	if len(beta) != 40 {
		t.Fatalf("brand filter: %d", len(beta))
	}
	// "%" in a search is a character, not a wildcard.
	if got, _, _ := s.List(ctx, Query{Search: "50% 119"}); len(got) != 1 {
		t.Fatalf("search: %d results", len(got))
	}
	if got, _, _ := s.List(ctx, Query{Search: "%"}); len(got) != 50 {
		t.Fatalf("search %%: %d", len(got))
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestSweepInterruptedImports(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	old, _ := s.StartImport(ctx, "old.csv", "csv", 10, false, "ana")
	s.DB.Model(&Import{}).Where("id = ?", old.ID).Update("created_at", time.Now().UTC().Add(-7*time.Hour))
	fresh, _ := s.StartImport(ctx, "fresh.csv", "csv", 10, false, "ana")
	if n, err := s.SweepInterrupted(ctx, 6*time.Hour); err != nil || n != 1 {
		t.Fatalf("swept %d: %v", n, err)
	}
	got, _ := s.GetImport(ctx, old.ID)
	still, _ := s.GetImport(ctx, fresh.ID)
	if got.Status != "failed" || !strings.Contains(got.Message, "interrupted") || still.Status != "running" {
		t.Fatalf("old %s, fresh %s", got.Status, still.Status)
	}
}

func TestSearchExactSKUKeepsFilters(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	csv := "sku,title,brand,price\nK-1,Chaise K-2 compatible,Nordik,10\nK-2,Table,Lumen,20\n"
	if _, err := s.Import(ctx, strings.NewReader(csv), Options{}); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.List(ctx, Query{Search: "K-2"})
	if len(got) != 1 || got[0].SKU != "K-2" {
		t.Fatalf("exact SKU: %+v", got)
	}
	if got, _, _ = s.List(ctx, Query{Search: "K-2", Brand: "Nordik"}); len(got) != 1 || got[0].SKU != "K-1" {
		t.Fatalf("exact SKU outside the brand filter must fall back to titles: %+v", got)
	}
}

// TestImportNamesTextTheDatabaseCannotStore: a NUL byte or invalid UTF-8
// (a file saved in Latin-1) is a row error with its line and column — on
// PostgreSQL it used to fail the whole import with the database's encoding
// error — and the value shown in the report is storable itself.
func TestImportNamesTextTheDatabaseCannotStore(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	body := "sku;title;price;description\nT-1;Nul\x00title;10.00;ok\nT-2;Chaise;11.00;Latin-1 \xe9t\xe9\nT-3;Good;12.00;fine\n"
	res, err := s.Import(ctx, strings.NewReader(body), Options{})
	if !errors.Is(err, ErrInvalidRows) || len(res.Errors) != 2 {
		t.Fatalf("err = %v, errors %+v", err, res.Errors)
	}
	if e := res.Errors[0]; e.Line != 2 || e.Column != "title" || e.Value != "Nul␀title" || !strings.Contains(e.Msg, "NUL byte or invalid UTF-8") {
		t.Errorf("NUL: %+v", e)
	}
	if e := res.Errors[1]; e.Line != 3 || e.Column != "description" || !utf8.ValidString(e.Value) || !strings.Contains(e.Msg, "save the file as UTF-8") {
		t.Errorf("Latin-1: %+v", e)
	}
	if n, _ := s.Count(ctx); n != 0 {
		t.Fatalf("an all-or-nothing import stored %d products", n)
	}
	res, err = s.Import(ctx, strings.NewReader(body), Options{SkipInvalid: true})
	if err != nil || res.Imported != 1 || res.Invalid != 2 {
		t.Fatalf("skip-invalid: %+v %v", res, err)
	}
}
