package loadcheck

import (
	"context"
	"github.com/hibiken/asynq"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
	"strings"
	"testing"
	"time"
)

// orphan is a check left running by a worker that died a minute ago, in its
// second step.
func (e *env) orphan(t *testing.T, url string) *Check {
	t.Helper()
	c := e.row(t, url, 10, DefaultSteps, 1)
	started := time.Now().UTC().Add(-time.Minute)
	if err := e.svc.Store.DB.Model(c).Updates(map[string]any{"status": Running, "started_at": started,
		"live": liveJSON(&Live{Step: 2, Steps: 4, TargetRate: 5})}).Error; err != nil {
		t.Fatal(err)
	}
	return c
}

func TestALostWorkersCheckIsFailedAndTheNextOneRuns(t *testing.T) {
	srv := newCounter(t)
	e := newEnv(t, srv.URL)
	lost := e.orphan(t, srv.URL+"/l/x")
	next := e.run(t, e.row(t, srv.URL+"/l/x", 10, []float64{1}, 1).ID)
	got, _ := e.svc.Store.Get(context.Background(), lost.ID)
	if got.Status != Failed || !strings.Contains(got.Reason, "worker lost at step 2") || got.FinishedAt == nil {
		t.Fatalf("orphan: %s %q", got.Status, got.Reason)
	}
	if next.Status != Passed {
		t.Fatalf("the next check: %s %q", next.Status, next.Reason)
	}
}

func TestAbortEndsQueuedAndOrphanedChecks(t *testing.T) {
	srv := newCounter(t)
	e := newEnv(t, srv.URL)
	ctx := context.Background()
	queued := e.row(t, srv.URL+"/l/x", 10, []float64{1}, 1)
	orphan := e.orphan(t, srv.URL+"/l/x")
	for _, c := range []*Check{queued, orphan} {
		if err := e.svc.Store.RequestAbort(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.Store.Get(ctx, c.ID)
		if got.Status != Aborted || got.FinishedAt == nil || !strings.Contains(got.Reason, "aborted") {
			t.Fatalf("check #%d after abort: %s %q", c.ID, got.Status, got.Reason)
		}
	}
	// The aborted queued check does not run when its task comes.
	if got := e.run(t, queued.ID); got.Status != Aborted || srv.n.Load() != 0 {
		t.Fatalf("aborted check ran: %s, %d requests", got.Status, srv.n.Load())
	}
	// Aborting an ended check says so.
	if err := e.svc.Store.RequestAbort(ctx, queued.ID); err == nil || !strings.Contains(err.Error(), "aborted") {
		t.Fatalf("abort of an ended check: %v", err)
	}
}

// Two workers, each with its own concurrency-1 load-check server on one
// Redis, are given two checks at once: one runs, the other waits its turn.
func TestChecksNeverOverlapAcrossWorkers(t *testing.T) {
	srv := newCounter(t)
	e := newEnv(t, srv.URL)
	conn := testenv.Redis(t)
	e.svc.Tasks = queue.NewClient(conn)
	for range 2 {
		w := e.worker(t, conn)
		t.Cleanup(w.Shutdown)
	}
	ctx := context.Background()
	var ids []uint64
	for range 2 {
		c := e.row(t, srv.URL+"/l/x", 20, []float64{1}, 2)
		if err := e.svc.enqueue(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range ids {
		for {
			got, _ := e.svc.Store.Get(ctx, id)
			if got.Status == Passed || got.Status == Failed || got.Status == Aborted {
				if got.Status != Passed {
					t.Fatalf("check #%d: %s %q", id, got.Status, got.Reason)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("check #%d still %s", id, got.Status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	// Requests arrive as all of one check, then all of the other.
	switches := 0
	for i := 1; i < len(srv.seen); i++ {
		if srv.seen[i] != srv.seen[i-1] {
			switches++
		}
	}
	if switches != 1 {
		t.Fatalf("the two checks' requests interleaved (%d switches): %v", switches, srv.seen)
	}
}

// worker starts a load-check worker as `rampe worker` does.
func (e *env) worker(t *testing.T, conn *queue.Conn) *asynq.Server {
	t.Helper()
	e.svc.BusyRetry = 200 * time.Millisecond
	srv := e.svc.NewServer(conn.Redis, 200*time.Millisecond, 200*time.Millisecond)
	mux := asynq.NewServeMux()
	e.svc.Register(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	return srv
}

// A worker sweeps at start (and periodically), with no check to run.
func TestTheSweeperFailsLostChecksAtStart(t *testing.T) {
	e := newEnv(t, "http://127.0.0.1")
	lost := e.orphan(t, "http://127.0.0.1/l/x")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.svc.RunSweeper(ctx, time.Hour); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := e.svc.Store.Get(context.Background(), lost.ID)
		if got.Status == Failed && strings.Contains(got.Reason, "worker lost at step 2 of 4") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the sweep at start: %s %q", got.Status, got.Reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
}

// A worker whose check was ended elsewhere while it ran (a sweep that found
// it lost, an abort) stops its attack and leaves the verdict alone.
func TestARunnerStopsWhenItsCheckIsEndedElsewhere(t *testing.T) {
	srv := newCounter(t)
	e := newEnv(t, srv.URL)
	ctx := context.Background()
	c := e.row(t, srv.URL+"/l/x", 20, []float64{1, 1, 1}, 2)
	done := make(chan error, 1)
	go func() { done <- e.svc.Run(ctx, c.ID) }()
	for srv.n.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := e.svc.Store.DB.Model(&Check{}).Where("id = ?", c.ID).Updates(map[string]any{"status": Failed, "reason": "worker lost at step 1 (test)"}).Error; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Store.Get(ctx, c.ID)
	if got.Status != Failed || got.Reason != "worker lost at step 1 (test)" || len(got.Results) != 0 {
		t.Fatalf("after the runner stopped: %s %q, %d results", got.Status, got.Reason, len(got.Results))
	}
}
