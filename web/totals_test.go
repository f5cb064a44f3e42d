package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/money"
)

// The ledger's totals by status are per currency: commissions in euros
// and in dollars are never added together, on the ledger, the campaign's
// tab and in the API.
func TestLedgerTotalsPerCurrency(t *testing.T) {
	ctx := context.Background()
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	pr, err := a.Landing.Promotions.Create(ctx, landing.PromotionInput{Name: "Noël -10 %", Kind: "percent", Value: "10", Scope: "all", StartsAt: future(1), EndsAt: future(40)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Campaigns.Create(ctx, campaigns.Input{Name: "Noël", Channels: []string{"affiliation"}, TimeZone: "Europe/Paris", StartsAt: future(3), EndsAt: future(10),
		Currency: "EUR", Budgets: map[string]int64{"affiliation": 1000}, Forecast: map[string]map[string]float64{"affiliation": {"impressions": 1000, "ctr": 0.01}},
		PromotionIDs: []uint64{pr.ID}}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	p, err := aff.CreatePartner(ctx, affiliation.PartnerInput{Name: "Ma Reduc", Email: "team@mareduc.example", Commission: "10 %"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aff.SetMember(ctx, c, affiliation.MemberInput{PartnerID: p.ID, Code: "NOEL-MR", PromotionID: pr.ID}, "ana"); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{`"order_id":"E-1","amount":10000,"currency":"EUR"`, `"order_id":"E-2","amount":5000,"currency":"EUR"`, `"order_id":"U-1","amount":5000,"currency":"USD"`} {
		if r := a.api("POST", "/api/v1/conversions", accounts.Marketer, `{`+o+`,"code":"NOEL-MR"}`); r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	totals, err := aff.Totals(ctx, affiliation.LedgerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []affiliation.Total{{Status: "pending", Currency: "EUR", Amount: 1500, Count: 2}, {Status: "pending", Currency: "USD", Amount: 500, Count: 1}}
	if fmt.Sprint(totals) != fmt.Sprint(want) {
		t.Fatalf("%+v", totals)
	}
	if err := aff.DB.Exec("UPDATE commissions SET status = 'rejected' WHERE currency = 'USD'").Error; err != nil {
		t.Fatal(err)
	}
	b := a.browser(accounts.Viewer)
	b.acceptLanguage = "fr"
	eur, usd := money.FormatIn("fr", 1500, "EUR"), money.FormatIn("fr", 500, "USD")
	for _, path := range []string{"/commissions", fmt.Sprintf("/campaigns/%d/affiliation", c.ID)} {
		body := b.get(path).Body
		if !strings.Contains(body, "en attente</span> "+eur) && !strings.Contains(body, "en attente "+eur) {
			t.Errorf("%s lacks the euro total %s", path, eur)
		}
		if !strings.Contains(body, "refusée</span> "+usd) && !strings.Contains(body, "refusée "+usd) {
			t.Errorf("%s lacks the dollar total %s", path, usd)
		}
	}
	got := a.api("GET", "/api/v1/commissions?partner="+fmt.Sprint(p.ID), accounts.Viewer, "").json(t)["totals"].([]any)
	if len(got) != 2 || got[1].(map[string]any)["currency"] != "USD" || got[1].(map[string]any)["status"] != "rejected" || got[0].(map[string]any)["amount"].(float64) != 1500 {
		t.Fatalf("%v", got)
	}
}
