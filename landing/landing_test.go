package landing

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type env struct {
	clk    *clock.Fixed
	cat    *catalog.Store
	promos *Promotions
	pages  *Pages
	srv    *Server
	camps  *campaigns.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	g := testenv.DB(t, db.Migrations, catalog.Migrations, Migrations, campaigns.Migrations)
	e := &env{clk: clock.NewFixed(t0), cat: &catalog.Store{DB: g}}
	e.promos = &Promotions{DB: g, Catalog: e.cat, Clock: e.clk, DefaultTZ: "Europe/Paris"}
	e.pages = &Pages{DB: g, Clock: e.clk}
	e.srv = &Server{Pages: e.pages, Promotions: e.promos, Catalog: e.cat, BaseURL: "http://127.0.0.1", Clock: e.clk}
	csv := "sku,title,brand,price,product_type,gtin,link,image_link\n" +
		"P1,Chaise Oslo,Nordik,100.00,Maison > Salon,4006381333931,https://shop.example/p1?color=red,https://cdn.example/p1.jpg\n" +
		"P2,Table Été,Nordik,19.99,Maison > Cuisine,,https://shop.example/p2,https://cdn.example/p2.jpg\n" +
		"P3,Lampe,Lumen,0.05,Maison > Salon,,https://shop.example/p3,\n"
	if _, err := e.cat.Import(context.Background(), strings.NewReader(csv), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) promo(t *testing.T, in PromotionInput, publish bool) *Promotion {
	t.Helper()
	if in.StartsAt == "" {
		in.StartsAt, in.EndsAt = "2026-11-27T00:00", "2026-11-30T23:59"
	}
	p, err := e.promos.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if publish {
		if p, err = e.promos.Publish(context.Background(), p.ID); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestEffectivePriceRule(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.promo(t, PromotionInput{Name: "-20 % salon", Kind: PercentOff, Value: "20", Scope: ScopeType, ScopeValue: "Maison > Salon"}, true)
	e.promo(t, PromotionInput{Name: "-15 EUR Nordik", Kind: AmountOff, Value: "15", Scope: ScopeBrand, ScopeValue: "nordik"}, true)
	e.promo(t, PromotionInput{Name: "Lampe à 0", Kind: AmountOff, Value: "1", Scope: ScopeSKUs, ScopeValue: "P3"}, true)
	e.promo(t, PromotionInput{Name: "half, with code", Kind: PercentOff, Value: "50", Scope: ScopeAll, Code: "HALF"}, true)
	e.promo(t, PromotionInput{Name: "draft -90 %", Kind: PercentOff, Value: "90", Scope: ScopeAll}, false)
	e.promo(t, PromotionInput{Name: "12.5 % table", Kind: PercentOff, Value: "12.5", Scope: ScopeSKUs, ScopeValue: "P2"}, true)
	promos, _ := e.promos.Published(ctx, t0)
	during := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		sku       string
		at        time.Time
		want      int64
		promoName string
	}{
		{"P1", t0, 10000, ""},                                              // before the window
		{"P1", during, 8000, "-20 % salon"},                                // -20 % (80.00) beats -15 EUR (85.00); no stacking
		{"P2", during, 499, "-15 EUR Nordik"},                              // 19.99 - 15 = 4.99 beats 12.5 % (17.49)
		{"P3", during, 0, "Lampe à 0"},                                     // never below zero
		{"P1", time.Date(2026, 11, 30, 22, 59, 0, 0, time.UTC), 10000, ""}, // the window ended at 23:59 Paris = 22:59 UTC
	}
	for _, tc := range cases {
		pr, _ := e.cat.BySKU(ctx, tc.sku)
		got := EffectivePrice(pr, promos, tc.at)
		name := ""
		if got.Promotion != nil {
			name = got.Promotion.Name
		}
		if got.Effective != tc.want || name != tc.promoName {
			t.Errorf("%s at %v: %d by %q, want %d by %q", tc.sku, tc.at, got.Effective, name, tc.want, tc.promoName)
		}
	}
	// Rounding half-up: 12.5 % of 19.99 = 2.49875 → 17.49125 → 17.49; of 0.05 → 0.04375 → 0.04.
	p := &Promotion{Kind: PercentOff, Value: 1250}
	if v, _ := p.Apply(1999, "EUR"); v != 1749 {
		t.Errorf("12.5 %% of 19.99 → %d", v)
	}
	p = &Promotion{Kind: PercentOff, Value: 5000}
	if v, _ := p.Apply(5, "EUR"); v != 3 {
		t.Errorf("50 %% of 0.05 → %d, want 3 (half-up)", v)
	}
	// The coded promotion never changes the displayed price but is offered.
	pr, _ := e.cat.BySKU(ctx, "P1")
	if got := EffectivePrice(pr, promos, during); len(got.Coded) != 1 || got.Coded[0].Price != 5000 {
		t.Errorf("coded offers: %+v", got.Coded)
	}
}

func TestPromotionPublishRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.promos.Create(ctx, PromotionInput{Name: "x", Kind: PercentOff, Value: "120", Scope: ScopeAll, StartsAt: "2026-11-27T00:00", EndsAt: "2026-11-26T00:00"})
	var ve ValidationError
	if !errors.As(err, &ve) || ve.For("value") == "" || !strings.Contains(ve.For("ends_at"), "must be after the start") {
		t.Fatalf("validation: %v", err)
	}
	nobody := e.promo(t, PromotionInput{Name: "ghost brand", Kind: PercentOff, Value: "10", Scope: ScopeBrand, ScopeValue: "Nobody"}, false)
	var re *RefusedError
	if _, err := e.promos.Publish(ctx, nobody.ID); !errors.As(err, &re) || !strings.Contains(re.Why, "no product matches") {
		t.Fatalf("publish with no match: %v", err)
	}
	past := e.promo(t, PromotionInput{Name: "over", Kind: PercentOff, Value: "10", Scope: ScopeAll, StartsAt: "2026-01-01T00:00", EndsAt: "2026-01-02T00:00"}, false)
	if _, err := e.promos.Publish(ctx, past.ID); !errors.As(err, &re) || !strings.Contains(re.Why, "already over") {
		t.Fatalf("publish of a past window: %v", err)
	}
	ok := e.promo(t, PromotionInput{Name: "ok", Kind: FixedPrice, Value: "9.99", Scope: ScopeSKUs, ScopeValue: "P1, P2"}, false)
	lines, total, err := e.promos.Preview(ctx, ok, 10)
	if err != nil || total != 2 || lines[0].Before != 10000 || lines[0].After != 999 {
		t.Fatalf("preview: %+v %d %v", lines, total, err)
	}
	if _, err := e.promos.Publish(ctx, ok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.promos.Update(ctx, ok.ID, PromotionInput{}); !errors.As(err, &re) {
		t.Fatalf("editing a published promotion: %v", err)
	}
}

func TestPageSanitisesHostileInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	payloads := []string{`<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`, `[x](javascript:alert(1))`, `<a href="javascript:alert(1)">x</a>`,
		`<svg onload=alert(1)>`, `"><script>alert(1)</script>`, `<iframe src="https://evil.example"></iframe>`, `<div style="background:url(javascript:alert(1))">x</div>`}
	for i, p := range payloads {
		in := PageInput{Slug: "xss-" + string(rune('a'+i)), Title: p, MetaDescription: p, Hero: p, Body: "# Hi\n\n" + p, ProductSKUs: "P1",
			CTAs: []CTA{{Label: p, URL: "https://shop.example/?q=" + p}}, UTMCampaign: p}
		page, err := e.pages.Create(ctx, in)
		if err != nil {
			t.Fatalf("payload %q: %v", p, err)
		}
		if _, err := e.pages.Publish(ctx, page.ID, "ana"); err != nil {
			t.Fatal(err)
		}
		r, err := e.srv.Get(ctx, page.Slug)
		if err != nil {
			t.Fatal(err)
		}
		if bad := activeContent(string(r.HTML)); bad != "" {
			t.Errorf("payload %q survives as %s", p, bad)
		}
	}
	if _, err := e.pages.Create(ctx, PageInput{Slug: "../etc/passwd", Title: "x"}); err == nil || !strings.Contains(err.Error(), "slug") {
		t.Fatalf("slug with ../: %v", err)
	}
	if _, err := e.pages.Create(ctx, PageInput{Slug: "ok", Title: "x", CTAs: []CTA{{Label: "Go", URL: "javascript:alert(1)"}}}); err == nil {
		t.Fatal("a javascript: CTA must be refused")
	}
}

func TestServedPriceFollowsPromotionWindowWithoutRepublish(t *testing.T) {
	e := newEnv(t)
	e.srv.TTL = 30 * 24 * time.Hour // only promotion boundaries expire the cache here
	ctx := context.Background()
	promo := e.promo(t, PromotionInput{Name: "BF", Kind: PercentOff, Value: "30", Scope: ScopeAll, StartsAt: "2026-11-27T00:00", EndsAt: "2026-11-30T00:00"}, true)
	page, err := e.pages.Create(ctx, PageInput{Slug: "black-friday", Title: "Black Friday", Body: "**Vite !**", PromotionID: &promo.ID,
		CTAs: []CTA{{Label: "Shop", URL: "https://shop.example/sale?utm_source=keep"}}, UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: "bf-2026"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Get(ctx, "black-friday"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unpublished page must be not found: %v", err)
	}
	if _, err := e.pages.Publish(ctx, page.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	before, _ := e.srv.Get(ctx, "black-friday")
	if !strings.Contains(string(before.HTML), "100,00\u00a0€") || strings.Contains(string(before.HTML), "70,00\u00a0€") {
		t.Fatal("before the window the regular price must show")
	}
	if want := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC); !before.Expires.Equal(want) {
		t.Fatalf("cache expires %v, want the window start %v", before.Expires, want)
	}
	e.clk.Set(time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC))
	during, _ := e.srv.Get(ctx, "black-friday")
	html := string(during.HTML)
	for _, want := range []string{"70,00\u00a0€", `"price":"70.00"`, `"priceValidUntil":"2026-11-29"`, `"gtin13":"4006381333931"`, `og:title`,
		"utm_source=keep", "utm_campaign=bf-2026", "color=red", "<strong>Vite !</strong>"} {
		if !strings.Contains(html, want) {
			t.Errorf("page during the window lacks %q", want)
		}
	}
	if strings.Count(html, "utm_source=") != strings.Count(html, "utm_source") {
		t.Error("utm parameters duplicated")
	}
	if during.ETag == before.ETag || len(during.Gzip) == 0 || len(during.Brotli) == 0 || len(during.Gzip) >= len(during.HTML) {
		t.Fatal("new bytes need a new ETag and compressed copies")
	}
	e.clk.Set(time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC))
	after, _ := e.srv.Get(ctx, "black-friday")
	if strings.Contains(string(after.HTML), "70,00\u00a0€") {
		t.Fatal("after the window the promotional price must go")
	}
}

func TestGates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := &campaigns.Registry{}
	RegisterGates(reg, e.pages, e.promos)
	page, _ := e.pages.Create(ctx, PageInput{Slug: "soldes", Title: "Soldes", ProductSKUs: "P1"})
	promo := e.promo(t, PromotionInput{Name: "Soldes", Kind: PercentOff, Value: "10", Scope: ScopeAll, StartsAt: "2026-11-27T00:00", EndsAt: "2026-11-29T00:00"}, false)
	c := &campaigns.Campaign{ChannelList: ",email,", TimeZone: "Europe/Paris", LandingPageID: &page.ID, PromotionIDs: []uint64{promo.ID},
		StartsAt: time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC), EndsAt: time.Date(2026, 11, 29, 22, 0, 0, 0, time.UTC)}
	outcome := func() map[string]campaigns.Result {
		out := map[string]campaigns.Result{}
		for _, r := range reg.Evaluate(ctx, c, t0).Results {
			out[r.Gate] = r
		}
		return out
	}
	got := outcome()
	if got["landing.published"].Outcome != campaigns.Fail || got["promotions.published"].Outcome != campaigns.Fail || !strings.Contains(got["promotions.published"].Message, "draft") {
		t.Fatalf("before publishing: %+v", got)
	}
	e.pages.Publish(ctx, page.ID, "ana")
	e.promos.Publish(ctx, promo.ID)
	got = outcome()
	if got["landing.published"].Outcome != campaigns.Pass || got["promotions.published"].Outcome != campaigns.Fail || !strings.Contains(got["promotions.published"].Message, "before the campaign") {
		t.Fatalf("promotion ending before the campaign: %+v", got)
	}
	c.EndsAt = time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC)
	if got = outcome(); got["promotions.published"].Outcome != campaigns.Pass {
		t.Fatalf("covered window: %+v", got["promotions.published"])
	}
	e.pages.Unpublish(ctx, page.ID)
	if got = outcome(); got["landing.published"].Outcome != campaigns.Fail || !strings.Contains(got["landing.published"].Message, "/l/soldes is not published") {
		t.Fatalf("after unpublish: %+v", got["landing.published"])
	}
}

