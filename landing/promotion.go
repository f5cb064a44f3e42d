// Package landing owns what campaigns send visitors to: promotions (and the
// effective price rule), landing pages with their immutable published
// versions, the public serving of /l/{slug} from memory, and the readiness
// gates landing.published and promotions.published. It reads the products
// through Products, the catalog's read API as landing needs it, never the
// catalog's tables.
package landing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
	"github.com/rampe/rampe/platform/validation"
)

// Promotion kinds.
const (
	PercentOff = "percent"
	AmountOff  = "amount"
	FixedPrice = "fixed"
)

// Promotion scopes.
const (
	ScopeAll   = "all"
	ScopeSKUs  = "skus"
	ScopeBrand = "brand"
	ScopeType  = "product_type"
)

// Promotion states.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
	StatusArchived  = "archived"
)

// Promotion is a price reduction on some products over a window.
// Value is basis points for percent (1250 = 12.5 %), minor units otherwise.
type Promotion struct {
	ID          uint64     `json:"id" gorm:"primaryKey"`
	Name        string     `json:"name"`
	Kind        string     `json:"kind"`
	Value       int64      `json:"value"`
	Currency    string     `json:"currency"`
	Scope       string     `json:"scope"`
	ScopeValue  string     `json:"scope_value"` // SKUs (one per line or comma-separated), a brand, or a product type
	Code        string     `json:"code"`
	TimeZone    string     `json:"time_zone"`
	StartsAt    time.Time  `json:"starts_at"`
	EndsAt      time.Time  `json:"ends_at"`
	Status      string     `json:"status"`
	PublishedAt *time.Time `json:"published_at"`
	ChangedAt   time.Time  `json:"changed_at"` // last publish or unpublish: feeds and gates compare with it
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// SKUs lists the SKUs of a SKU-scoped promotion.
func (p *Promotion) SKUs() []string {
	return strings.FieldsFunc(p.ScopeValue, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == ';' })
}

// ActiveAt tells whether the promotion is published and its window holds t.
func (p *Promotion) ActiveAt(t time.Time) bool {
	return p.Status == StatusPublished && !t.Before(p.StartsAt) && t.Before(p.EndsAt)
}

// Covers tells whether the promotion is active over the whole of [from, to).
func (p *Promotion) Covers(from, to time.Time) bool {
	return p.Status == StatusPublished && !from.Before(p.StartsAt) && !to.After(p.EndsAt)
}

// Matches tells whether the promotion's scope includes product pr.
func (p *Promotion) Matches(pr *catalog.Product) bool {
	switch p.Scope {
	case ScopeAll:
		return true
	case ScopeSKUs:
		for _, s := range p.SKUs() {
			if s == pr.SKU {
				return true
			}
		}
	case ScopeBrand:
		return strings.EqualFold(pr.Brand, p.ScopeValue)
	case ScopeType:
		return pr.ProductType == p.ScopeValue || strings.HasPrefix(pr.ProductType, p.ScopeValue+" >")
	}
	return false
}

// Apply returns the price of pr under this promotion, ok false when the
// promotion cannot apply (other currency). Never below zero; percentages
// round half-up to the minor unit.
func (p *Promotion) Apply(price int64, cur string) (int64, bool) {
	switch p.Kind {
	case PercentOff:
		return (price*(10000-p.Value) + 5000) / 10000, true
	case AmountOff:
		if cur != p.Currency {
			return price, false
		}
		return max(price-p.Value, 0), true
	case FixedPrice:
		if cur != p.Currency {
			return price, false
		}
		return max(p.Value, 0), true
	}
	return price, false
}

// Label is a short human description ("-20 %", "-5.00 EUR", "9.99 EUR").
// LabelIn is the badge in lang: "-12,5 %" and "-15,00 €" in French.
func (p *Promotion) LabelIn(lang string) string {
	switch p.Kind {
	case PercentOff:
		pct := strings.TrimSuffix(strings.TrimSuffix(strconv.FormatFloat(float64(p.Value)/100, 'f', 2, 64), "0"), ".0")
		if lang == i18n.FR {
			pct = strings.Replace(pct, ".", ",", 1)
		}
		return "-" + pct + "\u00a0%"
	case AmountOff:
		return "-" + money.FormatIn(lang, p.Value, p.Currency)
	}
	return money.FormatIn(lang, p.Value, p.Currency)
}

func (p *Promotion) Label() string {
	switch p.Kind {
	case PercentOff:
		return "-" + strings.TrimSuffix(strings.TrimSuffix(strconv.FormatFloat(float64(p.Value)/100, 'f', 2, 64), "0"), ".0") + " %"
	case AmountOff:
		return "-" + money.Format(p.Value, p.Currency)
	}
	return money.Format(p.Value, p.Currency)
}

