package web

import (
	"context"
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/email/audience"
)

// A page's tabs and links keep its filters as a query: html/template
// escaped the "=" and "&" of a plain string there ("channel%3demail"), so a
// tab dropped the channel chosen.
func TestUITabsKeepTheFiltersChosen(t *testing.T) {
	a := newTestApp(t)
	a.manyCampaigns(3, time.Now().Add(48*time.Hour))
	b := a.browser(accounts.Viewer)
	page := html.UnescapeString(b.get("/campaigns?channel=email").Body)
	for _, want := range []string{`href="/campaigns?channel=email"`, `href="/campaigns?status=scheduled&channel=email"`} {
		if !strings.Contains(page, want) {
			t.Errorf("campaigns: no %s", want)
		}
	}
	if strings.Contains(page, "%3d") || strings.Contains(page, "%3D") {
		t.Errorf("campaigns: an escaped query is left in the page")
	}
	list, err := a.Audience.CreateList(context.Background(), audience.ListInput{Name: "VIP"})
	if err != nil {
		t.Fatal(err)
	}
	page = html.UnescapeString(b.get(fmt.Sprintf("/contacts?list=%d&q=ann+b", list.ID)).Body)
	for _, want := range []string{fmt.Sprintf(`href="/contacts?list=%d&q=ann+b"`, list.ID), fmt.Sprintf(`href="/contacts?status=pending&list=%d&q=ann+b"`, list.ID)} {
		if !strings.Contains(page, want) {
			t.Errorf("contacts: no %s", want)
		}
	}
}

// The commissions page's export is a download for the signed-in user (it
// pointed at the API, which asks for a token), with the page's filters.
func TestUICommissionsExportIsADownloadWithTheFilters(t *testing.T) {
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	b := a.browser(accounts.Viewer)
	page := html.UnescapeString(b.get("/commissions?status=approved&from=2026-11-01&junk=%22x").Body)
	if !strings.Contains(page, `href="/commissions/export.csv?from=2026-11-01&status=approved"`) {
		t.Fatalf("export link: %s", page)
	}
	res := b.get("/commissions/export.csv?from=2026-11-01&status=approved")
	if res.Status != 200 || !strings.HasPrefix(res.Body, "order_id,date,amount,commission,currency,status") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %q %v", res.Status, res.Body, res.Header)
	}
	if res := b.get("/commissions/export.csv?from=yesterday"); res.Status != 400 || !strings.Contains(res.Body, "from") {
		t.Fatalf("a bad filter: %d %s", res.Status, res.Body)
	}
	if res := a.browser("").get("/commissions/export.csv"); res.Status != 303 && res.Status != 302 {
		t.Fatalf("signed out: %d", res.Status)
	}
}
