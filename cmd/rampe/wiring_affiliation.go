package main

import (
	"context"
	"fmt"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/mailer"
)

// newAffiliation wires the affiliation channel: partners and plans over
// the database, links through the click redirector (which routes partner
// links by the campaign's state), codes checked by the promotions' code
// check, kits mailed through smtp.url (the catch-all's port is set by
// startMail), postbacks through an outbound client under the load
// checks' allow-list rules.
func newAffiliation(st *stack) (*affiliation.Channel, *affiliation.Jobs) {
	cfg := st.cfg
	shop := cfg.AffiliationShopURL
	if shop == "" {
		shop = cfg.PublicBaseURL + "/"
	}
	s := &affiliation.Service{DB: st.db, Campaigns: st.campaigns, Links: st.clicks, Offers: st.landing, Promotions: st.promotions,
		Products: catalogLinks{st.catalog}, Extras: kitExtras{st.feeds, st, cfg.PublicBaseURL},
		Outbound: &loadcheck.Policy{AnyPublicHost: true, AllowedHosts: cfg.AffiliationPostbackHosts},
		BaseURL:  cfg.PublicBaseURL, ShopURL: shop, DefaultTimeZone: cfg.DefaultTimeZone, DefaultLang: cfg.LandingDefaultLang, ReturnWindow: cfg.AffiliationReturnWindow,
		PixelKey: affiliation.PixelKey(st.secret), Clock: st.clock}
	if cfg.SMTPURL != "" {
		mc, _ := mailer.ParseURL(cfg.SMTPURL)
		mc.From, mc.Timeout = cfg.SMTPFrom, cfg.SMTPTimeout
		s.Mailer = mailer.New(mc)
	}
	jobs := &affiliation.Jobs{Service: s, Tasks: st.tasks}
	s.Postbacks, s.RetryPostback = jobs.EnqueuePostback, jobs.RetryPostback
	s.SendKitsLater = jobs.EnqueueKits
	if st.clicks.Routes == nil {
		st.clicks.Routes = map[campaigns.Channel]clicks.Router{}
	}
	st.clicks.Routes[campaigns.Affiliation] = s.Route
	st.promotions.PartnerCodes = s
	return &affiliation.Channel{Service: s, Notice: cfg.AffiliationNotice}, jobs
}

// catalogLinks gives deep links the product's page.
type catalogLinks struct{ cat *catalog.Store }

func (c catalogLinks) ProductLink(ctx context.Context, sku string) (string, error) {
	p, err := c.cat.BySKU(ctx, sku)
	if err != nil {
		return "", err
	}
	return p.Link, nil
}

// kitExtras adds to a campaign's kits the comparator feeds it links and
// its display creatives.
type kitExtras struct {
	feeds *feeds.Service
	// st gives the display service, built after this channel.
	st      *stack
	baseURL string
}

func (k kitExtras) FeedURLs(ctx context.Context, c *campaigns.Campaign) ([]string, error) {
	var out []string
	for _, id := range c.FeedIDs {
		f, err := k.feeds.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprintf("%s/feeds/%s/%s", k.baseURL, f.Token, f.FileName()))
	}
	return out, nil
}

// Creatives are the campaign's display creatives when it is on the display
// channel: their images, for partners to wrap in their own tracked links.
func (k kitExtras) Creatives(ctx context.Context, c *campaigns.Campaign) ([]affiliation.KitCreative, error) {
	d := k.st.display
	if d == nil || !c.Has(campaigns.Display) {
		return nil, nil
	}
	crs, err := d.Creatives(ctx, &c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]affiliation.KitCreative, len(crs))
	for i := range crs {
		out[i] = affiliation.KitCreative{Name: crs[i].Name, Size: crs[i].Dim().Key(), Alt: crs[i].Alt, ImageURL: d.ImageURL(&crs[i])}
	}
	return out, nil
}
