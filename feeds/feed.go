// Package feeds generates, validates and serves the product feeds price
// comparators fetch: Google Merchant Center XML and TSV, idealo CSV and a
// generic mapped CSV/TSV. Generation streams products from the catalog's
// read API into a temporary file with a gzip sibling and swaps them in
// atomically; every run is recorded with what it wrote, skipped and why.
// Feeds read other domains through small interfaces of their own
// (Catalog, PromotionSource), never their tables.
package feeds

import (
	"github.com/rampe/rampe/platform/validation"

	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/robfig/cron/v3"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/money"
)

// Formats.
const (
	GoogleXML = "google_xml"
	GoogleTSV = "google_tsv"
	IdealoCSV = "idealo_csv"
	Generic   = "generic"
)

// Column is one column of a generic feed: its header and a template such as
// "{brand} {title}".
type Column struct {
	Header   string `json:"header"`
	Template string `json:"template"`
}

// Feed is a feed definition.
type Feed struct {
	ID            uint64   `json:"id" gorm:"primaryKey"`
	Name          string   `json:"name"`
	Format        string   `json:"format"`
	Token         string   `json:"-"`
	Availability  string   `json:"availability"`            // comma-separated values kept; empty: all
	Brands        string   `json:"brands"`                  // one per line; empty: all
	ProductTypes  string   `json:"product_types"`           // one per line, prefix match; empty: all
	SKUs          string   `json:"skus" gorm:"column:skus"` // one per line or comma; empty: all
	PriceMin      *int64   `json:"price_min"`
	PriceMax      *int64   `json:"price_max"`
	TitleTemplate string   `json:"title_template"`
	Country       string   `json:"country"`
	Language      string   `json:"language"`
	Currency      string   `json:"currency"`
	Shipping      string   `json:"shipping"`      // Google: "FR:::4.90 EUR"; idealo: delivery costs
	DeliveryTime  string   `json:"delivery_time"` // idealo
	UTMSource     string   `json:"utm_source" gorm:"column:utm_source"`
	UTMMedium     string   `json:"utm_medium" gorm:"column:utm_medium"`
	UTMCampaign   string   `json:"utm_campaign" gorm:"column:utm_campaign"`
	Columns       []Column `json:"columns" gorm:"serializer:json"`
	Separator     string   `json:"separator"`
	DecimalComma  bool     `json:"decimal_comma"`
	Cron          string   `json:"cron"`
	// GeneratingSince guards against two generations of one feed at once.
	GeneratingSince *time.Time `json:"-"`
	LastRunID       *uint64    `json:"last_run_id"`
	GeneratedAt     *time.Time `json:"generated_at"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// FileName is the name comparators fetch.
func (f *Feed) FileName() string {
	switch f.Format {
	case GoogleXML:
		return f.Name + ".xml"
	case GoogleTSV:
		return f.Name + ".tsv"
	case Generic:
		if f.Separator == "\t" {
			return f.Name + ".tsv"
		}
	}
	return f.Name + ".csv"
}

// Delimited tells how a CSV or TSV feed separates its values: sep, and
// plain when values are never quoted (Google's TSV rule). ok is false for
// the XML format.
func (f *Feed) Delimited() (sep rune, plain, ok bool) {
	switch f.Format {
	case GoogleTSV:
		return '\t', true, true
	case IdealoCSV:
		return ';', false, true
	case Generic:
		if f.Separator == "" {
			return ',', false, true
		}
		sep := rune(f.Separator[0])
		return sep, sep == '\t', true
	}
	return 0, false, false
}

// ContentType of the feed file.
func (f *Feed) ContentType() string {
	switch {
	case strings.HasSuffix(f.FileName(), ".xml"):
		return "application/xml; charset=utf-8"
	case strings.HasSuffix(f.FileName(), ".tsv"):
		return "text/tab-separated-values; charset=utf-8"
	}
	return "text/csv; charset=utf-8"
}

func list(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// filter is the part of the feed's filters the catalog applies as it
// streams the products (the matcher applies them all).
func (f *Feed) filter() catalog.Filter {
	return catalog.Filter{Availability: list(f.Availability), SKUs: list(f.SKUs), PriceMin: f.PriceMin, PriceMax: f.PriceMax}
}

// matcher is a feed's filters parsed once, for a million products.
type matcher struct {
	avail, brands, types []string
	skus                 map[string]bool
	min, max             *int64
}

func (f *Feed) matcher() *matcher {
	m := &matcher{avail: list(f.Availability), brands: list(f.Brands), types: list(f.ProductTypes), min: f.PriceMin, max: f.PriceMax}
	if skus := list(f.SKUs); len(skus) > 0 {
		m.skus = make(map[string]bool, len(skus))
		for _, s := range skus {
			m.skus[s] = true
		}
	}
	return m
}

func (m *matcher) matches(p *catalog.Product) bool {
	if len(m.avail) > 0 && !contains(m.avail, p.Availability) {
		return false
	}
	if len(m.brands) > 0 && !containsFold(m.brands, p.Brand) {
		return false
	}
	if len(m.types) > 0 {
		ok := false
		for _, pt := range m.types {
			if p.ProductType == pt || strings.HasPrefix(p.ProductType, pt+" >") {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if m.skus != nil && !m.skus[p.SKU] {
		return false
	}
	if m.min != nil && p.Price < *m.min {
		return false
	}
	if m.max != nil && p.Price > *m.max {
		return false
	}
	return true
}

func contains(set []string, v string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

func containsFold(set []string, v string) bool {
	for _, s := range set {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// FieldError names a wrong field of a feed definition.
type FieldError = validation.FieldError

// ValidationError lists every wrong field.
type ValidationError = validation.Errors

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9]+(?:[-_][a-z0-9]+)*$`)
	templateRE = regexp.MustCompile(`\{(\w+)\}`)
)

