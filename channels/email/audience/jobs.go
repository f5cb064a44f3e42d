package audience

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/rampe/rampe/platform/uploads"
)

// TypeImport imports an uploaded contact file on a worker.
const TypeImport = "contacts:import"

// ImportJobs runs the imports of uploaded contact files (UI and API) on
// workers through the one path of uploads.Jobs: the web node stores the
// file and queues the task; a worker imports it. Progress and outcome stay
// in contact_imports, so any node shows them; a web node started with
// --no-worker never imports.
type ImportJobs struct {
	Service *Service
	Jobs    *uploads.Jobs
}

// NewImportJobs declares the audience's importer to jobs.
func NewImportJobs(s *Service, jobs *uploads.Jobs) *ImportJobs {
	j := &ImportJobs{Service: s, Jobs: jobs}
	jobs.Handle(TypeImport, j)
	return j
}

type importPayload struct {
	Format        string `json:"format"`
	Partial       bool   `json:"partial"`
	ListID        uint64 `json:"list_id"`
	DefaultStatus string `json:"default_status"`
}

// Queue stores the uploaded file r and queues the import of run
// (StartImport). When either fails the import is marked failed with the
// reason.
func (j *ImportJobs) Queue(ctx context.Context, run *ImportRun, r io.Reader, size int64, opt ImportOptions) error {
	b, _ := json.Marshal(importPayload{Format: opt.Format, Partial: opt.Partial, ListID: opt.ListID, DefaultStatus: opt.DefaultStatus})
	if err := j.Jobs.Queue(ctx, TypeImport, run.ID, r, size, b); err != nil {
		return fmt.Errorf("audience: %w", err)
	}
	return nil
}

// Running implements uploads.Importer.
func (j *ImportJobs) Running(ctx context.Context, id uint64) (bool, error) {
	run, err := j.Service.GetImport(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && run.Status == "running", err
}

// Import implements uploads.Importer.
func (j *ImportJobs) Import(ctx context.Context, id uint64, r io.Reader, payload []byte) (bool, error) {
	var p importPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return false, fmt.Errorf("audience: import %d: bad options %q: %w", id, payload, err)
	}
	run, err := j.Service.GetImport(ctx, id)
	if err != nil {
		return false, err
	}
	res, err := j.Service.RunImport(ctx, run, r, ImportOptions{Format: p.Format, Partial: p.Partial, ListID: p.ListID, DefaultStatus: p.DefaultStatus})
	return res != nil && res.Committed, err
}

// Fail implements uploads.Importer.
func (j *ImportJobs) Fail(ctx context.Context, id uint64, msg string) {
	j.Service.finishImport(ctx, id, msg)
}

// Restart implements uploads.Importer.
func (j *ImportJobs) Restart(ctx context.Context, id uint64) { j.Service.requeueImport(ctx, id) }

// finishImport marks a running import failed with msg.
func (s *Service) finishImport(ctx context.Context, id uint64, msg string) {
	s.DB.WithContext(ctx).Model(&ImportRun{}).Where("id = ? AND status = ?", id, "running").
		Updates(map[string]any{"status": "failed", "message": msg, "finished_at": s.now()})
}

// requeueImport puts an import cut by a shutdown back to running, its
// report emptied, for the task that starts it over.
func (s *Service) requeueImport(ctx context.Context, id uint64) {
	s.DB.WithContext(ctx).Where("import_id = ?", id).Delete(&ImportProblem{})
	s.DB.WithContext(ctx).Model(&ImportRun{}).Where("id = ? AND status <> ?", id, "done").Updates(map[string]any{"status": "running", "message": uploads.Restarted,
		"finished_at": nil, "bytes_read": 0, "rows_read": 0, "rows_imported": 0, "rows_invalid": 0, "rows_suppressed": 0})
}