// Migrations of the landing tables.
var Migrations = []db.Migration{
	{ID: "2026112205_landing", SQL: `
CREATE TABLE promotions (id {{id}}, name VARCHAR(200) NOT NULL, kind VARCHAR(10) NOT NULL, value {{bigint}} NOT NULL, currency CHAR(3) NOT NULL,
  scope VARCHAR(20) NOT NULL, scope_value TEXT NOT NULL DEFAULT '', code VARCHAR(50) NOT NULL DEFAULT '', time_zone VARCHAR(64) NOT NULL,
  starts_at {{ts}} NOT NULL, ends_at {{ts}} NOT NULL, status VARCHAR(12) NOT NULL, published_at {{ts}}, changed_at {{ts}} NOT NULL,
  created_at {{ts}} NOT NULL, updated_at {{ts}} NOT NULL);
CREATE INDEX promotions_status ON promotions (status, starts_at);
CREATE TABLE pages (id {{id}}, slug VARCHAR(100) NOT NULL UNIQUE, title VARCHAR(150) NOT NULL, meta_description VARCHAR(300) NOT NULL DEFAULT '',
  canonical_url VARCHAR(2000) NOT NULL DEFAULT '', hero TEXT NOT NULL DEFAULT '', body TEXT NOT NULL DEFAULT '', product_skus TEXT NOT NULL DEFAULT '',
  promotion_id {{bigint}}, product_limit INTEGER NOT NULL DEFAULT 12, ctas TEXT, utm_source VARCHAR(100) NOT NULL DEFAULT '',
  utm_medium VARCHAR(100) NOT NULL DEFAULT '', utm_campaign VARCHAR(100) NOT NULL DEFAULT '', published_version_id {{bigint}},
  created_at {{ts}} NOT NULL, updated_at {{ts}} NOT NULL);
CREATE TABLE page_versions (id {{id}}, page_id {{bigint}} NOT NULL REFERENCES pages(id) ON DELETE CASCADE, number INTEGER NOT NULL,
  snapshot TEXT NOT NULL, body_html TEXT NOT NULL, published_at {{ts}} NOT NULL, published_by VARCHAR(254) NOT NULL, UNIQUE (page_id, number))`},
	// A version's content hash: republishing identical content is the same
	// page to load-check. Versions of before have none ('') and match only
	// themselves.
	{ID: "2026112216_page_versions_content_hash", SQL: `
ALTER TABLE page_versions ADD COLUMN content_hash VARCHAR(64) NOT NULL DEFAULT '';
CREATE INDEX page_versions_content ON page_versions (page_id, content_hash)`},
	{ID: "2026120222_pages_lang", SQL: `ALTER TABLE pages ADD COLUMN lang VARCHAR(5) NOT NULL DEFAULT ''`},
	// The page's versions in other languages (hreflang), a JSON list.
	{ID: "2026120310_pages_alternates", SQL: `ALTER TABLE pages ADD COLUMN alternates TEXT`},
}

// PromotionInput is what a marketer submits, from the form or the API.
type PromotionInput struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Value      string `json:"value"` // "20" (%), "5.00" (amount) or "9.99" (fixed price)
	Currency   string `json:"currency"`
	Scope      string `json:"scope"`
	ScopeValue string `json:"scope_value"`
	Code       string `json:"code"`
	TimeZone   string `json:"time_zone"`
	StartsAt   string `json:"starts_at"`
	EndsAt     string `json:"ends_at"`
}

// FieldError names the field that is wrong.
type FieldError = validation.FieldError

// ValidationError lists every wrong field.
type ValidationError = validation.Errors

