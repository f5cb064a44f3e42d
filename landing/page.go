package landing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// MaxProducts bounds a page's product block.
const MaxProducts = 48

// CTA is a call-to-action link to the shop.
type CTA struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Page is a landing page being edited; visitors see its published version.
type Page struct {
	ID              uint64  `json:"id" gorm:"primaryKey"`
	Slug            string  `json:"slug"`
	Title           string  `json:"title"`
	MetaDescription string  `json:"meta_description"`
	CanonicalURL    string  `json:"canonical_url" gorm:"column:canonical_url"`
	Hero            string  `json:"hero"`
	Body            string  `json:"body"` // Markdown
	ProductSKUs     string  `json:"product_skus" gorm:"column:product_skus"`
	PromotionID     *uint64 `json:"promotion_id"`
	ProductLimit    int     `json:"product_limit"`
	CTAs            []CTA   `json:"ctas" gorm:"column:ctas;serializer:json"`
	UTMSource       string  `json:"utm_source" gorm:"column:utm_source"`
	UTMMedium       string  `json:"utm_medium" gorm:"column:utm_medium"`
	UTMCampaign     string  `json:"utm_campaign" gorm:"column:utm_campaign"`
	// Lang is the language shoppers read the page in ("fr", "en"); empty
	// takes the deployment's landing.default_lang.
	Lang string `json:"lang" gorm:"column:lang"`
	// Alternates are the page's versions in other languages (hreflang).
	Alternates         []Alternate `json:"alternates,omitempty" gorm:"column:alternates;serializer:json"`
	PublishedVersionID *uint64     `json:"published_version_id"`
	CreatedAt          time.Time   `json:"created_at"`
	UpdatedAt          time.Time   `json:"updated_at"`
}

// SKUs lists the explicit SKUs of the product block.
func (p *Page) SKUs() []string {
	return strings.FieldsFunc(p.ProductSKUs, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == ';' })
}

// Published tells whether visitors can see the page.
func (p *Page) Published() bool { return p.PublishedVersionID != nil }

// Version is an immutable published state of a page.
type Version struct {
	ID          uint64    `json:"id" gorm:"primaryKey"`
	PageID      uint64    `json:"page_id"`
	Number      int       `json:"number"`
	Snapshot    Page      `json:"snapshot" gorm:"serializer:json"`
	BodyHTML    string    `json:"body_html"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by"`
	// ContentHash is ContentHash of the snapshot and its HTML: two versions
	// with the same hash serve the same page.
	ContentHash string `json:"content_hash"`
}

