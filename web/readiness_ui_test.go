package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
)

// Scheduling with a failing gate asks first and names it; saving the plan
// re-evaluates the stored readiness.
func TestUIScheduleWarnsAndSaveRechecks(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	lp, err := a.Landing.Pages.Create(ctx, landing.PageInput{Slug: "soldes", Title: "Soldes"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Landing.Pages.Publish(ctx, lp.ID, "test"); err != nil {
		t.Fatal(err)
	}
	b := a.browser(accounts.Marketer)
	b.get("/campaigns/new")
	res := b.post("/campaigns", formValues("No page yet"))
	loc := res.Header.Get("Location")
	page := b.get(loc)
	if !strings.Contains(page.Body, `data-confirm="These gates fail now`) || !strings.Contains(page.Body, "(landing.published)") ||
		!strings.Contains(page.Body, "Schedule anyway?") {
		t.Fatalf("the Schedule button does not warn: %.4000s", page.Body)
	}
	b.post(loc+"/schedule", url.Values{})
	page = b.get(loc)
	if !strings.Contains(page.Body, "Scheduled, but 1 gate fails now: Landing page is published (landing.published)") {
		t.Fatalf("the scheduled flash does not name the failing gate: %.3000s", page.Body)
	}
	f := formValues("No page yet")
	f.Set("landing_page_id", strconv.FormatUint(lp.ID, 10))
	if res := b.post(loc, f); res.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.Status, res.Body)
	}
	id, _ := strconv.ParseUint(strings.TrimPrefix(loc, "/campaigns/"), 10, 64)
	c, err := a.Campaigns.Get(ctx, id)
	if err != nil || c.Readiness == nil || !c.Readiness.Ready {
		t.Fatalf("the stored readiness does not follow the save: %v %+v", err, c.Readiness)
	}
	if page := b.get(loc); !strings.Contains(page.Body, "Ready: every gate passes") {
		t.Fatalf("checklist after save: %.3000s", page.Body)
	}
}

// An ended or cancelled campaign shows the readiness its audit log
// recorded, not a live checklist.
func TestUIFinishedCampaignShowsFinalReadiness(t *testing.T) {
	a := newTestApp(t)
	id := a.createCampaign(t, "Done")
	at := time.Now().UTC().Add(-time.Hour)
	gates := []campaigns.Result{{Gate: "landing.published", Outcome: campaigns.Pass, Message: "/l/x is published", CheckedAt: at,
		Measured: map[string]any{"version": nil, "checked_at": at}}}
	if err := a.Campaigns.DB.Create(&campaigns.Transition{CampaignID: id, At: at, Actor: "worker", FromStatus: campaigns.Scheduled,
		ToStatus: campaigns.Live, Reason: "went live", Gates: gates}).Error; err != nil {
		t.Fatal(err)
	}
	a.Campaigns.DB.Model(&campaigns.Campaign{}).Where("id = ?", id).Update("status", campaigns.Ended)
	b := a.browser(accounts.Viewer)
	page := b.get(fmt.Sprintf("/campaigns/%d", id))
	for _, want := range []string{"Final readiness", "Every gate passed", "from the audit log", "/l/x is published", "version: none"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("ended campaign page lacks %q", want)
		}
	}
	for _, bad := range []string{"Check now", "<nil>", "Run load check", "Needed:"} {
		if strings.Contains(page.Body, bad) {
			t.Errorf("ended campaign page shows %q", bad)
		}
	}
	cancelled := a.createCampaign(t, "Dropped")
	a.Campaigns.DB.Model(&campaigns.Campaign{}).Where("id = ?", cancelled).Update("status", campaigns.Cancelled)
	if page := b.get(fmt.Sprintf("/campaigns/%d", cancelled)); !strings.Contains(page.Body, "never had its gates checked") {
		t.Errorf("cancelled draft: %.3000s", page.Body)
	}
}

func TestDuplicateCampaignUIAndAPI(t *testing.T) {
	a := newTestApp(t)
	id := a.createCampaign(t, "Rentrée")
	b := a.browser(accounts.Marketer)
	b.get(fmt.Sprintf("/campaigns/%d", id))
	res := b.post(fmt.Sprintf("/campaigns/%d/duplicate", id), url.Values{})
	if res.Status != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "/edit") {
		t.Fatalf("duplicate: %d %s", res.Status, res.Header.Get("Location"))
	}
	if page := b.get(res.Header.Get("Location")); !strings.Contains(page.Body, `value="Copy of Rentrée"`) || !strings.Contains(page.Body, "Duplicated as a draft") {
		t.Fatalf("copy's form: %.2000s", page.Body)
	}
	r := a.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/duplicate", id), accounts.Marketer, "")
	if r.Status != http.StatusCreated || r.json(t)["name"] != "Copy of Rentrée" || r.json(t)["status"] != "draft" {
		t.Fatalf("API duplicate: %d %s", r.Status, r.Body)
	}
	if r := a.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/duplicate", id), accounts.Viewer, ""); r.Status != http.StatusForbidden {
		t.Fatalf("viewer duplicates: %d", r.Status)
	}
	if r := a.api("POST", "/api/v1/campaigns/999999/duplicate", accounts.Marketer, ""); r.Status != http.StatusNotFound {
		t.Fatalf("unknown campaign: %d %s", r.Status, r.Body)
	}
	v := a.browser(accounts.Viewer)
	v.get("/campaigns")
	if res := v.post(fmt.Sprintf("/campaigns/%d/duplicate", id), url.Values{}); res.Status != http.StatusForbidden {
		t.Fatalf("viewer duplicates in the UI: %d", res.Status)
	}
}
