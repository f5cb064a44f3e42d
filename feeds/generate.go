package feeds

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/db"
)

// Service is the feeds domain.
type Service struct {
	DB         *gorm.DB
	Storage    Storage
	Promotions *landing.Promotions
	BaseURL    string
	Now        func() time.Time
}

// ErrBusy means the feed is being generated already.
var ErrBusy = errors.New("feeds: a generation of this feed is already running")

// ErrNotFound is returned for an unknown feed.
var ErrNotFound = errors.New("feeds: feed not found")

// MaxIssues bounds the problems stored per run, MaxIssuesPerRule per rule.
const (
	MaxIssues        = 20000
	MaxIssuesPerRule = 2000
)

// Progress of a running generation.
type Progress struct{ Read, Written, Skipped int64 }

// countWriter counts bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Generate writes the feed from the catalog at this instant: products are
// streamed by id in batches (memory does not grow with the catalog), each is
// validated, blocking problems leave it out, and the file and its gzip
// sibling replace the previous ones only when both are complete.
func (s *Service) Generate(ctx context.Context, feedID uint64, reason string, progress func(Progress)) (*Run, error) {
	now := s.Now()
	res := s.DB.WithContext(ctx).Model(&Feed{}).Where("id = ? AND (generating_since IS NULL OR generating_since < ?)", feedID, now.Add(-time.Hour)).
		Update("generating_since", now)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		if _, err := s.Get(ctx, feedID); err != nil {
			return nil, err
		}
		return nil, ErrBusy
	}
	defer s.DB.WithContext(context.WithoutCancel(ctx)).Model(&Feed{}).Where("id = ?", feedID).Update("generating_since", nil)
	f, err := s.Get(ctx, feedID)
	if err != nil {
		return nil, err
	}
	run := &Run{FeedID: f.ID, Reason: reason, Status: "running", StartedAt: now, ByRule: map[string]int{}}
	if err := s.DB.WithContext(ctx).Create(run).Error; err != nil {
		return nil, err
	}
	err = s.write(ctx, f, run, now, progress)
	fin := s.Now()
	run.FinishedAt = &fin
	if err != nil {
		run.Status, run.Message = "failed", "the previous file is still served: "+err.Error()
		slog.Error("feeds: generation failed", "feed", f.Name, "err", err)
	} else {
		run.Status = "done"
		run.Message = fmt.Sprintf("%d items written, %d left out, %d warnings", run.Written, run.Skipped, run.Warnings)
	}
	ctx2 := context.WithoutCancel(ctx)
	if uerr := s.DB.WithContext(ctx2).Save(run).Error; uerr != nil {
		return run, uerr
	}
	if err == nil {
		s.DB.WithContext(ctx2).Model(&Feed{}).Where("id = ?", f.ID).Updates(map[string]any{"last_run_id": run.ID, "generated_at": now})
	}
	return run, err
}

