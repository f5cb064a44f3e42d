package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/rowfile"
	"gorm.io/gorm"
)

// Options of an import.
type Options struct {
	Format          string // "csv" or "json"; guessed from the file name when empty
	DefaultCurrency string // for rows without a currency (EUR when empty)
	SkipInvalid     bool   // import the valid rows and report the others
	// Progress, when set, is called every few thousand rows.
	Progress func(Progress)
}

// Progress of a running import.
type Progress struct {
	BytesRead, Rows, Invalid int64
}

// Result of an import.
type Result struct {
	Rows, Imported, Invalid int64
	Errors                  []RowError // the first MaxReportedErrors problems, by line
	Ignored                 []string   // unknown columns
	Committed               bool
	// FeedGaps counts the imported products lacking what comparator
	// feeds require (imported all the same).
	FeedGaps FeedGapReport
}

// MaxReportedErrors bounds the problems kept for a report.
const MaxReportedErrors = 10000

// ErrInvalidRows is returned by an all-or-nothing import that found invalid
// rows; nothing was imported.
var ErrInvalidRows = errors.New("catalog: invalid rows; nothing imported")

// stagedProduct is a validated row waiting for the final upsert; staging in
// the database (not in memory) keeps memory flat for a million rows and lets
// the database find duplicate SKUs.
type stagedProduct struct {
	Product
	ImportID uint64
	Line     int64
	Gaps     FeedGap `gorm:"column:feed_gaps"` // recounted from here when duplicates are dropped
}

// FormatFor guesses the format from a file name.
func FormatFor(name string) string { return rowfile.FormatFor(name) }

// Import reads products from r and upserts them by SKU. By default it is
// all-or-nothing: any invalid row (or a SKU present twice) means nothing is
// imported and every problem is reported with its line, column and value.
// With SkipInvalid, the valid rows are imported (the first of duplicate
// SKUs wins) and the others reported.
func (s *Store) Import(ctx context.Context, r io.Reader, opt Options) (*Result, error) {
	if opt.DefaultCurrency == "" {
		opt.DefaultCurrency = "EUR"
	}
	importID := uint64(time.Now().UnixNano())
	stamp := s.now()
	cr := &rowfile.Counter{R: r}
	var rd reader
	var err error
	if opt.Format == "json" {
		rd, err = newJSONReader(cr)
	} else {
		rd, err = newCSVReader(cr)
	}
	res := &Result{}
	if err != nil {
		var re RowError
		if errors.As(err, &re) {
			res.Invalid, res.Errors = 1, []RowError{re}
			return res, fmt.Errorf("%w: %v", ErrInvalidRows, re)
		}
		return res, err
	}
	defer s.DB.WithContext(context.WithoutCancel(ctx)).Where("import_id = ?", importID).Delete(&stagedProduct{})

	var gaps feedGapCounter
	batch := make([]stagedProduct, 0, 500)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.DB.WithContext(ctx).CreateInBatches(batch, db.InsertBatch).Error
		batch = batch[:0]
		return err
	}
	report := func(errs ...RowError) {
		for _, e := range errs {
			if len(res.Errors) < MaxReportedErrors {
				res.Errors = append(res.Errors, e)
			}
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		rec, err := rd.next()
		if err == io.EOF {
			break
		}
		var re RowError
		if errors.As(err, &re) {
			res.Rows++
			res.Invalid++
			report(re)
			if strings.HasPrefix(re.Msg, "malformed") || rec.values == nil {
				if _, ok := rd.(*jsonReader); ok || strings.Contains(re.Msg, "longer than") {
					break // a JSON stream cannot resume after a syntax error
				}
			}
			continue
		}
		if err != nil {
			return res, fmt.Errorf("catalog: read: %w", err)
		}
		res.Rows++
		p, errs := toProduct(rec, opt.DefaultCurrency)
		if len(errs) > 0 {
			res.Invalid++
			report(errs...)
		} else {
			p.UpdatedAt = stamp
			g := p.FeedGaps()
			gaps.add(p.SKU, g)
			batch = append(batch, stagedProduct{Product: *p, ImportID: importID, Line: rec.line, Gaps: g})
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return res, fmt.Errorf("catalog: stage rows: %w", err)
				}
			}
		}
		if opt.Progress != nil && res.Rows%2000 == 0 {
			opt.Progress(Progress{BytesRead: cr.N(), Rows: res.Rows, Invalid: res.Invalid})
		}
	}
	if err := flush(); err != nil {
		return res, fmt.Errorf("catalog: stage rows: %w", err)
	}
	res.Ignored = rd.ignored()
	sort.Strings(res.Ignored)
	dups, err := s.duplicates(ctx, importID)
	if err != nil {
		return res, err
	}
	res.Invalid += int64(len(dups))
	report(dups...)
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Line < res.Errors[j].Line })
	if opt.Progress != nil {
		opt.Progress(Progress{BytesRead: cr.N(), Rows: res.Rows, Invalid: res.Invalid})
	}
	if res.Invalid > 0 && !opt.SkipInvalid {
		return res, fmt.Errorf("%w: %d of %d rows, first: %v", ErrInvalidRows, res.Invalid, res.Rows, res.Errors[0])
	}
	n, err := s.upsertStaged(ctx, importID, len(dups) > 0)
	if err != nil {
		return res, err
	}
	res.Imported, res.Committed = n, true
	res.FeedGaps = gaps.report()
	if len(dups) > 0 {
		// The duplicates dropped were counted as they were read.
		if res.FeedGaps, err = s.stagedGaps(ctx, importID); err != nil {
			return res, err
		}
	}
	return res, nil
}

