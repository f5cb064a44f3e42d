// Package catalog owns the merchant's products: their attributes (those of
// the comparator feed specification), streaming imports from CSV and JSON
// that are all-or-nothing unless told to skip invalid rows, and the queries
// the products page needs at a million rows. It alone reads and writes its
// tables (products, their search index, imports): other domains use its
// read API — Stream (the whole catalog in id order, in bounded batches),
// the scopes of promotions and pages (CountIn, ProductsIn, PricingIn),
// BySKUs and Version — through small interfaces of their own.
package catalog

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/rowfile"
)

// Availability values of the feed specification.
var Availabilities = []string{"in_stock", "out_of_stock", "preorder", "backorder"}

// Conditions of the feed specification.
var Conditions = []string{"new", "refurbished", "used"}

// Product is one sellable item. Money is in minor units of Currency.
type Product struct {
	ID                    uint64    `gorm:"primaryKey" json:"id"`
	SKU                   string    `gorm:"column:sku" json:"sku"`
	Title                 string    `json:"title"`
	Description           string    `json:"description"`
	Link                  string    `json:"link"`
	ImageLink             string    `json:"image_link"`
	AdditionalImageLinks  string    `json:"additional_image_links,omitempty"` // "|" separated
	Brand                 string    `json:"brand"`
	GTIN                  string    `gorm:"column:gtin" json:"gtin,omitempty"`
	MPN                   string    `gorm:"column:mpn" json:"mpn,omitempty"`
	Condition             string    `json:"condition"`
	ProductType           string    `json:"product_type,omitempty"`
	GoogleProductCategory string    `json:"google_product_category,omitempty"`
	ItemGroupID           string    `json:"item_group_id,omitempty"`
	Price                 int64     `json:"price"`
	Currency              string    `json:"currency"`
	Cost                  *int64    `json:"cost,omitempty"`
	StockQuantity         int64     `json:"stock_quantity"`
	Availability          string    `json:"availability"`
	UpdatedAt             time.Time `json:"updated_at"`
}