// BuildPromotion validates in.
func BuildPromotion(in PromotionInput, defaultTZ string) (*Promotion, error) {
	var errs ValidationError
	add := func(f, format string, args ...any) {
		errs = append(errs, validation.Fieldf(f, format, args...))
	}
	p := &Promotion{Name: strings.TrimSpace(in.Name), Kind: in.Kind, Currency: strings.ToUpper(strings.TrimSpace(in.Currency)),
		Scope: in.Scope, ScopeValue: strings.TrimSpace(in.ScopeValue), Code: strings.TrimSpace(in.Code), TimeZone: strings.TrimSpace(in.TimeZone)}
	if p.Name == "" {
		add("name", "is required")
	} else if n := utf8.RuneCountInString(p.Name); n > 200 {
		add("name", "is %d characters long; the limit is 200", n)
	}
	if p.Currency == "" {
		p.Currency = "EUR"
	}
	if !money.Valid(p.Currency) {
		add("currency", "%q is not an ISO 4217 currency code", p.Currency)
	}
	val := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(in.Value), "%"))
	switch p.Kind {
	case PercentOff:
		// Basis points: "12.5" → 1250, parsed as a 2-decimal amount.
		bp, err := money.Parse(val, "EUR")
		switch {
		case err != nil || val == "":
			add("value", "%q is not a percentage (example: 20 or 12.5)", in.Value)
		case bp <= 0 || bp > 10000:
			add("value", "a percentage off must be above 0 and at most 100")
		default:
			p.Value = bp
		}
	case AmountOff, FixedPrice:
		v, err := money.Parse(val, p.Currency)
		switch {
		case err != nil || val == "":
			add("value", "%q is not an amount in %s (example: 9.99)", in.Value, p.Currency)
		case v <= 0 && p.Kind == AmountOff:
			add("value", "an amount off must be above 0")
		default:
			p.Value = v
		}
	default:
		add("kind", "want percent, amount or fixed, got %q", in.Kind)
	}
	switch p.Scope {
	case ScopeAll:
		p.ScopeValue = ""
	case ScopeSKUs:
		if len(p.SKUs()) == 0 {
			add("scope_value", "list at least one SKU")
		} else if len(p.SKUs()) > 10000 {
			add("scope_value", "at most 10,000 SKUs")
		}
	case ScopeBrand:
		if p.ScopeValue == "" {
			add("scope_value", "name the brand")
		}
	case ScopeType:
		if p.ScopeValue == "" {
			add("scope_value", "name the product type")
		}
	default:
		add("scope", "want all, skus, brand or product_type, got %q", in.Scope)
	}
	if len(p.Code) > 50 || strings.ContainsAny(p.Code, " \t<>\"'") {
		add("code", "at most 50 characters, no spaces, quotes or angle brackets")
	}
	if p.TimeZone == "" {
		p.TimeZone = defaultTZ
	}
	w, werrs := clock.ParseWindow(p.TimeZone, in.StartsAt, in.EndsAt, defaultTZ)
	errs = append(errs, werrs...)
	p.StartsAt, p.EndsAt = w.Start, w.End
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// Errors of the landing domain.
var (
	ErrNotFound = errors.New("landing: not found")
)

// RefusedError explains why a publish or unpublish was refused.
type RefusedError struct{ Why string }

func (e *RefusedError) Error() string { return "landing: refused: " + e.Why }

// Promotions is the promotions repository.
type Promotions struct {
	DB      *gorm.DB
	Catalog Products
	Clock   clock.Clock
	// Changed is called after a publish or unpublish (gates, feeds, caches).
	Changed   func(ctx context.Context, promotionID uint64)
	DefaultTZ string
	// PartnerCodes resolves the codes a promotion accepts besides its own:
	// affiliate partners' codes, valid only while their campaign is live
	// (nil: none).
	PartnerCodes PartnerCodes

	// counts keeps the number of products a promotion's scope holds, per
	// catalog version (Preview).
	counts previewCounts
}

func (s *Promotions) now() time.Time { return clock.Or(s.Clock).Now() }

// previewCounts caches scope counts: counting the 20,000 products of a
// brand reads 20,000 index entries (and, on PostgreSQL, the rows they
// point to) at every view of the promotion, though the count changes only
// with the promotion or the catalog.
type previewCounts struct {
	mu      sync.Mutex
	version catalog.Version
	n       map[promotionVersion]int64
}

type promotionVersion struct {
	id      uint64
	changed time.Time
	scope   string
	value   string
}

// maxPreviewCounts bounds the counts kept for one catalog version.
const maxPreviewCounts = 1000

// Get loads a promotion.
func (s *Promotions) Get(ctx context.Context, id uint64) (*Promotion, error) {
	return db.Take[Promotion](s.DB.WithContext(ctx), ErrNotFound, id)
}

// PromotionPageSize is how many promotions a list page holds (the UI, and
// the API by default); MaxPromotionPageSize the most an API caller may ask.
const (
	PromotionPageSize    = 100
	MaxPromotionPageSize = 500
)

// PromotionPage is one page of promotions, newest window first; NextAfter
// is the after of the next page, 0 when none follows.
type PromotionPage struct {
	Promotions []Promotion
	NextAfter  uint64
}

