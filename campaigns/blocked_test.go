package campaigns

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/i18n"
)

// unreadyInput runs on display without a display budget nor forecast:
// channels.configured holds it.
func unreadyInput() Input {
	in := validInput()
	in.Channels = append(in.Channels, "display")
	return in
}

func blockAtStart(t *testing.T, s *Service, clk interface{ Set(time.Time) }, in Input) *Campaign {
	t.Helper()
	ctx := context.Background()
	c, err := s.Create(ctx, in, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if c, err = s.Schedule(ctx, c.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	clk.Set(c.StartsAt)
	if err := s.GoLive(ctx, c.ID, c.ScheduleVersion, "worker"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, c.ID)
	if got.Status != Blocked {
		t.Fatalf("setup: campaign is %s (%s), want blocked", got.Status, got.StatusReason)
	}
	return got
}

// retries counts the retry tasks queued for campaign c's version v.
func (r *recorder) retries(id uint64, v int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for tid := range r.ids {
		if strings.HasPrefix(tid, fmt.Sprintf("golive:%d:v%d:retry:", id, v)) {
			n++
		}
	}
	return n
}

// Editing a blocked campaign (to fix what held it) gives it an attempt at
// once: the edit bumps the version, so the old retry is void, and the new
// version must have its own.
func TestEditedBlockedCampaignRetries(t *testing.T) {
	ctx := context.Background()
	s, clk, rec := newService(t, t0)
	in := unreadyInput()
	c := blockAtStart(t, s, clk, in)
	clk.Set(c.StartsAt.Add(30 * time.Second))
	in.Budgets["display"] = 40000
	in.Forecast["display"] = map[string]float64{"impressions": 100000, "ctr": 0.01}
	if _, err := s.Update(ctx, c.ID, in, "ana"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, c.ID)
	if got.Status != Blocked || got.ScheduleVersion != c.ScheduleVersion+1 {
		t.Fatalf("after the edit: %s v%d", got.Status, got.ScheduleVersion)
	}
	if got.NextAttemptAt == nil {
		t.Fatal("an edited blocked campaign has no next attempt: it would stay blocked until its end")
	}
	if got.NextAttemptAt.After(clk.Now()) {
		t.Fatalf("next attempt at %s, want at once (%s)", got.NextAttemptAt, clk.Now())
	}
	if !rec.has(retryID(got, *got.NextAttemptAt)) {
		t.Fatalf("no retry task for version %d: %v", got.ScheduleVersion, rec.ids)
	}
	if n := openAlerts(t, s, c.ID); n != 1 {
		t.Fatalf("a blocked campaign has %d open alerts, want its 'did not go live'", n)
	}
	if err := s.GoLive(ctx, c.ID, got.ScheduleVersion, "worker"); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Get(ctx, c.ID); got.Status != Live {
		t.Fatalf("the retry of the edited campaign left it %s (%s)", got.Status, got.StatusReason)
	}
	if n := openAlerts(t, s, c.ID); n != 0 {
		t.Fatalf("live, the campaign still has %d open alerts saying it would not go live", n)
	}
}

// openAlerts counts the unresolved alerts of campaign id.
func openAlerts(t *testing.T, s *Service, id uint64) int64 {
	t.Helper()
	var n int64
	if err := s.DB.Model(&Alert{}).Where("campaign_id = ? AND resolved_at IS NULL", id).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// The go-live batch blocks the campaign and queues its retry; the
// per-campaign fallback 2 s later must not start a second chain. Each
// attempt queues exactly the next one, even when delivered twice.
func TestOneRetryChainPerBlockedCampaign(t *testing.T) {
	ctx := context.Background()
	s, clk, rec := newService(t, t0)
	c, err := s.Create(ctx, unreadyInput(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	c, _ = s.Schedule(ctx, c.ID, "ana")
	clk.Set(c.StartsAt)
	if _, err := s.GoLiveDue(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Add(FallbackDelay)
	if err := s.GoLive(ctx, c.ID, c.ScheduleVersion, "worker"); err != nil {
		t.Fatal(err)
	}
	if n := rec.retries(c.ID, c.ScheduleVersion); n != 1 {
		t.Fatalf("%d retry chains after the batch and the fallback, want 1: %v", n, rec.ids)
	}
	for i := 0; i < 3; i++ {
		got, _ := s.Get(ctx, c.ID)
		clk.Set(*got.NextAttemptAt)
		for range 2 { // a task delivered twice
			if err := s.GoLive(ctx, c.ID, c.ScheduleVersion, "worker"); err != nil {
				t.Fatal(err)
			}
		}
		if n := rec.retries(c.ID, c.ScheduleVersion); n != i+2 {
			t.Fatalf("after attempt %d: %d retries queued, want %d", i+1, n, i+2)
		}
	}
	if n := transitionsTo(t, s, c.ID, Blocked); n != 1 {
		t.Fatalf("%d blocked lines, want 1", n)
	}
}

// A blocked campaign's status_reason says what holds it now, not what held
// it at go-live.
func TestBlockedReasonNamesWhatHoldsItNow(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := newService(t, t0)
	var stock, capacity atomic.Bool
	stock.Store(true)
	s.Gates.Register(GateFunc{GateName: "test.stock", Fn: func(context.Context, *Campaign, time.Time) Result {
		if stock.Load() {
			return Result{Outcome: Fail, Message: "out of stock"}
		}
		return Result{Outcome: Pass, Message: "in stock"}
	}})
	s.Gates.Register(GateFunc{GateName: "test.capacity", Fn: func(context.Context, *Campaign, time.Time) Result {
		if capacity.Load() {
			return Result{Outcome: Fail, Message: "not enough capacity"}
		}
		return Result{Outcome: Pass, Message: "capacity ok"}
	}})
	page := uint64(77)
	in := validInput()
	in.LandingPageID = &page
	c := blockAtStart(t, s, clk, in)
	if !strings.Contains(c.StatusReason, "out of stock") {
		t.Fatalf("setup: reason %q", c.StatusReason)
	}
	stock.Store(false)
	capacity.Store(true)
	clk.Add(10 * time.Second)
	if err := s.RecheckLinked(ctx, Link{PageID: page}, i18n.M("landing page /l/%s changed", "x")); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, c.ID)
	if got.Status != Blocked || strings.Contains(got.StatusReason, "out of stock") || !strings.Contains(got.StatusReason, "not enough capacity") {
		t.Fatalf("status %s, reason %q: want it to name capacity, not stock", got.Status, got.StatusReason)
	}
}

func TestTimeZoneMustBeIANA(t *testing.T) {
	for _, tz := range []string{"Local", "local"} {
		in := validInput()
		in.TimeZone = tz
		_, err := Build(in, "Europe/Paris")
		ve, ok := err.(ValidationError)
		if !ok || !strings.Contains(ve.For("time_zone"), "IANA") {
			t.Fatalf("time_zone %q: want a time_zone error naming IANA, got %v", tz, err)
		}
	}
}

// A configured channel has a budget above zero and every required forecast
// input above zero.
func TestChannelsConfiguredWantsPositiveBudgetAndForecast(t *testing.T) {
	in := validInput()
	in.Budgets["email"] = 0
	in.Forecast["seo"]["sessions_per_day"] = 0
	c, err := Build(in, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	res := ChannelsGate.Check(context.Background(), c, t0)
	if res.Outcome != Fail || !strings.Contains(res.Message, "E-mailing: budget is 0") ||
		!strings.Contains(res.Message, "SEO / SEA: forecast sessions_per_day is 0") {
		t.Fatalf("zero budget and forecast: %s %q", res.Outcome, res.Message)
	}
	if res := ChannelsGate.Check(context.Background(), mustBuild(t, validInput()), t0); res.Outcome != Pass {
		t.Fatalf("a configured campaign: %s %q", res.Outcome, res.Message)
	}
}

func mustBuild(t *testing.T, in Input) *Campaign {
	t.Helper()
	c, err := Build(in, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A change that makes many live campaigns fail raises one alert per failing
// gate, naming the first campaigns and counting the others.
func TestRecheckLinkedRaisesOneAlertPerCause(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := newService(t, t0)
	var broken atomic.Bool
	s.Gates.Register(GateFunc{GateName: "test.page", Fn: func(context.Context, *Campaign, time.Time) Result {
		if broken.Load() {
			return Result{Outcome: Fail, Message: "the page is not published"}
		}
		return Result{Outcome: Pass, Message: "published"}
	}})
	page := uint64(9)
	in := validInput()
	in.LandingPageID = &page
	for i := range 30 {
		in.Name = fmt.Sprintf("Sale %02d", i)
		c, err := s.Create(ctx, in, "ana")
		if err != nil {
			t.Fatal(err)
		}
		s.Schedule(ctx, c.ID, "ana")
	}
	clk.Set(t0.AddDate(0, 0, 7).Add(23 * time.Hour))
	if n, err := s.GoLiveDue(ctx); err != nil || n != 30 {
		t.Fatalf("setup: %d live, %v", n, err)
	}
	broken.Store(true)
	if err := s.RecheckLinked(ctx, Link{PageID: page}, i18n.M("landing page /l/%s changed", "x")); err != nil {
		t.Fatal(err)
	}
	ap, _ := s.Alerts(ctx, AlertFilter{OpenOnly: true}, 0, 0)
	if ap.Total != 1 {
		t.Fatalf("%d alerts, want 1 for the one cause", ap.Total)
	}
	msg := ap.Alerts[0].Message
	for _, want := range []string{"landing page /l/x changed", "30 live or paused campaigns now fail test.page", "Sale 00, Sale 01", "and 25 more", "not published"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("alert %q lacks %q", msg, want)
		}
	}
}

// A re-check's alert ("starts in 1 h and is not ready") is moot once the
// campaign goes live with every gate passing: the go-live batch resolves
// it, as a single go-live resolves a "did not go live".
func TestGoingLiveResolvesTheAlertsThatSaidItWouldNot(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := newService(t, t0)
	var broken atomic.Bool
	broken.Store(true)
	s.Gates.Register(GateFunc{GateName: "test.page", Fn: func(context.Context, *Campaign, time.Time) Result {
		if broken.Load() {
			return Result{Outcome: Fail, Message: "the page is not published"}
		}
		return Result{Outcome: Pass, Message: "published"}
	}})
	c, err := s.Create(ctx, validInput(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	if c, err = s.Schedule(ctx, c.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	clk.Set(c.StartsAt.Add(-time.Hour))
	if err := s.Recheck(ctx, c.ID, c.ScheduleVersion, "T-1h"); err != nil {
		t.Fatal(err)
	}
	if n := openAlerts(t, s, c.ID); n != 1 {
		t.Fatalf("after the failing re-check: %d open alerts, want 1", n)
	}
	broken.Store(false)
	clk.Set(c.StartsAt)
	if n, err := s.GoLiveDue(ctx); err != nil || n != 1 {
		t.Fatalf("go-live batch: %d, %v", n, err)
	}
	if n := openAlerts(t, s, c.ID); n != 0 {
		t.Fatalf("live, %d alerts still say it is not ready", n)
	}
}
