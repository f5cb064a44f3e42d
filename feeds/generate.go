package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"gorm.io/gorm"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
)

// Service is the feeds domain.
type Service struct {
	DB         *gorm.DB
	Storage    Storage
	Catalog    Catalog
	Promotions PromotionSource
	BaseURL    string
	Clock      clock.Clock
	// Generated is called after a generation that succeeded: the campaigns
	// linking the feed are re-checked (a campaign blocked on it goes live).
	Generated func(ctx context.Context, feedID, runID uint64, name string)
	// MaxGenerations bounds the generations this process runs at once
	// (feeds.max_concurrent_generations; 1 when 0): an import regenerating
	// three feeds side by side held 2.4 GB. The others wait their turn.
	MaxGenerations int
	running        slots
	gateCache      gateCache
}

func (s *Service) now() time.Time { return clock.Or(s.Clock).Now() }

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

// Generate writes the feed from the catalog at this instant: products are
// streamed by id in batches (memory does not grow with the catalog), each is
// validated, blocking problems leave it out, and the file and its gzip
// sibling replace the previous ones only when both are complete.
func (s *Service) Generate(ctx context.Context, feedID uint64, reason string, progress func(Progress)) (*Run, error) {
	if err := s.running.acquire(ctx, s.MaxGenerations); err != nil {
		return nil, err
	}
	defer s.running.release()
	now := s.now()
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
	fin := s.now()
	run.FinishedAt = &fin
	if err != nil {
		run.Status, run.Message = "failed", "the previous file is still served: "+err.Error()
		slog.Error("feeds: generation failed", "feed", f.Name, "err", err)
		// Lines stored while it ran are of a feed never served.
		s.DB.WithContext(context.WithoutCancel(ctx)).Where("run_id = ?", run.ID).Delete(&PriceLine{})
	} else {
		run.Status = "done"
		run.Message = fmt.Sprintf(runWritten, run.Written, run.Skipped, run.Warnings)
	}
	ctx2 := context.WithoutCancel(ctx)
	if uerr := s.DB.WithContext(ctx2).Save(run).Error; uerr != nil {
		return run, uerr
	}
	if err == nil {
		if uerr := s.DB.WithContext(ctx2).Model(&Feed{}).Where("id = ?", f.ID).Updates(map[string]any{"last_run_id": run.ID, "generated_at": now}).Error; uerr != nil {
			return run, uerr
		}
		// Only the feed in force is compared by the gate: the price lines
		// of its earlier runs are dropped (they grew by a line per promoted
		// product per run: 6.9 million after a few runs of a large catalog).
		if uerr := s.DB.WithContext(ctx2).Where("run_id IN (?)", s.DB.Model(&Run{}).Select("id").Where("feed_id = ? AND id < ?", f.ID, run.ID)).
			Delete(&PriceLine{}).Error; uerr != nil {
			slog.Warn("feeds: prune earlier price lines", "feed", f.Name, "err", uerr)
		}
		if s.Generated != nil {
			s.Generated(ctx2, f.ID, run.ID, f.Name)
		}
	}
	return run, err
}

