package landing

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
)

//go:embed templates/*.html
var templates embed.FS

// pageTmpl is the public page parsed once per language, t bound to it.
var pageTmpl = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, lang := range i18n.Langs {
		out[lang] = template.Must(template.New("page.html").Funcs(i18n.Funcs(lang)).ParseFS(templates, "templates/page.html"))
	}
	return out
}()

// NotFound is the 404 page for unknown or unpublished slugs.
var NotFound, _ = templates.ReadFile("templates/notfound.html")

// Rendered is a page ready to serve: its bytes, precompressed.
type Rendered struct {
	HTML, Gzip, Brotli []byte
	ETag               string
	Modified           time.Time
	// Response header values, formatted once: the ETag and Modified in
	// HTTP date format.
	ETagBytes, LastModified []byte
	// Expires is when a promotion boundary (or the safety TTL) makes the
	// bytes stale; they are rendered again on the first request after it.
	Expires time.Time
}

// MaxAge is how long a client or CDN may keep the bytes without asking.
func (r *Rendered) MaxAge(now time.Time) int {
	s := int(r.Expires.Sub(now).Seconds())
	return max(0, min(s, 60))
}

// Server renders published pages at the price in force at the moment of the
// request and keeps them in memory until a promotion boundary, a publish, or
// the safety TTL. Several web nodes learn of a publish through Redis pub/sub.
type Server struct {
	Pages      *Pages
	Promotions *Promotions
	Catalog    Products
	BaseURL    string
	Clock      clock.Clock
	TTL        time.Duration
	Bus        redis.UniversalClient // nil: this node only
	// DefaultLang is the language of pages that name none
	// (landing.default_lang; "fr" when empty).
	DefaultLang string

	mu    sync.RWMutex
	cache map[string]*Rendered
	gen   uint64 // bumped by every invalidation, under mu
	sf    singleflight.Group
}

func (s *Server) now() time.Time { return clock.Or(s.Clock).Now() }

// InvalidationChannel is the Redis pub/sub channel of publishes.
const InvalidationChannel = "rampe:landing:invalidate"

// Get returns the page at slug as it must be served now, or ErrNotFound.
func (s *Server) Get(ctx context.Context, slug string) (*Rendered, error) {
	now := s.now()
	s.mu.RLock()
	r, ok := s.cache[slug]
	s.mu.RUnlock()
	if ok && now.Before(r.Expires) {
		return r, nil
	}
	// A render that started before an invalidation must not be cached after
	// it, nor be shared with requests that arrive after it.
	s.mu.RLock()
	gen := s.gen
	s.mu.RUnlock()
	// What cannot be a slug is not looked up (a NUL byte is an error to
	// PostgreSQL, not a miss).
	if len(slug) > 100 || !slugRE.MatchString(slug) {
		return nil, ErrNotFound
	}
	// The slug becomes a map key that outlives the request: never keep a
	// string that may alias a reused request buffer (fiber's zero-copy).
	slug = strings.Clone(slug)
	v, err, _ := s.sf.Do(fmt.Sprintf("%s@%d", slug, gen), func() (any, error) {
		r, err := s.render(ctx, slug, now)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		if s.gen == gen {
			if s.cache == nil {
				s.cache = map[string]*Rendered{}
			}
			s.cache[slug] = r
		}
		s.mu.Unlock()
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Rendered), nil
}

// Invalidate drops slug ("" = every page) here and, through Redis, on every
// other web node.
func (s *Server) Invalidate(ctx context.Context, slug string) {
	s.drop(slug)
	if s.Bus != nil {
		if err := s.Bus.Publish(ctx, InvalidationChannel, slug).Err(); err != nil {
			slog.Warn("landing: publish invalidation", "slug", slug, "err", err)
		}
	}
}

func (s *Server) drop(slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	if slug == "" {
		s.cache = nil
		return
	}
	delete(s.cache, slug)
}

// Listen applies other nodes' invalidations until ctx ends.
func (s *Server) Listen(ctx context.Context) {
	if s.Bus == nil {
		return
	}
	sub := s.Bus.Subscribe(ctx, InvalidationChannel)
	defer sub.Close()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			s.drop(m.Payload)
		}
	}
}

type productView struct {
	Title, Brand, Link, Image, Price, Regular, Badge, AvailabilityText string
	InStock, OnSale                                                    bool
	Coded                                                              []string
}

var availabilityText = map[string]string{"in_stock": i18n.Key("In stock"), "out_of_stock": i18n.Key("Out of stock"),
	"preorder": i18n.Key("Pre-order"), "backorder": i18n.Key("Back-order")}

// LangOf is the language shoppers read page p in.
func (s *Server) LangOf(p *Page) string {
	switch {
	case i18n.Supported(p.Lang):
		return p.Lang
	case i18n.Supported(s.DefaultLang):
		return s.DefaultLang
	}
	return i18n.FR
}

var schemaAvailability = map[string]string{"in_stock": "https://schema.org/InStock", "out_of_stock": "https://schema.org/OutOfStock",
	"preorder": "https://schema.org/PreOrder", "backorder": "https://schema.org/BackOrder"}

// Products returns the products of a page's block: its explicit SKUs, or its
// promotion's scope, bounded by the page's limit.
func (s *Server) Products(ctx context.Context, p *Page) ([]catalog.Product, error) {
	limit := min(max(p.ProductLimit, 1), MaxProducts)
	if skus := p.SKUs(); len(skus) > 0 {
		prods, err := s.Catalog.BySKUs(ctx, skus)
		if err != nil {
			return nil, err
		}
		// Keep the marketer's order.
		bySKU := map[string]catalog.Product{}
		for _, pr := range prods {
			bySKU[pr.SKU] = pr
		}
		var out []catalog.Product
		for _, sku := range skus {
			if pr, ok := bySKU[sku]; ok && len(out) < limit {
				out = append(out, pr)
			}
		}
		return out, nil
	}
	if p.PromotionID != nil {
		promo, err := s.Promotions.Get(ctx, *p.PromotionID)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return s.Promotions.Products(ctx, promo, limit)
	}
	return nil, nil
}

