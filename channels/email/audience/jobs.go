package audience

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

// TypeImport imports an uploaded contact file on a worker.
const TypeImport = "contacts:import"

// Enqueuer delivers tasks; an existing TaskID is not an error.
type Enqueuer interface {
	Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (created bool, err error)
}

// ImportJobs runs the imports of uploaded contact files (UI and API) as
// tasks: the web node puts the file in the shared upload store and queues
// the task; a worker reads it from there. Progress and outcome stay in
// contact_imports, so any node shows them; a web node started with
// --no-worker never imports.
type ImportJobs struct {
	Service *Service
	Uploads uploads.Store
	Tasks   Enqueuer
}

type importPayload struct {
	ImportID      uint64 `json:"import_id"`
	Key           string `json:"key"`
	Format        string `json:"format"`
	Partial       bool   `json:"partial"`
	ListID        uint64 `json:"list_id"`
	DefaultStatus string `json:"default_status"`
}

// Queue stores the uploaded file r under a new key and queues the import
// of run (StartImport). When either fails the import is marked failed with
// the reason.
func (j *ImportJobs) Queue(ctx context.Context, run *ImportRun, r io.Reader, size int64, opt ImportOptions) error {
	key := uploads.NewKey("contacts", time.Now())
	err := j.Uploads.Put(ctx, key, r, size)
	if err == nil {
		b, _ := json.Marshal(importPayload{ImportID: run.ID, Key: key, Format: opt.Format, Partial: opt.Partial, ListID: opt.ListID, DefaultStatus: opt.DefaultStatus})
		_, err = j.Tasks.Enqueue(ctx, asynq.NewTask(TypeImport, b), asynq.TaskID(fmt.Sprintf("contacts-import:%d", run.ID)), asynq.Queue("default"),
			asynq.MaxRetry(3), asynq.Timeout(2*time.Hour), asynq.Retention(time.Hour))
		if err != nil {
			j.Uploads.Remove(context.WithoutCancel(ctx), key)
		}
	}
	if err != nil {
		j.Service.finishImport(context.WithoutCancel(ctx), run.ID, "nothing imported: the file could not be queued for import: "+err.Error())
		return fmt.Errorf("audience: queue the import: %w", err)
	}
	return nil
}

// Register installs the import handler.
func (j *ImportJobs) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeImport, func(ctx context.Context, t *asynq.Task) error {
		var p importPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ImportID == 0 || p.Key == "" {
			return fmt.Errorf("audience: bad import payload %q: %w", t.Payload(), asynq.SkipRetry)
		}
		return j.run(ctx, p)
	})
}

func (j *ImportJobs) run(ctx context.Context, p importPayload) error {
	done := func() { j.Uploads.Remove(context.WithoutCancel(ctx), p.Key) }
	run, err := j.Service.GetImport(ctx, p.ImportID)
	if errors.Is(err, ErrNotFound) {
		done()
		return nil
	}
	if err != nil {
		return err
	}
	if run.Status != "running" { // a task run again after it finished
		done()
		return nil
	}
	r, err := j.Uploads.Open(ctx, p.Key)
	if errors.Is(err, uploads.ErrNotFound) {
		j.Service.finishImport(ctx, run.ID, "nothing imported: the uploaded file is no longer in the upload store; import it again")
		return fmt.Errorf("audience: import %d: %w: %w", run.ID, err, asynq.SkipRetry)
	}
	if err != nil {
		if queue.LastAttempt(ctx) {
			j.Service.finishImport(context.WithoutCancel(ctx), run.ID, "nothing imported: the uploaded file could not be read: "+err.Error())
			done()
		}
		return err // retried
	}
	defer r.Close()
	opt := ImportOptions{Format: p.Format, Partial: p.Partial, ListID: p.ListID, DefaultStatus: p.DefaultStatus}
	res, err := j.Service.RunImport(ctx, run, r, opt)
	if ctx.Err() != nil && (res == nil || !res.Committed) {
		// The worker is stopping: the import's transaction was rolled
		// back, and the task goes back to the queue to start over.
		j.Service.requeueImport(context.WithoutCancel(ctx), run.ID)
		return ctx.Err()
	}
	done()
	if err != nil {
		slog.Info("audience: contact import finished with errors", "import", run.ID, "err", err)
	}
	return nil // the outcome is the import's, not the task's
}

// finishImport marks a running import failed with msg.
func (s *Service) finishImport(ctx context.Context, id uint64, msg string) {
	s.DB.WithContext(ctx).Model(&ImportRun{}).Where("id = ? AND status = ?", id, "running").
		Updates(map[string]any{"status": "failed", "message": msg, "finished_at": s.now()})
}

// requeueImport puts an import cut by a shutdown back to running, its
// report emptied, for the task that starts it over.
func (s *Service) requeueImport(ctx context.Context, id uint64) {
	s.DB.WithContext(ctx).Where("import_id = ?", id).Delete(&ImportProblem{})
	s.DB.WithContext(ctx).Model(&ImportRun{}).Where("id = ? AND status <> ?", id, "done").Updates(map[string]any{"status": "running", "message": "interrupted by a worker's shutdown; queued again",
		"finished_at": nil, "bytes_read": 0, "rows_read": 0, "rows_imported": 0, "rows_invalid": 0, "rows_suppressed": 0})
}
