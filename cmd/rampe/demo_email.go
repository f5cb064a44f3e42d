package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/email"
)

// demoMessage is the demo's e-mail, in French like its shop.
const demoMessage = `# {{or .first_name "Bonjour"}}, l'automne est en soldes

Jusqu'à **-40 %** sur une sélection de la maison, du sport et de la mode, jusqu'à dimanche soir.

[Découvrir la sélection]({{.landing_url}})

{{.products}}

À très vite,
L'équipe Rampe Démo`

// seedEmailDemo writes a message on the demo's e-mail campaigns and adds a
// newsletter to the gold members, due now: it goes live once the demo's
// load check of /l/demo passes, and its e-mails land on the Outbox page.
func seedEmailDemo(ctx context.Context, st *stack, refs *demoRefs, window func(days, hour int) time.Time) error {
	lists, err := st.audience.Lists(ctx)
	if err != nil {
		return err
	}
	segs, err := st.audience.Segments(ctx)
	if err != nil {
		return err
	}
	var listID, goldID uint64
	for _, l := range lists {
		if l.Name == "Newsletter" {
			listID = l.ID
		}
	}
	for _, s := range segs {
		if s.Name == "Gold members" {
			goldID = s.ID
		}
	}
	page := refs.pages["demo"]
	at := func(days, hour int) string { return window(days, hour).Format("2006-01-02T15:04") }
	c, err := st.campaigns.Create(ctx, campaigns.Input{Name: "Autumn clearance newsletter", Description: "Mails the gold members of the newsletter as soon as it goes live: read them on the Outbox page.",
		Channels: []string{"email"}, TimeZone: st.cfg.DefaultTimeZone, StartsAt: at(-1, 9), EndsAt: at(3, 23), Currency: "EUR",
		Budgets: map[string]int64{"email": 150000}, LandingPageID: &page, PromotionIDs: []uint64{refs.promos["autumn"]},
		Forecast: map[string]map[string]float64{"email": {"audience": 650, "open_rate": 0.3, "click_rate": 0.12}}}, demoAdmin)
	if err != nil {
		return fmt.Errorf("demo: newsletter: %w", err)
	}
	msgs := st.email.Sender.Messages
	save := func(id uint64, subject string, segment uint64) error {
		return msgs.Save(ctx, &email.Message{CampaignID: id, FromName: "Rampe Démo", FromAddr: "boutique@rampe.demo", Subject: subject,
			Preheader: "Jusqu'à -40 % jusqu'à dimanche", Format: email.FormatMarkdown, Body: demoMessage, ListID: listID, SegmentID: segment}, demoAdmin)
	}
	if err := save(c.ID, `{{or .first_name "Bonjour"}}, jusqu'à -40 % sur l'automne`, goldID); err != nil {
		return fmt.Errorf("demo: newsletter message: %w", err)
	}
	// The other e-mail campaigns get their message too.
	err = st.campaigns.Each(ctx, campaigns.Filter{}, func(list []campaigns.Campaign) error {
		for _, o := range list {
			if o.ID != c.ID && o.Has(campaigns.Email) {
				if err := save(o.ID, o.Name, 0); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = st.campaigns.Schedule(ctx, c.ID, demoAdmin)
	return err
}
