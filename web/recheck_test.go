package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/queue"
)

// startWorker runs a real asynq worker with the campaigns' handlers.
func (a *testApp) startWorker(t *testing.T) {
	t.Helper()
	srv := queue.NewServer(a.conn, queue.ServerConfig{Concurrency: 4, PollInterval: 100 * time.Millisecond, ShutdownTimeout: 2 * time.Second})
	mux := queue.NewMux()
	a.Campaigns.Register(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

// startImportWorker runs a real asynq worker with the handlers of catalog
// and contact imports: a web node only queues them.
func (a *testApp) startImportWorker(t *testing.T) {
	t.Helper()
	srv := queue.NewServer(a.conn, queue.ServerConfig{Concurrency: 2, PollInterval: 50 * time.Millisecond, ShutdownTimeout: 2 * time.Second})
	mux := queue.NewMux()
	for _, j := range a.imports {
		j.Register(mux)
	}
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

// startFeedWorker runs a real asynq worker with the feeds' handlers.
func (a *testApp) startFeedWorker(t *testing.T) {
	t.Helper()
	srv := queue.NewServer(a.conn, queue.ServerConfig{Concurrency: 2, PollInterval: 100 * time.Millisecond, ShutdownTimeout: 2 * time.Second})
	mux := queue.NewMux()
	a.feedJobs.Register(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

func (a *testApp) liveOnPage(t *testing.T, pageID uint64, name string) *campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	in := campaigns.Input{Name: name, Channels: []string{"seo"}, StartsAt: time.Now().Add(-time.Hour).Format(time.RFC3339),
		EndsAt: time.Now().Add(48 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"seo": 1},
		Forecast: map[string]map[string]float64{"seo": {"sessions_per_day": 1}}, LandingPageID: &pageID}
	c, err := a.Campaigns.Create(ctx, in, "test")
	if err != nil {
		t.Fatal(err)
	}
	c, _ = a.Campaigns.Schedule(ctx, c.ID, "test")
	a.Campaigns.GoLive(ctx, c.ID, c.ScheduleVersion, "test")
	if got, _ := a.Campaigns.Get(ctx, c.ID); got.Status != campaigns.Live {
		t.Fatalf("setup: campaign %s (%s)", got.Status, got.StatusReason)
	}
	return c
}

// Publishing or unpublishing a page answers without re-checking its
// campaigns: a job does, queued once per page version, and a change that
// makes many live campaigns fail raises one alert for the cause.
func TestPageChangeRechecksLinkedCampaignsInAJob(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	p := a.seedPage(t)
	for i := range 12 {
		a.liveOnPage(t, p.ID, fmt.Sprintf("Live %02d", i))
	}
	if r := a.api("POST", fmt.Sprintf("/api/v1/pages/%d/publish", p.ID), accounts.Marketer, ""); r.Status != 200 {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	id := fmt.Sprintf("recheck-linked:page:%d:v2", p.ID)
	if _, err := asynq.NewInspectorFromRedisClient(a.conn.Redis).GetTaskInfo("critical", id); err != nil {
		t.Fatalf("publishing version 2 queued no re-check task %s: %v", id, err)
	}
	if r := a.api("POST", fmt.Sprintf("/api/v1/pages/%d/unpublish", p.ID), accounts.Marketer, `{"confirm": true}`); r.Status/100 != 2 {
		t.Fatalf("unpublish: %d %s", r.Status, r.Body)
	}
	if ap, _ := a.Campaigns.Alerts(ctx, campaigns.AlertFilter{}, 0, 0); ap.Total != 0 {
		t.Fatalf("the unpublish request itself raised %d alerts; a job must re-check", ap.Total)
	}
	a.startWorker(t)
	var ap *campaigns.AlertPage
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ap, _ = a.Campaigns.Alerts(ctx, campaigns.AlertFilter{}, 0, 0); ap.Total > 0 {
			break
		}
	}
	time.Sleep(300 * time.Millisecond) // a second alert would come now
	ap, _ = a.Campaigns.Alerts(ctx, campaigns.AlertFilter{}, 0, 0)
	if ap.Total != 1 {
		t.Fatalf("%d alerts, want one for the cause: %+v", ap.Total, ap.Alerts)
	}
	msg := ap.Alerts[0].Message
	for _, want := range []string{"landing page /l/soldes changed", "12 live or paused campaigns now fail landing.published", "and 7 more", "not published"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("alert %q lacks %q", msg, want)
		}
	}
}

// Reading readiness (GET, page and API) evaluates without saving; "Check
// now" (POST) and jobs save.
func TestReadinessGetWritesNothingCheckNowSaves(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	p := a.seedPage(t)
	c := a.liveOnPage(t, p.ID, "Read me")
	a.Campaigns.DB.Model(&campaigns.Campaign{}).Where("id = ?", c.ID).Update("readiness", nil)
	saved := func() bool {
		got, _ := a.Campaigns.Get(ctx, c.ID)
		return got.Readiness != nil
	}
	path := fmt.Sprintf("/campaigns/%d/readiness", c.ID)
	if r := a.api("GET", "/api/v1"+path, accounts.Viewer, ""); r.Status != 200 || !strings.Contains(r.Body, "landing.published") {
		t.Fatalf("API GET: %d %s", r.Status, r.Body)
	}
	v := a.browser(accounts.Viewer)
	if r := v.fragment().get(path); r.Status != 200 || !strings.Contains(r.Body, "landing.published") {
		t.Fatalf("UI GET: %d", r.Status)
	}
	// Opened by hand (a bookmark, a new tab), the address shows the whole
	// campaign page, not the card alone.
	if r := v.get(path); r.Status != 303 || r.Header.Get("Location") != fmt.Sprintf("/campaigns/%d#readiness", c.ID) {
		t.Fatalf("UI GET without htmx: %d %s", r.Status, r.Header.Get("Location"))
	}
	if saved() {
		t.Fatal("a GET of the readiness wrote it")
	}
	if r := v.fragment().post(path, url.Values{}); r.Status != 403 {
		t.Fatalf("a viewer's Check now: %d, want 403", r.Status)
	}
	m := a.browser(accounts.Marketer)
	m.get(fmt.Sprintf("/campaigns/%d", c.ID))
	if r := m.fragment().post(path, url.Values{}); r.Status != 200 || !strings.Contains(r.Body, "landing.published") {
		t.Fatalf("Check now: %d %s", r.Status, r.Body)
	}
	if !saved() {
		t.Fatal("Check now did not store the readiness")
	}
	a.Campaigns.DB.Model(&campaigns.Campaign{}).Where("id = ?", c.ID).Update("readiness", nil)
	if r := a.api("POST", "/api/v1"+path, accounts.Marketer, ""); r.Status != 200 || !saved() {
		t.Fatalf("API POST: %d %s, saved %v", r.Status, r.Body, saved())
	}
}
