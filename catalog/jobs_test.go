package catalog

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/objstore"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
	"github.com/rampe/rampe/platform/uploads"
)

func waitImportDone(t *testing.T, s *Store, id uint64) *Import {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		imp, err := s.GetImport(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if imp.Status != "running" {
			return imp
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("import still running after 30 s")
	return nil
}

// TestImportJobsThroughTheBucket: an upload is put in a bucket of the test
// S3 server and imported by a real asynq worker (Redis of
// RAMPE_TEST_REDIS_URL, or in-process), which removes it and calls Imported;
// an import whose file is gone from the store fails saying so.
func TestImportJobsThroughTheBucket(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	b, err := objstore.Open(ctx, testenv.S3(t))
	if err != nil {
		t.Fatal(err)
	}
	conn := testenv.Redis(t)
	var imported atomic.Int32
	jobs := &uploads.Jobs{DB: s.DB, Uploads: uploads.Bucket{B: b}, Tasks: queue.NewClient(conn)}
	j := NewImportJobs(s, jobs, func(context.Context) { imported.Add(1) })
	startWorker(t, conn, jobs)

	imp, err := s.StartImport(ctx, "goods.csv", "csv", int64(len(goodCSV)), false, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Queue(ctx, imp, strings.NewReader(goodCSV), int64(len(goodCSV)), Options{Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	done := waitImportDone(t, s, imp.ID)
	// Imported is called once the import is recorded done.
	for deadline := time.Now().Add(10 * time.Second); imported.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if done.Status != "done" || done.RowsImported != 2 || imported.Load() != 1 {
		t.Fatalf("import: %+v, Imported called %d times", done, imported.Load())
	}
	// The file goes once the import returned to the runner, just after
	// Imported was called.
	keys, _ := b.Keys(ctx, "uploads/")
	for deadline := time.Now().Add(10 * time.Second); len(keys) != 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		keys, _ = b.Keys(ctx, "uploads/")
	}
	if len(keys) != 0 {
		t.Fatalf("uploads left in the bucket: %v", keys)
	}

	// A file gone from the store fails the import naming the reason
	// (read back in French too).
	gone, _ := s.StartImport(ctx, "gone.csv", "csv", 10, false, "test")
	jobs.Tasks = queue.NewClient(testenv.Redis(t)) // no worker here: the task waits
	if err := j.Queue(ctx, gone, strings.NewReader(goodCSV), -1, Options{Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	job := jobOf(t, s, gone.ID)
	jobs.Uploads.Remove(ctx, job.Key)
	if err := jobs.Run(ctx, job.ID); err == nil {
		t.Fatal("a missing upload is no error for the task")
	}
	got, _ := s.GetImport(ctx, gone.ID)
	if fr := i18n.Text(i18n.FR, got.Say()); got.Status != "failed" || !strings.Contains(got.Message, "no longer in the upload store") || !strings.Contains(fr, "n'est plus dans le stockage") {
		t.Fatalf("import of a missing upload: %+v (fr: %q)", got, fr)
	}
	// A store that refuses the upload marks the import failed.
	bad := NewImportJobs(s, &uploads.Jobs{DB: s.DB, Uploads: uploads.Dir{Root: "/dev/null/not-a-dir"}, Tasks: queue.NewClient(conn)}, nil)
	refused, _ := s.StartImport(ctx, "refused.csv", "csv", 10, false, "test")
	if err := bad.Queue(ctx, refused, strings.NewReader(goodCSV), -1, Options{}); err == nil {
		t.Fatal("a refused upload was queued")
	}
	if got, _ := s.GetImport(ctx, refused.ID); got.Status != "failed" || !strings.Contains(got.Message, "could not be queued") {
		t.Fatalf("import of a refused upload: %+v", got)
	}
}

// startWorker runs a real asynq worker with the upload handlers of jobs
// until the test ends.
func startWorker(t *testing.T, conn *queue.Conn, jobs *uploads.Jobs) {
	t.Helper()
	srv := queue.NewServer(conn, queue.ServerConfig{Concurrency: 2, PollInterval: 50 * time.Millisecond, ShutdownTimeout: 2 * time.Second})
	mux := queue.NewMux()
	jobs.Register(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

// jobOf is the upload job of catalog import id.
func jobOf(t *testing.T, s *Store, id uint64) uploads.Job {
	t.Helper()
	var job uploads.Job
	if err := s.DB.Where("kind = ? AND run_id = ?", TypeImport, id).Take(&job).Error; err != nil {
		t.Fatal(err)
	}
	return job
}

// TestImportQueuedAgainAfterRedisLostIt: Redis is flushed after the upload
// was queued; RecoverLost (what a worker runs when it notices the loss)
// queues it again and a worker imports it once.
func TestImportQueuedAgainAfterRedisLostIt(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	conn := testenv.Redis(t)
	jobs := &uploads.Jobs{DB: s.DB, Uploads: uploads.Dir{Root: t.TempDir()}, Tasks: queue.NewClient(conn)}
	j := NewImportJobs(s, jobs, nil)
	imp, _ := s.StartImport(ctx, "goods.csv", "csv", int64(len(goodCSV)), false, "test")
	if err := j.Queue(ctx, imp, strings.NewReader(goodCSV), int64(len(goodCSV)), Options{Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Redis.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := jobs.RecoverLost(ctx); err != nil || n != 1 {
		t.Fatalf("RecoverLost: %d, %v", n, err)
	}
	startWorker(t, conn, jobs)
	if done := waitImportDone(t, s, imp.ID); done.Status != "done" || done.RowsImported != 2 {
		t.Fatalf("the import queued again: %+v", done)
	}
}

// cancelOnRead is an upload store whose file stops the worker (cancels
// its context) as soon as the import reads it.
type cancelOnRead struct {
	uploads.Store
	cancel context.CancelFunc
}

func (c cancelOnRead) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := c.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{readFunc(func(p []byte) (int, error) { c.cancel(); return r.Read(p) }), r}, nil
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

// TestImportCutByAShutdownGoesBackToTheQueue: a worker stopping in the
// middle of an import leaves nothing imported, the import running again
// with an empty report, the file in the store and an error for asynq (which
// puts the task back in the queue); the next run imports it.
func TestImportCutByAShutdownGoesBackToTheQueue(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	store := uploads.Dir{Root: t.TempDir()}
	jobs := &uploads.Jobs{DB: s.DB, Uploads: cancelOnRead{Store: store, cancel: cancel}, Tasks: queue.NewClient(testenv.Redis(t))}
	j := NewImportJobs(s, jobs, nil)
	imp, _ := s.StartImport(context.Background(), "goods.csv", "csv", int64(len(goodCSV)), false, "test")
	if err := j.Queue(context.Background(), imp, strings.NewReader(goodCSV), -1, Options{Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	job := jobOf(t, s, imp.ID)
	if err := jobs.Run(ctx, job.ID); err == nil {
		t.Fatal("an import cut by a shutdown returned no error to asynq")
	}
	got, _ := s.GetImport(context.Background(), imp.ID)
	if n, _ := s.Count(context.Background()); got.Status != "running" || got.RowsImported != 0 || n != 0 || !strings.Contains(got.Message, "queued again") {
		t.Fatalf("after the cut: %+v, %d products", got, n)
	}
	jobs.Uploads = store
	if err := jobs.Run(context.Background(), job.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetImport(context.Background(), imp.ID); got.Status != "done" || got.RowsImported != 2 {
		t.Fatalf("the run after the cut: %+v", got)
	}
}

// stopping is a worker's context whose shutdown begins once *stopped is
// set: Err says canceled from then on, Done never fires.
type stopping struct {
	context.Context
	stopped *atomic.Bool
}

func (c stopping) Err() error {
	if c.stopped.Load() {
		return context.Canceled
	}
	return nil
}

// An import that committed is never queued again, even when the worker's
// shutdown began just after its commit: the file was imported once.
func TestImportCommittedAsTheWorkerStopsIsNotQueuedAgain(t *testing.T) {
	s := newStore(t)
	store := uploads.Dir{Root: t.TempDir()}
	jobs := &uploads.Jobs{DB: s.DB, Uploads: store, Tasks: queue.NewClient(testenv.Redis(t))}
	j := NewImportJobs(s, jobs, nil)
	imp, _ := s.StartImport(context.Background(), "goods.csv", "csv", int64(len(goodCSV)), false, "test")
	if err := j.Queue(context.Background(), imp, strings.NewReader(goodCSV), -1, Options{Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	job := jobOf(t, s, imp.ID)
	// The shutdown begins as the import is recorded done, after its commit.
	var stopped atomic.Bool
	s.DB.Callback().Update().After("gorm:update").Register("test:stop-after-done", func(db *gorm.DB) {
		if m, ok := db.Statement.Dest.(map[string]any); ok && db.Statement.Table == "imports" && m["status"] == "done" {
			stopped.Store(true)
		}
	})
	if err := jobs.Run(stopping{context.Background(), &stopped}, job.ID); err != nil || !stopped.Load() {
		t.Fatalf("a committed import answered %v (stopped: %v): asynq would run it again", err, stopped.Load())
	}
	got, _ := s.GetImport(context.Background(), imp.ID)
	if got.Status != "done" || got.RowsImported != 2 {
		t.Fatalf("after the late stop: %+v", got)
	}
	if _, err := store.Open(context.Background(), job.Key); err == nil {
		t.Fatal("the upload of a finished import was kept")
	}
}
