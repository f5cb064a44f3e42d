package main

import (
	"context"
	"fmt"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/search"
)

// seedSearchDemo gives the demo's SEA campaigns an ad group, keywords and
// a responsive search ad whose price is the landing page's at the start
// ({price:SKU}); their page enters the sitemap when they go live.
func seedSearchDemo(ctx context.Context, st *stack) error {
	page, err := st.campaigns.List(ctx, campaigns.Filter{Channel: campaigns.SEO}, 0, 100)
	if err != nil {
		return err
	}
	for i := range page.Campaigns {
		c := &page.Campaigns[i]
		if !c.Has(campaigns.SEO) || c.LandingPageID == nil || (c.Status != campaigns.Scheduled && c.Status != campaigns.Blocked) {
			continue
		}
		offer, err := st.landing.Offer(ctx, c, c.StartsAt)
		if err != nil || offer == nil || len(offer.Products) == 0 {
			continue
		}
		g, err := st.search.SaveAdGroup(ctx, c.ID, c.Currency, 0, search.AdGroupInput{Name: "Soldes — générique", MaxCPC: "0.45",
			Keywords: "[soldes sport]\n\"promo vélo\" @ 0.60\néquipement randonnée pas cher\n[soldes maison]"})
		if err != nil {
			return fmt.Errorf("demo: ad group of %s: %w", c.Name, err)
		}
		in := search.AdInput{Headlines: "Soldes jusqu'à dimanche\nLivraison offerte\nÀ partir de {price:" + offer.Products[0].SKU + "}\nRetours sous 30 jours",
			Descriptions: "Fin de saison : toute la sélection à prix doux, cette semaine seulement.\nCommandez avant dimanche soir, expédition sous 24 h.",
			Path1:        "soldes", Path2: "selection"}
		if _, err := st.search.SaveAd(ctx, c.ID, g.ID, 0, in, search.PricesOf(offer)); err != nil {
			return fmt.Errorf("demo: ad of %s: %w", c.Name, err)
		}
	}
	return nil
}
