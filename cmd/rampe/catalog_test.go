package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampe/rampe/platform/testenv"
)

// `rampe catalog import` imports a product without description and says
// the comparator feeds will leave it out, naming its SKU, in the language
// of the shell's locale.
func TestCatalogImportWarnsOfWhatTheFeedsRequire(t *testing.T) {
	env := []string{"RAMPE_DATABASE_DSN=" + testenv.DSN(t), "LC_ALL=", "LC_MESSAGES="}
	if out, err := run(t, env, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	file := filepath.Join(t.TempDir(), "good.csv")
	csv := "sku;title;price;gtin;description;link;image_link\n" +
		"NU-001;Bougie;19,90;4006381333931;Une bougie;https://shop.example/p/1;https://shop.example/i/1.jpg\n" +
		"NU-002;Plaid laine;1 249,50 €;4006381333931;;https://shop.example/p/2;https://shop.example/i/2.jpg\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	for lang, wants := range map[string][]string{
		"en_US.UTF-8": {"2 products imported or updated from 2 rows", "1 imported product lacks what comparator feeds require:",
			"  1 without description (NU-002): left out of the Google and generic feeds"},
		"fr_FR.UTF-8": {"2 produits importés ou mis à jour depuis 2 lignes", "1 produit importé n'a pas ce que les flux comparateurs exigent :",
			"  1 sans description (NU-002) : écarté des flux Google et génériques"},
	} {
		out, err := run(t, append(env, "LANG="+lang), "catalog", "import", file)
		if err != nil {
			t.Fatalf("%s: %v\n%s", lang, err, out)
		}
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s: %q not in\n%s", lang, w, out)
			}
		}
	}
}