func TestUTMAndEncoding(t *testing.T) {
	u := UTM{Source: "newsletter", Medium: "email", Campaign: "bf"}
	if got := u.Apply("https://shop.example/p?a=1&utm_source=idealo"); got != "https://shop.example/p?a=1&utm_campaign=bf&utm_medium=email&utm_source=idealo" {
		t.Errorf("utm: %s", got)
	}
	apply := u.Applier()
	for _, link := range []string{"https://shop.example/p", "https://shop.example/p?a=1&utm_source=idealo", "http://shop.example/p#top", "/relative", "not a url%"} {
		if got, want := apply(link), u.Apply(link); got != want {
			t.Errorf("Applier()(%q) = %q, Apply gives %q", link, got, want)
		}
	}
	if got := (UTM{}).Applier()("https://shop.example/p"); got != "https://shop.example/p" {
		t.Errorf("empty UTM changed the link: %s", got)
	}
	for accept, want := range map[string]string{"gzip, deflate, br": "br", "gzip": "gzip", "br;q=0, gzip": "gzip", "": "", "identity": ""} {
		if got := PreferredEncoding(accept); got != want {
			t.Errorf("PreferredEncoding(%q) = %q, want %q", accept, got, want)
		}
	}
}

// activeContent parses a page and names the first thing that would run:
// a script that is not JSON-LD, an on* attribute, a javascript: URL, an
// iframe, object or embed.
func activeContent(page string) string {
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "iframe", "object", "embed", "svg":
				return "<" + tok.Data + ">"
			case "script":
				ld := false
				for _, a := range tok.Attr {
					if a.Key == "type" && a.Val == "application/ld+json" {
						ld = true
					}
				}
				if !ld {
					return "<script>"
				}
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(v, "javascript:") || (a.Key == "style" && strings.Contains(v, "javascript")) {
					return tok.Data + " " + a.Key + "=" + a.Val
				}
			}
		}
	}
}