func (s *Server) render(ctx context.Context, slug string, now time.Time) (*Rendered, error) {
	v, err := s.Pages.PublishedVersion(ctx, slug)
	if err != nil {
		return nil, err
	}
	return s.RenderVersion(ctx, &v.Snapshot, v.BodyHTML, fmt.Sprintf("version %d", v.Number), v.PublishedAt, now)
}

// RenderVersion renders a page snapshot at instant now. Drafts are previewed
// through it too.
func (s *Server) RenderVersion(ctx context.Context, p *Page, bodyHTML, label string, modified, now time.Time) (*Rendered, error) {
	prods, err := s.Products(ctx, p)
	if err != nil {
		return nil, err
	}
	promos, err := s.Promotions.Published(ctx, now)
	if err != nil {
		return nil, err
	}
	withUTM := UTM{Source: p.UTMSource, Medium: p.UTMMedium, Campaign: p.UTMCampaign}.Applier()
	canonical := p.CanonicalURL
	if canonical == "" {
		canonical = s.BaseURL + "/l/" + p.Slug
	}
	// label ("version 3", "draft") is for the people who publish, not for
	// shoppers: the page does not show it.
	_ = label
	lang := s.LangOf(p)
	data := map[string]any{"Title": p.Title, "Meta": p.MetaDescription, "Canonical": canonical, "Hero": p.Hero,
		"Body": template.HTML(bodyHTML), "Alternates": s.hreflangLinks(p, canonical)}
	var ctas []CTA
	for _, c := range p.CTAs {
		ctas = append(ctas, CTA{Label: c.Label, URL: withUTM(c.URL)})
	}
	data["CTAs"] = ctas
	var views []productView
	var ld []template.JS
	index := NewIndex(promos)
	for i := range prods {
		pr := &prods[i]
		price := index.Price(pr, now)
		link := withUTM(pr.Link)
		view := productView{Title: pr.Title, Brand: pr.Brand, Link: link, Image: pr.ImageLink,
			Price: money.FormatIn(lang, price.Effective, pr.Currency), Regular: money.FormatIn(lang, price.Regular, pr.Currency),
			OnSale: price.OnSale(), InStock: pr.Availability == "in_stock", AvailabilityText: i18n.T(lang, availabilityText[pr.Availability])}
		if price.Promotion != nil {
			view.Badge = price.Promotion.LabelIn(lang)
		}
		for _, c := range price.Coded {
			view.Coded = append(view.Coded, i18n.T(lang, "%s with code %s", money.FormatIn(lang, c.Price, pr.Currency), c.Code))
		}
		views = append(views, view)
		ld = append(ld, productLD(pr, price, link))
		if i == 0 && pr.ImageLink != "" {
			data["OGImage"] = pr.ImageLink
		}
	}
	data["Products"], data["LD"] = views, ld
	var buf bytes.Buffer
	if err := pageTmpl[lang].Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("landing: render %s: %w", p.Slug, err)
	}
	expires := now.Add(s.ttl())
	if b := NextBoundary(promos, now); !b.IsZero() && b.Before(expires) {
		expires = b
	}
	return precompress(buf.Bytes(), modified, expires)
}

func (s *Server) ttl() time.Duration {
	if s.TTL <= 0 {
		return 5 * time.Minute
	}
	return s.TTL
}

// productLD is the schema.org Product/Offer of a product at its effective price.
func productLD(pr *catalog.Product, price Price, link string) template.JS {
	offer := map[string]any{"@type": "Offer", "price": money.Plain(price.Effective, pr.Currency), "priceCurrency": pr.Currency,
		"availability": schemaAvailability[pr.Availability], "url": link}
	if price.Promotion != nil {
		offer["priceValidUntil"] = price.Promotion.EndsAt.Format("2006-01-02")
	}
	ld := map[string]any{"@context": "https://schema.org", "@type": "Product", "name": pr.Title, "sku": pr.SKU, "offers": offer}
	if pr.ImageLink != "" {
		ld["image"] = pr.ImageLink
	}
	if pr.Brand != "" {
		ld["brand"] = map[string]any{"@type": "Brand", "name": pr.Brand}
	}
	switch len(pr.GTIN) {
	case 13:
		ld["gtin13"] = pr.GTIN
	case 8, 12, 14:
		ld["gtin"] = pr.GTIN
	}
	b, _ := json.Marshal(ld)
	// json.Marshal escapes <, > and & as \u003c…, so the JSON cannot close the script element.
	return template.JS(b)
}

func precompress(html []byte, modified, expires time.Time) (*Rendered, error) {
	sum := sha256.Sum256(html)
	r := &Rendered{HTML: html, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`, Modified: modified, Expires: expires,
		LastModified: []byte(modified.UTC().Format(http.TimeFormat))}
	r.ETagBytes = []byte(r.ETag)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(html)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	var br bytes.Buffer
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	bw.Write(html)
	if err := bw.Close(); err != nil {
		return nil, err
	}
	r.Gzip, r.Brotli = gz.Bytes(), br.Bytes()
	return r, nil
}

// PreferredEncoding picks br, then gzip, from an Accept-Encoding header.
func PreferredEncoding(accept string) string {
	var gz bool
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") && !strings.Contains(params, "q=0.") {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "br":
			return "br"
		case "gzip", "x-gzip":
			gz = true
		}
	}
	if gz {
		return "gzip"
	}
	return ""
}
