package loadcheck

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
)

// gateEnv is a page with a campaign needing about 24 req/s, and its gate.
func gateEnv(t *testing.T) (*env, *landing.Page, func() campaigns.Result) {
	t.Helper()
	e := newEnv(t, "http://127.0.0.1")
	ctx := context.Background()
	page, _ := e.pages.Create(ctx, landing.PageInput{Slug: "bf", Title: "BF"})
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	c, err := e.camps.Create(ctx, campaigns.Input{Name: "Newsletter", Channels: []string{"email"}, StartsAt: start.Format(time.RFC3339),
		EndsAt: start.Add(24 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"email": 1},
		Forecast: map[string]map[string]float64{"email": {"audience": 100000, "open_rate": 0.5, "click_rate": 0.5}}, LandingPageID: &page.ID}, "test")
	if err != nil {
		t.Fatal(err)
	}
	reg := &campaigns.Registry{}
	RegisterGate(reg, e.svc)
	return e, page, func() campaigns.Result {
		c2, _ := e.camps.Get(ctx, c.ID)
		return reg.Evaluate(ctx, c2, time.Now()).Results[0]
	}
}

func (e *env) finished(t *testing.T, pageID, versionID uint64, status string, sustained float64, ago time.Duration) *Check {
	t.Helper()
	fin := time.Now().UTC().Add(-ago)
	c := &Check{PageID: pageID, PageVersionID: versionID, URL: "x", TargetRate: 40, Steps: DefaultSteps, StepSeconds: 1, Thresholds: DefaultThresholds,
		Status: status, Reason: status + " for the test", SustainedRate: sustained, CreatedAt: fin, FinishedAt: &fin}
	if err := e.svc.Store.DB.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGateTakesTheLatestCheckOfTheVersion(t *testing.T) {
	e, page, gate := gateEnv(t)
	v1, _ := e.pages.Publish(context.Background(), page.ID, "test")
	e.finished(t, page.ID, v1.ID, Passed, 40, 2*time.Hour)
	if r := gate(); r.Outcome != campaigns.Pass {
		t.Fatalf("one passing check: %+v", r)
	}
	failed := e.finished(t, page.ID, v1.ID, Failed, 10, time.Hour)
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "#"+itoa(failed.ID)) {
		t.Fatalf("a newer failed check of the same version must decide: %+v", r)
	}
	// An aborted check is no verdict: the failed one still decides.
	e.finished(t, page.ID, v1.ID, Aborted, 0, time.Minute)
	if r := gate(); r.Outcome != campaigns.Fail {
		t.Fatalf("after an aborted check: %+v", r)
	}
	e.finished(t, page.ID, v1.ID, Passed, 40, 0)
	if r := gate(); r.Outcome != campaigns.Pass {
		t.Fatalf("a newer pass: %+v", r)
	}
}

func TestGateKeepsTheCheckOfIdenticalContent(t *testing.T) {
	e, page, gate := gateEnv(t)
	ctx := context.Background()
	v1, _ := e.pages.Publish(ctx, page.ID, "test")
	e.finished(t, page.ID, v1.ID, Passed, 40, time.Hour)
	// Published again, unchanged: the check of version 1 still counts.
	if _, err := e.pages.Publish(ctx, page.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if r := gate(); r.Outcome != campaigns.Pass {
		t.Fatalf("republished unchanged: %+v", r)
	}
	// Edited and published: a new check is needed.
	if _, err := e.pages.Update(ctx, page.ID, landing.PageInput{Slug: "bf", Title: "BF", Hero: "Now -50 %"}); err != nil {
		t.Fatal(err)
	}
	e.pages.Publish(ctx, page.ID, "test")
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "republished") {
		t.Fatalf("republished with new content: %+v", r)
	}
	// Back to the first content: its check counts again.
	e.pages.Update(ctx, page.ID, landing.PageInput{Slug: "bf", Title: "BF"})
	e.pages.Publish(ctx, page.ID, "test")
	if r := gate(); r.Outcome != campaigns.Pass {
		t.Fatalf("back to the checked content: %+v", r)
	}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// The gate names the failed check, the step it failed at and why, by kind.
func TestGateNamesTheFailedCheckAndWhy(t *testing.T) {
	e, page, gate := gateEnv(t)
	v1, _ := e.pages.Publish(context.Background(), page.ID, "test")
	c := e.finished(t, page.ID, v1.ID, Failed, 0, time.Minute)
	c.Results = []StepResult{{Share: 0.25, TargetRate: 10, Requests: 10, Held: true},
		{Share: 0.5, TargetRate: 20, Requests: 200, Kinds: map[string]uint64{KindRefused: 200}, Broken: "error ratio 100.0 % > 1.0 %"}}
	if err := e.svc.Store.DB.Save(c).Error; err != nil {
		t.Fatal(err)
	}
	want := "check #" + itoa(c.ID) + " failed at 50 % of the target (20 req/s): 100 % connection refused (the latest check of this version of /l/bf"
	if r := gate(); r.Outcome != campaigns.Fail || !strings.HasPrefix(r.Message, want) {
		t.Fatalf("gate message %q, want it to start with %q", r.Message, want)
	}
}

// How long ago the check ran reads as people write it, in English and in
// French ("2 h 5 min ago", "il y a 2 h 5 min"), not as Go's "2h5m0s".
func TestGateSaysHowLongAgoInWords(t *testing.T) {
	e, page, gate := gateEnv(t)
	v1, _ := e.pages.Publish(context.Background(), page.ID, "test")
	e.finished(t, page.ID, v1.ID, Passed, 40, 2*time.Hour+5*time.Minute)
	r := gate()
	if r.Outcome != campaigns.Pass || !strings.HasSuffix(r.Message, ", 2 h 5 min ago)") || !strings.HasSuffix(r.Texts["fr"], "il y a 2 h 5 min)") {
		t.Fatalf("gate message %q / %q", r.Message, r.Texts["fr"])
	}
}
