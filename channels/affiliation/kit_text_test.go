package affiliation

import (
	"context"
	"strings"
	"testing"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
)

// The kit e-mail writes the window as people read dates in the kit's
// language, names the landing page and product links in words, and says
// what the code gives as that language writes money; a changed window
// reads the same way in the update's list of changes.
func TestKitMailReadsInItsLanguage(t *testing.T) {
	for _, tc := range []struct {
		lang  string
		wants []string
		not   []string
	}{
		{i18n.FR, []string{
			"Du jeudi 10 décembre 2026 à 08:00 au dimanche 20 décembre 2026 à 20:00 (Europe/Paris)",
			"Page d'atterrissage : http://", "Produit MANTEAU-1 : http://", "Votre code : MAREDUC15 (-15,00\u00a0€)",
			"période : vendredi 11 décembre 2026 à 08:00 – dimanche 20 décembre 2026 à 20:00 (avant : jeudi 10 décembre 2026 à 08:00",
		}, []string{"Lien landing", "2026-12-10T", "15.00 EUR", "sku MANTEAU-1"}},
		{i18n.EN, []string{
			"From Thursday 10 December 2026 at 08:00 to Sunday 20 December 2026 at 20:00 (Europe/Paris)",
			"Landing page: http://", "Product MANTEAU-1: http://", "Your code: MAREDUC15 (-€15.00)",
			"window: Friday 11 December 2026 at 08:00 – Sunday 20 December 2026 at 20:00 (was Thursday 10 December 2026 at 08:00",
		}, []string{"Link landing", "2026-12-10T", "15.00 EUR", "sku MANTEAU-1"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			e.s.DefaultLang = tc.lang
			c := e.campaign(t)
			pr, err := e.m.Promotions.Create(ctx, landing.PromotionInput{Name: "-15 €", Kind: landing.AmountOff, Value: "15", Scope: landing.ScopeAll,
				StartsAt: "2026-12-01T00:00", EndsAt: "2027-01-31T00:00"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.m.Promotions.Publish(ctx, pr.ID); err != nil {
				t.Fatal(err)
			}
			in := campaigns.Input{Name: c.Name, Channels: []string{"affiliation"}, TimeZone: "Europe/Paris", StartsAt: "2026-12-10T08:00", EndsAt: "2026-12-20T20:00",
				Currency: "EUR", Budgets: map[string]int64{"affiliation": 100000}, Forecast: map[string]map[string]float64{"affiliation": {"impressions": 10000, "ctr": 0.02}},
				LandingPageID: c.LandingPageID, PromotionIDs: []uint64{pr.ID}}
			if c, err = e.cs.Update(ctx, c.ID, in, "ana"); err != nil {
				t.Fatal(err)
			}
			p, err := e.s.CreatePartner(ctx, good())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.SetMember(ctx, c, MemberInput{PartnerID: p.ID, Code: "MAREDUC15", PromotionID: pr.ID}, "ana"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.DeepLink(ctx, c, p.ID, "MANTEAU-1", "ana"); err != nil {
				t.Fatal(err)
			}
			if n, err := e.s.SendKits(ctx, c.ID); err != nil || n != 1 {
				t.Fatalf("kits: %d %v", n, err)
			}
			in.StartsAt = "2026-12-11T08:00"
			if c, err = e.cs.Update(ctx, c.ID, in, "ana"); err != nil {
				t.Fatal(err)
			}
			if n, err := e.s.SendKits(ctx, c.ID); err != nil || n != 1 {
				t.Fatalf("updated kits: %d %v", n, err)
			}
			var text string
			for _, m := range e.smtp.Mails() {
				_, body := textOf(t, m.Data)
				text += body + "\n"
			}
			for _, w := range tc.wants {
				if !strings.Contains(text, w) {
					t.Errorf("the kit mails lack %q:\n%s", w, text)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(text, w) {
					t.Errorf("the kit mails write %q:\n%s", w, text)
				}
			}
		})
	}
}