func (s *Service) write(ctx context.Context, f *Feed, run *Run, now time.Time, progress func(Progress)) error {
	promos, err := s.Promotions.Published(ctx, now)
	if err != nil {
		return err
	}
	plain, err := s.Storage.Create(ctx, f.ID, f.FileName())
	if err != nil {
		return err
	}
	gzPending, err := s.Storage.Create(ctx, f.ID, f.FileName()+".gz")
	if err != nil {
		plain.Abort()
		return err
	}
	ok := false
	defer func() {
		if !ok {
			plain.Abort()
			gzPending.Abort()
		}
	}()
	// BestSpeed: a feed is regenerated often and fetched rarely; the default
	// level costs about a third of a generation for a few % of size.
	zw, _ := gzip.NewWriterLevel(gzPending, gzip.BestSpeed)
	counted := &countWriter{w: io.MultiWriter(plain, zw)}
	w, err := newWriter(f, counted, f.Name, s.BaseURL)
	if err != nil {
		return err
	}
	var issues []Issue
	var prices []PriceLine
	var after uint64
	buf := make([]catalog.Product, 0, 1000)
	last := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := s.readBatch(ctx, f, after, buf[:0])
		if err != nil {
			return fmt.Errorf("feeds: read products: %w", err)
		}
		buf = batch
		if len(batch) == 0 {
			break
		}
		after = batch[len(batch)-1].ID
		for i := range batch {
			p := &batch[i]
			if !f.Matches(p) {
				continue
			}
			run.ItemsRead++
			it, problems := BuildItem(f, p, promos, now)
			blocked := false
			for _, pr := range problems {
				run.ByRule[pr.Rule]++
				sev := "warning"
				if pr.Blocking {
					sev, blocked = "error", true
				} else {
					run.Warnings++
				}
				// Every problem is counted; a few thousand per rule are kept
				// with their item, enough to act on without storing a
				// million identical warnings.
				if len(issues) < MaxIssues && run.ByRule[pr.Rule] <= MaxIssuesPerRule {
					issues = append(issues, Issue{SKU: p.SKU, Rule: pr.Rule, Field: pr.Field, Value: truncate(pr.Value, 300), Severity: sev, Message: pr.Message})
				}
			}
			if blocked {
				run.Skipped++
				continue
			}
			if err := w.Item(it); err != nil {
				return fmt.Errorf("feeds: write: %w", err)
			}
			run.Written++
			if it.Promoted {
				prices = append(prices, PriceLine{SKU: p.SKU, Price: it.Price, SalePrice: it.SalePrice})
			}
		}
		if time.Since(last) > 300*time.Millisecond {
			last = time.Now()
			s.DB.WithContext(ctx).Model(&Run{}).Where("id = ?", run.ID).
				Updates(map[string]any{"items_read": run.ItemsRead, "written": run.Written, "skipped": run.Skipped})
			if progress != nil {
				progress(Progress{Read: run.ItemsRead, Written: run.Written, Skipped: run.Skipped})
			}
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	run.Bytes = counted.n
	// The gzip sibling first: a comparator asking for gzip gets the new feed
	// at the same moment as one asking for plain text.
	if err := gzPending.Commit(); err != nil {
		return err
	}
	if err := plain.Commit(); err != nil {
		return err
	}
	ok = true
	if progress != nil {
		progress(Progress{Read: run.ItemsRead, Written: run.Written, Skipped: run.Skipped})
	}
	for i := range issues {
		issues[i].RunID = run.ID
	}
	for i := range prices {
		prices[i].RunID = run.ID
	}
	ctx2 := context.WithoutCancel(ctx)
	if err := s.DB.WithContext(ctx2).CreateInBatches(issues, db.InsertBatch).Error; err != nil {
		return err
	}
	return s.DB.WithContext(ctx2).CreateInBatches(prices, db.InsertBatch).Error
}

// filtered applies the filters the database can use; Matches applies all.
func (s *Service) filtered(ctx context.Context, f *Feed) *gorm.DB {
	q := s.DB.WithContext(ctx).Model(&catalog.Product{})
	if a := list(f.Availability); len(a) > 0 {
		q = q.Where("availability IN ?", a)
	}
	if skus := list(f.SKUs); len(skus) > 0 && len(skus) <= 1000 {
		q = q.Where("sku IN ?", skus)
	}
	if f.PriceMin != nil {
		q = q.Where("price >= ?", *f.PriceMin)
	}
	if f.PriceMax != nil {
		q = q.Where("price <= ?", *f.PriceMax)
	}
	return q
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Get loads a feed.
func (s *Service) Get(ctx context.Context, id uint64) (*Feed, error) {
	var f Feed
	err := s.DB.WithContext(ctx).Take(&f, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &f, err
}

// ByName loads a feed by name.
func (s *Service) ByName(ctx context.Context, name string) (*Feed, error) {
	var f Feed
	err := s.DB.WithContext(ctx).Where("name = ?", name).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &f, err
}

// ByToken loads the feed a public URL names.
func (s *Service) ByToken(ctx context.Context, token string) (*Feed, error) {
	var f Feed
	err := s.DB.WithContext(ctx).Where("token = ?", token).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &f, err
}

// List returns every feed by name.
func (s *Service) List(ctx context.Context) ([]Feed, error) {
	var out []Feed
	return out, s.DB.WithContext(ctx).Order("name").Find(&out).Error
}

// Create validates and stores a feed with a fresh token.
func (s *Service) Create(ctx context.Context, f *Feed) error {
	if err := f.Validate(); err != nil {
		return err
	}
	now := s.Now()
	f.ID, f.Token, f.CreatedAt, f.UpdatedAt, f.LastRunID, f.GeneratedAt = 0, NewToken(), now, now, nil, nil
	if err := s.DB.WithContext(ctx).Create(f).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return ValidationError{{Field: "name", Msg: fmt.Sprintf("a feed named %q exists", f.Name)}}
		}
		return err
	}
	return nil
}

// Update replaces a feed's definition; its token and history stay.
func (s *Service) Update(ctx context.Context, id uint64, f *Feed) error {
	old, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return err
	}
	f.ID, f.Token, f.CreatedAt, f.UpdatedAt, f.LastRunID, f.GeneratedAt = id, old.Token, old.CreatedAt, s.Now(), old.LastRunID, old.GeneratedAt
	if err := s.DB.WithContext(ctx).Omit("generating_since").Save(f).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return ValidationError{{Field: "name", Msg: fmt.Sprintf("a feed named %q exists", f.Name)}}
		}
		return err
	}
	return nil
}