// stagedGaps counts the feed gaps of the rows an import staged and kept.
func (s *Store) stagedGaps(ctx context.Context, importID uint64) (FeedGapReport, error) {
	var rows []struct {
		Gaps FeedGap `gorm:"column:feed_gaps"`
		N    int64
	}
	if err := s.DB.WithContext(ctx).Model(&stagedProduct{}).Select("feed_gaps, COUNT(*) AS n").
		Where("import_id = ? AND feed_gaps <> 0", importID).Group("feed_gaps").Scan(&rows).Error; err != nil {
		return FeedGapReport{}, fmt.Errorf("catalog: count feed gaps: %w", err)
	}
	var c feedGapCounter
	for _, r := range rows {
		if r.Gaps&leavesOut != 0 {
			c.leftOut += r.N
		}
		for i := range nGaps {
			if r.Gaps&(1<<i) != 0 {
				c.counts[i] += r.N
			}
		}
	}
	for i := range nGaps {
		if c.counts[i] == 0 {
			continue
		}
		if err := s.DB.WithContext(ctx).Model(&stagedProduct{}).Where("import_id = ? AND (feed_gaps & ?) <> 0", importID, 1<<i).
			Order("line").Limit(gapSamples).Pluck("sku", &c.skus[i]).Error; err != nil {
			return FeedGapReport{}, fmt.Errorf("catalog: name feed gaps: %w", err)
		}
	}
	return c.report(), nil
}

// duplicates reports every repeated SKU after its first line.
func (s *Store) duplicates(ctx context.Context, importID uint64) ([]RowError, error) {
	var rows []struct {
		SKU   string `gorm:"column:sku"`
		First int64
		Line  int64
	}
	err := s.DB.WithContext(ctx).Raw(`SELECT d.sku, f.first, d.line FROM staged_products d
		JOIN (SELECT sku, MIN(line) AS first FROM staged_products WHERE import_id = ? GROUP BY sku HAVING COUNT(*) > 1) f ON f.sku = d.sku
		WHERE d.import_id = ? AND d.line > f.first ORDER BY d.line LIMIT ?`, importID, importID, MaxReportedErrors).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("catalog: find duplicate SKUs: %w", err)
	}
	out := make([]RowError, len(rows))
	for i, r := range rows {
		out[i] = RowError{Line: r.Line, Column: "sku", Value: r.SKU, Msg: fmt.Sprintf("duplicate SKU, first seen on line %d", r.First)}
	}
	return out, nil
}

const productColumns = `sku, title, description, link, image_link, additional_image_links, brand, gtin, mpn, condition, product_type,
	google_product_category, item_group_id, price, currency, cost, stock_quantity, availability, updated_at`

// upsertStaged moves the staged rows into products in one transaction.
func (s *Store) upsertStaged(ctx context.Context, importID uint64, dropDuplicates bool) (int64, error) {
	var n int64
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if dropDuplicates {
			if err := tx.Exec(`DELETE FROM staged_products WHERE import_id = ? AND line > (SELECT MIN(line) FROM staged_products f WHERE f.import_id = staged_products.import_id AND f.sku = staged_products.sku)`, importID).Error; err != nil {
				return err
			}
		}
		var set []string
		for _, c := range strings.Split(productColumns, ",") {
			if c = strings.TrimSpace(c); c != "sku" {
				set = append(set, c+" = excluded."+c)
			}
		}
		res := tx.Exec(`INSERT INTO products (`+productColumns+`) SELECT `+productColumns+` FROM staged_products WHERE import_id = ?
			ON CONFLICT (sku) DO UPDATE SET `+strings.Join(set, ", "), importID)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("catalog: upsert products: %w", err)
	}
	slog.Info("catalog: import committed", "rows", n)
	return n, nil
}
