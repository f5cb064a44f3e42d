package uploads_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
	"github.com/rampe/rampe/platform/uploads"
)

const kind = "test:import"

// runs is an Importer keeping its import runs in memory: what a domain
// (catalog, audience) does with the files, recorded for the assertions.
type runs struct {
	mu       sync.Mutex
	status   map[uint64]string // running, done, failed
	msg      map[uint64]string
	got      map[uint64]string // the bytes imported
	imports  map[uint64]int
	restarts map[uint64]int
	// block, when set, makes Import wait until the context ends (a
	// worker stopping, or killed, in the middle of it).
	block bool
}

func newRuns(ids ...uint64) *runs {
	r := &runs{status: map[uint64]string{}, msg: map[uint64]string{}, got: map[uint64]string{}, imports: map[uint64]int{}, restarts: map[uint64]int{}}
	for _, id := range ids {
		r.status[id] = "running"
	}
	return r
}

func (r *runs) Running(_ context.Context, id uint64) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status[id] == "running", nil
}

func (r *runs) Import(ctx context.Context, id uint64, in io.Reader, payload []byte) (bool, error) {
	b, err := io.ReadAll(in)
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	r.imports[id]++
	block := r.block
	r.mu.Unlock()
	if block {
		<-ctx.Done()
		return false, ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status[id], r.got[id] = "done", string(b)+"|"+string(payload)
	return true, nil
}

func (r *runs) Fail(_ context.Context, id uint64, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status[id] == "running" {
		r.status[id], r.msg[id] = "failed", msg
	}
}

func (r *runs) Restart(_ context.Context, id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.restarts[id]++
	r.status[id] = "running"
}

func (r *runs) state(id uint64) (status, msg, got string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status[id], r.msg[id], r.got[id]
}

type setup struct {
	jobs  *uploads.Jobs
	runs  *runs
	store uploads.Dir
	conn  *queue.Conn
	clk   *clock.Fixed
}

// newSetup: real database tables, a real Redis (RAMPE_TEST_REDIS_URL or
// in-process) and a directory store; no worker runs until startWorker.
func newSetup(t *testing.T, ids ...uint64) *setup {
	t.Helper()
	g := testenv.DB(t, db.Migrations, uploads.Migrations)
	conn := testenv.Redis(t)
	s := &setup{runs: newRuns(ids...), store: uploads.Dir{Root: t.TempDir()}, conn: conn, clk: clock.NewFixed(time.Now())}
	s.jobs = &uploads.Jobs{DB: g, Uploads: s.store, Tasks: queue.NewClient(conn), Clock: s.clk}
	s.jobs.Handle(kind, s.runs)
	return s
}

func (s *setup) startWorker(t *testing.T) {
	t.Helper()
	srv := queue.NewServer(s.conn, queue.ServerConfig{Concurrency: 2, PollInterval: 50 * time.Millisecond, ShutdownTimeout: 2 * time.Second})
	mux := queue.NewMux()
	s.jobs.Register(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

func (s *setup) jobRows(t *testing.T) []uploads.Job {
	t.Helper()
	var out []uploads.Job
	if err := s.jobs.DB.Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

func waitStatus(t *testing.T, r *runs, id uint64, want string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st, _, _ := r.state(id); st == want {
			return
		}
	}
	st, msg, _ := r.state(id)
	t.Fatalf("run %d: %s (%s), want %s", id, st, msg, want)
}

// A queued file is imported by a worker with its options, then its job and
// file are gone.
func TestQueuedUploadIsImportedAndCleanedUp(t *testing.T) {
	s := newSetup(t, 1)
	s.startWorker(t)
	ctx := context.Background()
	if err := s.jobs.Queue(ctx, kind, 1, strings.NewReader("a;b\n"), 4, []byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, s.runs, 1, "done")
	if _, _, got := s.runs.state(1); got != "a;b\n|{\"x\":1}" {
		t.Fatalf("imported %q", got)
	}
	for deadline := time.Now().Add(5 * time.Second); len(s.jobRows(t)) > 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
	}
	if rows := s.jobRows(t); len(rows) != 0 {
		t.Fatalf("jobs left: %+v", rows)
	}
	if err := s.jobs.Queue(ctx, "other:kind", 2, strings.NewReader("x"), 1, nil); err == nil || !strings.Contains(err.Error(), `"other:kind"`) {
		t.Fatalf("a kind without importer: %v", err)
	}
}

// Redis loses its data before a worker took the task: RecoverLost queues
// it again at once, and it is imported exactly once; a second RecoverLost
// while the new task waits queues nothing.
func TestRecoverLostQueuesAgainWhatRedisLost(t *testing.T) {
	s := newSetup(t, 7)
	ctx := context.Background()
	if err := s.jobs.Queue(ctx, kind, 7, strings.NewReader("rows"), 4, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := s.jobs.RecoverLost(ctx); err != nil || n != 0 {
		t.Fatalf("RecoverLost with the task still queued: %d, %v", n, err)
	}
	if err := s.conn.Redis.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.jobs.Recover(ctx); err != nil || n != 0 {
		t.Fatalf("Recover of a fresh job: %d, %v (the minute round waits Stale)", n, err)
	}
	if n, err := s.jobs.RecoverLost(ctx); err != nil || n != 1 {
		t.Fatalf("RecoverLost after the flush: %d, %v", n, err)
	}
	if n, _ := s.jobs.RecoverLost(ctx); n != 0 {
		t.Fatalf("RecoverLost again queued %d", n)
	}
	s.startWorker(t)
	waitStatus(t, s.runs, 7, "done")
	s.runs.mu.Lock()
	defer s.runs.mu.Unlock()
	if s.runs.imports[7] != 1 {
		t.Fatalf("imported %d times", s.runs.imports[7])
	}
}

// A worker killed in the middle of an import leaves its claim: another
// attempt leaves it alone while the beat is fresh; once the beat is older
// than Stale, Recover restarts the import under a new task, and after
// MaxQueued tasks it fails the import saying why.
func TestAbandonedImportIsRestartedThenFailed(t *testing.T) {
	s := newSetup(t, 3)
	s.jobs.MaxQueued = 2
	ctx := context.Background()
	if err := s.jobs.Queue(ctx, kind, 3, strings.NewReader("rows"), 4, nil); err != nil {
		t.Fatal(err)
	}
	job := s.jobRows(t)[0]
	// A worker took the job and was SIGKILLed: its claim stays.
	s.jobs.DB.Model(&uploads.Job{}).Where("id = ?", job.ID).Updates(map[string]any{"owner": "dead", "beat_at": s.clk.Now()})
	// Another attempt (asynq's retry of the killed task) while the beat
	// is fresh does nothing.
	if err := s.jobs.Run(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if s.runs.imports[3] != 0 {
		t.Fatalf("an attempt imported while another held the job: %d imports", s.runs.imports[3])
	}
	if n, _ := s.jobs.Recover(ctx); n != 0 {
		t.Fatalf("Recover with a fresh beat queued %d", n)
	}
	s.clk.Add(3 * time.Minute)
	if n, err := s.jobs.Recover(ctx); err != nil || n != 1 {
		t.Fatalf("Recover of an abandoned import: %d, %v", n, err)
	}
	if rows := s.jobRows(t); rows[0].Queued != 2 || rows[0].BeatAt != nil || s.runs.restarts[3] != 1 {
		t.Fatalf("after the restart: %+v, %d restarts", rows[0], s.runs.restarts[3])
	}
	// Killed again: the second task was the last one allowed.
	s.jobs.DB.Model(&uploads.Job{}).Where("id = ?", job.ID).Updates(map[string]any{"owner": "dead2", "beat_at": s.clk.Now()})
	s.clk.Add(3 * time.Minute)
	if n, _ := s.jobs.Recover(ctx); n != 0 {
		t.Fatalf("Recover past MaxQueued queued %d", n)
	}
	st, msg, _ := s.runs.state(3)
	if st != "failed" || !strings.Contains(msg, "started several times and never finished") {
		t.Fatalf("after MaxQueued: %s %q", st, msg)
	}
	if rows := s.jobRows(t); len(rows) != 0 {
		t.Fatalf("the failed job was kept: %+v", rows)
	}
	if _, err := s.store.Open(ctx, job.Key); !errors.Is(err, uploads.ErrNotFound) {
		t.Fatalf("the failed job's file was kept: %v", err)
	}
}

// A worker stopping in the middle of an import restarts the run, releases
// the job and returns an error (asynq puts the task back); the next
// attempt imports it. A file gone from the store fails the run naming why.
func TestStoppedWorkerAndMissingFile(t *testing.T) {
	s := newSetup(t, 4, 5)
	s.runs.block = true
	ctx := context.Background()
	if err := s.jobs.Queue(ctx, kind, 4, strings.NewReader("rows"), 4, nil); err != nil {
		t.Fatal(err)
	}
	job := s.jobRows(t)[0]
	stopping, stop := context.WithTimeout(ctx, 200*time.Millisecond)
	defer stop()
	if err := s.jobs.Run(stopping, job.ID); err == nil {
		t.Fatal("an import cut by a shutdown returned no error to asynq")
	}
	if rows := s.jobRows(t); len(rows) != 1 || rows[0].BeatAt != nil || s.runs.restarts[4] != 1 {
		t.Fatalf("after the cut: %+v, restarts %d", rows, s.runs.restarts[4])
	}
	s.runs.block = false
	if err := s.jobs.Run(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := s.runs.state(4); st != "done" {
		t.Fatalf("the run after the cut: %s", st)
	}

	if err := s.jobs.Queue(ctx, kind, 5, strings.NewReader("rows"), 4, nil); err != nil {
		t.Fatal(err)
	}
	gone := s.jobRows(t)[0]
	s.store.Remove(ctx, gone.Key)
	if err := s.jobs.Run(ctx, gone.ID); err == nil {
		t.Fatal("a missing upload is no error for the task")
	}
	if st, msg, _ := s.runs.state(5); st != "failed" || msg != "nothing imported: the uploaded file is no longer in the upload store; import it again" {
		t.Fatalf("import of a missing upload: %s %q", st, msg)
	}
	// A task run again after its import finished changes nothing.
	if err := s.jobs.Run(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	// A store that refuses the upload fails the run and keeps no job.
	bad := &uploads.Jobs{DB: s.jobs.DB, Uploads: uploads.Dir{Root: "/dev/null/not-a-dir"}, Tasks: s.jobs.Tasks}
	r := newRuns(6)
	bad.Handle(kind, r)
	if err := bad.Queue(ctx, kind, 6, strings.NewReader("x"), 1, nil); err == nil {
		t.Fatal("a refused upload was queued")
	}
	if st, msg, _ := r.state(6); st != "failed" || !strings.Contains(msg, "could not be queued") {
		t.Fatalf("a refused upload: %s %q", st, msg)
	}
	if rows := s.jobRows(t); len(rows) != 0 {
		t.Fatalf("jobs left: %+v", rows)
	}
}

// More waiting uploads than one page of Recover's query: every one is
// queued again after a loss, none left for the next round.
func TestRecoverLostReadsEveryPage(t *testing.T) {
	const n = 501
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	s := newSetup(t, ids...)
	ctx := context.Background()
	for _, id := range ids {
		if err := s.jobs.Queue(ctx, kind, id, strings.NewReader("x"), 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.conn.Redis.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.jobs.RecoverLost(ctx); err != nil || got != n {
		t.Fatalf("RecoverLost: %d of %d queued again, %v", got, n, err)
	}
}
