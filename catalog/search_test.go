package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
	"github.com/rampe/rampe/platform/uploads"
)

// importRows imports "sku,title,brand" rows, priced 10.
func importRows(t *testing.T, s *Store, rows ...string) {
	t.Helper()
	body := "sku,title,brand,price\n" + strings.Join(rows, ",10\n") + ",10\n"
	if _, err := s.Import(context.Background(), strings.NewReader(body), Options{}); err != nil {
		t.Fatal(err)
	}
}

func skusOf(t *testing.T, s *Store, q Query) ([]string, *Results) {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 500
	}
	r, err := s.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range r.Products {
		out = append(out, p.SKU)
	}
	return out, r
}

// French users type without accents: a title search ignores accents and
// case on both engines, whichever side carries them.
func TestTitleSearchIgnoresAccents(t *testing.T) {
	s := newStore(t)
	importRows(t, s, "V-1,Vélo électrique,Cycles", "V-2,VÉLO de ville,Cycles", "V-3,Velo tout terrain,Cycles",
		"V-4,Velours côtelé,Mode", "V-5,Crème brûlée à l'érable,Épicerie", "V-6,Garçon d'Ête,Mode")
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"velo", []string{"V-1", "V-2", "V-3", "V-4"}}, // velours too
		{"vélo", []string{"V-1", "V-2", "V-3", "V-4"}},
		{"VELO ", []string{"V-1", "V-2", "V-3", "V-4"}},
		{"velo ", []string{"V-1", "V-2", "V-3", "V-4"}},
		{"vélo d", []string{"V-2"}},
		{"electrique", []string{"V-1"}},
		{"creme brulee a l'erable", []string{"V-5"}},
		{"garcon", []string{"V-6"}},
		{"cote", []string{"V-4"}},
		{"vel", []string{"V-1", "V-2", "V-3", "V-4"}},
		{"ete", []string{"V-6"}},
	} {
		got, r := skusOf(t, s, Query{Search: c.q})
		if !slices.Equal(got, c.want) || r.Match != MatchTitle || r.Count != (Tally{N: int64(len(c.want)), Known: true}) {
			t.Errorf("%q: %v (%s, %+v), want %v", c.q, got, r.Match, r.Count, c.want)
		}
	}
	// The index follows a renamed product.
	importRows(t, s, "V-3,Trottinette,Cycles")
	if got, _ := skusOf(t, s, Query{Search: "velo"}); !slices.Equal(got, []string{"V-1", "V-2", "V-4"}) {
		t.Errorf("after a rename: %v", got)
	}
}

// A SKU's beginning finds its SKUs through the SKU index, with the
// filters; one that begins no filtered SKU searches the titles.
func TestSKUPrefixSearch(t *testing.T) {
	s := newStore(t)
	importRows(t, s, "NU-001,Bougie,Lumen", "NU-002,Plaid,Lumen", "NU-010,Coussin,Nordik", "NUX-1,Lampe,Lumen",
		"RMP-00001,Chaise NU-00 compatible,Nordik", "nu-003,Tapis,Lumen")
	for _, c := range []struct {
		q     Query
		want  []string
		match Match
	}{
		{Query{Search: "NU-00"}, []string{"NU-001", "NU-002"}, MatchSKUPrefix},
		{Query{Search: "NU-0"}, []string{"NU-001", "NU-002", "NU-010"}, MatchSKUPrefix},
		{Query{Search: "NU"}, []string{"NU-001", "NU-002", "NU-010", "NUX-1"}, MatchSKUPrefix},
		{Query{Search: "NU-0", Brand: "Nordik"}, []string{"NU-010"}, MatchSKUPrefix},
		{Query{Search: "RMP-0000"}, []string{"RMP-00001"}, MatchSKUPrefix},
		{Query{Search: "NU-002"}, []string{"NU-002"}, MatchExact},
		// Brand Nordik has no SKU beginning with NU-00: the titles answer.
		{Query{Search: "NU-00", Brand: "Nordik"}, []string{"RMP-00001"}, MatchTitle},
		// SKUs are compared as typed.
		{Query{Search: "nu-00"}, []string{"nu-003"}, MatchSKUPrefix},
	} {
		got, r := skusOf(t, s, c.q)
		if !slices.Equal(got, c.want) || r.Match != c.match || r.Count != (Tally{N: int64(len(c.want)), Known: true}) {
			t.Errorf("%+v: %v (%s, %+v), want %v (%s)", c.q, got, r.Match, r.Count, c.want, c.match)
		}
	}
}

