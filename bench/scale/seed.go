package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
)

// rareWord is in the titles of one product in 100,000: the products
// search looks for it.
const rareWord = "zanzibar"

// seeded is what the bench measures against.
type seeded struct {
	pageID      uint64
	brandPromo  uint64
	comparators uint64 // a comparators campaign linking three promotions
	campaign    uint64 // an e-mail campaign
}

// seedProducts inserts n products in SQL, on the server: Brand0…Brand49,
// one product type, the rare word in 1 title of 100,000.
func seedProducts(ctx context.Context, g *gorm.DB, n int) {
	cols := "sku, title, description, link, image_link, brand, gtin, condition, product_type, price, currency, stock_quantity, availability, updated_at"
	vals := "'B-' || i, 'Produit ' || i || CASE WHEN i % 100000 = 777 THEN ' " + rareWord + "' ELSE '' END, 'Description du produit ' || i, " +
		"'https://shop.example/p/' || i, 'https://cdn.example/' || i || '.jpg', 'Brand' || (i % 50), '', 'new', 'Maison > Salon', 1000 + i % 50000, " +
		"'EUR', i % 30, 'in_stock', "
	var q string
	if db.IsPostgres(g) {
		q = fmt.Sprintf("INSERT INTO products (%s) SELECT %s now() FROM generate_series(1, %d) i", cols, vals, n)
	} else {
		q = fmt.Sprintf("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %d) INSERT INTO products (%s) SELECT %s '2026-11-22 00:00:00' FROM n",
			n, cols, vals)
	}
	must(g.WithContext(ctx).Exec(q).Error)
	if db.IsPostgres(g) {
		must(g.WithContext(ctx).Exec("ANALYZE products").Error)
	}
}

// seedPromotions publishes 50 promotions over the whole plan: 30 by brand
// (60 % of the catalog) and 20 by SKU lists of 100 to 1,000 SKUs.
func seedPromotions(ctx context.Context, g *gorm.DB, n int, from, to time.Time) []uint64 {
	var ids []uint64
	for j := range 50 {
		p := landing.Promotion{Name: fmt.Sprintf("Promo %02d", j), Kind: landing.PercentOff, Value: int64(1000 + 10*j), Currency: "EUR",
			TimeZone: "Europe/Paris", StartsAt: from, EndsAt: to, Status: landing.StatusPublished, PublishedAt: &from, ChangedAt: from,
			CreatedAt: from, UpdatedAt: from}
		if j < 30 {
			p.Scope, p.ScopeValue = landing.ScopeBrand, fmt.Sprintf("Brand%d", j)
		} else {
			var skus []string
			for x := range 100 + (j-30)*47 {
				skus = append(skus, fmt.Sprintf("B-%d", 1+(j*7919+x*104729)%n))
			}
			p.Scope, p.ScopeValue = landing.ScopeSKUs, strings.Join(skus, "\n")
		}
		must(g.WithContext(ctx).Create(&p).Error)
		ids = append(ids, p.ID)
	}
	return ids
}

// seedCampaigns plans 5,000 scheduled campaigns over 60 days: every other
// one on comparators linking the feed and three promotions, 2,000 linking
// the page.
func seedCampaigns(ctx context.Context, g *gorm.DB, n int, start time.Time, pageID, feedID uint64, promos []uint64) seeded {
	mk := func(ch string, fc map[string]float64) *campaigns.Campaign {
		c, err := campaigns.Build(campaigns.Input{Name: "x", Channels: []string{ch}, TimeZone: "Europe/Paris", StartsAt: start.Format(time.RFC3339),
			EndsAt: start.Add(48 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{ch: 100000}, Forecast: map[string]map[string]float64{ch: fc}}, "Europe/Paris")
		must(err)
		return c
	}
	comp := mk("comparators", map[string]float64{"daily_clicks": 2000, "uplift": 2})
	mail := mk("email", map[string]float64{"audience": 20000, "open_rate": 0.25, "click_rate": 0.1})
	list := make([]campaigns.Campaign, n)
	now := time.Now().UTC()
	for i := range list {
		c := *mail
		if i%2 == 0 {
			c = *comp
		}
		s := start.Add(time.Duration(i%60)*24*time.Hour + time.Duration(i%24)*time.Hour)
		c.Name, c.StartsAt, c.EndsAt = fmt.Sprintf("Campaign %04d", i), s, s.Add(48*time.Hour)
		c.Status, c.ScheduleVersion, c.CreatedAt, c.UpdatedAt, c.CreatedBy = campaigns.Scheduled, 1, now, now, "bench"
		if i%5 < 2 {
			c.LandingPageID = &pageID
		}
		list[i] = c
	}
	must(g.WithContext(ctx).CreateInBatches(list, 200).Error)
	var out seeded
	out.pageID = pageID
	var feeds, links []map[string]any
	for i := range list {
		if i%2 != 0 {
			out.campaign = list[i].ID
			continue
		}
		out.comparators = list[i].ID
		feeds = append(feeds, map[string]any{"campaign_id": list[i].ID, "feed_id": feedID})
		for _, p := range []uint64{promos[i%30], promos[30+i%20], promos[30+(i+7)%20]} {
			links = append(links, map[string]any{"campaign_id": list[i].ID, "promotion_id": p})
		}
	}
	must(g.WithContext(ctx).Table("campaign_feeds").CreateInBatches(feeds, 200).Error)
	must(g.WithContext(ctx).Table("campaign_promotions").CreateInBatches(links, 200).Error)
	out.brandPromo = promos[0]
	return out
}

// seedPage makes the landing page 2,000 campaigns link, published once.
func seedPage(ctx context.Context, g *gorm.DB, promo uint64) uint64 {
	pages := &landing.Pages{DB: g, Clock: clock.System{}}
	p, err := pages.Create(ctx, landing.PageInput{Slug: "soldes", Title: "Soldes d'hiver", Body: "Les soldes.", PromotionID: &promo, ProductLimit: 12})
	must(err)
	_, err = pages.Publish(ctx, p.ID, "bench")
	must(err)
	return p.ID
}
