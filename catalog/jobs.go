package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/rampe/rampe/platform/uploads"
)

// TypeImport imports an uploaded catalog file on a worker.
const TypeImport = "catalog:import"

// ImportJobs runs the imports of uploaded catalog files on workers through
// the one path of uploads.Jobs: the web node that received the file stores
// it and queues the task; a worker imports it. Progress and outcome stay in
// the imports table, so any node shows them, and a web node started with
// --no-worker never imports.
type ImportJobs struct {
	Store *Store
	Jobs  *uploads.Jobs
	// Imported is called after an import that changed products (landing
	// pages re-rendered, feeds regenerated).
	Imported func(ctx context.Context)
}

// NewImportJobs declares the catalog's importer to jobs.
func NewImportJobs(s *Store, jobs *uploads.Jobs, imported func(context.Context)) *ImportJobs {
	j := &ImportJobs{Store: s, Jobs: jobs, Imported: imported}
	jobs.Handle(TypeImport, j)
	return j
}

type importPayload struct {
	Format      string `json:"format"`
	SkipInvalid bool   `json:"skip_invalid"`
	Currency    string `json:"currency"`
}

// Queue stores the uploaded file r and queues its import, recorded by
// StartImport. When either fails, the import is marked failed with the
// reason.
func (j *ImportJobs) Queue(ctx context.Context, imp *Import, r io.Reader, size int64, opt Options) error {
	b, _ := json.Marshal(importPayload{Format: opt.Format, SkipInvalid: opt.SkipInvalid, Currency: opt.DefaultCurrency})
	if err := j.Jobs.Queue(ctx, TypeImport, imp.ID, r, size, b); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	return nil
}

// Running implements uploads.Importer.
func (j *ImportJobs) Running(ctx context.Context, id uint64) (bool, error) {
	imp, err := j.Store.GetImport(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && imp.Status == "running", err
}

// Import implements uploads.Importer.
func (j *ImportJobs) Import(ctx context.Context, id uint64, r io.Reader, payload []byte) (bool, error) {
	var p importPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return false, fmt.Errorf("catalog: import %d: bad options %q: %w", id, payload, err)
	}
	imp, err := j.Store.GetImport(ctx, id)
	if err != nil {
		return false, err
	}
	res, err := j.Store.RunImport(ctx, imp, r, Options{Format: p.Format, SkipInvalid: p.SkipInvalid, DefaultCurrency: p.Currency})
	committed := res != nil && res.Committed
	if committed && j.Imported != nil {
		j.Imported(context.WithoutCancel(ctx))
	}
	return committed, err
}

// Fail implements uploads.Importer.
func (j *ImportJobs) Fail(ctx context.Context, id uint64, msg string) {
	j.Store.finishImport(ctx, id, msg)
}

// Restart implements uploads.Importer.
func (j *ImportJobs) Restart(ctx context.Context, id uint64) { j.Store.requeueImport(ctx, id) }

// finishImport marks a running import failed with msg.
func (s *Store) finishImport(ctx context.Context, id uint64, msg string) {
	s.DB.WithContext(ctx).Model(&Import{}).Where("id = ? AND status = ?", id, "running").
		Updates(map[string]any{"status": "failed", "message": msg, "finished_at": s.now()})
}

// requeueImport puts an import cut by a shutdown back to running, its
// report emptied, for the task that starts it over.
func (s *Store) requeueImport(ctx context.Context, id uint64) {
	s.DB.WithContext(ctx).Where("import_id = ?", id).Delete(&ImportError{})
	s.DB.WithContext(ctx).Model(&Import{}).Where("id = ? AND status <> ?", id, "done").Updates(map[string]any{"status": "running", "message": uploads.Restarted,
		"finished_at": nil, "bytes_read": 0, "rows_read": 0, "rows_imported": 0, "rows_invalid": 0})
}