func TestPrefixRange(t *testing.T) {
	for _, c := range []struct{ in, hi string }{{"NU-00", "NU-01"}, {"A", "B"}, {"ré", "rê"}, {"x\uD7FF", "x\uE000"}} {
		lo, hi, ok := prefixRange(c.in)
		if !ok || lo != c.in || hi != c.hi {
			t.Errorf("%q: [%q, %q) %v, want hi %q", c.in, lo, hi, ok, c.hi)
		}
	}
	if _, _, ok := prefixRange("a\U0010FFFF"); ok {
		t.Error("the last character has no next one")
	}
}

// Counting stops past CountCap: a search or filter matching more says
// "more than"; a dense SKU prefix pages in id order; a title search too
// short for the trigram index is not counted past its first page.
func TestSearchCounts(t *testing.T) {
	s := newStore(t)
	rows := make([]string, 0, CountCap+30)
	for i := range CountCap + 30 {
		brand := "Big"
		if i%100 == 0 {
			brand = "Small"
		}
		rows = append(rows, fmt.Sprintf("B-%05d,Produit %d,%s", i, i, brand))
	}
	importRows(t, s, rows...)
	over := Tally{N: CountCap, Over: true, Known: true}
	for _, c := range []struct {
		q     Query
		count Tally
	}{
		{Query{}, Tally{N: CountCap + 30, Known: true}},
		{Query{Search: "produit"}, over},
		{Query{Search: "B-0"}, over},
		{Query{Brand: "Big"}, over},
		{Query{Brand: "Small"}, Tally{N: 11, Known: true}},
		{Query{Search: "produit 10", Brand: "Small"}, Tally{N: 2, Known: true}}, // 10, 100
		{Query{Search: "B-0", Brand: "Small"}, Tally{N: 11, Known: true}},
		{Query{Search: "B-01"}, Tally{N: 30, Known: true}}, // B-01000 … B-01029
		{Query{Search: "99"}, Tally{N: 19, Known: true}},   // too short to count, but the first page holds them all
		{Query{Search: "9", Limit: 10}, Tally{}},
	} {
		_, r := skusOf(t, s, c.q)
		if r.Count != c.count {
			t.Errorf("%+v: count %+v, want %+v", c.q, r.Count, c.count)
		}
	}
	// A dense prefix pages in id order.
	page, r := skusOf(t, s, Query{Search: "B-0", Limit: 50})
	if r.Match != MatchSKUPrefix || !r.More || len(page) != 50 || page[0] != "B-00000" || page[49] != "B-00049" {
		t.Fatalf("dense prefix: %v more=%v %s", page, r.More, r.Match)
	}
	next, _ := skusOf(t, s, Query{Search: "B-0", Limit: 50, After: r.Products[49].ID})
	if len(next) != 50 || next[0] != "B-00050" {
		t.Fatalf("dense prefix, page 2: %v", next)
	}
	// Title pages follow the trigram table's order, after the keyset.
	page, r = skusOf(t, s, Query{Search: "produit", Limit: 20})
	next, _ = skusOf(t, s, Query{Search: "produit", Limit: 20, After: r.Products[19].ID})
	if len(page) != 20 || !r.More || page[0] != "B-00000" || next[0] != "B-00020" {
		t.Fatalf("title pages: %v then %v", page, next)
	}
}

