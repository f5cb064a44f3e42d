package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
)

// streamAll runs Stream with batches of StreamPlan's size and returns the
// products in the order they came, checking that no batch outgrew its
// slice (the caller's memory is all Stream uses).
func streamAll(t *testing.T, s *Store, f Filter) []Product {
	t.Helper()
	width, inFlight := s.StreamPlan()
	free, out := make(chan []Product, inFlight), make(chan []Product, 1)
	for range inFlight {
		free <- make([]Product, 0, width)
	}
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		errc <- s.Stream(context.Background(), f, free, out)
	}()
	var got []Product
	for batch := range out {
		if len(batch) > width || cap(batch) != width {
			t.Errorf("a batch of %d products in a slice of capacity %d; the plan is %d", len(batch), cap(batch), width)
		}
		got = append(got, batch...)
		free <- batch[:0]
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return got
}

// TestStreamReadsEveryProductInOrder stores products whose text carries
// what the readers must survive — the separator the SQLite reader packs
// columns with, the escapes of PostgreSQL's COPY text format — among
// enough products, with holes in the ids, to span many ranges; the stream
// must hold every product once, by id, with its text intact, and exactly
// those a filter describes, whichever reader the engine and the filter
// pick (COPY, joined ranges, a row each).
func TestStreamReadsEveryProductInOrder(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	awkward := []string{"unit\x1fseparator", `back\slash \N \t`, "tab\there", "new\nline", "carriage\rreturn", "record\x1esep", "\\", "é☀️ – ok"}
	var products []Product
	for i := range 5200 {
		title := fmt.Sprintf("Produit %04d", i)
		if i%300 == 7 {
			title = awkward[(i/300)%len(awkward)] + fmt.Sprintf(" %04d", i)
		}
		products = append(products, Product{SKU: fmt.Sprintf("R-%04d", i), Title: title, Description: "Desc " + title,
			Link: "https://shop.example/r", ImageLink: "https://cdn.example/r.jpg", Brand: "Rb", Condition: "new", Price: 1000 + int64(i),
			Currency: "EUR", Availability: []string{"in_stock", "out_of_stock"}[i%2], UpdatedAt: time.Now().UTC()})
	}
	if err := s.DB.WithContext(ctx).CreateInBatches(products, db.InsertBatch).Error; err != nil {
		t.Fatal(err)
	}
	// Holes in the ids: whole ranges empty, others partly.
	if err := s.DB.WithContext(ctx).Exec("DELETE FROM products WHERE sku >= 'R-1000' AND sku < 'R-4300' OR sku IN ('R-0003', 'R-5199')").Error; err != nil {
		t.Fatal(err)
	}
	var all []Product
	if err := s.DB.WithContext(ctx).Order("id").Find(&all).Error; err != nil {
		t.Fatal(err)
	}
	lo, hi := int64(1500), int64(4800)
	many := make([]string, 0, 1300) // more than a statement carries
	for i := range 1300 {
		many = append(many, fmt.Sprintf("R-%04d", 4000+i))
	}
	for name, f := range map[string]Filter{
		"everything":         {},
		"in stock, in price": {Availability: []string{"in_stock"}, PriceMin: &lo, PriceMax: &hi},
		"a few SKUs":         {SKUs: []string{"R-4400", "R-0007", "R-0001", "R-0607", "nope"}},
		"many SKUs":          {SKUs: many, Availability: []string{"out_of_stock"}},
	} {
		t.Run(name, func(t *testing.T) {
			k := f.compile()
			var want []Product
			for _, p := range all {
				if k.matches(&p) {
					want = append(want, p)
				}
			}
			got := streamAll(t, s, f)
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%d products streamed, want %d", len(got), len(want))
			}
			for i, p := range want {
				g := got[i]
				if g.ID != p.ID || g.Price != p.Price || g.SKU != p.SKU || g.Title != p.Title || g.Description != p.Description ||
					g.Availability != p.Availability || g.Currency != p.Currency || g.Link != p.Link || g.Brand != p.Brand {
					t.Fatalf("product %d: got %+v, want %+v", i, g, p)
				}
			}
		})
	}
}

