package catalog

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/objstore"
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