// Migrations of the catalog tables.
var Migrations = []db.Migration{
	{ID: "2026112203_catalog", SQL: `
CREATE TABLE products (id {{id}}, sku VARCHAR(50) NOT NULL UNIQUE, title VARCHAR(150) NOT NULL, description TEXT NOT NULL DEFAULT '',
  link VARCHAR(2000) NOT NULL DEFAULT '', image_link VARCHAR(2000) NOT NULL DEFAULT '', additional_image_links TEXT NOT NULL DEFAULT '',
  brand VARCHAR(70) NOT NULL DEFAULT '', gtin VARCHAR(14) NOT NULL DEFAULT '', mpn VARCHAR(70) NOT NULL DEFAULT '',
  condition VARCHAR(12) NOT NULL DEFAULT 'new', product_type VARCHAR(750) NOT NULL DEFAULT '', google_product_category VARCHAR(750) NOT NULL DEFAULT '',
  item_group_id VARCHAR(50) NOT NULL DEFAULT '', price {{bigint}} NOT NULL, currency CHAR(3) NOT NULL, cost {{bigint}},
  stock_quantity {{bigint}} NOT NULL DEFAULT 0, availability VARCHAR(20) NOT NULL, updated_at {{ts}} NOT NULL);
CREATE INDEX products_brand ON products (brand, id);
CREATE INDEX products_type ON products (product_type, id);
CREATE INDEX products_availability ON products (availability, id);
CREATE INDEX products_gtin ON products (gtin);
CREATE TABLE imports (id {{id}}, filename VARCHAR(255) NOT NULL, format VARCHAR(10) NOT NULL, status VARCHAR(20) NOT NULL,
  skip_invalid BOOLEAN NOT NULL DEFAULT FALSE, bytes_total {{bigint}} NOT NULL DEFAULT 0, bytes_read {{bigint}} NOT NULL DEFAULT 0,
  rows_read {{bigint}} NOT NULL DEFAULT 0, rows_imported {{bigint}} NOT NULL DEFAULT 0, rows_invalid {{bigint}} NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '', created_by VARCHAR(254) NOT NULL DEFAULT '', created_at {{ts}} NOT NULL, finished_at {{ts}});
CREATE TABLE import_errors (id {{id}}, import_id {{bigint}} NOT NULL REFERENCES imports(id) ON DELETE CASCADE, line {{bigint}} NOT NULL,
  col VARCHAR(100) NOT NULL, value TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX import_errors_import ON import_errors (import_id, line);
CREATE TABLE staged_products (id {{id}}, import_id {{bigint}} NOT NULL, line {{bigint}} NOT NULL, sku VARCHAR(50) NOT NULL, title VARCHAR(150) NOT NULL,
  description TEXT NOT NULL DEFAULT '', link VARCHAR(2000) NOT NULL DEFAULT '', image_link VARCHAR(2000) NOT NULL DEFAULT '',
  additional_image_links TEXT NOT NULL DEFAULT '', brand VARCHAR(70) NOT NULL DEFAULT '', gtin VARCHAR(14) NOT NULL DEFAULT '',
  mpn VARCHAR(70) NOT NULL DEFAULT '', condition VARCHAR(12) NOT NULL DEFAULT 'new', product_type VARCHAR(750) NOT NULL DEFAULT '',
  google_product_category VARCHAR(750) NOT NULL DEFAULT '', item_group_id VARCHAR(50) NOT NULL DEFAULT '', price {{bigint}} NOT NULL,
  currency CHAR(3) NOT NULL, cost {{bigint}}, stock_quantity {{bigint}} NOT NULL DEFAULT 0, availability VARCHAR(20) NOT NULL, updated_at {{ts}} NOT NULL);
CREATE INDEX staged_products_import ON staged_products (import_id, sku, line)`},
	// Promotion scopes compare LOWER(brand) = LOWER(?) (0.21 s a scan of a
	// million products; 1 ms with this index).
	{ID: "2026120220_products_brand_lower", SQL: `CREATE INDEX products_brand_lower ON products (LOWER(brand), id)`},
	// Title search: a trigram index answers LIKE '%word%' without reading
	// every title (380 ms at a million products). SQLite: an FTS5 table
	// holding the titles (external content, kept by triggers);
	// PostgreSQL: pg_trgm on LOWER(title).
	{ID: "2026120221_products_title_search", Engine: "sqlite", SQL: `
CREATE VIRTUAL TABLE products_fts USING fts5(title, content='products', content_rowid='id', tokenize='trigram');
INSERT INTO products_fts(products_fts) VALUES ('rebuild');
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
  INSERT INTO products_fts(rowid, title) VALUES (new.id, new.title); END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
  INSERT INTO products_fts(products_fts, rowid, title) VALUES ('delete', old.id, old.title); END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF title ON products WHEN old.title <> new.title BEGIN
  INSERT INTO products_fts(products_fts, rowid, title) VALUES ('delete', old.id, old.title);
  INSERT INTO products_fts(rowid, title) VALUES (new.id, new.title); END`},
	// The extension is the database's, in whichever schema it was made
	// (public when this makes it): the operator class is named through it,
	// whatever the search_path.
	{ID: "2026120221_products_title_search_pg", Engine: "postgres", SQL: `
DO $$
DECLARE s text;
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
  SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
  EXECUTE format('CREATE INDEX products_title_trgm ON products USING gin (LOWER(title) %I.gin_trgm_ops)', s);
END $$`},
	// The catalog's version reads the newest updated_at from this index.
	// It was made by the feeds' first migration (2026112206_feeds) on the
	// databases that ran it: only the others make it now.
	{ID: "2026120351_products_updated", SQL: `CREATE INDEX IF NOT EXISTS products_updated ON products (updated_at)`},
	// Title search ignores accents ("velo" finds "Vélo"): SQLite's trigram
	// table is made again with remove_diacritics (searched with MATCH, which
	// that option keeps indexed); PostgreSQL indexes rampe_fold(title),
	// unaccent's lower-case form, or a fixed table of Latin letters where
	// unaccent cannot be created (foldFallback). SKU prefixes are read as a
	// range of the SKU index: PostgreSQL's in byte order, whatever the
	// database's collation.
	{ID: "2026120360_products_title_fold", Engine: "sqlite", SQL: `
DROP TABLE products_fts;
CREATE VIRTUAL TABLE products_fts USING fts5(title, content='products', content_rowid='id', tokenize='trigram remove_diacritics 2');
INSERT INTO products_fts(products_fts) VALUES ('rebuild')`},
	{ID: "2026120360_products_title_fold_pg", Engine: "postgres", SQL: `
DO $$
DECLARE t text; u text;
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'catalog: no unaccent extension (%): titles are folded by a table of Latin letters', SQLERRM;
  END;
  SELECT n.nspname INTO u FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent';
  IF u IS NULL THEN
    EXECUTE format('CREATE FUNCTION rampe_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %L',` + foldFallback + `);
  ELSE
    EXECUTE format('CREATE FUNCTION rampe_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %L',
      format('SELECT pg_catalog.lower(%I.unaccent(%L::regdictionary, $1))', u, u || '.unaccent'));
  END IF;
  SELECT n.nspname INTO t FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
  EXECUTE format('CREATE INDEX products_title_fold ON products USING gin (rampe_fold(title) %I.gin_trgm_ops)', t);
  DROP INDEX products_title_trgm;
  CREATE INDEX products_sku_prefix ON products (sku COLLATE "C");
END $$`},
	// What an import's products lack for the comparator feeds: a bit set
	// per staged row (FeedGap), the report of an import.
	{ID: "2026120361_imports_feed_gaps", SQL: `
ALTER TABLE staged_products ADD COLUMN feed_gaps {{bigint}} NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN feed_gaps TEXT`},
}