// TestStreamStopsWithItsContext: a caller that stops taking batches and
// cancels gets Stream back, with the context's error.
func TestStreamStopsWithItsContext(t *testing.T) {
	s := newStore(t)
	var products []Product
	for i := range 5000 {
		products = append(products, Product{SKU: fmt.Sprintf("C-%04d", i), Title: "Produit", Condition: "new", Price: 1, Currency: "EUR",
			Availability: "in_stock", UpdatedAt: time.Now().UTC()})
	}
	if err := s.DB.CreateInBatches(products, db.InsertBatch).Error; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	free, out := make(chan []Product, 2), make(chan []Product)
	free <- nil
	free <- nil
	errc := make(chan error, 1)
	go func() { errc <- s.Stream(ctx, Filter{}, free, out) }()
	<-out // one batch taken, never given back
	cancel()
	select {
	case err := <-errc:
		if err != context.Canceled {
			t.Fatalf("Stream returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stream did not return after its context ended")
	}
}

// TestScopesAndVersion: a scope counts and lists exactly its products (a
// brand in any case, a type with its subtypes but not a longer name, a SKU
// list, an empty SKU list none), PricingIn reads only the pricing columns,
// and the version moves with an import.
func TestScopesAndVersion(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	v0, err := s.Version(ctx)
	if err != nil || v0 != (Version{}) {
		t.Fatalf("empty catalog's version %+v, %v", v0, err)
	}
	csv := "sku,title,brand,product_type,price,link,image_link,description\n" +
		"S-1,Chaise,Nordik,Maison > Salon,10.00,https://shop.example/1,https://cdn.example/1.jpg,Une chaise\n" +
		"S-2,Table,NORDIK,Maison,20.00,https://shop.example/2,https://cdn.example/2.jpg,Une table\n" +
		"S-3,Lampe,Lumen,Maisonette,30.00,https://shop.example/3,https://cdn.example/3.jpg,Une lampe\n" +
		"S-4,Vélo,Kaze,Sport,40.00,https://shop.example/4,https://cdn.example/4.jpg,Un vélo\n"
	if _, err := s.Import(ctx, strings.NewReader(csv), Options{}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		sc   Scope
		want []string
	}{
		"all":            {AllProducts(), []string{"S-1", "S-2", "S-3", "S-4"}},
		"brand any case": {BrandScope("nordik"), []string{"S-1", "S-2"}},
		"type":           {TypeScope("Maison"), []string{"S-1", "S-2"}},
		"SKUs":           {SKUScope([]string{"S-4", "S-3", "S-9"}), []string{"S-3", "S-4"}},
		"no SKUs":        {SKUScope(nil), nil},
	} {
		n, err := s.CountIn(ctx, c.sc)
		if err != nil || n != int64(len(c.want)) {
			t.Errorf("%s: count %d %v, want %d", name, n, err, len(c.want))
		}
		full, err := s.ProductsIn(ctx, c.sc, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range full {
			got = append(got, p.SKU)
			if p.Description == "" || p.Link == "" {
				t.Errorf("%s: ProductsIn left %s without its description or link", name, p.SKU)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: products %v, want %v", name, got, c.want)
		}
		priced, err := s.PricingIn(ctx, c.sc, 1)
		if err != nil || len(priced) != min(1, len(c.want)) {
			t.Fatalf("%s: PricingIn %d products, %v", name, len(priced), err)
		}
		if len(priced) == 1 && (priced[0].SKU != c.want[0] || priced[0].Price == 0 || priced[0].Currency == "" || priced[0].Description != "") {
			t.Errorf("%s: PricingIn %+v, want %s with its price and nothing else", name, priced[0], c.want[0])
		}
	}
	v1, err := s.Version(ctx)
	if err != nil || v1.MaxID == 0 || v1.Newest.IsZero() {
		t.Fatalf("version %+v, %v", v1, err)
	}
	later := v1.Newest.Add(time.Minute)
	s.Clock = clock.NewFixed(later)
	if _, err := s.Import(ctx, strings.NewReader("sku,title,price,link,image_link\nS-1,Chaise bleue,10.00,https://shop.example/1,https://cdn.example/1.jpg\n"), Options{}); err != nil {
		t.Fatal(err)
	}
	if v2, err := s.Version(ctx); err != nil || v2.MaxID != v1.MaxID || !v2.Newest.Equal(later) {
		t.Fatalf("after an update: version %+v, %v; want max id %d, newest %s", v2, err, v1.MaxID, later)
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

// TestSplitJoined: a range read joined is trusted only when it is exactly
// the products it claims; anything else sends the range to the row-by-row
// reader, and what was appended before is taken back.
func TestSplitJoined(t *testing.T) {
	rec := func(id, price string, texts ...string) string {
		fields := make([]string, len(packedColumns))
		copy(fields, texts)
		return id + "\x1f" + price + "\x1f" + strings.Join(fields, "\x1f")
	}
	prior := []Product{{ID: 1}}
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
	s := newStore(t)
	if db.IsPostgres(s.DB) {
		t.Skip("the joined reader is SQLite's; PostgreSQL reads with COPY")
	}
	ctx := context.Background()
	if _, err := s.Import(ctx, strings.NewReader(goodCSV), Options{}); err != nil {
		t.Fatal(err)
	}
	var want []Product
	if err := s.DB.WithContext(ctx).Order("id").Find(&want).Error; err != nil || len(want) < 2 {
		t.Fatalf("catalog: %d products, %v", len(want), err)
	}
	n, joined, err := s.joinedRange(ctx, &Filter{}, 0, int64(want[len(want)-1].ID)+1)
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
