package search

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type env struct {
	g      *gorm.DB
	clk    *clock.Fixed
	camps  *campaigns.Service
	pages  *landing.Pages
	promos *landing.Promotions
	srv    *landing.Server
	ch     *Channel
}

func newEnv(t *testing.T) *env {
	t.Helper()
	g := testenv.DB(t, db.Migrations, catalog.Migrations, landing.Migrations, campaigns.Migrations, Migrations)
	e := &env{g: g, clk: clock.NewFixed(t0)}
	cat := &catalog.Store{DB: g}
	e.promos = &landing.Promotions{DB: g, Catalog: cat, Clock: e.clk, DefaultTZ: "Europe/Paris"}
	e.pages = &landing.Pages{DB: g, Clock: e.clk}
	e.srv = &landing.Server{Pages: e.pages, Promotions: e.promos, Catalog: cat, BaseURL: "http://127.0.0.1", Clock: e.clk}
	e.pages.Changed = func(ctx context.Context, _ uint64, slug, _ string) { e.srv.Invalidate(ctx, slug) }
	e.camps = campaigns.NewService(g, nil, e.clk)
	csv := "sku,title,brand,price,product_type,gtin,link,image_link\n" +
		"P1,Chaise Oslo,Nordik,100.00,Maison > Salon,4006381333931,https://shop.example/p1,https://cdn.example/p1.jpg\n" +
		"P2,Table Été,Nordik,19.99,Maison > Cuisine,,https://shop.example/p2,https://cdn.example/p2.jpg\n"
	if _, err := cat.Import(context.Background(), strings.NewReader(csv), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	e.ch = &Channel{DB: g, Pages: e.pages, Renderer: e.srv, Offers: e.srv, BaseURL: "http://127.0.0.1", Clock: e.clk,
		Auditor: &Auditor{Clock: e.clk}}
	return e
}

// page creates and publishes a landing page showing P1 and P2.
func (e *env) page(t *testing.T, slug string) *landing.Page {
	t.Helper()
	ctx := context.Background()
	p, err := e.pages.Create(ctx, landing.PageInput{Slug: slug, Title: "Soldes d'hiver : le salon à prix doux", ProductSKUs: "P1,P2",
		MetaDescription: "Chaises, tables et lampes du salon à prix réduits pendant toute la durée des soldes d'hiver."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.pages.Publish(ctx, p.ID, "test"); err != nil {
		t.Fatal(err)
	}
	return p
}

// campaign creates a campaign on the SEO channel leading to page.
func (e *env) campaign(t *testing.T, pageID uint64) *campaigns.Campaign {
	t.Helper()
	in := campaigns.Input{Name: "Soldes", Channels: []string{"seo"}, TimeZone: "Europe/Paris",
		StartsAt: "2026-11-27T08:00", EndsAt: "2026-11-30T23:59", Currency: "EUR",
		Budgets: map[string]int64{"seo": 40000}, Forecast: map[string]map[string]float64{"seo": {"sessions_per_day": 1000}},
	}
	if pageID != 0 {
		in.LandingPageID = &pageID
	}
	c, err := e.camps.Create(context.Background(), in, "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}
