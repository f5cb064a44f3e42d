package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/loadcheck"
)

func TestCheckPageSaysWhichCheckItWaitsFor(t *testing.T) {
	a := newTestApp(t)
	store := a.LoadChecksStore()
	now := time.Now().UTC()
	mk := func(status string) *loadcheck.Check {
		c := &loadcheck.Check{PageID: 1, PageVersionID: 1, URL: "http://127.0.0.1/l/x", TargetRate: 10, Steps: loadcheck.DefaultSteps, StepSeconds: 1,
			Thresholds: loadcheck.DefaultThresholds, Status: status, CreatedAt: now, StartedAt: &now}
		if err := store.DB.Create(c).Error; err != nil {
			t.Fatal(err)
		}
		return c
	}
	running, queued := mk(loadcheck.Running), mk(loadcheck.Queued)
	store.DB.Exec("UPDATE load_checks SET heartbeat_at = ? WHERE id = ?", now, running.ID) // a live worker's heartbeat, where the column exists
	b := a.browser(accounts.Viewer)
	want := fmt.Sprintf("waiting: check #%d is running", running.ID)
	for _, path := range []string{fmt.Sprintf("/loadchecks/%d", queued.ID), fmt.Sprintf("/loadchecks/%d?fragment=1", queued.ID)} {
		if page := b.get(path); page.Status != 200 || !strings.Contains(page.Body, want) {
			t.Fatalf("%s: %d, want %q in %.600s", path, page.Status, want, page.Body)
		}
	}
	r := a.api("GET", fmt.Sprintf("/api/v1/loadchecks/%d", queued.ID), accounts.Viewer, "")
	if v, _ := r.json(t)["waiting_for"].(float64); uint64(v) != running.ID {
		t.Fatalf("API: %s", r.Body)
	}
}

func TestCheckPageNamesARefusedRedirect(t *testing.T) {
	a := newTestApp(t)
	store := a.LoadChecksStore()
	now := time.Now().UTC()
	msg := "redirect to http://evil.example/ not followed (not allow-listed: host evil.example is not in loadcheck.allowed_hosts)"
	c := &loadcheck.Check{PageID: 1, PageVersionID: 1, URL: "http://127.0.0.1/l/x", TargetRate: 1.9, Steps: loadcheck.DefaultSteps, StepSeconds: 1,
		Thresholds: loadcheck.DefaultThresholds, Status: loadcheck.Failed, Reason: "step 1 of 4 (0.475 req/s, 25 % of the target): error ratio 100.0 % > 1.0 %: " + msg,
		Results: []loadcheck.StepResult{{Share: 0.25, TargetRate: 0.475, AchievedRate: 0.5, Requests: 2, ErrorRatio: 1, StatusCodes: map[string]int{"0": 2},
			Broken: "error ratio 100.0 % > 1.0 %: " + msg, Errors: []string{msg}}}, CreatedAt: now, StartedAt: &now, FinishedAt: &now}
	if err := store.DB.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	page := a.browser(accounts.Viewer).get(fmt.Sprintf("/loadchecks/%d", c.ID))
	if page.Status != 200 || !strings.Contains(page.Body, `<div class="small step-error">`+msg) || !strings.Contains(page.Body, "target 1.9 req/s") ||
		!strings.Contains(page.Body, `<td class="num">0.475</td>`) {
		t.Fatalf("%d %s", page.Status, page.Body)
	}
}

func TestAbortEndsAQueuedCheckAtOnce(t *testing.T) {
	a := newTestApp(t)
	store := a.LoadChecksStore()
	c := &loadcheck.Check{PageID: 1, PageVersionID: 1, URL: "http://127.0.0.1/l/x", TargetRate: 10, Steps: loadcheck.DefaultSteps, StepSeconds: 1,
		Thresholds: loadcheck.DefaultThresholds, Status: loadcheck.Queued, CreatedAt: time.Now().UTC()}
	if err := store.DB.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	b := a.browser(accounts.Marketer)
	loc := fmt.Sprintf("/loadchecks/%d", c.ID)
	b.get(loc)
	b.post(loc+"/abort", url.Values{})
	if page := b.get(loc); !strings.Contains(page.Body, "Aborted: aborted before it started") || !strings.Contains(page.Body, `id="check-status">aborted`) {
		t.Fatalf("after abort: %.2000s", page.Body)
	}
	got, _ := store.Get(context.Background(), c.ID)
	if got.Status != loadcheck.Aborted {
		t.Fatalf("status %s", got.Status)
	}
	if r := a.api("POST", "/api/v1"+loc+"/abort", accounts.Marketer, ""); r.Status != 409 || !strings.Contains(r.Body, "has already ended (aborted)") {
		t.Fatalf("API abort of an ended check: %d %s", r.Status, r.Body)
	}
}

func TestLoadChecksPageListsEveryCheckWithItsVerdictAndCampaign(t *testing.T) {
	a := newTestApp(t)
	store := a.LoadChecksStore()
	now := time.Now().UTC()
	camp := a.createCampaign(t, "Checked campaign")
	var last *loadcheck.Check
	for i := range 3 {
		c := &loadcheck.Check{PageID: 1, PageVersionID: 1, URL: "http://127.0.0.1/l/x", TargetRate: 10, Steps: loadcheck.DefaultSteps, StepSeconds: 1,
			Thresholds: loadcheck.DefaultThresholds, Status: loadcheck.Failed, Reason: fmt.Sprintf("reason %d", i), CreatedAt: now, FinishedAt: &now,
			Results: []loadcheck.StepResult{{Share: 0.25, TargetRate: 2.5, Requests: 10, Kinds: map[string]uint64{loadcheck.KindRefused: 10}}}}
		if i == 2 {
			c.CampaignID = &camp
		}
		if err := store.DB.Create(c).Error; err != nil {
			t.Fatal(err)
		}
		last = c
	}
	b := a.browser(accounts.Viewer)
	page := b.get("/loadchecks?limit=2")
	if page.Status != 200 || !strings.Contains(page.Body, "Checked campaign") || !strings.Contains(page.Body, "reason 2") ||
		strings.Contains(page.Body, "reason 0") || !strings.Contains(page.Body, fmt.Sprintf(`href="/loadchecks?after=%d"`, last.ID-1)) {
		t.Fatalf("first page: %d %.3000s", page.Status, page.Body)
	}
	if next := b.get(fmt.Sprintf("/loadchecks?after=%d", last.ID-1)); !strings.Contains(next.Body, "reason 0") || strings.Contains(next.Body, "reason 2") {
		t.Fatalf("second page: %.3000s", next.Body)
	}
	if one := b.get(fmt.Sprintf("/loadchecks/%d", last.ID)); !strings.Contains(one.Body, "connection refused") {
		t.Fatalf("a step's failures by kind are shown: %.3000s", one.Body)
	}
	if bad := b.get("/loadchecks?after=x"); bad.Status != 400 {
		t.Fatalf("bad after: %d", bad.Status)
	}
}