// RotateToken gives a feed a new public URL; the old one answers 404.
func (s *Service) RotateToken(ctx context.Context, id uint64) (string, error) {
	tok := NewToken()
	res := s.DB.WithContext(ctx).Model(&Feed{}).Where("id = ?", id).Update("token", tok)
	if res.Error == nil && res.RowsAffected == 0 {
		return "", ErrNotFound
	}
	return tok, res.Error
}

// Runs lists a feed's generations, newest first.
func (s *Service) Runs(ctx context.Context, feedID uint64, limit int) ([]Run, error) {
	var out []Run
	return out, s.DB.WithContext(ctx).Where("feed_id = ?", feedID).Order("id DESC").Limit(limit).Find(&out).Error
}

// Issues lists the problems of a run, errors first.
func (s *Service) Issues(ctx context.Context, runID uint64, limit int) ([]Issue, error) {
	var out []Issue
	return out, s.DB.WithContext(ctx).Where("run_id = ?", runID).Order("severity, sku, id").Limit(limit).Find(&out).Error
}

// ProductIssues lists a product's problems in the last run of every feed.
func (s *Service) ProductIssues(ctx context.Context, sku string) (map[string][]Issue, error) {
	feeds, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]Issue{}
	for _, f := range feeds {
		if f.LastRunID == nil {
			continue
		}
		var iss []Issue
		if err := s.DB.WithContext(ctx).Where("run_id = ? AND sku = ?", *f.LastRunID, sku).Find(&iss).Error; err != nil {
			return nil, err
		}
		if len(iss) > 0 {
			out[f.Name] = iss
		}
	}
	return out, nil
}

// RuleCount is one line of a run's counts by rule.
type RuleCount struct {
	Rule  string
	Count int
}

// SortedRules returns a run's counts by rule, most frequent first.
func (r *Run) SortedRules() []RuleCount {
	out := make([]RuleCount, 0, len(r.ByRule))
	for k, v := range r.ByRule {
		out = append(out, RuleCount{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return strings.Compare(out[i].Rule, out[j].Rule) < 0
	})
	return out
}

// SweepInterrupted marks as failed the runs still "running" after olderThan:
// their process stopped, and the previous file is still served.
func (s *Service) SweepInterrupted(ctx context.Context, olderThan time.Duration) (int64, error) {
	res := s.DB.WithContext(ctx).Model(&Run{}).Where("status = ? AND started_at < ?", "running", s.Now().Add(-olderThan)).
		Updates(map[string]any{"status": "failed", "message": "interrupted: the process generating the feed stopped; the previous file is still served"})
	return res.RowsAffected, res.Error
}

// readBatch reads up to 1,000 products after id `after` with plain
// database/sql scanning into a reused slice: gorm's reflection per row was
// the largest cost of a generation.
func (s *Service) readBatch(ctx context.Context, f *Feed, after uint64, out []catalog.Product) ([]catalog.Product, error) {
	rows, err := s.filtered(ctx, f).Select(`id, sku, title, description, link, image_link, additional_image_links, brand, gtin, mpn, condition,
		product_type, google_product_category, item_group_id, price, currency, stock_quantity, availability`).
		Where("id > ?", after).Order("id").Limit(1000).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p catalog.Product
		if err := rows.Scan(&p.ID, &p.SKU, &p.Title, &p.Description, &p.Link, &p.ImageLink, &p.AdditionalImageLinks, &p.Brand, &p.GTIN, &p.MPN,
			&p.Condition, &p.ProductType, &p.GoogleProductCategory, &p.ItemGroupID, &p.Price, &p.Currency, &p.StockQuantity, &p.Availability); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
