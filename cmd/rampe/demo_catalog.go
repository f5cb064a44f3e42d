package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/landing"
)

// demoRefs are the demo catalog objects campaigns link to.
type demoRefs struct {
	pages  map[string]uint64 // by slug
	promos map[string]uint64 // by key
	feeds  []uint64
}

var demoTypes = []struct{ path, noun string }{
	{"Maison > Salon", "Fauteuil"}, {"Maison > Cuisine", "Cocotte"}, {"Maison > Luminaires", "Lampe"},
	{"Sport > Vélo", "Casque vélo"}, {"Sport > Randonnée", "Sac à dos"}, {"Mode > Chaussures", "Sneakers"},
}
var demoBrands = []string{"Nordik", "Lumen", "Atelier Roux", "Velo&Co", "Kaze", "Montagne"}
var demoAdjectives = []string{"Oslo", "Riviera", "Alto", "Nova", "Sierra", "Bali", "Kyoto", "Lisboa"}

// gtin13 builds a valid EAN-13 from a 12-digit body.
func gtin13(body int64) string {
	s := fmt.Sprintf("%012d", body)
	sum := 0
	for i := 11; i >= 0; i-- {
		d := int(s[i] - '0')
		if (11-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return s + string(rune('0'+(10-sum%10)%10))
}

// seedCatalog imports a few thousand products through the real importer,
// then creates and publishes two promotions and two landing pages, and
// leaves a third page as a draft.
func seedCatalog(ctx context.Context, st *stack, window func(days, hour int) time.Time) (*demoRefs, error) {
	const n = 3000
	var b strings.Builder
	b.WriteString("sku;title;brand;gtin;price;stock;product_type;link;image_link;description\n")
	for i := 1; i <= n; i++ {
		t := demoTypes[i%len(demoTypes)]
		price := 1490 + (i*7919)%38000
		fmt.Fprintf(&b, "RMP-%05d;%s %s %d;%s;%s;%d.%02d;%d;%s;https://shop.rampe.demo/p/RMP-%05d;%s/static/demo/p%d.svg;%s pour tous les jours.\n",
			i, t.noun, demoAdjectives[i%len(demoAdjectives)], i, demoBrands[(i/7)%len(demoBrands)], gtin13(int64(340000000000+i)),
			price/100, price%100, (i*13)%40, t.path, i, st.cfg.PublicBaseURL, i%len(demoTypes)+1, t.noun)
	}
	// A few products that fail feed rules on purpose, so the feed report shows.
	fmt.Fprintf(&b, "RMP-ODD-1;Lampe sans photo;Lumen;;39.00;5;Maison > Luminaires;https://shop.rampe.demo/p/RMP-ODD-1;;Une lampe.\n")
	fmt.Fprintf(&b, "RMP-ODD-2;Fauteuil offert;Nordik;;0.00;3;Maison > Salon;https://shop.rampe.demo/p/RMP-ODD-2;%s/static/demo/p1.svg;Prix à zéro.\n", st.cfg.PublicBaseURL)
	fmt.Fprintf(&b, "RMP-ODD-3;SUPER PROMO CHAISE OSLO;Nordik;;59.00;8;Maison > Salon;https://shop.rampe.demo/p/RMP-ODD-3;%s/static/demo/p1.svg;<b>Chaise</b> en chêne.\n", st.cfg.PublicBaseURL)
	// Through an import record, as a merchant's upload: the import page
	// lists it with its report.
	body := b.String()
	imp, err := st.catalog.StartImport(ctx, "demo-catalog.csv", "csv", int64(len(body)), false, "rampe demo")
	if err != nil {
		return nil, fmt.Errorf("demo: catalog: %w", err)
	}
	if _, err := st.catalog.RunImport(ctx, imp, strings.NewReader(body), catalog.Options{}); err != nil {
		return nil, fmt.Errorf("demo: catalog: %w", err)
	}
	refs := &demoRefs{pages: map[string]uint64{}, promos: map[string]uint64{}}
	local := func(t time.Time) string { return t.Format("2006-01-02T15:04") }
	promos := []struct {
		key string
		in  landing.PromotionInput
	}{
		{"bf", landing.PromotionInput{Name: "Black Friday: -30 % on the home range", Kind: landing.PercentOff, Value: "30", Scope: landing.ScopeType,
			ScopeValue: "Maison", StartsAt: local(window(5, 0)), EndsAt: local(window(9, 23))}},
		{"autumn", landing.PromotionInput{Name: "Autumn clearance: -15 EUR on sport", Kind: landing.AmountOff, Value: "15", Scope: landing.ScopeType,
			ScopeValue: "Sport", StartsAt: local(window(-3, 0)), EndsAt: local(window(6, 0))}},
	}
	for _, p := range promos {
		p.in.TimeZone, p.in.Currency = st.cfg.DefaultTimeZone, "EUR"
		promo, err := st.promotions.Create(ctx, p.in)
		if err != nil {
			return nil, fmt.Errorf("demo: promotion %s: %w", p.key, err)
		}
		if _, err := st.promotions.Publish(ctx, promo.ID); err != nil {
			return nil, fmt.Errorf("demo: publish promotion %s: %w", p.key, err)
		}
		refs.promos[p.key] = promo.ID
	}
	bf, autumn := refs.promos["bf"], refs.promos["autumn"]
	pages := []struct {
		in      landing.PageInput
		publish bool
	}{
		{landing.PageInput{Slug: "demo", Title: "Autumn clearance: the sport range, 15 € off", Hero: "Bikes, hiking and running gear at end-of-season prices — this week only.",
			MetaDescription: "End-of-season prices on the whole sport range.", PromotionID: &autumn, ProductLimit: 8,
			Body:      "## Why now?\n\nThe new season lands next week, so **every sport product is 15 € off** until Sunday.\n\n- Free delivery from 49 €\n- 30-day returns\n",
			CTAs:      []landing.CTA{{Label: "Shop the sport range", URL: "https://shop.rampe.demo/c/sport"}, {Label: "Delivery & returns", URL: "https://shop.rampe.demo/help"}},
			UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: "autumn-clearance"}, true},
		{landing.PageInput{Slug: "black-friday", Title: "Black Friday: 30 % off the home range", Hero: "Four days, the whole home range, the best prices of the year.",
			PromotionID: &bf, ProductLimit: 24, Body: "Sofas, kitchen and lighting: **-30 %** from Friday to Monday.",
			CTAs:      []landing.CTA{{Label: "Shop Black Friday", URL: "https://shop.rampe.demo/c/maison?sort=deal"}},
			UTMSource: "google", UTMMedium: "cpc", UTMCampaign: "black-friday-2026"}, true},
		{landing.PageInput{Slug: "christmas", Title: "Christmas gift guide", Hero: "Draft: still being written.", ProductSKUs: "RMP-00001, RMP-00002, RMP-00003"}, false},
	}
	for _, p := range pages {
		page, err := st.pages.Create(ctx, p.in)
		if err != nil {
			return nil, fmt.Errorf("demo: page %s: %w", p.in.Slug, err)
		}
		if p.publish {
			if _, err := st.pages.Publish(ctx, page.ID, demoAdmin); err != nil {
				return nil, err
			}
		}
		refs.pages[p.in.Slug] = page.ID
	}
	for _, f := range []*feeds.Feed{
		{Name: "google-fr", Format: feeds.GoogleXML, TitleTemplate: "{brand} {title}", Availability: "in_stock,backorder,preorder",
			Shipping: "FR:::4.90 EUR", UTMSource: "google", UTMMedium: "comparison", Cron: "0 */6 * * *"},
		{Name: "idealo-fr", Format: feeds.IdealoCSV, DeliveryTime: "1-3 jours", Shipping: "4.90", UTMSource: "idealo", UTMMedium: "comparison"},
	} {
		if err := st.feeds.Create(ctx, f); err != nil {
			return nil, fmt.Errorf("demo: feed %s: %w", f.Name, err)
		}
		if _, err := st.feeds.Generate(ctx, f.ID, "demo", nil); err != nil {
			return nil, fmt.Errorf("demo: generate %s: %w", f.Name, err)
		}
		refs.feeds = append(refs.feeds, f.ID)
	}
	return refs, nil
}
