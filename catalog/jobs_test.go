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
	j := &ImportJobs{Store: s, Uploads: uploads.Bucket{B: b}, Tasks: queue.NewClient(conn), Imported: func(context.Context) { imported.Add(1) }}
	srv := queue.NewServer(conn, queue.ServerConfig{Concurrency: 2, PollInterval: 50 * time.Millisecond, ShutdownTimeout: 2 * time.Second})
	mux := queue.NewMux()
	j.Register(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

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
	if keys, _ := b.Keys(ctx, "uploads/"); len(keys) != 0 {
		t.Fatalf("uploads left in the bucket: %v", keys)
	}

	// A task whose file is gone: the import fails naming the reason.
	gone, _ := s.StartImport(ctx, "gone.csv", "csv", 10, false, "test")
	if err := j.run(ctx, importPayload{ImportID: gone.ID, Key: "catalog/never-uploaded"}); err == nil {
		t.Fatal("a missing upload is no error for the task")
	}
	if got, _ := s.GetImport(ctx, gone.ID); got.Status != "failed" || !strings.Contains(got.Message, "no longer in the upload store") {
		t.Fatalf("import of a missing upload: %+v", got)
	}
	// A task run again after its import finished changes nothing.
	if err := j.run(ctx, importPayload{ImportID: imp.ID, Key: "catalog/whatever"}); err != nil || imported.Load() != 1 {
		t.Fatalf("a finished import run again: %v, Imported %d", err, imported.Load())
	}
	// A store that refuses the upload marks the import failed.
	bad := &ImportJobs{Store: s, Uploads: uploads.Dir{Root: "/dev/null/not-a-dir"}, Tasks: queue.NewClient(conn)}
	refused, _ := s.StartImport(ctx, "refused.csv", "csv", 10, false, "test")
	if err := bad.Queue(ctx, refused, strings.NewReader(goodCSV), -1, Options{}); err == nil {
		t.Fatal("a refused upload was queued")
	}
	if got, _ := s.GetImport(ctx, refused.ID); got.Status != "failed" || !strings.Contains(got.Message, "could not be queued") {
		t.Fatalf("import of a refused upload: %+v", got)
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
	j := &ImportJobs{Store: s, Uploads: cancelOnRead{Store: store, cancel: cancel}, Tasks: queue.NewClient(testenv.Redis(t))}
	imp, _ := s.StartImport(context.Background(), "goods.csv", "csv", int64(len(goodCSV)), false, "test")
	key := "catalog/cut"
	if err := store.Put(context.Background(), key, strings.NewReader(goodCSV), -1); err != nil {
		t.Fatal(err)
	}
	p := importPayload{ImportID: imp.ID, Key: key, Format: "csv"}
	if err := j.run(ctx, p); err == nil {
		t.Fatal("an import cut by a shutdown returned no error to asynq")
	}
	got, _ := s.GetImport(context.Background(), imp.ID)
	if n, _ := s.Count(context.Background()); got.Status != "running" || got.RowsImported != 0 || n != 0 || !strings.Contains(got.Message, "queued again") {
		t.Fatalf("after the cut: %+v, %d products", got, n)
	}
	j.Uploads = store
	if err := j.run(context.Background(), p); err != nil {
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
	j := &ImportJobs{Store: s, Uploads: store, Tasks: queue.NewClient(testenv.Redis(t))}
	imp, _ := s.StartImport(context.Background(), "goods.csv", "csv", int64(len(goodCSV)), false, "test")
	key := "catalog/late-stop"
	if err := store.Put(context.Background(), key, strings.NewReader(goodCSV), -1); err != nil {
		t.Fatal(err)
	}
	// The shutdown begins as the import is recorded done, after its commit.
	var stopped atomic.Bool
	s.DB.Callback().Update().After("gorm:update").Register("test:stop-after-done", func(db *gorm.DB) {
		if m, ok := db.Statement.Dest.(map[string]any); ok && db.Statement.Table == "imports" && m["status"] == "done" {
			stopped.Store(true)
		}
	})
	if err := j.run(stopping{context.Background(), &stopped}, importPayload{ImportID: imp.ID, Key: key, Format: "csv"}); err != nil || !stopped.Load() {
		t.Fatalf("a committed import answered %v (stopped: %v): asynq would run it again", err, stopped.Load())
	}
	got, _ := s.GetImport(context.Background(), imp.ID)
	if got.Status != "done" || got.RowsImported != 2 {
		t.Fatalf("after the late stop: %+v", got)
	}
	if _, err := store.Open(context.Background(), key); err == nil {
		t.Fatal("the upload of a finished import was kept")
	}
}