// Page returns the promotions that sort after promotion after (0: the
// first page) in the order (starts_at DESC, id DESC), at most limit
// (PromotionPageSize when 0). An after naming no promotion is ErrNotFound.
func (s *Promotions) Page(ctx context.Context, after uint64, limit int) (PromotionPage, error) {
	if limit <= 0 {
		limit = PromotionPageSize
	}
	q := s.DB.WithContext(ctx).Order("starts_at DESC, id DESC").Limit(limit + 1)
	if after != 0 {
		a, err := s.Get(ctx, after)
		if err != nil {
			return PromotionPage{}, err
		}
		q = q.Where("(starts_at < ? OR (starts_at = ? AND id < ?))", a.StartsAt, a.StartsAt, a.ID)
	}
	var out PromotionPage
	if err := q.Find(&out.Promotions).Error; err != nil {
		return out, fmt.Errorf("landing: list promotions: %w", err)
	}
	if len(out.Promotions) > limit {
		out.Promotions = out.Promotions[:limit]
		out.NextAfter = out.Promotions[limit-1].ID
	}
	return out, nil
}

// Count is how many promotions there are.
func (s *Promotions) Count(ctx context.Context) (int64, error) {
	var n int64
	return n, s.DB.WithContext(ctx).Model(&Promotion{}).Count(&n).Error
}

// All returns every promotion, newest window first, read page by page
// (the forms that link one to a campaign or a page offer them all).
func (s *Promotions) All(ctx context.Context) ([]Promotion, error) {
	var out []Promotion
	var after uint64
	for {
		page, err := s.Page(ctx, after, MaxPromotionPageSize)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Promotions...)
		if page.NextAfter == 0 {
			return out, nil
		}
		after = page.NextAfter
	}
}

// ScopeSummary says what the scope covers in a few words, to write in
// the reader's language: a SKU list by its count, not its (up to 10,000)
// SKUs.
func (p *Promotion) ScopeSummary() i18n.Message {
	switch p.Scope {
	case ScopeAll:
		return i18n.M("all products")
	case ScopeSKUs:
		n := len(p.SKUs())
		if n == 1 {
			return i18n.M("SKU %s", p.ScopeValue)
		}
		return i18n.M("%d SKUs", n)
	case ScopeBrand:
		return i18n.M("brand %s", p.ScopeValue)
	case ScopeType:
		return i18n.M("product type %s", p.ScopeValue)
	}
	return i18n.M("%s", p.Scope+" "+p.ScopeValue)
}

// Published returns every published promotion whose window has not ended by t.
func (s *Promotions) Published(ctx context.Context, t time.Time) ([]Promotion, error) {
	var out []Promotion
	return out, s.DB.WithContext(ctx).Where("status = ? AND ends_at > ?", StatusPublished, t).Find(&out).Error
}

// Create stores a draft.
func (s *Promotions) Create(ctx context.Context, in PromotionInput) (*Promotion, error) {
	p, err := BuildPromotion(in, s.DefaultTZ)
	if err != nil {
		return nil, err
	}
	now := s.now()
	p.Status, p.CreatedAt, p.UpdatedAt, p.ChangedAt = StatusDraft, now, now, now
	return p, s.DB.WithContext(ctx).Create(p).Error
}

// Update edits a draft; a published promotion must be unpublished first.
func (s *Promotions) Update(ctx context.Context, id uint64, in PromotionInput) (*Promotion, error) {
	old, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if old.Status != StatusDraft {
		return nil, &RefusedError{Why: "only a draft can be edited; unpublish it first"}
	}
	p, err := BuildPromotion(in, s.DefaultTZ)
	if err != nil {
		return nil, err
	}
	p.ID, p.Status, p.CreatedAt, p.UpdatedAt, p.ChangedAt = id, StatusDraft, old.CreatedAt, s.now(), old.ChangedAt
	return p, s.DB.WithContext(ctx).Save(p).Error
}

// PreviewLine is a product's price before and after a promotion.
type PreviewLine struct {
	Product       catalog.Product
	Before, After int64
}

// Preview lists up to limit affected products with their prices, and how
// many products the scope matches in all.
func (s *Promotions) Preview(ctx context.Context, p *Promotion, limit int) ([]PreviewLine, int64, error) {
	total, err := s.scopeCount(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	prods, err := s.Catalog.ProductsIn(ctx, p.CatalogScope(), limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]PreviewLine, len(prods))
	for i, pr := range prods {
		after, _ := p.Apply(pr.Price, pr.Currency)
		out[i] = PreviewLine{Product: pr, Before: pr.Price, After: min(after, pr.Price)}
	}
	return out, total, nil
}

