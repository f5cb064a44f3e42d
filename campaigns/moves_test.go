package campaigns

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// channelLog is a channel actor that records what it was asked, and can
// be told to fail.
type channelLog struct {
	mu    sync.Mutex
	moves []string
	fail  error
}

func (l *channelLog) Move(_ context.Context, c *Campaign, m Move, _ string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return "", l.fail
	}
	l.moves = append(l.moves, string(m))
	return "did " + string(m), nil
}

func (l *channelLog) got() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.moves, ",")
}

func states(t *testing.T, s *Service, c *Campaign) map[Channel]ChannelMove {
	t.Helper()
	list, err := s.ChannelStates(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	out := map[Channel]ChannelMove{}
	for _, st := range list {
		if st.Move != nil {
			out[st.Channel] = *st.Move
		}
	}
	return out
}

// Going live launches every channel; pausing halts them; resuming resumes
// them; cancelling a live campaign halts them; each move once.
func TestLifecycleDrivesChannelMoves(t *testing.T) {
	ctx := context.Background()
	s, clk, rec := newService(t, t0)
	email, seo := &channelLog{}, &channelLog{}
	s.Actors[Email], s.Actors[SEO] = email, seo
	c := createScheduled(t, s)
	clk.Set(c.StartsAt)
	if err := s.GoLive(ctx, c.ID, c.ScheduleVersion, "worker"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, c.ID)
	if st := states(t, s, got); st[Email].Move != MoveLaunch || st[Email].Status != MovePending || st[SEO].Status != MovePending {
		t.Fatalf("after go-live, before the job: %+v", st)
	}
	var jobs int
	for id := range rec.ids {
		if strings.HasPrefix(id, "moves:") {
			jobs++
		}
	}
	if jobs != 1 {
		t.Fatalf("want one moves job enqueued after go-live, got %d (%v)", jobs, rec.ids)
	}
	run := func() {
		t.Helper()
		if err := s.RunMoves(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	run()
	run() // a second run changes nothing
	if _, err := s.Pause(ctx, c.ID, "ana", "stock problem"); err != nil {
		t.Fatal(err)
	}
	run()
	if _, err := s.Resume(ctx, c.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	run()
	if _, err := s.Cancel(ctx, c.ID, "ana", "called off"); err != nil {
		t.Fatal(err)
	}
	run()
	if email.got() != "launch,halt,resume,halt" || seo.got() != "launch,halt,resume,halt" {
		t.Fatalf("email %q, seo %q", email.got(), seo.got())
	}
	st := states(t, s, got)
	if st[Email].Move != MoveHalt || st[Email].Status != MoveDone || st[Email].Detail != "did halt" || st[Email].DoneAt == nil || st[Email].Reason != "called off" {
		t.Fatalf("email state: %+v", st[Email])
	}
}

// A move that fails stays, says why, fails its job (asynq retries it) and
// is done once the channel answers; a move overtaken by a later one of the
// same channel is not run at all.
func TestFailedMoveRetriesAndLaterMoveSupersedes(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := newService(t, t0)
	email := &channelLog{fail: errors.New("SMTP server 127.0.0.1:2525 refused the connection")}
	s.Actors[Email] = email
	c := createScheduled(t, s)
	clk.Set(c.StartsAt)
	if err := s.GoLive(ctx, c.ID, c.ScheduleVersion, "worker"); err != nil {
		t.Fatal(err)
	}
	err := s.RunMoves(ctx, c.ID)
	if err == nil || !strings.Contains(err.Error(), "refused the connection") {
		t.Fatalf("a failing move must fail its job: %v", err)
	}
	st := states(t, s, c)
	if st[Email].Status != MoveRetrying || st[Email].Attempts != 1 || !strings.Contains(st[Email].Error, "refused") {
		t.Fatalf("failed move: %+v", st[Email])
	}
	if st[SEO].Status != MoveNoActor || st[SEO].Words() != "not connected" || !strings.Contains(st[SEO].Detail, "not connected") {
		t.Fatalf("a channel without actor says so: %+v", st[SEO])
	}
	// The reconciler finds the move and hands it to a job again.
	if n, err := s.ReconcileMoves(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile: %d %v", n, err)
	}
	email.mu.Lock()
	email.fail = nil
	email.mu.Unlock()
	if err := s.RunMoves(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if st := states(t, s, c); st[Email].Status != MoveDone || st[Email].Attempts != 2 || st[Email].Error != "" {
		t.Fatalf("after the retry: %+v", st[Email])
	}

	// Paused and cancelled before the job ran: the launch of a second
	// campaign is superseded by its halt, which alone runs.
	d := createScheduled(t, s)
	clk.Set(d.StartsAt)
	if err := s.GoLive(ctx, d.ID, d.ScheduleVersion, "worker"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pause(ctx, d.ID, "ana", ""); err != nil {
		t.Fatal(err)
	}
	before := email.got()
	if err := s.RunMoves(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimPrefix(email.got(), before+","); got != "halt" {
		t.Fatalf("want only the halt to run, got %q", got)
	}
	var superseded int64
	s.DB.Model(&ChannelMove{}).Where("campaign_id = ? AND status = ?", d.ID, MoveSuperseded).Count(&superseded)
	if superseded != 2 {
		t.Fatalf("superseded launches: %d", superseded)
	}
}

// A worker that died while running a move leaves it running: the
// reconciler lets it run again.
func TestReconcileReleasesMovesOfDeadWorkers(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := newService(t, t0)
	c := createScheduled(t, s)
	clk.Set(c.StartsAt)
	if err := s.GoLive(ctx, c.ID, c.ScheduleVersion, "worker"); err != nil {
		t.Fatal(err)
	}
	s.DB.Model(&ChannelMove{}).Where("campaign_id = ?", c.ID).Updates(map[string]any{"status": MoveRunning, "updated_at": c.StartsAt})
	clk.Set(c.StartsAt.Add(staleRunning + time.Minute))
	if n, err := s.ReconcileMoves(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile: %d %v", n, err)
	}
	if st := states(t, s, c); st[Email].Status != MoveRetrying || !strings.Contains(st[Email].Error, "stopped") {
		t.Fatalf("stale move: %+v", st[Email])
	}
}

// The go-live batch records every campaign's launches in its transaction
// and hands them to one job per chunk, not one per campaign.
func TestGoLiveBatchRecordsLaunchesAndOneJob(t *testing.T) {
	ctx := context.Background()
	s, clk, rec := newService(t, t0)
	email := &channelLog{}
	s.Actors[Email] = email
	var ids []uint64
	for i := 0; i < 3; i++ {
		ids = append(ids, createScheduled(t, s).ID)
	}
	c, _ := s.Get(ctx, ids[0])
	clk.Set(c.StartsAt)
	if n, err := s.GoLiveDue(ctx); err != nil || n != 3 {
		t.Fatalf("batch: %d %v", n, err)
	}
	var jobs []string
	for id := range rec.ids {
		if strings.HasPrefix(id, "moves:") {
			jobs = append(jobs, id)
		}
	}
	if len(jobs) != 1 || !strings.HasPrefix(jobs[0], "moves:batch:") {
		t.Fatalf("jobs: %v", jobs)
	}
	if err := s.runMovesOf(ctx, ids); err != nil {
		t.Fatal(err)
	}
	if email.got() != "launch,launch,launch" {
		t.Fatalf("launches: %q", email.got())
	}
}
