package campaigns

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
)

// startWorker runs a real asynq worker on conn with this package's handlers.
func startWorker(t *testing.T, s *Service, conn *queue.Conn) {
	t.Helper()
	srv := queue.NewServer(conn, queue.ServerConfig{Concurrency: 4, PollInterval: 50 * time.Millisecond, ShutdownTimeout: 2 * time.Second})
	mux := queue.NewMux()
	s.Register(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

func scheduleSoon(t *testing.T, s *Service, in time.Duration) *Campaign {
	t.Helper()
	inp := validInput()
	loc, _ := time.LoadLocation(inp.TimeZone)
	start := time.Now().Add(in).In(loc)
	inp.StartsAt = start.Format(time.RFC3339Nano)
	inp.EndsAt = start.Add(48 * time.Hour).Format(time.RFC3339)
	c, err := s.Create(context.Background(), inp, "test")
	if err != nil {
		t.Fatal(err)
	}
	if c, err = s.Schedule(context.Background(), c.ID, "test"); err != nil {
		t.Fatal(err)
	}
	return c
}

func waitStatus(t *testing.T, s *Service, id uint64, want Status, within time.Duration) *Campaign {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c, err := s.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == want {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, _ := s.Get(context.Background(), id)
	t.Fatalf("campaign %d is %s (%s), want %s within %s", id, c.Status, c.StatusReason, want, within)
	return nil
}

func TestScheduledCampaignGoesLiveThroughWorker(t *testing.T) {
	g := testenv.DB(t, db.Migrations, Migrations)
	conn := testenv.Redis(t)
	s := NewService(g, queue.NewClient(conn), clock.System{})
	startWorker(t, s, conn)

	c := scheduleSoon(t, s, 2*time.Second)
	waitStatus(t, s, c.ID, Live, 15*time.Second)
	hist, _ := s.History(context.Background(), c.ID)
	late := hist[0].At.Sub(c.StartsAt)
	if hist[0].ToStatus != Live || late < 0 {
		t.Fatalf("live at %v for a start at %v", hist[0].At, c.StartsAt)
	}
	t.Logf("went live %v after starts_at on %s", late, testenv.Engine())
}

func TestRedisFlushedBeforeGoLiveStillGoesLiveOnce(t *testing.T) {
	g := testenv.DB(t, db.Migrations, Migrations)
	conn := testenv.Redis(t)
	s := NewService(g, queue.NewClient(conn), clock.System{})

	c := scheduleSoon(t, s, 2*time.Second)
	if err := conn.Redis.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := conn.Redis.DBSize(context.Background()).Result(); n != 0 {
		t.Fatalf("redis still holds %d keys", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go s.RunReconciler(ctx, 200*time.Millisecond)
	startWorker(t, s, conn)

	waitStatus(t, s, c.ID, Live, 15*time.Second)
	// Let several more reconciler rounds pass: none may add a second go-live.
	time.Sleep(time.Second)
	if n := transitionsTo(t, s, c.ID, Live); n != 1 {
		t.Fatalf("%d live transitions after a Redis flush, want exactly 1", n)
	}
}

// With workers polling Redis only every second and moving due tasks to
// their queues every second or every 5 s (the defaults), the go-live batch
// is due Lead ahead of the instant and waits for it in the worker: the
// batch, not the per-campaign task 2 s later, puts the campaign live, and
// never before starts_at.
func TestGoLiveBatchIsHandedOverAheadOfTheInstant(t *testing.T) {
	if queue.Ahead(time.Second, time.Second) != DefaultLead {
		t.Fatalf("DefaultLead %s is not queue.Ahead of 1 s polls (%s)", DefaultLead, queue.Ahead(time.Second, time.Second))
	}
	for _, delayed := range []time.Duration{time.Second, 5 * time.Second} {
		t.Run("delayed "+delayed.String(), func(t *testing.T) { goLiveOnTime(t, time.Second, delayed) })
	}
}

func goLiveOnTime(t *testing.T, poll, delayed time.Duration) {
	g := testenv.DB(t, db.Migrations, Migrations)
	conn := testenv.Redis(t)
	s := NewService(g, queue.NewClient(conn), clock.System{})
	s.Lead = queue.Ahead(poll, delayed)

	c := scheduleSoon(t, s, s.Lead+3*time.Second)
	info, err := asynq.NewInspectorFromRedisClient(conn.Redis).GetTaskInfo("critical", batchID(c.StartsAt))
	if err != nil {
		t.Fatalf("the go-live batch of %s is not queued: %v", c.StartsAt, err)
	}
	if due := c.StartsAt.Add(-s.Lead).Truncate(time.Second); !info.NextProcessAt.Equal(due) {
		t.Fatalf("the batch is due at %s, want %s (Lead %s before %s)", info.NextProcessAt, due, s.Lead, c.StartsAt)
	}

	srv := queue.NewServer(conn, queue.ServerConfig{Concurrency: 4, PollInterval: poll, DelayedInterval: delayed, ShutdownTimeout: 2 * time.Second})
	mux := queue.NewMux()
	s.Register(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	got := waitStatus(t, s, c.ID, Live, 20*time.Second)
	if got.StatusReason != batchReason {
		t.Fatalf("live with reason %q: the per-campaign fallback did it, not the batch", got.StatusReason)
	}
	hist, _ := s.History(context.Background(), c.ID)
	if hist[0].At.Before(c.StartsAt) {
		t.Fatalf("live at %s, before starts_at %s", hist[0].At, c.StartsAt)
	}
	t.Logf("went live %v after starts_at with a %s poll and a %s delayed check", hist[0].At.Sub(c.StartsAt), poll, delayed)
}

// A Redis flushed after the tasks were queued (and after the reconciler's
// round) loses the go-live: the worker notices the loss within a second
// and reconciles at once, not at the next round, 10 minutes away here.
func TestRedisFlushIsNoticedAndReconciledAtOnce(t *testing.T) {
	g := testenv.DB(t, db.Migrations, Migrations)
	conn := testenv.Redis(t)
	s := NewService(g, queue.NewClient(conn), clock.System{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	startWorker(t, s, conn)
	go s.RunReconciler(ctx, 10*time.Minute)
	go queue.WatchLoss(ctx, conn.Redis, time.Second, s.ReconcileAll)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if n, _ := conn.Redis.Exists(ctx, queue.MarkerKey).Result(); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watch never set its marker")
		}
	}
	c := scheduleSoon(t, s, 6*time.Second)
	if err := conn.Redis.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	got := waitStatus(t, s, c.ID, Live, 15*time.Second)
	hist, _ := s.History(ctx, got.ID)
	t.Logf("went live %v after starts_at after a flush", hist[0].At.Sub(c.StartsAt))
	if n := transitionsTo(t, s, c.ID, Live); n != 1 {
		t.Fatalf("%d live transitions, want 1", n)
	}
}

// A batch made due by a node with a longer lead (7.5 s: a 5 s delayed
// check) and handled by a worker whose own lead is 3.5 s (a rolling
// upgrade): the worker still waits for the instant and the batch puts the
// campaign live, instead of finding the instant too far and doing nothing.
func TestGoLiveBatchWaitsForTheLeadItWasGiven(t *testing.T) {
	g := testenv.DB(t, db.Migrations, Migrations)
	conn := testenv.Redis(t)
	s := NewService(g, queue.NewClient(conn), clock.System{})
	s.Lead = queue.Ahead(time.Second, time.Second)
	long := queue.Ahead(time.Second, 5*time.Second)
	c := scheduleSoon(t, s, long-500*time.Millisecond)
	b, _ := json.Marshal(batchPayload{At: c.StartsAt, Lead: long})
	if err := s.handleBatch(context.Background(), asynq.NewTask(TypeGoLiveBatch, b)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != Live || got.StatusReason != batchReason {
		t.Fatalf("after the batch: %s (%q), want live by the batch", got.Status, got.StatusReason)
	}
	hist, _ := s.History(context.Background(), c.ID)
	if hist[0].At.Before(c.StartsAt) {
		t.Fatalf("live at %s, before starts_at %s", hist[0].At, c.StartsAt)
	}
}
