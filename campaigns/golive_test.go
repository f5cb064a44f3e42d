package campaigns

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

// recorder is an Enqueuer that keeps tasks in memory, for tests of the
// domain logic that do not need delivery.
type recorder struct {
	mu  sync.Mutex
	ids map[string]*asynq.Task
}

func (r *recorder) Enqueue(_ context.Context, t *asynq.Task, opts ...asynq.Option) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]*asynq.Task{}
	}
	for _, o := range opts {
		if o.Type() == asynq.TaskIDOpt {
			id := o.Value().(string)
			if _, ok := r.ids[id]; ok {
				return false, nil
			}
			r.ids[id] = t
		}
	}
	return true, nil
}

func (r *recorder) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}

func newService(t *testing.T, now time.Time) (*Service, *clock.Fixed, *recorder) {
	t.Helper()
	g := testenv.DB(t, db.Migrations, Migrations)
	clk := clock.NewFixed(now)
	rec := &recorder{}
	s := NewService(g, rec, clk)
	s.RetryInterval = time.Minute
	return s, clk, rec
}

func transitionsTo(t *testing.T, s *Service, id uint64, to Status) int {
	t.Helper()
	var n int64
	if err := s.DB.Model(&Transition{}).Where("campaign_id = ? AND to_status = ? AND from_status <> to_status", id, to).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return int(n)
}

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func createScheduled(t *testing.T, s *Service) *Campaign {
	t.Helper()
	c, err := s.Create(context.Background(), validInput(), "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	c, err = s.Schedule(context.Background(), c.ID, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestScheduleEnqueuesDeterministicTasks(t *testing.T) {
	s, _, rec := newService(t, t0)
	c := createScheduled(t, s)
	if c.Status != Scheduled || c.ScheduleVersion != 1 {
		t.Fatalf("status %s version %d", c.Status, c.ScheduleVersion)
	}
	for _, id := range []string{"golive:1:v1", "end:1:v1", "recheck:1:v1:24h0m0s", "recheck:1:v1:1h0m0s"} {
		if !rec.has(id) {
			t.Errorf("task %s not enqueued (have %v)", id, rec.ids)
		}
	}
	// Rescheduling bumps the version and the old tasks become no-ops.
	in := validInput()
	in.StartsAt = "2026-11-28T08:00"
	c2, err := s.Update(context.Background(), c.ID, in, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if c2.ScheduleVersion != 2 || !rec.has("golive:1:v2") {
		t.Fatalf("reschedule: version %d, tasks %v", c2.ScheduleVersion, rec.ids)
	}
	if err := s.GoLive(context.Background(), c.ID, 1, "worker"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(context.Background(), c.ID)
	if got.Status != Scheduled {
		t.Fatalf("a stale go-live moved the campaign to %s", got.Status)
	}
}

func TestGoLivePassesRecordsGatesAndIsIdempotent(t *testing.T) {
	s, clk, _ := newService(t, t0)
	var launched atomic.Int32
	s.Actors[Email] = actorFunc(func(_ context.Context, _ *Campaign, m Move, _ string) (string, error) {
		if m == MoveLaunch {
			launched.Add(1)
		}
		return "launched", nil
	})
	c := createScheduled(t, s)
	clk.Set(c.StartsAt)
	for i := 0; i < 3; i++ {
		if err := s.GoLive(context.Background(), c.ID, c.ScheduleVersion, "worker"); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.Get(context.Background(), c.ID)
	if got.Status != Live {
		t.Fatalf("status %s: %s", got.Status, got.StatusReason)
	}
	if n := transitionsTo(t, s, c.ID, Live); n != 1 {
		t.Fatalf("%d live transitions, want 1", n)
	}
	// The moves were recorded with the transition; the job runs them once.
	for i := 0; i < 2; i++ {
		if err := s.RunMoves(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if launched.Load() != 1 {
		t.Fatalf("email launched %d times, want 1", launched.Load())
	}
	hist, _ := s.History(context.Background(), c.ID)
	if hist[0].ToStatus != Live || len(hist[0].Gates) != 2 || hist[0].Gates[0].Measured == nil {
		t.Fatalf("the live audit line must store every gate with its measures: %+v", hist[0])
	}
}

func TestConcurrentGoLiveMakesOneTransition(t *testing.T) {
	s, clk, _ := newService(t, t0)
	c := createScheduled(t, s)
	clk.Set(c.StartsAt)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.GoLive(context.Background(), c.ID, c.ScheduleVersion, "worker"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := transitionsTo(t, s, c.ID, Live); n != 1 {
		t.Fatalf("%d live transitions, want 1", n)
	}
}

type actorFunc func(context.Context, *Campaign, Move, string) (string, error)

func (f actorFunc) Move(ctx context.Context, c *Campaign, m Move, reason string) (string, error) {
	return f(ctx, c, m, reason)
}

func TestPendingGateBlocksThenRetriesUntilReady(t *testing.T) {
	s, clk, rec := newService(t, t0)
	var ready atomic.Bool
	s.Gates.Register(GateFunc{GateName: "test.capacity", Fn: func(context.Context, *Campaign, time.Time) Result {
		if ready.Load() {
			return Result{Outcome: Pass, Message: "sustained 4,200 req/s ≥ needed 3,150", Measured: map[string]any{"sustained": 4200, "needed": 3150}}
		}
		return Result{Outcome: Pending, Message: "could not tell: no load check yet"}
	}})
	c := createScheduled(t, s)
	clk.Set(c.StartsAt)
	if err := s.GoLive(context.Background(), c.ID, c.ScheduleVersion, "worker"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(context.Background(), c.ID)
	if got.Status != Blocked || got.NextAttemptAt == nil {
		t.Fatalf("pending must hold go-live: status %s, next %v", got.Status, got.NextAttemptAt)
	}
	ap, _ := s.Alerts(context.Background(), AlertFilter{CampaignID: c.ID, OpenOnly: true}, 0, 0)
	alerts := ap.Alerts
	if len(alerts) != 1 || alerts[0].Kind != "blocked" {
		t.Fatalf("alerts = %+v", alerts)
	}
	if !rec.has(retryID(got, *got.NextAttemptAt)) {
		t.Fatalf("no retry task enqueued: %v", rec.ids)
	}
	// A second failing attempt refreshes reasons without a new audit line.
	clk.Add(time.Minute)
	s.GoLive(context.Background(), c.ID, c.ScheduleVersion, "worker")
	if n := transitionsTo(t, s, c.ID, Blocked); n != 1 {
		t.Fatalf("%d blocked lines, want 1", n)
	}
	ready.Store(true)
	clk.Add(time.Minute)
	s.GoLive(context.Background(), c.ID, c.ScheduleVersion, "worker")
	got, _ = s.Get(context.Background(), c.ID)
	if got.Status != Live {
		t.Fatalf("status %s after the gate passed", got.Status)
	}
	hist, _ := s.History(context.Background(), c.ID)
	if g := hist[0].Gates[2]; g.Gate != "test.capacity" || g.Measured["sustained"] == nil {
		t.Fatalf("live line lost the measured values: %+v", hist[0].Gates)
	}
}

func TestGatePanicOrTimeoutIsPending(t *testing.T) {
	reg := &Registry{Timeout: 50 * time.Millisecond}
	reg.Register(GateFunc{GateName: "a.panics", Fn: func(context.Context, *Campaign, time.Time) Result { panic("boom") }})
	reg.Register(GateFunc{GateName: "b.slow", Fn: func(ctx context.Context, _ *Campaign, _ time.Time) Result {
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond)
		return Result{Outcome: Pass}
	}})
	reg.Register(GateFunc{GateName: "c.odd", Fn: func(context.Context, *Campaign, time.Time) Result { return Result{Outcome: "maybe"} }})
	reg.Register(GateFunc{GateName: "d.email_only", ForChannels: []Channel{Email}, Fn: func(context.Context, *Campaign, time.Time) Result { return Result{Outcome: Fail} }})
	c := &Campaign{ChannelList: ",seo,"}
	rep := reg.Evaluate(context.Background(), c, t0)
	if rep.Ready || len(rep.Results) != 3 {
		t.Fatalf("report %+v", rep)
	}
	for _, r := range rep.Results {
		if r.Outcome != Pending {
			t.Errorf("%s answered %s, want pending", r.Gate, r.Outcome)
		}
	}
}

func TestLifecycleActions(t *testing.T) {
	s, clk, _ := newService(t, t0)
	ctx := context.Background()
	c := createScheduled(t, s)
	if _, err := s.Pause(ctx, c.ID, "ana", ""); err == nil {
		t.Fatal("pausing a scheduled campaign must be refused")
	}
	clk.Set(c.StartsAt)
	s.GoLive(ctx, c.ID, c.ScheduleVersion, "worker")
	if _, err := s.Update(ctx, c.ID, validInput(), "ana"); err == nil {
		t.Fatal("editing a live campaign must be refused")
	}
	if _, err := s.Pause(ctx, c.ID, "ana", "stock issue"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resume(ctx, c.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	clk.Set(c.EndsAt)
	if err := s.End(ctx, c.ID, c.ScheduleVersion); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, c.ID)
	if got.Status != Ended {
		t.Fatalf("status %s", got.Status)
	}
	if _, err := s.Cancel(ctx, c.ID, "ana", ""); err == nil {
		t.Fatal("cancelling an ended campaign must be refused")
	}
	hist, _ := s.History(ctx, c.ID)
	var path []Status
	for i := len(hist) - 1; i >= 0; i-- {
		path = append(path, hist[i].ToStatus)
	}
	want := []Status{Scheduled, Live, Paused, Live, Ended}
	if len(path) != len(want) {
		t.Fatalf("history %v, want %v", path, want)
	}
	for i := range want {
		if path[i] != want[i] {
			t.Fatalf("history %v, want %v", path, want)
		}
	}
	if hist[2].Actor != "ana" || hist[2].Reason != "stock issue" {
		t.Fatalf("audit line lost who/why: %+v", hist[2])
	}
}

func TestBatchGoLiveRacesPerCampaignTasksSafely(t *testing.T) {
	s, clk, _ := newService(t, t0)
	ctx := context.Background()
	var ids []uint64
	for i := 0; i < 30; i++ {
		ids = append(ids, createScheduled(t, s).ID)
	}
	// One campaign is not ready: its display channel lacks a forecast.
	in := validInput()
	in.Channels = append(in.Channels, "display")
	c, err := s.Create(ctx, in, "ana")
	if err != nil {
		t.Fatal(err)
	}
	notReady, _ := s.Schedule(ctx, c.ID, "ana")
	clk.Set(notReady.StartsAt)

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if _, err := s.GoLiveDue(ctx); err != nil {
			t.Error(err)
		}
	}()
	go func() {
		defer wg.Done()
		for _, id := range ids {
			if err := s.GoLive(ctx, id, 1, "worker"); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	for _, id := range ids {
		if n := transitionsTo(t, s, id, Live); n != 1 {
			t.Fatalf("campaign %d: %d live transitions, want 1", id, n)
		}
	}
	got, _ := s.Get(ctx, notReady.ID)
	if got.Status != Blocked || transitionsTo(t, s, notReady.ID, Live) != 0 {
		t.Fatalf("the unready campaign is %s", got.Status)
	}
	hist, _ := s.History(ctx, ids[0])
	if len(hist[0].Gates) == 0 {
		t.Fatal("the batch audit line lost the gate answers")
	}
	if n, _ := s.GoLiveDue(ctx); n != 0 {
		t.Fatalf("a second batch moved %d campaigns", n)
	}
}

// A campaign scheduled for an instant after its go-live batch read the
// instant's campaigns (the batch reads them Lead ahead) goes live in that
// batch, not seconds later by its fallback task.
func TestBatchTakesCampaignsScheduledAfterItsRead(t *testing.T) {
	s, clk, _ := newService(t, t0)
	ctx := context.Background()
	early := createScheduled(t, s)
	at := early.StartsAt
	clk.Set(at.Add(-time.Second))
	payload, _ := json.Marshal(batchPayload{At: at})
	done := make(chan error, 1)
	go func() { done <- s.handleBatch(ctx, asynq.NewTask(TypeGoLiveBatch, payload)) }()
	time.Sleep(200 * time.Millisecond) // the batch has read the instant's campaigns and waits
	late := createScheduled(t, s)
	clk.Set(at)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Campaign{early, late} {
		if n := transitionsTo(t, s, c.ID, Live); n != 1 {
			got, _ := s.Get(ctx, c.ID)
			t.Errorf("campaign %d: %d live transitions (%s), want 1 from the batch", c.ID, n, got.Status)
		}
	}
}