// write runs a generation as a pipeline: the catalog streams the products
// (catalog.Store.Stream), workers build, validate and format them, this
// goroutine puts the parts in order, and the fanout writes the plain file
// and compresses the gzip sibling, each on its own goroutine.
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
	// BestSpeed: a feed is regenerated often and fetched rarely; the default
	// level costs about a third of a generation for a few % of size.
	zw, _ := gzip.NewWriterLevel(gzPending, gzip.BestSpeed)
	out := newFanout(plain, zw)
	// The sink stores what the pipeline handed it even once the pipeline
	// is cancelled at its end.
	prices := newPriceSink(ctx, s.DB, run.ID)
	ctx, cancel := context.WithCancel(ctx)
	width, inFlight := s.Catalog.StreamPlan()
	batches, free := make(chan []catalog.Product, 2), make(chan []catalog.Product, inFlight)
	for range cap(free) {
		free <- make([]catalog.Product, 0, width)
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- s.Catalog.Stream(ctx, f.filter(), free, batches)
	}()
	fm := newFormatter(f, landing.NewIndex(promos), now)
	fm.prices = prices
	fmtErr := s.format(ctx, f, run, fm, out, batches, free, progress)
	cancel()
	if err := fm.prices.close(); err != nil && fmtErr == nil {
		fmtErr = fmt.Errorf("feeds: store price lines: %w", err)
	}
	for range batches { // let the reader finish after a failure
	}
	if fmtErr == nil {
		if err := <-readErr; err != nil {
			fmtErr = fmt.Errorf("feeds: read products: %w", err)
		}
	}
	if fmtErr != nil {
		out.Abort()
		plain.Abort()
		gzPending.Abort()
		return fmtErr
	}
	if err := errors.Join(out.Close(), zw.Close()); err != nil {
		plain.Abort()
		gzPending.Abort()
		return fmt.Errorf("feeds: write: %w", err)
	}
	run.Bytes = out.n
	// Both files are complete before either is visible (an upload that
	// fails now leaves the previous pair served, never a new .gz beside
	// an old plain file).
	for _, p := range []Pending{gzPending, plain} {
		if f, ok := p.(interface{ Finish() error }); ok {
			if err := f.Finish(); err != nil {
				plain.Abort()
				gzPending.Abort()
				return err
			}
		}
	}
	// The gzip sibling first: a comparator asking for gzip gets the new feed
	// at the same moment as one asking for plain text.
	if err := gzPending.Commit(); err != nil {
		plain.Abort()
		return err
	}
	if err := plain.Commit(); err != nil {
		return err
	}
	if progress != nil {
		progress(Progress{Read: run.ItemsRead, Written: run.Written, Skipped: run.Skipped})
	}
	return s.saveFindings(ctx, run)
}

// format writes the feed's head, its items formatted by fm and its tail,
// and reports progress every 300 ms.
func (s *Service) format(ctx context.Context, f *Feed, run *Run, fm *formatter, out io.Writer, batches <-chan []catalog.Product,
	free chan<- []catalog.Product, progress func(Progress)) error {
	if err := writeHead(f, out, f.Name, s.BaseURL); err != nil {
		return err
	}
	last := time.Now()
	var saving atomic.Bool
	tick := func() {
		if time.Since(last) < 300*time.Millisecond {
			return
		}
		last = time.Now()
		// Stored on the side: on SQLite the write waits for the price
		// lines' transaction, and the pipeline must not wait with it.
		if saving.CompareAndSwap(false, true) {
			counts := map[string]any{"items_read": run.ItemsRead, "written": run.Written, "skipped": run.Skipped}
			go func() {
				defer saving.Store(false)
				s.DB.WithContext(ctx).Model(&Run{}).Where("id = ?", run.ID).Updates(counts)
			}()
		}
		if progress != nil {
			progress(Progress{Read: run.ItemsRead, Written: run.Written, Skipped: run.Skipped})
		}
	}
	if err := fm.run(ctx, batches, free, out, run, tick); err != nil {
		return err
	}
	_, err := io.WriteString(out, tail(f))
	return err
}

// saveFindings stores the problems a run collected (its price lines are
// stored as it goes).
func (s *Service) saveFindings(ctx context.Context, run *Run) error {
	for i := range run.issues {
		run.issues[i].RunID = run.ID
	}
	return s.DB.WithContext(context.WithoutCancel(ctx)).CreateInBatches(run.issues, db.InsertBatch).Error
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Get loads a feed.
func (s *Service) Get(ctx context.Context, id uint64) (*Feed, error) {
	return db.Take[Feed](s.DB.WithContext(ctx), ErrNotFound, id)
}

// ByName loads a feed by name.
func (s *Service) ByName(ctx context.Context, name string) (*Feed, error) {
	return db.Take[Feed](s.DB.WithContext(ctx).Where("name = ?", name), ErrNotFound)
}

// ByToken loads the feed a public URL names.
func (s *Service) ByToken(ctx context.Context, token string) (*Feed, error) {
	if len(token) != TokenLength {
		return nil, ErrNotFound
	}
	return db.Take[Feed](s.DB.WithContext(ctx).Where("token = ?", token), ErrNotFound)
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
	now := s.now()
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
	f.ID, f.Token, f.CreatedAt, f.UpdatedAt, f.LastRunID, f.GeneratedAt = id, old.Token, old.CreatedAt, s.now(), old.LastRunID, old.GeneratedAt
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
	res := s.DB.WithContext(ctx).Model(&Run{}).Where("status = ? AND started_at < ?", "running", s.now().Add(-olderThan)).
		Updates(map[string]any{"status": "failed", "message": "interrupted: the process generating the feed stopped; the previous file is still served"})
	return res.RowsAffected, res.Error
}