// TestPageSpeaksItsOwnLanguage: a page is written in its own language —
// labels, prices and the promotion badge — the deployment's default when it
// names none; JSON-LD keeps machine formats, the internal version label is
// not shown to shoppers, and an unknown language is refused naming the field.
func TestPageSpeaksItsOwnLanguage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.clk.Set(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	csv := "sku,title,price,availability,link\nP9,Sac,80.00,in_stock,https://shop.example/p9\n"
	if _, err := e.cat.Import(ctx, strings.NewReader(csv), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	promo := e.promo(t, PromotionInput{Name: "BF", Kind: PercentOff, Value: "12.5", Scope: ScopeAll, StartsAt: "2026-11-27T00:00", EndsAt: "2026-11-30T00:00"}, true)
	for _, c := range []struct {
		slug, lang, def string
		want, not       []string
	}{
		{"fr-page", "fr", "en", []string{`<html lang="fr">`, "En stock", "Ajouter au panier", "70,00\u00a0€", "-12,5\u00a0%", `"price":"`}, []string{"In stock", "version 1", "€70"}},
		{"en-page", "en", "fr", []string{`<html lang="en">`, "In stock", "Add to cart", "-12.5\u00a0%", "€"}, []string{"En stock", "version 1", "\u00a0€"}},
		{"default-page", "", "fr", []string{`<html lang="fr">`, "En stock"}, []string{"In stock"}},
	} {
		e.srv.DefaultLang = c.def
		page, err := e.pages.Create(ctx, PageInput{Slug: c.slug, Title: "Soldes", PromotionID: &promo.ID, ProductSKUs: "P9", Lang: c.lang})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.pages.Publish(ctx, page.ID, "ana"); err != nil {
			t.Fatal(err)
		}
		r, err := e.srv.Get(ctx, c.slug)
		if err != nil {
			t.Fatal(err)
		}
		html := string(r.HTML)
		for _, w := range c.want {
			if !strings.Contains(html, w) {
				t.Errorf("%s lacks %q", c.slug, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(html, w) {
				t.Errorf("%s shows %q", c.slug, w)
			}
		}
	}
	_, err := e.pages.Create(ctx, PageInput{Slug: "de-page", Title: "x", Lang: "de"})
	var ve ValidationError
	if !errors.As(err, &ve) || ve.For("lang") == "" {
		t.Fatalf("an unknown language: %v", err)
	}
	if _, err := e.pages.Get(ctx, 999); err == nil {
		t.Log("(no page 999, as expected)")
	}
}

// A promotion's preview counts its scope once per catalog version and
// promotion change: a product imported since, or the scope edited, is
// counted at the next view.
func TestPreviewCountFollowsTheCatalogAndThePromotion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.promo(t, PromotionInput{Name: "Nordik", Kind: PercentOff, Value: "10", Scope: ScopeBrand, ScopeValue: "nordik"}, false)
	for range 2 {
		if _, total, err := e.promos.Preview(ctx, p, 10); err != nil || total != 2 {
			t.Fatalf("preview of Nordik: %d products, %v; want 2", total, err)
		}
	}
	csv := "sku,title,brand,price,link,image_link\nP4,Buffet,Nordik,300.00,https://shop.example/p4,https://cdn.example/p4.jpg\n"
	if _, err := e.cat.Import(ctx, strings.NewReader(csv), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	if lines, total, err := e.promos.Preview(ctx, p, 10); err != nil || total != 3 || len(lines) != 3 {
		t.Fatalf("after an import: %d products (%d lines), %v; want 3", total, len(lines), err)
	}
	p, err := e.promos.Update(ctx, p.ID, PromotionInput{Name: "Lumen", Kind: PercentOff, Value: "10", Scope: ScopeBrand, ScopeValue: "Lumen",
		StartsAt: "2026-11-27T00:00", EndsAt: "2026-11-30T23:59"})
	if err != nil {
		t.Fatal(err)
	}
	if _, total, err := e.promos.Preview(ctx, p, 10); err != nil || total != 1 {
		t.Fatalf("after editing the scope: %d products, %v; want 1", total, err)
	}
}

// A promotion viewed while the catalog is empty previews no product: the
// count cache, at its zero catalog version, must not panic (which left
// its lock held and hung every later view).
func TestPreviewOfAnEmptyCatalog(t *testing.T) {
	g := testenv.DB(t, db.Migrations, catalog.Migrations, Migrations, campaigns.Migrations)
	clk := clock.NewFixed(t0)
	promos := &Promotions{DB: g, Catalog: &catalog.Store{DB: g}, Clock: clk, DefaultTZ: "Europe/Paris"}
	ctx := context.Background()
	p, err := promos.Create(ctx, PromotionInput{Name: "Maison", Kind: PercentOff, Value: "10", Scope: ScopeType, ScopeValue: "Maison",
		StartsAt: "2026-11-27T00:00", EndsAt: "2026-11-30T23:59"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if lines, total, err := promos.Preview(ctx, p, 10); err != nil || total != 0 || len(lines) != 0 {
			t.Fatalf("preview in an empty catalog: %d lines, %d products, %v", len(lines), total, err)
		}
	}
}
