package feeds

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
)

// The passing feed gate writes each of its counts with its own plural:
// "1 flux à jour ; 1 ligne de produit en promotion…", "1 feed fresh; 1
// promoted product line matches…", never "ligne(s)".
func TestFeedGateAgreesWithEachCount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := &campaigns.Registry{}
	RegisterGate(reg, e.svc)
	p, err := e.promos.Create(ctx, landing.PromotionInput{Name: "Cyber", Kind: landing.PercentOff, Value: "10", Scope: landing.ScopeSKUs, ScopeValue: "F-1",
		StartsAt: "2026-11-29T00:00", EndsAt: "2026-12-01T00:00", TimeZone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.promos.Publish(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC)
	google := e.feed(t, &Feed{Name: "google-fr", Format: GoogleXML})
	e.clk.Add(time.Minute)
	if _, err := e.svc.Generate(ctx, google.ID, "ahead", nil); err != nil {
		t.Fatal(err)
	}
	c := &campaigns.Campaign{ChannelList: ",comparators,", PromotionIDs: []uint64{p.ID}, TimeZone: "Europe/Paris",
		StartsAt: start, EndsAt: start.Add(48 * time.Hour), FeedIDs: []uint64{google.ID}}
	r := reg.Evaluate(ctx, c, e.clk.Now()).Results[0]
	if r.Outcome != campaigns.Pass {
		t.Fatalf("gate: %s %q", r.Outcome, r.Message)
	}
	for lang, want := range map[string]string{
		i18n.FR: "1 flux à jour ; 1 ligne de produit en promotion au prix de la page d'atterrissage le 29 nov. 00:00 CET",
		i18n.EN: "1 feed fresh; 1 promoted product line matches the landing-page price at 29 Nov 00:00 CET",
	} {
		if got := r.Text(lang); got != want || strings.Contains(got, "(s)") {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
}
