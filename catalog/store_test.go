package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Search, facets and the count answer what a scan would, through their
// indexes: a title search finds a product renamed by a later import (the
// trigram table follows), a % in the search is a character, facets list
// every distinct value in order, and the count follows new products.
func TestSearchFacetsAndCountFollowTheCatalog(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("sku,title,brand,product_type,price,link,image_link\n")
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&b, "S-%d,Chaise %d,Brand%02d,Type%d,10.00,https://shop.example/%d,https://cdn.example/%d.jpg\n", i, i, i%40, i%3, i, i)
	}
	b.WriteString("S-9000,Remise 50% Fauteuil,Zeta,Type0,10.00,https://shop.example/x,https://cdn.example/x.jpg\n")
	if _, err := s.Import(ctx, strings.NewReader(b.String()), Options{}); err != nil {
		t.Fatal(err)
	}
	search := func(q string) []string {
		t.Helper()
		list, _, err := s.List(ctx, Query{Search: q, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range list {
			out = append(out, p.SKU)
		}
		return out
	}
	if got := search("chaise 12"); !slices.Equal(got, []string{"S-12", "S-120", "S-121", "S-122", "S-123", "S-124", "S-125", "S-126", "S-127", "S-128", "S-129"}) {
		t.Fatalf("chaise 12: %v", got)
	}
	if got := search("50% fau"); !slices.Equal(got, []string{"S-9000"}) {
		t.Fatalf("50%% fau: %v", got)
	}
	if got := search("0%"); !slices.Equal(got, []string{"S-9000"}) { // two characters: no trigram
		t.Fatalf("0%%: %v", got)
	}
	if n, err := s.Count(ctx); err != nil || n != 301 {
		t.Fatalf("count %d %v", n, err)
	}
	if _, err := s.Import(ctx, strings.NewReader("sku,title,price,link,image_link\nS-12,Tabouret bleu,10.00,https://shop.example/12,https://cdn.example/12.jpg\nS-301,Tabouret rouge,1.00,https://shop.example/301,https://cdn.example/301.jpg\n"), Options{}); err != nil {
		t.Fatal(err)
	}
	if got := search("tabouret"); !slices.Equal(got, []string{"S-12", "S-301"}) {
		t.Fatalf("renamed: %v", got)
	}
	if got := search("chaise 12"); slices.Contains(got, "S-12") {
		t.Fatalf("old title still found: %v", got)
	}
	if n, err := s.Count(ctx); err != nil || n != 302 {
		t.Fatalf("count after import %d %v", n, err)
	}
	brands, err := s.Facets(ctx, "brand", 300)
	if err != nil || len(brands) != 41 || brands[0] != "Brand00" || brands[39] != "Brand39" || brands[40] != "Zeta" {
		t.Fatalf("brands %v %v", brands, err)
	}
	if few, _ := s.Facets(ctx, "brand", 3); !slices.Equal(few, []string{"Brand00", "Brand01", "Brand02"}) {
		t.Fatalf("first 3 brands: %v", few)
	}
	if types, _ := s.Facets(ctx, "product_type", 300); !slices.Equal(types, []string{"Type0", "Type1", "Type2"}) {
		t.Fatalf("types %v", types)
	}
}
