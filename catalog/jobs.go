package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/uploads"
)

// TypeImport imports an uploaded catalog file on a worker.
const TypeImport = "catalog:import"

// Enqueuer delivers tasks; an existing TaskID is not an error.
type Enqueuer interface {
	Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (created bool, err error)
}

// ImportJobs runs the imports of uploaded files as tasks: the web node that
// received the file puts it in the shared upload store and queues the
// task; a worker reads it from there. Progress and outcome stay in the
// imports table, so any node shows them, and a web node started with
// --no-worker never imports.
type ImportJobs struct {
	Store   *Store
	Uploads uploads.Store
	Tasks   Enqueuer
	// Imported is called after an import that changed products (landing
	// pages re-rendered, feeds regenerated).
	Imported func(ctx context.Context)
}

type importPayload struct {
	ImportID    uint64 `json:"import_id"`
	Key         string `json:"key"`
	Format      string `json:"format"`
	SkipInvalid bool   `json:"skip_invalid"`
	Currency    string `json:"currency"`
}

// Queue stores the uploaded file r under a new key and queues its import,
// recorded by StartImport. When either fails, the import is marked failed
// with the reason and the stored file removed.
func (j *ImportJobs) Queue(ctx context.Context, imp *Import, r io.Reader, size int64, opt Options) error {
	key := uploads.NewKey("catalog", time.Now())
	err := j.Uploads.Put(ctx, key, r, size)
	if err == nil {
		b, _ := json.Marshal(importPayload{ImportID: imp.ID, Key: key, Format: opt.Format, SkipInvalid: opt.SkipInvalid, Currency: opt.DefaultCurrency})
		_, err = j.Tasks.Enqueue(ctx, asynq.NewTask(TypeImport, b), asynq.TaskID(fmt.Sprintf("catalog-import:%d", imp.ID)), asynq.Queue("default"),
			asynq.MaxRetry(3), asynq.Timeout(2*time.Hour), asynq.Retention(time.Hour))
		if err != nil {
			j.Uploads.Remove(context.WithoutCancel(ctx), key)
		}
	}
	if err != nil {
		j.Store.finishImport(context.WithoutCancel(ctx), imp.ID, "nothing imported: the file could not be queued for import: "+err.Error())
		return fmt.Errorf("catalog: queue the import: %w", err)
	}
	return nil
}

// Register installs the import handler.
func (j *ImportJobs) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeImport, func(ctx context.Context, t *asynq.Task) error {
		var p importPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ImportID == 0 || p.Key == "" {
			return fmt.Errorf("catalog: bad import payload %q: %w", t.Payload(), asynq.SkipRetry)
		}
		return j.run(ctx, p)
	})
}

func (j *ImportJobs) run(ctx context.Context, p importPayload) error {
	done := func() { j.Uploads.Remove(context.WithoutCancel(ctx), p.Key) }
	imp, err := j.Store.GetImport(ctx, p.ImportID)
	if errors.Is(err, ErrNotFound) {
		done()
		return nil
	}
	if err != nil {
		return err
	}
	if imp.Status != "running" { // a task run again after it finished
		done()
		return nil
	}
	r, err := j.Uploads.Open(ctx, p.Key)
	if errors.Is(err, uploads.ErrNotFound) {
		j.Store.finishImport(ctx, imp.ID, "nothing imported: the uploaded file is no longer in the upload store; import it again")
		return fmt.Errorf("catalog: import %d: %w: %w", imp.ID, err, asynq.SkipRetry)
	}
	if err != nil {
		if queue.LastAttempt(ctx) {
			j.Store.finishImport(context.WithoutCancel(ctx), imp.ID, "nothing imported: the uploaded file could not be read: "+err.Error())
			done()
		}
		return err // retried
	}
	defer r.Close()
	res, err := j.Store.RunImport(ctx, imp, r, Options{Format: p.Format, SkipInvalid: p.SkipInvalid, DefaultCurrency: p.Currency})
	if ctx.Err() != nil && (res == nil || !res.Committed) {
		// The worker is stopping: the transaction was rolled back, and the
		// task goes back to the queue to start over.
		j.Store.requeueImport(context.WithoutCancel(ctx), imp.ID)
		return ctx.Err()
	}
	done()
	if err != nil {
		slog.Info("catalog: import finished with errors", "import", imp.ID, "err", err)
		return nil // the outcome is the import's, not the task's
	}
	if j.Imported != nil {
		j.Imported(ctx)
	}
	return nil
}

// finishImport marks a running import failed with msg.
func (s *Store) finishImport(ctx context.Context, id uint64, msg string) {
	s.DB.WithContext(ctx).Model(&Import{}).Where("id = ? AND status = ?", id, "running").
		Updates(map[string]any{"status": "failed", "message": msg, "finished_at": time.Now().UTC()})
}

// requeueImport puts an import cut by a shutdown back to running, its
// report emptied, for the task that starts it over.
func (s *Store) requeueImport(ctx context.Context, id uint64) {
	s.DB.WithContext(ctx).Where("import_id = ?", id).Delete(&ImportError{})
	s.DB.WithContext(ctx).Model(&Import{}).Where("id = ? AND status <> ?", id, "done").Updates(map[string]any{"status": "running", "message": "interrupted by a worker's shutdown; queued again",
		"finished_at": nil, "bytes_read": 0, "rows_read": 0, "rows_imported": 0, "rows_invalid": 0})
}
