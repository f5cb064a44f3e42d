package main

import (
	"context"
	"encoding/json"
	"image/color"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/display"
	"github.com/rampe/rampe/platform/config"
)

// A partner's kit carries the campaign's display creatives (their images,
// served by Rampe) when the campaign is on the display channel too.
func TestKitsCarryTheDisplayCreatives(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RAMPE_DATABASE_DSN", filepath.Join(dir, "rampe.db"))
	t.Setenv("RAMPE_REDIS_URL", "")
	t.Setenv("RAMPE_FEEDS_DIR", filepath.Join(dir, "feeds"))
	t.Setenv("RAMPE_PUBLIC_BASE_URL", "https://rampe.shop.example")
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := build(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Hour)
	c, err := st.campaigns.Create(ctx, campaigns.Input{Name: "Chaises", Channels: []string{"affiliation", "display"}, TimeZone: "Europe/Paris",
		StartsAt: start.Format(time.RFC3339), EndsAt: start.Add(48 * time.Hour).Format(time.RFC3339), Currency: "EUR",
		Budgets:  map[string]int64{"affiliation": 1000, "display": 1000},
		Forecast: map[string]map[string]float64{"affiliation": {"impressions": 1000, "ctr": 0.01}, "display": {"impressions": 1000, "ctr": 0.01}}}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	z := display.Size{W: 300, H: 250}
	cr, err := st.display.AddCreative(ctx, c, display.CreativeInput{Data: display.Banner(z, color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255}, "Chaises -20%"),
		Name: "Pavé", Alt: "Chaises à -20 %", ClickURL: "https://shop.example/chaises"}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	aff := st.affiliation.Service
	p, err := aff.CreatePartner(ctx, affiliation.PartnerInput{Name: "Ma Reduc", Email: "team@mareduc.example", Commission: "8 %"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aff.SetMember(ctx, c, affiliation.MemberInput{PartnerID: p.ID}, "ana"); err != nil {
		t.Fatal(err)
	}
	k, err := aff.KitOf(ctx, c, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := affiliation.KitCreative{Name: "Pavé", Size: "300x250", Alt: "Chaises à -20 %", ImageURL: "https://rampe.shop.example/d/i/" + cr.File()}
	if len(k.Creatives) != 1 || k.Creatives[0] != want {
		t.Fatalf("%+v", k.Creatives)
	}
	if got, err := st.display.Image(ctx, cr.File()); err != nil || got.ID != cr.ID {
		t.Fatalf("the kit's image URL serves nothing: %v", err)
	}
	if csv := string(k.CSV()); !strings.Contains(csv, "creative,300x250 Chaises à -20 %,"+want.ImageURL) {
		t.Errorf("CSV:\n%s", csv)
	}
	var back affiliation.Kit
	if err := json.Unmarshal(k.JSON(), &back); err != nil || len(back.Creatives) != 1 || back.Creatives[0].ImageURL != want.ImageURL {
		t.Errorf("JSON: %s", k.JSON())
	}
	// A campaign off the display channel has none.
	c2, err := st.campaigns.Create(ctx, campaigns.Input{Name: "Sans bannières", Channels: []string{"affiliation"}, TimeZone: "Europe/Paris",
		StartsAt: start.Format(time.RFC3339), EndsAt: start.Add(48 * time.Hour).Format(time.RFC3339), Currency: "EUR",
		Budgets: map[string]int64{"affiliation": 1000}, Forecast: map[string]map[string]float64{"affiliation": {"impressions": 1000, "ctr": 0.01}}}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	aff.SetMember(ctx, c2, affiliation.MemberInput{PartnerID: p.ID}, "ana")
	if k2, err := aff.KitOf(ctx, c2, p.ID); err != nil || len(k2.Creatives) != 0 {
		t.Errorf("%+v %v", k2, err)
	}
}
