package audience

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/rowfile"
)

// ImportRun is the record of one import, for its progress and history.
type ImportRun struct {
	ID             uint64 `gorm:"primaryKey"`
	Filename       string
	Format         string
	Status         string // running, done, failed
	Partial        bool
	ListID         uint64
	BytesTotal     int64
	BytesRead      int64
	RowsRead       int64
	RowsImported   int64
	RowsInvalid    int64
	RowsSuppressed int64
	Message        string
	CreatedBy      string
	CreatedAt      time.Time
	FinishedAt     *time.Time
}

// TableName of import runs.
func (ImportRun) TableName() string { return "contact_imports" }

// Percent is the share of the file read.
func (i *ImportRun) Percent() int {
	if i.Status != "running" {
		return 100
	}
	if i.BytesTotal <= 0 {
		return 0
	}
	return int(min(i.BytesRead*100/i.BytesTotal, 100))
}

// ImportProblem is a stored line of an import's report.
type ImportProblem struct {
	ID       uint64 `gorm:"primaryKey"`
	ImportID uint64
	Line     int64
	Col      string
	Value    string
	Message  string
}

// TableName of import problems.
func (ImportProblem) TableName() string { return "contact_import_errors" }

// StartImport records a new import.
func (s *Service) StartImport(ctx context.Context, filename, format string, size int64, opt ImportOptions, by string) (*ImportRun, error) {
	run := &ImportRun{Filename: truncate(filename, 255), Format: format, Status: "running", Partial: opt.Partial, ListID: opt.ListID,
		BytesTotal: size, CreatedBy: by, CreatedAt: s.now()}
	return run, s.DB.WithContext(ctx).Create(run).Error
}

// RunImport runs an import recorded by StartImport, keeping its progress
// and outcome in the database so that any web node shows it.
func (s *Service) RunImport(ctx context.Context, run *ImportRun, r io.Reader, opt ImportOptions) (*ImportResult, error) {
	last := time.Now()
	user := opt.Progress
	opt.Progress = func(p Progress) {
		if user != nil {
			user(p)
		}
		if time.Since(last) < 300*time.Millisecond {
			return
		}
		last = time.Now()
		s.DB.WithContext(ctx).Model(&ImportRun{}).Where("id = ?", run.ID).Updates(map[string]any{"bytes_read": p.BytesRead, "rows_read": p.Rows, "rows_invalid": p.Invalid})
	}
	opt.Note = fmt.Sprintf("import #%d (%s) by %s", run.ID, run.Filename, run.CreatedBy)
	res, err := s.Import(ctx, r, opt)
	up := map[string]any{"finished_at": s.now(), "rows_read": res.Rows, "rows_imported": res.Imported, "rows_invalid": res.Invalid,
		"rows_suppressed": res.Suppressed, "bytes_read": run.BytesTotal}
	switch {
	case err == nil:
		msg := fmt.Sprintf("%d contacts imported or updated", res.Imported)
		if res.Invalid > 0 {
			msg += fmt.Sprintf("; %d invalid rows skipped (see the report)", res.Invalid)
		}
		if res.Suppressed > 0 {
			msg += fmt.Sprintf("; %d suppressed addresses kept suppressed (see the report)", res.Suppressed)
		}
		up["status"], up["message"] = "done", msg
	case errors.Is(err, ErrInvalidRows):
		up["status"], up["message"] = "failed", fmt.Sprintf("nothing imported: %d invalid rows out of %d (see the report); fix them or import with “partial”", res.Invalid, res.Rows)
	default:
		up["status"], up["message"] = "failed", "nothing imported: "+err.Error()
	}
	// The report is written before the status leaves "running", so a page
	// that sees the outcome sees every problem.
	if len(res.Errors) > 0 {
		rows := make([]ImportProblem, len(res.Errors))
		for i, e := range res.Errors {
			rows[i] = ImportProblem{ImportID: run.ID, Line: e.Line, Col: truncate(e.Column, 100), Value: truncate(e.Value, 500), Message: e.Msg}
		}
		if err := s.DB.WithContext(context.WithoutCancel(ctx)).CreateInBatches(rows, db.InsertBatch).Error; err != nil {
			slog.Error("audience: store import report", "import", run.ID, "err", err)
		}
	}
	s.DB.WithContext(context.WithoutCancel(ctx)).Model(&ImportRun{}).Where("id = ?", run.ID).Updates(up)
	return res, err
}

// GetImport loads an import record.
func (s *Service) GetImport(ctx context.Context, id uint64) (*ImportRun, error) {
	return db.Take[ImportRun](s.DB.WithContext(ctx), ErrNotFound, id)
}

// Imports lists recent imports, newest first.
func (s *Service) Imports(ctx context.Context, limit int) ([]ImportRun, error) {
	var out []ImportRun
	return out, s.DB.WithContext(ctx).Order("id DESC").Limit(limit).Find(&out).Error
}

// ImportProblems lists the stored report of an import, by line.
func (s *Service) ImportProblems(ctx context.Context, id uint64, limit int) ([]ImportProblem, error) {
	var out []ImportProblem
	return out, s.DB.WithContext(ctx).Where("import_id = ?", id).Order("line, id").Limit(limit).Find(&out).Error
}

// WriteReport writes problems as CSV (line, column, value, message), safe
// to open in a spreadsheet.
func WriteReport(w io.Writer, errs []RowError) error { return rowfile.WriteReport(w, errs) }

// ReportRows converts stored problems back to row errors.
func ReportRows(stored []ImportProblem) []RowError {
	out := make([]RowError, len(stored))
	for i, e := range stored {
		out[i] = RowError{Line: e.Line, Column: e.Col, Value: e.Value, Msg: e.Message}
	}
	return out
}

// SweepInterrupted marks as failed the imports still running after
// olderThan: the process running them stopped, and nothing was imported.
func (s *Service) SweepInterrupted(ctx context.Context, olderThan time.Duration) (int64, error) {
	res := s.DB.WithContext(ctx).Model(&ImportRun{}).Where("status = ? AND created_at < ?", "running", s.now().Add(-olderThan)).
		Updates(map[string]any{"status": "failed", "message": "interrupted: the process running the import stopped; nothing was imported, import the file again"})
	return res.RowsAffected, res.Error
}