// explain is the plan of the page query of q, as the database tells it.
func explain(t *testing.T, s *Store, q Query) string {
	t.Helper()
	ctx := context.Background()
	p, err := s.plan(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var out []Product
	stmt := s.pageQuery(ctx, q, &p, 51).Session(&gorm.Session{DryRun: true}).Find(&out).Statement
	var lines []string
	err = s.DB.Transaction(func(tx *gorm.DB) error {
		if !db.IsPostgres(s.DB) {
			var rows []struct{ Detail string }
			err := tx.Raw("EXPLAIN QUERY PLAN "+stmt.SQL.String(), stmt.Vars...).Scan(&rows).Error
			for _, r := range rows {
				lines = append(lines, r.Detail)
			}
			return err
		}
		// A few thousand rows: a sequential scan may be cheaper than any
		// index; turned off, the plan shows the index the query can use.
		if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
			return err
		}
		return tx.Raw("EXPLAIN "+stmt.SQL.String(), stmt.Vars...).Scan(&lines).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// The indexes serve the searches: the trigram index a title search of
// three characters or more, the SKU index a SKU prefix.
func TestSearchUsesTheIndexes(t *testing.T) {
	s := newStore(t)
	rows := make([]string, 0, 3000)
	for i := range 3000 {
		rows = append(rows, fmt.Sprintf("P-%05d,Vélo %d,Brand%d", i, i, i%7))
	}
	importRows(t, s, rows...)
	if db.IsPostgres(s.DB) {
		s.DB.Exec("ANALYZE products")
	}
	title, prefix := explain(t, s, Query{Search: "velo 1234"}), explain(t, s, Query{Search: "P-001"})
	t.Logf("title search:\n%s\nSKU prefix:\n%s", title, prefix)
	if db.IsPostgres(s.DB) {
		if !strings.Contains(title, "products_title_fold") || !strings.Contains(prefix, "products_sku_prefix") {
			t.Errorf("an index is not used:\n%s\n%s", title, prefix)
		}
		return
	}
	if !strings.Contains(title, "products_fts VIRTUAL TABLE INDEX") || !strings.Contains(title, ":M") || strings.Contains(title, "TEMP B-TREE") {
		t.Errorf("title search does not stream from the trigram index:\n%s", title)
	}
	if !strings.Contains(prefix, "sqlite_autoindex_products_1 (sku>? AND sku<?)") {
		t.Errorf("SKU prefix does not read the SKU index:\n%s", prefix)
	}
	if dense := explain(t, s, Query{Search: "P-0"}); strings.Contains(dense, "autoindex") || strings.Contains(dense, "TEMP B-TREE") {
		t.Errorf("a dense prefix sorts its SKUs:\n%s", dense)
	}
	// A word in every title and a brand that keeps few products: the
	// brand's products are read through its index and each looked up in
	// the trigram table, not every title read to find the few.
	sparse := explain(t, s, Query{Search: "velo", Brand: "Brand3"})
	t.Logf("title search with a narrow brand:\n%s", sparse)
	if !strings.Contains(sparse, "SEARCH products USING INDEX") || !strings.Contains(sparse, "products_fts VIRTUAL TABLE INDEX") ||
		strings.Index(sparse, "products_fts") < strings.Index(sparse, "SEARCH products") {
		t.Errorf("a narrow brand does not drive the title search:\n%s", sparse)
	}
	for _, tc := range []struct {
		brand string
		want  int64
	}{{"Brand3", 429}, {"Nope", 0}} {
		r, err := s.Search(context.Background(), Query{Search: "velo", Brand: tc.brand, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(r.Products)) != tc.want || r.Count.N != tc.want || r.Match != MatchTitle {
			t.Errorf("velo in %s: %d products, count %+v, want %d", tc.brand, len(r.Products), r.Count, tc.want)
		}
		for _, pr := range r.Products {
			if pr.Brand != tc.brand || !strings.HasPrefix(pr.Title, "Vélo") {
				t.Errorf("velo in %s: %s %q", tc.brand, pr.Brand, pr.Title)
			}
		}
	}
}

// The fold PostgreSQL falls back on without unaccent maps letter for
// letter and folds as unaccent does on the letters it knows.
func TestFoldFallback(t *testing.T) {
	if utf8.RuneCountInString(foldFrom) != len(foldTo) {
		t.Fatalf("%d letters folded into %d", utf8.RuneCountInString(foldFrom), len(foldTo))
	}
	s := newStore(t)
	if !db.IsPostgres(s.DB) {
		return
	}
	if err := s.DB.Exec("CREATE FUNCTION fold_fallback(text) RETURNS text LANGUAGE sql IMMUTABLE AS " + foldFallback).Error; err != nil {
		t.Fatal(err)
	}
	var got []struct{ A, B string }
	if err := s.DB.Raw("SELECT rampe_fold(?) AS a, fold_fallback(?) AS b", foldFrom+" Vélo", foldFrom+" Vélo").Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].A != got[0].B || !strings.HasSuffix(got[0].B, " velo") {
		t.Fatalf("unaccent %q, fallback %q", got[0].A, got[0].B)
	}
}

// A catalog made before titles were folded is searched without accents
// once migrated: the migration indexes the products already there.
func TestTitleFoldMigrationIndexesExistingProducts(t *testing.T) {
	var before []db.Migration
	for _, m := range Migrations {
		if !strings.HasPrefix(m.ID, "2026120360_") {
			before = append(before, m)
		}
	}
	s := &Store{DB: testenv.DB(t, db.Migrations, before, uploads.Migrations)}
	importRows(t, s, "V-1,Vélo électrique,Cycles", "V-2,Table,Maison")
	if _, err := db.Migrate(context.Background(), s.DB, db.Migrations, Migrations, uploads.Migrations); err != nil {
		t.Fatal(err)
	}
	if got, _ := skusOf(t, s, Query{Search: "electrique"}); !slices.Equal(got, []string{"V-1"}) {
		t.Fatalf("electrique: %v", got)
	}
}
