package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
)

// Each gate reads in plain words beside its name, and a failing one links
// to where it is fixed.
func TestReadinessSaysGatesInWordsWithFixLinks(t *testing.T) {
	a := newTestApp(t)
	res := a.api("POST", "/api/v1/campaigns", accounts.Marketer, campaignBody("Soldes", "2026-12-24T08:00", "2026-12-31T20:00"))
	id := int(res.json(t)["id"].(float64))
	b := a.browser(accounts.Marketer)
	r := b.fragment().get(fmt.Sprintf("/campaigns/%d/readiness", id))
	for _, want := range []string{
		"Landing page is published</b> <code class=\"gate-name\">landing.published</code>",
		fmt.Sprintf(`<a class="fix" href="/campaigns/%d/edit">Link a landing page →</a>`, id),
		"Dates are valid</b>",
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("readiness lacks %q", want)
		}
	}
	if strings.Contains(r.Body, "Change the dates →") {
		t.Errorf("a passing gate shows a fix link")
	}
}

func TestFixLinksPointWhereGatesAreFixed(t *testing.T) {
	page, promo := uint64(7), uint64(9)
	c := &campaigns.Campaign{ID: 3, LandingPageID: &page, PromotionIDs: []uint64{promo}, FeedIDs: []uint64{4, 5}}
	for gate, want := range map[string]string{"landing.published": "/pages/7", "promotions.published": "/promotions/9",
		"comparators.feeds_fresh": "/feeds/4", "landing.load_checked": "/campaigns/3#loadchecks", "channels.configured": "/campaigns/3/edit"} {
		if f := fixFor(gate, c); f == nil || f.URL != want {
			t.Errorf("%s: %+v, want %s", gate, f, want)
		}
	}
	if fixFor("test.unknown", c) != nil || gateTitle("test.unknown") != "test.unknown" {
		t.Error("an unknown gate gets a fix or a title")
	}
}