// Validate checks a definition and fills its defaults.
func (f *Feed) Validate() error {
	var errs ValidationError
	add := func(field, format string, args ...any) {
		errs = append(errs, validation.Fieldf(field, format, args...))
	}
	f.Name = strings.TrimSpace(f.Name)
	if !nameRE.MatchString(f.Name) || len(f.Name) > 60 {
		add("name", "%q: use lower-case letters, digits, dashes or underscores (e.g. google-fr)", f.Name)
	}
	switch f.Format {
	case GoogleXML, GoogleTSV, IdealoCSV:
	case Generic:
		if len(f.Columns) == 0 {
			add("columns", "a generic feed needs at least one column")
		}
		for i, c := range f.Columns {
			if strings.TrimSpace(c.Header) == "" {
				add(fmt.Sprintf("columns.%d.header", i), "is required")
			}
			if err := checkTemplate(c.Template); err != nil {
				add(fmt.Sprintf("columns.%d.template", i), "%v", err)
			}
		}
		switch f.Separator {
		case ",", ";", "\t", "|":
		case "":
			f.Separator = ","
		default:
			add("separator", "want , ; | or a tab")
		}
	default:
		add("format", "want google_xml, google_tsv, idealo_csv or generic, got %q", f.Format)
	}
	for _, a := range list(f.Availability) {
		if !contains(catalog.Availabilities, a) {
			add("availability", "unknown availability %q", a)
		}
	}
	if f.PriceMin != nil && f.PriceMax != nil && *f.PriceMin > *f.PriceMax {
		add("price_max", "is below price_min")
	}
	if f.TitleTemplate == "" {
		f.TitleTemplate = "{title}"
	}
	if err := checkTemplate(f.TitleTemplate); err != nil {
		add("title_template", "%v", err)
	}
	f.Country, f.Language, f.Currency = strings.ToUpper(strings.TrimSpace(f.Country)), strings.ToLower(strings.TrimSpace(f.Language)), strings.ToUpper(strings.TrimSpace(f.Currency))
	if f.Country == "" {
		f.Country = "FR"
	}
	if len(f.Country) != 2 {
		add("country", "want a two-letter ISO 3166 code such as FR")
	}
	if f.Language == "" {
		f.Language = "fr"
	}
	if f.Currency == "" {
		f.Currency = "EUR"
	}
	if !money.Valid(f.Currency) {
		add("currency", "%q is not an ISO 4217 code", f.Currency)
	}
	if f.Cron = strings.TrimSpace(f.Cron); f.Cron != "" {
		if _, err := cron.ParseStandard(f.Cron); err != nil {
			add("cron", "not a cron expression (e.g. \"0 */2 * * *\"): %v", err)
		}
	}
	for _, u := range []struct{ f, v string }{{"utm_source", f.UTMSource}, {"utm_medium", f.UTMMedium}, {"utm_campaign", f.UTMCampaign}, {"shipping", f.Shipping}, {"delivery_time", f.DeliveryTime}} {
		if utf8.RuneCountInString(u.v) > 200 {
			errs = append(errs, FieldError{Field: u.f, Msg: "at most 200 characters"})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func checkTemplate(t string) error {
	if strings.TrimSpace(t) == "" {
		return fmt.Errorf("is empty")
	}
	for _, m := range templateRE.FindAllStringSubmatch(t, -1) {
		if !contains(Attributes, m[1]) {
			return fmt.Errorf("unknown field {%s} (fields: %s)", m[1], strings.Join(Attributes, ", "))
		}
	}
	return nil
}

// TokenLength is the length of a feed's token: 18 random bytes in
// base64url.
const TokenLength = 24

// NewToken returns an unguessable token for a feed URL.
func NewToken() string {
	b := make([]byte, TokenLength/4*3)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Run is one generation of a feed.
type Run struct {
	ID         uint64         `json:"id" gorm:"primaryKey"`
	FeedID     uint64         `json:"feed_id"`
	Reason     string         `json:"reason"` // what triggered it
	Status     string         `json:"status"` // running, done, failed
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at"`
	ItemsRead  int64          `json:"items_read"`
	Written    int64          `json:"written"`
	Skipped    int64          `json:"skipped"`
	Warnings   int64          `json:"warnings"`
	ByRule     map[string]int `json:"by_rule" gorm:"serializer:json"`
	Bytes      int64          `json:"bytes"`
	Message    string         `json:"message"`
	// What a generation collects before saving it with the run.
	issues []Issue
}

// Duration of a finished run (of a running one: so far, on the wall clock,
// as the UI shows it while it runs).
func (r *Run) Duration() time.Duration {
	if r.FinishedAt == nil {
		return time.Since(r.StartedAt).Round(time.Millisecond)
	}
	return r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond)
}

// Issue is a validation problem of one item in one run.
type Issue struct {
	ID       uint64 `json:"-" gorm:"primaryKey"`
	RunID    uint64 `json:"run_id"`
	SKU      string `json:"sku" gorm:"column:sku"`
	Rule     string `json:"rule"`
	Field    string `json:"field"`
	Value    string `json:"value"`
	Severity string `json:"severity"` // error (item left out) or warning (item kept)
	Message  string `json:"message"`
}

// TableName keeps the table name explicit.
func (Issue) TableName() string { return "feed_issues" }

// TableName keeps the table name explicit.
func (Run) TableName() string { return "feed_runs" }

// PriceLine records the prices a run wrote for a promoted product, so the
// freshness gate can compare them with the landing pages.
type PriceLine struct {
	RunID     uint64 `gorm:"primaryKey"`
	SKU       string `gorm:"primaryKey;column:sku"`
	Price     int64
	SalePrice *int64
	// The sale's window where the feed states it (Google's
	// sale_price_effective_date); nil: the sale price holds until the feed
	// is generated again (idealo, generic).
	SaleStartsAt, SaleEndsAt *time.Time
}

// saleAt is the sale price the feed line gives at t, nil for none.
func (l *PriceLine) saleAt(t time.Time) *int64 {
	switch {
	case l.SalePrice == nil:
		return nil
	case l.SaleStartsAt != nil && t.Before(*l.SaleStartsAt), l.SaleEndsAt != nil && !t.Before(*l.SaleEndsAt):
		return nil
	}
	return l.SalePrice
}

// TableName keeps the table name explicit.
func (PriceLine) TableName() string { return "feed_prices" }

// Migrations of the feeds tables.
var Migrations = []db.Migration{
	{ID: "2026120341_feed_objects", SQL: objectsMigration},
	{ID: "2026120210_feed_price_windows", SQL: `ALTER TABLE feed_prices ADD COLUMN sale_starts_at {{ts}};
ALTER TABLE feed_prices ADD COLUMN sale_ends_at {{ts}}`},
	{ID: "2026112206_feeds", SQL: `
CREATE TABLE feeds (id {{id}}, name VARCHAR(60) NOT NULL UNIQUE, format VARCHAR(20) NOT NULL, token VARCHAR(40) NOT NULL UNIQUE,
  availability TEXT NOT NULL DEFAULT '', brands TEXT NOT NULL DEFAULT '', product_types TEXT NOT NULL DEFAULT '', skus TEXT NOT NULL DEFAULT '',
  price_min {{bigint}}, price_max {{bigint}}, title_template VARCHAR(300) NOT NULL DEFAULT '{title}', country CHAR(2) NOT NULL,
  language VARCHAR(10) NOT NULL, currency CHAR(3) NOT NULL, shipping VARCHAR(200) NOT NULL DEFAULT '', delivery_time VARCHAR(200) NOT NULL DEFAULT '',
  utm_source VARCHAR(200) NOT NULL DEFAULT '', utm_medium VARCHAR(200) NOT NULL DEFAULT '', utm_campaign VARCHAR(200) NOT NULL DEFAULT '',
  columns TEXT, separator VARCHAR(2) NOT NULL DEFAULT '', decimal_comma BOOLEAN NOT NULL DEFAULT FALSE, cron VARCHAR(100) NOT NULL DEFAULT '',
  generating_since {{ts}}, last_run_id {{bigint}}, generated_at {{ts}}, created_at {{ts}} NOT NULL, updated_at {{ts}} NOT NULL);
CREATE TABLE feed_runs (id {{id}}, feed_id {{bigint}} NOT NULL REFERENCES feeds(id) ON DELETE CASCADE, reason VARCHAR(200) NOT NULL,
  status VARCHAR(12) NOT NULL, started_at {{ts}} NOT NULL, finished_at {{ts}}, items_read {{bigint}} NOT NULL DEFAULT 0, written {{bigint}} NOT NULL DEFAULT 0,
  skipped {{bigint}} NOT NULL DEFAULT 0, warnings {{bigint}} NOT NULL DEFAULT 0, by_rule TEXT, bytes {{bigint}} NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '');
CREATE INDEX feed_runs_feed ON feed_runs (feed_id, id);
CREATE TABLE feed_issues (id {{id}}, run_id {{bigint}} NOT NULL REFERENCES feed_runs(id) ON DELETE CASCADE, sku VARCHAR(50) NOT NULL,
  rule VARCHAR(60) NOT NULL, field VARCHAR(60) NOT NULL, value TEXT NOT NULL, severity VARCHAR(10) NOT NULL, message TEXT NOT NULL);
CREATE INDEX feed_issues_run ON feed_issues (run_id, sku);
CREATE INDEX feed_issues_sku ON feed_issues (sku, run_id);
CREATE TABLE feed_prices (run_id {{bigint}} NOT NULL REFERENCES feed_runs(id) ON DELETE CASCADE, sku VARCHAR(50) NOT NULL,
  price {{bigint}} NOT NULL, sale_price {{bigint}}, PRIMARY KEY (run_id, sku))`},
}