// ContentHash is the SHA-256 (hex) of what a version serves: the page's
// fields and its rendered body, without its id, times and version number.
func ContentHash(p Page, bodyHTML string) string {
	p.ID, p.CreatedAt, p.UpdatedAt, p.PublishedVersionID = 0, time.Time{}, time.Time{}, nil
	b, _ := json.Marshal(struct {
		Page Page   `json:"page"`
		HTML string `json:"html"`
	}{p, bodyHTML})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TableName keeps the table name explicit.
func (Version) TableName() string { return "page_versions" }

// PageInput is what a marketer submits.
type PageInput struct {
	Slug            string      `json:"slug"`
	Title           string      `json:"title"`
	MetaDescription string      `json:"meta_description"`
	CanonicalURL    string      `json:"canonical_url"`
	Hero            string      `json:"hero"`
	Body            string      `json:"body"`
	ProductSKUs     string      `json:"product_skus"`
	PromotionID     *uint64     `json:"promotion_id"`
	ProductLimit    int         `json:"product_limit"`
	CTAs            []CTA       `json:"ctas"`
	UTMSource       string      `json:"utm_source"`
	UTMMedium       string      `json:"utm_medium"`
	UTMCampaign     string      `json:"utm_campaign"`
	Lang            string      `json:"lang"`
	Alternates      []Alternate `json:"alternates"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// BuildPage validates in.
func BuildPage(in PageInput) (*Page, error) {
	var errs ValidationError
	add := func(f, format string, args ...any) {
		errs = append(errs, validation.Fieldf(f, format, args...))
	}
	p := &Page{Slug: strings.TrimSpace(in.Slug), Title: strings.TrimSpace(in.Title), MetaDescription: strings.TrimSpace(in.MetaDescription),
		CanonicalURL: strings.TrimSpace(in.CanonicalURL), Hero: strings.TrimSpace(in.Hero), Body: in.Body, ProductSKUs: strings.TrimSpace(in.ProductSKUs),
		PromotionID: in.PromotionID, ProductLimit: in.ProductLimit, UTMSource: strings.TrimSpace(in.UTMSource),
		UTMMedium: strings.TrimSpace(in.UTMMedium), UTMCampaign: strings.TrimSpace(in.UTMCampaign), Lang: strings.TrimSpace(in.Lang)}
	if p.Lang != "" && !i18n.Supported(p.Lang) {
		add("lang", "%q is not a language Rampe writes pages in (want %s)", p.Lang, strings.Join(i18n.Langs, ", "))
	}
	switch {
	case p.Slug == "":
		add("slug", "is required")
	case len(p.Slug) > 100 || !slugRE.MatchString(p.Slug):
		add("slug", "%q: use lower-case letters, digits and single dashes (e.g. black-friday-2026)", p.Slug)
	}
	lengths := []struct {
		field, v string
		max      int
		required bool
	}{{"title", p.Title, 150, true}, {"meta_description", p.MetaDescription, 300, false}, {"hero", p.Hero, 500, false}, {"body", p.Body, 100000, false}}
	for _, l := range lengths {
		n := utf8.RuneCountInString(l.v)
		if l.required && n == 0 {
			add(l.field, "is required")
		}
		if n > l.max {
			add(l.field, "is %d characters long; the limit is %d", n, l.max)
		}
	}
	if p.CanonicalURL != "" && !absHTTP(p.CanonicalURL) {
		add("canonical_url", "%q must be an absolute http(s) URL", p.CanonicalURL)
	}
	if n := len(p.SKUs()); n > MaxProducts {
		add("product_skus", "%d SKUs; a page shows at most %d products", n, MaxProducts)
	}
	if p.ProductLimit == 0 {
		p.ProductLimit = 12
	}
	if p.ProductLimit < 1 || p.ProductLimit > MaxProducts {
		add("product_limit", "must be between 1 and %d", MaxProducts)
	}
	if len(in.CTAs) > 5 {
		add("ctas", "at most 5 calls to action")
	}
	for i, c := range in.CTAs {
		c.Label, c.URL = strings.TrimSpace(c.Label), strings.TrimSpace(c.URL)
		if c.Label == "" && c.URL == "" {
			continue
		}
		f := fmt.Sprintf("ctas.%d", i)
		if c.Label == "" || utf8.RuneCountInString(c.Label) > 80 {
			add(f+".label", "give a label of 1 to 80 characters")
		}
		if !absHTTP(c.URL) {
			add(f+".url", "%q must be an absolute http(s) link to the shop", c.URL)
		}
		p.CTAs = append(p.CTAs, c)
	}
	p.Alternates = buildAlternates(in.Alternates, add)
	for _, u := range []struct{ f, v string }{{"utm_source", p.UTMSource}, {"utm_medium", p.UTMMedium}, {"utm_campaign", p.UTMCampaign}} {
		if len(u.v) > 100 {
			add(u.f, "at most 100 characters")
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func absHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && len(s) <= 2000
}

// sanitizer allows the formatting Markdown produces and nothing that runs:
// no script, no event handler, no javascript: URL, no style.
var sanitizer = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.AllowURLSchemes("http", "https", "mailto")
	return p
}()

// RenderMarkdown turns Markdown into sanitised HTML.
func RenderMarkdown(src string) (string, error) {
	var buf bytes.Buffer
	if err := goldmark.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("landing: markdown: %w", err)
	}
	return sanitizer.Sanitize(buf.String()), nil
}

// Pages is the landing-page repository.
type Pages struct {
	DB    *gorm.DB
	Clock clock.Clock
	// Changed is called after a publish or unpublish (gates, caches);
	// change names it: "v3" (version 3 published), "off-v3" (taken down).
	Changed func(ctx context.Context, pageID uint64, slug, change string)
}

func (s *Pages) now() time.Time { return clock.Or(s.Clock).Now() }

// Get loads a page.
func (s *Pages) Get(ctx context.Context, id uint64) (*Page, error) {
	return db.Take[Page](s.DB.WithContext(ctx), ErrNotFound, id)
}

// BySlug loads a page by slug.
func (s *Pages) BySlug(ctx context.Context, slug string) (*Page, error) {
	return db.Take[Page](s.DB.WithContext(ctx).Where("slug = ?", slug), ErrNotFound)
}

// List returns every page by slug.
func (s *Pages) List(ctx context.Context) ([]Page, error) {
	var out []Page
	return out, s.DB.WithContext(ctx).Order("slug").Find(&out).Error
}

// Create stores a new page (a draft until published).
func (s *Pages) Create(ctx context.Context, in PageInput) (*Page, error) {
	p, err := BuildPage(in)
	if err != nil {
		return nil, err
	}
	if err := s.checkAlternatePages(ctx, p); err != nil {
		return nil, err
	}
	now := s.now()
	p.CreatedAt, p.UpdatedAt = now, now
	if err := s.DB.WithContext(ctx).Create(p).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, ValidationError{{Field: "slug", Msg: fmt.Sprintf("%q is taken by another page", p.Slug)}}
		}
		return nil, err
	}
	return p, nil
}

// Update edits the draft; visitors keep seeing the published version until
// the page is published again.
func (s *Pages) Update(ctx context.Context, id uint64, in PageInput) (*Page, error) {
	old, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := BuildPage(in)
	if err != nil {
		return nil, err
	}
	if old.Published() && p.Slug != old.Slug {
		return nil, ValidationError{{Field: "slug", Msg: "a published page keeps its slug (its URL is in campaigns); unpublish it to change the slug"}}
	}
	if err := s.checkAlternatePages(ctx, p); err != nil {
		return nil, err
	}
	p.ID, p.CreatedAt, p.UpdatedAt, p.PublishedVersionID = id, old.CreatedAt, s.now(), old.PublishedVersionID
	if err := s.DB.WithContext(ctx).Save(p).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, ValidationError{{Field: "slug", Msg: fmt.Sprintf("%q is taken by another page", p.Slug)}}
		}
		return nil, err
	}
	return p, nil
}

// Publish freezes the current draft as a new immutable version and serves it.
func (s *Pages) Publish(ctx context.Context, id uint64, by string) (*Version, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	html, err := RenderMarkdown(p.Body)
	if err != nil {
		return nil, err
	}
	v := &Version{PageID: id, Snapshot: *p, BodyHTML: html, PublishedAt: s.now(), PublishedBy: by, ContentHash: ContentHash(*p, html)}
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var last int
		if err := tx.Model(&Version{}).Where("page_id = ?", id).Select("COALESCE(MAX(number), 0)").Scan(&last).Error; err != nil {
			return err
		}
		v.Number = last + 1
		if err := tx.Create(v).Error; err != nil {
			return err
		}
		return tx.Model(&Page{}).Where("id = ?", id).Update("published_version_id", v.ID).Error
	})
	if err != nil {
		return nil, fmt.Errorf("landing: publish page %d: %w", id, err)
	}
	if s.Changed != nil {
		s.Changed(ctx, id, p.Slug, fmt.Sprintf("v%d", v.Number))
	}
	return v, nil
}

// Unpublish takes the page offline; its versions are kept.
func (s *Pages) Unpublish(ctx context.Context, id uint64) error {
	p, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if !p.Published() {
		return &RefusedError{Why: "the page is not published"}
	}
	if err := s.DB.WithContext(ctx).Model(&Page{}).Where("id = ?", id).Update("published_version_id", nil).Error; err != nil {
		return err
	}
	if s.Changed != nil {
		s.Changed(ctx, id, p.Slug, fmt.Sprintf("off-%d", *p.PublishedVersionID))
	}
	return nil
}

// Versions lists a page's versions, newest first.
func (s *Pages) Versions(ctx context.Context, id uint64) ([]Version, error) {
	var out []Version
	return out, s.DB.WithContext(ctx).Where("page_id = ?", id).Order("number DESC").Find(&out).Error
}

// SameContent lists the ids of the versions of versionID's page that serve
// the same content as it (itself included).
func (s *Pages) SameContent(ctx context.Context, versionID uint64) ([]uint64, error) {
	v, err := db.Take[Version](s.DB.WithContext(ctx), ErrNotFound, versionID)
	if err != nil || v.ContentHash == "" {
		return []uint64{versionID}, err
	}
	var ids []uint64
	return ids, s.DB.WithContext(ctx).Model(&Version{}).Where("page_id = ? AND content_hash = ?", v.PageID, v.ContentHash).Order("id").Pluck("id", &ids).Error
}

// PublishedVersion loads the version visitors see at slug.
func (s *Pages) PublishedVersion(ctx context.Context, slug string) (*Version, error) {
	return db.Take[Version](s.DB.WithContext(ctx).Joins("JOIN pages ON pages.published_version_id = page_versions.id").
		Where("pages.slug = ?", slug), ErrNotFound)
}

// PublishedRef is what a sitemap needs of a published page.
type PublishedRef struct {
	PageID      uint64
	Slug        string
	PublishedAt time.Time
}

// PublishedRefs returns, in page id order, the published pages among ids
// with the publish time of the version visitors see; unpublished or
// unknown ids are left out.
func (s *Pages) PublishedRefs(ctx context.Context, ids []uint64) ([]PublishedRef, error) {
	var out []PublishedRef
	if len(ids) == 0 {
		return out, nil
	}
	err := s.DB.WithContext(ctx).Table("pages").Select("pages.id AS page_id, pages.slug AS slug, page_versions.published_at AS published_at").
		Joins("JOIN page_versions ON page_versions.id = pages.published_version_id").Where("pages.id IN ?", ids).Order("pages.id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("landing: published pages: %w", err)
	}
	return out, nil
}