// foldFallback is rampe_fold's body where unaccent cannot be created: the
// Latin letters with diacritics of Latin-1 and Latin Extended-A that
// French, German, Spanish, Italian and Portuguese titles use, then lower
// case (SQL text, quoted).
const foldFallback = `'SELECT pg_catalog.lower(pg_catalog.translate($1, ''` + foldFrom + `'', ''` + foldTo + `''))'`

// foldFrom's letters become foldTo's, one for one.
const (
	foldFrom = "ÀÁÂÃÄÅàáâãäåÇçĆćČčÈÉÊËèéêëĚěÌÍÎÏìíîïÑñŃńŇňÒÓÔÕÖØòóôõöøŘřŚśŠšŤťÙÚÛÜùúûüŮůÝýÿŸŹźŻżŽž"
	foldTo   = "AAAAAAaaaaaaCcCcCcEEEEeeeeEeIIIIiiiiNnNnNnOOOOOOooooooRrSsSsTtUUUUuuuuUuYyyYZzZzZz"
)

// RowError is one problem of an imported row, named by line and column.
type RowError = rowfile.RowError

// ValidGTIN tells whether s is a GTIN-8, -12, -13 or -14 with a correct
// mod-10 check digit.
func ValidGTIN(s string) bool {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return false
	}
	sum := 0
	for i := len(s) - 2; i >= 0; i-- {
		d := int(s[i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if (len(s)-2-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	check := int(s[len(s)-1] - '0')
	return check >= 0 && check <= 9 && (10-sum%10)%10 == check
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && len(s) <= 2000
}

// Validate checks a product against the catalog rules and returns every
// problem with its column.
func (p *Product) Validate(line int64) []RowError {
	var errs []RowError
	add := func(col, val, format string, args ...any) {
		errs = append(errs, RowError{Line: line, Column: col, Value: val, Msg: fmt.Sprintf(format, args...)})
	}
	maxLen := func(col, v string, n int) {
		if c := utf8.RuneCountInString(v); c > n {
			add(col, v, "%d characters; the limit is %d", c, n)
		}
	}
	switch {
	case p.SKU == "":
		add("sku", p.SKU, "is required")
	case strings.ContainsAny(p.SKU, "\t\r\n"):
		add("sku", p.SKU, "must not contain tabs or line breaks")
	}
	maxLen("sku", p.SKU, 50)
	if p.Title == "" {
		add("title", p.Title, "is required")
	}
	maxLen("title", p.Title, 150)
	maxLen("description", p.Description, 5000)
	maxLen("brand", p.Brand, 70)
	maxLen("mpn", p.MPN, 70)
	maxLen("product_type", p.ProductType, 750)
	maxLen("item_group_id", p.ItemGroupID, 50)
	if p.Link != "" && !absoluteURL(p.Link) {
		add("link", p.Link, "must be an absolute http(s) URL")
	}
	if p.ImageLink != "" && !absoluteURL(p.ImageLink) {
		add("image_link", p.ImageLink, "must be an absolute http(s) URL")
	}
	if p.AdditionalImageLinks != "" {
		links := strings.Split(p.AdditionalImageLinks, "|")
		if len(links) > 10 {
			add("additional_image_links", p.AdditionalImageLinks, "%d links; at most 10", len(links))
		}
		for _, l := range links {
			if !absoluteURL(strings.TrimSpace(l)) {
				add("additional_image_links", l, "must be an absolute http(s) URL")
			}
		}
	}
	if p.GTIN != "" && !ValidGTIN(p.GTIN) {
		add("gtin", p.GTIN, "not a GTIN-8/12/13/14 with a valid check digit")
	}
	if !oneOf(p.Condition, Conditions) {
		add("condition", p.Condition, "want new, refurbished or used")
	}
	if !oneOf(p.Availability, Availabilities) {
		add("availability", p.Availability, "want in_stock, out_of_stock, preorder or backorder")
	}
	if p.Price < 0 {
		add("price", fmt.Sprint(p.Price), "must not be negative")
	}
	if p.Cost != nil && *p.Cost < 0 {
		add("cost", fmt.Sprint(*p.Cost), "must not be negative")
	}
	if p.StockQuantity < 0 {
		add("stock_quantity", fmt.Sprint(p.StockQuantity), "must not be negative")
	}
	if _, err := currency.ParseISO(p.Currency); err != nil || len(p.Currency) != 3 {
		add("currency", p.Currency, "not an ISO 4217 currency code")
	}
	return errs
}
