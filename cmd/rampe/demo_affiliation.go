package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/clicks"
)

// demoPartners are the demo's affiliates.
var demoPartners = []affiliation.PartnerInput{
	{Name: "Ma Réduc", Network: "awin", Email: "partenariats@mareduc.demo", Commission: "8%", Overrides: "Mode=5%", CookieDays: "30"},
	{Name: "Cashback World", Network: "rakuten", Email: "merchants@cashbackworld.demo", Commission: "4.50", CookieDays: "7"},
	{Name: "Le Blog Déco", Network: "direct", Email: "bonjour@leblogdeco.demo", Commission: "10%", CookieDays: "45"},
}

// seedAffiliationDemo adds three partners to the campaigns on the
// affiliation channel (with codes on Black Friday's promotion), clicks on
// their links, a bot among them, and a few orders, one refunded. The kits
// go out through the worker once it runs (the Outbox page shows them).
func seedAffiliationDemo(ctx context.Context, st *stack, refs *demoRefs) error {
	aff := st.affiliation.Service
	var partners []*affiliation.Partner
	for _, in := range demoPartners {
		p, err := aff.CreatePartner(ctx, in)
		if err != nil {
			return fmt.Errorf("demo: partner %s: %w", in.Name, err)
		}
		partners = append(partners, p)
	}
	var list []campaigns.Campaign
	if err := st.db.WithContext(ctx).Where("channels LIKE ? AND status IN ?", "%,affiliation,%", []campaigns.Status{campaigns.Scheduled, campaigns.Live}).Order("id").Find(&list).Error; err != nil {
		return err
	}
	ua := []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
	order := 0
	for i := range list {
		c, err := st.campaigns.Get(ctx, list[i].ID)
		if err != nil {
			return err
		}
		var clickIDs []string
		for j, p := range partners {
			in := affiliation.MemberInput{PartnerID: p.ID}
			if len(c.PromotionIDs) > 0 && j < 2 {
				in.Code, in.PromotionID = fmt.Sprintf("%s-%d", []string{"MAREDUC", "CASHBACK"}[j], c.ID), c.PromotionIDs[0]
			}
			if _, err := aff.SetMember(ctx, c, in, demoAdmin); err != nil {
				return fmt.Errorf("demo: %s on %s: %w", p.Name, c.Name, err)
			}
			links, err := aff.PartnerLinks(ctx, c.ID, p.ID)
			if err != nil || len(links) == 0 {
				return fmt.Errorf("demo: links of %s: %v", p.Name, err)
			}
			for k := 0; k < 12*(3-j); k++ {
				dest, _, err := st.clicks.FollowFrom(ctx, st.clicks.Token(links[0].ID, 0), clicks.Visitor{IP: fmt.Sprintf("198.51.100.%d", k%40), UserAgent: ua[k%len(ua)]})
				if err != nil {
					return err
				}
				if u, err := url.Parse(dest); err == nil && k%len(ua) != 2 {
					clickIDs = append(clickIDs, u.Query().Get(affiliation.ClickParam))
				}
			}
		}
		if err := st.clicks.Flush(ctx); err != nil {
			return err
		}
		for k := 0; k < 3 && k < len(clickIDs); k++ {
			order++
			in := affiliation.ConversionInput{OrderID: fmt.Sprintf("DEMO-%04d", 1000+order), Amount: int64(4990 + 2500*k), Currency: "EUR", ClickID: clickIDs[k*7%len(clickIDs)],
				Items: []affiliation.Item{{SKU: "DEMO", ProductType: "Maison > Salon", Quantity: 1, Amount: int64(4990 + 2500*k)}}}
			if _, _, err := aff.RecordConversion(ctx, in, "api"); err != nil {
				return fmt.Errorf("demo: order %s: %w", in.OrderID, err)
			}
			if k == 2 {
				in.Status = affiliation.ConversionRefunded
				if _, _, err := aff.RecordConversion(ctx, in, "api"); err != nil {
					return err
				}
			}
		}
		aff.PlanChanged(ctx, c, "demo")
	}
	return nil
}
