package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/catalog"
)

// The products page of a new user: a search without accents finds the
// accented titles, a SKU's beginning finds its SKUs, and the heading
// counts the results of the search, in French and English; a search that
// finds nothing says how the search matches.
func TestProductsSearchCountsItsResults(t *testing.T) {
	a := newTestApp(t)
	var b strings.Builder
	b.WriteString("sku,title,brand,price\nNU-001,Vélo électrique,Cycles,10\nNU-002,VÉLO de ville,Cycles,10\nRMP-00001,Table,Maison,10\n")
	for i := range catalog.CountCap + 5 {
		fmt.Fprintf(&b, "B-%05d,Chaise %d,Maison,10\n", i, i)
	}
	if _, err := a.Catalog.Import(context.Background(), strings.NewReader(b.String()), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	en, fr := a.browser(accounts.Viewer), a.browser(accounts.Viewer)
	en.acceptLanguage, fr.acceptLanguage = "en", "fr-FR,fr;q=0.9"
	get := func(br *browser, q string) string {
		t.Helper()
		r := br.get("/products?q=" + url.QueryEscape(q))
		if r.Status != 200 {
			t.Fatalf("%q: %d", q, r.Status)
		}
		return r.Body
	}
	velo := get(en, "velo")
	wantAll(t, "English search", velo, "Vélo électrique", "VÉLO de ville", "2 results")
	if strings.Contains(velo, "in the catalog") {
		t.Error("the heading counts the catalog during a search")
	}
	wantAll(t, "French search", get(fr, "velo"), "Vélo électrique", "2 résultats")
	wantAll(t, "English SKU prefix", get(en, "NU-00"), "NU-001", "NU-002", "2 results · SKUs beginning with NU-00")
	wantAll(t, "French SKU prefix", get(fr, "RMP-0000"), "RMP-00001", "1 résultat · SKU commençant par RMP-0000")
	wantAll(t, "English count past the cap", get(en, "chaise"), "more than 1,000 results")
	wantAll(t, "French count past the cap", get(fr, "chaise"), "plus de 1\u00a0000 résultats")
	wantAll(t, "English empty search", get(en, "zzzzzz"), "No product matches.", "SKUs by their beginning, and titles containing the text")
	wantAll(t, "French empty search", get(fr, "zzzzzz"), "Aucun produit ne correspond.", "les SKU par leur début, et les titres qui contiennent le texte")
	wantAll(t, "French filter", fr.get("/products?brand=Cycles").Body, "2 résultats")
	wantAll(t, "French catalog", fr.get("/products").Body, "1\u00a0008 dans le catalogue")

	api := a.api("GET", "/api/v1/products?q=velo", accounts.Viewer, "")
	wantAll(t, "API search", api.Body, `"total":2`, `"match":"title"`)
	api = a.api("GET", "/api/v1/products?q=B-0", accounts.Viewer, "")
	wantAll(t, "API SKU prefix", api.Body, `"total_over":1000`, `"match":"sku_prefix"`, `"more":true`)
}

// An import whose products lack what the feeds require succeeds and says
// so on its page, naming SKUs, in French and English; the import page
// tells which columns the feeds require.
func TestImportWarnsOfWhatTheFeedsRequire(t *testing.T) {
	a := newTestApp(t)
	a.startImportWorker(t)
	en := a.browser(accounts.Marketer)
	en.acceptLanguage = "en"
	wantAll(t, "English import page", en.get("/products/import").Body,
		"may be left empty, but the comparator feeds leave out a product without them (idealo needs the link only)")
	csv := "sku;title;price;brand;product_type;link;image_link;stock\n" +
		"NU-001;Bougie parfumée Figue;19,90;Lumen;Maison > Salon;https://shop.example/p/NU-001;https://shop.example/i/NU-001.jpg;12\n" +
		"NU-002;Plaid laine;1 249,50 €;Lumen;Maison > Salon;https://shop.example/p/NU-002;https://shop.example/i/NU-002.jpg;5\n"
	res := uploadCatalog(t, en, "good.csv", csv, false)
	loc := res.Header.Get("Location")
	wantAll(t, "English import", waitImport(t, en, loc), "2 products imported or updated",
		"2 imported products lack what comparator feeds require:",
		"2 without description (NU-001, NU-002): left out of the Google and generic feeds",
		"2 with a brand but no GTIN nor MPN (NU-001, NU-002): sent with identifier_exists=no, which lowers their reach")
	fr := a.browser(accounts.Marketer)
	fr.acceptLanguage = "fr-FR,fr;q=0.9"
	wantAll(t, "French import", fr.get(loc).Body, "2 produits importés ou mis à jour",
		"2 produits importés n&#39;ont pas ce que les flux comparateurs exigent :",
		"2 sans description (NU-001, NU-002) : écartés des flux Google et génériques")
	wantAll(t, "French import page", fr.get("/products/import").Body,
		"peuvent rester vides, mais les flux comparateurs écartent un produit qui ne les a pas")
}
