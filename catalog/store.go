package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/rowfile"
)

// Store is the catalog repository.
type Store struct {
	DB *gorm.DB
	// Clock stamps the products an import writes (updated_at, which tells
	// feeds the catalog changed) and the imports; the wall clock when nil.
	Clock clock.Clock

	countMu sync.Mutex
	count   *cachedCount
}

func (s *Store) now() time.Time { return clock.Or(s.Clock).Now() }

// ErrNotFound is returned for an unknown product or import.
var ErrNotFound = errors.New("catalog: not found")

// Query narrows the product list. Paging is by keyset (After = last id of
// the previous page), which stays fast at any depth of a million rows.
type Query struct {
	Search       string // a SKU or GTIN whole, the beginning of SKUs, or a part of the titles (see Match)
	Brand        string
	ProductType  string
	Availability string
	After        uint64
	Limit        int
}

// Count returns the number of products. Counting a million rows costs
// tens of milliseconds on every products page; the answer is kept while
// the newest id and the newest updated_at (both read from an index) stay
// the same: products are only ever inserted or updated, never deleted.
func (s *Store) Count(ctx context.Context) (int64, error) {
	key, err := s.Version(ctx)
	if err != nil {
		return 0, fmt.Errorf("catalog: count: %w", err)
	}
	s.countMu.Lock()
	c := s.count
	s.countMu.Unlock()
	if c != nil && c.key == key {
		return c.n, nil
	}
	var n int64
	if err := s.DB.WithContext(ctx).Model(&Product{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("catalog: count: %w", err)
	}
	s.countMu.Lock()
	s.count = &cachedCount{key: key, n: n}
	s.countMu.Unlock()
	return n, nil
}

type cachedCount struct {
	key Version
	n   int64
}

// BySKUs loads products by SKU, at most 1000.
func (s *Store) BySKUs(ctx context.Context, skus []string) ([]Product, error) {
	if len(skus) > 1000 {
		skus = skus[:1000]
	}
	var out []Product
	return out, s.DB.WithContext(ctx).Where("sku IN ?", skus).Order("sku").Find(&out).Error
}

// BySKU loads one product.
func (s *Store) BySKU(ctx context.Context, sku string) (*Product, error) {
	return db.Take[Product](s.DB.WithContext(ctx).Where("sku = ?", sku), ErrNotFound)
}

// Facets lists the first limit distinct brands or product types in
// order, for filters. They are read by skipping from one value to the next
// through the column's index (a loose index scan: a query per value), not
// by a DISTINCT over every product (190 ms at a million).
func (s *Store) Facets(ctx context.Context, column string, limit int) ([]string, error) {
	if column != "brand" && column != "product_type" {
		return nil, fmt.Errorf("catalog: no facet %q", column)
	}
	q := fmt.Sprintf(`WITH RECURSIVE f(v, n) AS (
  SELECT (SELECT MIN(%[1]s) FROM products WHERE %[1]s > ''), 1
  UNION ALL
  SELECT (SELECT MIN(%[1]s) FROM products WHERE %[1]s > f.v), n + 1 FROM f WHERE f.v IS NOT NULL AND n < ?
) SELECT v FROM f WHERE v IS NOT NULL`, column)
	var out []string
	if err := s.DB.WithContext(ctx).Raw(q, limit).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("catalog: facets of %s: %w", column, err)
	}
	return out, nil
}

// Import is the record of one import, for progress and history.
type Import struct {
	ID           uint64 `gorm:"primaryKey"`
	Filename     string
	Format       string
	Status       string // running, done, failed
	SkipInvalid  bool
	BytesTotal   int64
	BytesRead    int64
	RowsRead     int64
	RowsImported int64
	RowsInvalid  int64
	Message      string
	FeedGaps     FeedGapReport // what the imported products lack for the comparator feeds
	CreatedBy    string
	CreatedAt    time.Time
	FinishedAt   *time.Time
}

// Percent is the share of the file read.
func (i *Import) Percent() int {
	if i.Status != "running" {
		return 100
	}
	if i.BytesTotal <= 0 {
		return 0
	}
	return int(i.BytesRead * 100 / i.BytesTotal)
}

// ImportError is a stored problem of an import.
type ImportError struct {
	ID       uint64 `gorm:"primaryKey"`
	ImportID uint64
	Line     int64
	Col      string
	Value    string
	Message  string
}

// StartImport records a new import.
func (s *Store) StartImport(ctx context.Context, filename, format string, size int64, skip bool, by string) (*Import, error) {
	imp := &Import{Filename: filename, Format: format, Status: "running", SkipInvalid: skip, BytesTotal: size, CreatedBy: by, CreatedAt: s.now()}
	return imp, s.DB.WithContext(ctx).Create(imp).Error
}