// scopeCount counts the products of p's scope, once per promotion change
// and catalog version: the catalog's version is read (two index lookups)
// at every call, so a count is never older than the products.
func (s *Promotions) scopeCount(ctx context.Context, p *Promotion) (int64, error) {
	v, err := s.Catalog.Version(ctx)
	if err != nil {
		return 0, err
	}
	key := promotionVersion{id: p.ID, changed: p.ChangedAt, scope: string(p.Scope), value: p.ScopeValue}
	c := &s.counts
	c.mu.Lock()
	// An empty catalog's version is the zero one, the cache's before its
	// first use: the map must exist all the same.
	if c.n == nil || c.version != v || len(c.n) >= maxPreviewCounts {
		c.version, c.n = v, map[promotionVersion]int64{}
	}
	n, ok := c.n[key]
	c.mu.Unlock()
	if ok {
		return n, nil
	}
	if n, err = s.Catalog.CountIn(ctx, p.CatalogScope()); err != nil {
		return 0, err
	}
	c.mu.Lock()
	if c.version == v {
		c.n[key] = n
	}
	c.mu.Unlock()
	return n, nil
}

// Products returns up to limit products of a promotion's scope, by id.
func (s *Promotions) Products(ctx context.Context, p *Promotion, limit int) ([]catalog.Product, error) {
	return s.Catalog.ProductsIn(ctx, p.CatalogScope(), limit)
}

// PricingProducts returns Products(ctx, p, limit) with only what pricing
// and feed filters read (id, SKU, price, currency, brand, product type,
// availability): a third of the cost of whole rows.
func (s *Promotions) PricingProducts(ctx context.Context, p *Promotion, limit int) ([]catalog.Product, error) {
	return s.Catalog.PricingIn(ctx, p.CatalogScope(), limit)
}

// LastChanged is the newest ChangedAt of the promotions: the last
// creation, publish, unpublish or archiving (zero when there is none).
func (s *Promotions) LastChanged(ctx context.Context) (time.Time, error) {
	// The column itself, not MAX(): SQLite returns MAX of a time as text.
	var ts []time.Time
	if err := s.DB.WithContext(ctx).Model(&Promotion{}).Order("changed_at DESC").Limit(1).Pluck("changed_at", &ts).Error; err != nil || len(ts) == 0 {
		return time.Time{}, err
	}
	return ts[0], nil
}

// Publish makes a draft live for its window, refusing an empty or inverted
// window, one already over, or a scope that matches no product.
func (s *Promotions) Publish(ctx context.Context, id uint64) (*Promotion, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case p.Status == StatusPublished:
		return p, nil
	case p.Status == StatusArchived:
		return nil, &RefusedError{Why: "an archived promotion cannot be published"}
	case !p.EndsAt.After(p.StartsAt):
		return nil, &RefusedError{Why: "the window is empty or inverted"}
	case !p.EndsAt.After(now):
		return nil, &RefusedError{Why: "the window is already over"}
	}
	n, err := s.Catalog.CountIn(ctx, p.CatalogScope())
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, &RefusedError{Why: "no product matches its scope (" + p.Scope + " " + p.ScopeValue + ")"}
	}
	res := s.DB.WithContext(ctx).Model(&Promotion{}).Where("id = ? AND status = ?", id, StatusDraft).
		Updates(map[string]any{"status": StatusPublished, "published_at": now, "changed_at": now, "updated_at": now})
	if res.Error != nil {
		return nil, res.Error
	}
	p.Status, p.PublishedAt, p.ChangedAt = StatusPublished, &now, now
	if s.Changed != nil {
		s.Changed(ctx, id)
	}
	return p, nil
}

// Unpublish returns a published promotion to draft.
func (s *Promotions) Unpublish(ctx context.Context, id uint64) (*Promotion, error) {
	return s.setStatus(ctx, id, StatusPublished, StatusDraft)
}

// Archive retires a draft for good.
func (s *Promotions) Archive(ctx context.Context, id uint64) (*Promotion, error) {
	return s.setStatus(ctx, id, StatusDraft, StatusArchived)
}

func (s *Promotions) setStatus(ctx context.Context, id uint64, from, to string) (*Promotion, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.Status != from {
		return nil, &RefusedError{Why: fmt.Sprintf("the promotion is %s, not %s", p.Status, from)}
	}
	now := s.now()
	if err := s.DB.WithContext(ctx).Model(&Promotion{}).Where("id = ? AND status = ?", id, from).
		Updates(map[string]any{"status": to, "changed_at": now, "updated_at": now}).Error; err != nil {
		return nil, err
	}
	p.Status, p.ChangedAt = to, now
	if s.Changed != nil && from == StatusPublished {
		s.Changed(ctx, id)
	}
	return p, nil
}