// RunImport runs an import recorded by StartImport, keeping its progress and
// outcome in the database so any web node can show it.
func (s *Store) RunImport(ctx context.Context, imp *Import, r io.Reader, opt Options) (*Result, error) {
	last := time.Now() // progress is written at most every 300 ms of real time
	opt.Progress = func(p Progress) {
		if time.Since(last) < 300*time.Millisecond {
			return
		}
		last = time.Now()
		s.DB.WithContext(ctx).Model(&Import{}).Where("id = ?", imp.ID).Updates(map[string]any{"bytes_read": p.BytesRead, "rows_read": p.Rows, "rows_invalid": p.Invalid})
	}
	res, err := s.Import(ctx, r, opt)
	now := s.now()
	up := map[string]any{"finished_at": now, "rows_read": res.Rows, "rows_imported": res.Imported, "rows_invalid": res.Invalid, "bytes_read": imp.BytesTotal}
	switch {
	case err == nil:
		up["status"] = "done"
		msg := fmt.Sprintf("%d products imported or updated", res.Imported)
		if res.Invalid > 0 {
			msg += fmt.Sprintf("; %d invalid rows skipped (see the report)", res.Invalid)
		}
		if len(res.Ignored) > 0 {
			msg += "; ignored columns: " + strings.Join(res.Ignored, ", ")
		}
		up["message"] = msg
		up["feed_gaps"] = res.FeedGaps
	case errors.Is(err, ErrInvalidRows):
		up["status"], up["message"] = "failed", fmt.Sprintf("nothing imported: %d invalid rows out of %d (see the report); fix them or import with “skip invalid rows”", res.Invalid, res.Rows)
	default:
		up["status"], up["message"] = "failed", "nothing imported: "+err.Error()
	}
	// The report is written before the status leaves "running", so a page
	// that sees the outcome also sees every problem.
	if len(res.Errors) > 0 {
		rows := make([]ImportError, len(res.Errors))
		for i, e := range res.Errors {
			rows[i] = ImportError{ImportID: imp.ID, Line: e.Line, Col: e.Column, Value: truncate(e.Value, 500), Message: e.Msg}
		}
		if err := s.DB.WithContext(context.WithoutCancel(ctx)).CreateInBatches(rows, db.InsertBatch).Error; err != nil {
			slog.Error("catalog: store import report", "import", imp.ID, "err", err)
		}
	}
	s.DB.WithContext(context.WithoutCancel(ctx)).Model(&Import{}).Where("id = ?", imp.ID).Updates(up)
	return res, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// GetImport loads an import record.
func (s *Store) GetImport(ctx context.Context, id uint64) (*Import, error) {
	return db.Take[Import](s.DB.WithContext(ctx), ErrNotFound, id)
}

// Imports lists recent imports.
func (s *Store) Imports(ctx context.Context, limit int) ([]Import, error) {
	var out []Import
	return out, s.DB.WithContext(ctx).Order("id DESC").Limit(limit).Find(&out).Error
}

// ImportErrors lists the stored problems of an import, by line.
func (s *Store) ImportErrors(ctx context.Context, id uint64, limit int) ([]ImportError, error) {
	var out []ImportError
	return out, s.DB.WithContext(ctx).Where("import_id = ?", id).Order("line, id").Limit(limit).Find(&out).Error
}

// WriteReport writes the problems of an import as CSV (line, column, value, message).
func WriteReport(w io.Writer, errs []RowError) error { return rowfile.WriteReport(w, errs) }

// ReportRows converts stored problems back to row errors.
func ReportRows(stored []ImportError) []RowError {
	out := make([]RowError, len(stored))
	for i, e := range stored {
		out[i] = RowError{Line: e.Line, Column: e.Col, Value: e.Value, Msg: e.Message}
	}
	return out
}

// SweepInterrupted marks as failed the imports still "running" after
// olderThan (6 h at start, three times an import task's timeout): no
// worker finished them, even through uploads.Jobs' restarts, and nothing
// was imported.
func (s *Store) SweepInterrupted(ctx context.Context, olderThan time.Duration) (int64, error) {
	res := s.DB.WithContext(ctx).Model(&Import{}).Where("status = ? AND created_at < ?", "running", s.now().Add(-olderThan)).
		Updates(map[string]any{"status": "failed", "message": "interrupted: the process running the import stopped; nothing was imported, import the file again"})
	return res.RowsAffected, res.Error
}

// Version identifies the catalog's content: the newest product id and the
// newest updated_at (products are inserted or updated, never deleted), read
// from their indexes. Whatever is computed from the products may be kept
// for as long as the version stays.
type Version struct {
	MaxID  int64
	Newest time.Time
}

// Version reads the catalog's version. Its Newest is when the catalog
// last changed (zero for an empty catalog).
func (s *Store) Version(ctx context.Context) (Version, error) {
	var v Version
	var maxID sql.NullInt64
	if err := s.DB.WithContext(ctx).Model(&Product{}).Select("MAX(id)").Row().Scan(&maxID); err != nil {
		return v, fmt.Errorf("catalog: version: %w", err)
	}
	// The column itself, not MAX(): SQLite returns MAX of a time as text.
	var newest []time.Time
	if err := s.DB.WithContext(ctx).Model(&Product{}).Order("updated_at DESC").Limit(1).Pluck("updated_at", &newest).Error; err != nil {
		return v, fmt.Errorf("catalog: version: %w", err)
	}
	v.MaxID = maxID.Int64
	if len(newest) > 0 {
		v.Newest = newest[0]
	}
	return v, nil
}
