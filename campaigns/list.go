package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Page sizes of campaign lists. A list shows one page at a time and says
// where the next one starts; a computation (capacity, need, reconcile, the
// calendar) reads every row it needs with Each, never a page.
const (
	// PageSize is how many campaigns a list page holds, in the UI and by
	// default in the API.
	PageSize = 100
	// MaxPageSize is the most an API caller may ask for in one page.
	MaxPageSize = 500
)

// streamBatch is how many rows Each reads per query; a variable so that
// tests can make it smaller than their data.
var streamBatch = 500

// OpenStatuses are the campaigns that are planned or running: everything
// but cancelled and ended. They are the ones whose traffic adds up.
var OpenStatuses = []Status{Draft, Scheduled, Blocked, Live, Paused}

// Filter narrows a campaign list.
type Filter struct {
	Status   Status
	Statuses []Status // any of these (nil: no bound)
	Channel  Channel
	From     time.Time // campaigns ending after From (zero: no bound)
	To       time.Time // campaigns starting before To (zero: no bound)
	// DueBy keeps the campaigns with something to do by this instant: a
	// go-live, an end, a blocked retry or a re-check before the start
	// (zero: no bound).
	DueBy time.Time
}

func (f Filter) apply(q *gorm.DB) *gorm.DB {
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Statuses != nil {
		q = q.Where("status IN ?", f.Statuses)
	}
	if f.Channel != "" {
		q = q.Where("channels LIKE ?", "%,"+string(f.Channel)+",%")
	}
	if !f.From.IsZero() {
		q = q.Where("ends_at > ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("starts_at < ?", f.To)
	}
	if !f.DueBy.IsZero() {
		// A start (and its re-checks) matters only to a campaign still
		// scheduled: one that is running has only its end ahead.
		q = q.Where("((status = ? AND starts_at <= ?) OR ends_at <= ? OR next_attempt_at <= ?)",
			Scheduled, f.DueBy.Add(earliestRecheck), f.DueBy, f.DueBy)
	}
	return q
}

// earliestRecheck is the longest of RecheckHorizons: a campaign is due
// for a re-check that long before its start.
var earliestRecheck = func() time.Duration {
	var d time.Duration
	for _, h := range RecheckHorizons {
		d = max(d, h)
	}
	return d
}()

// after keeps the campaigns that sort after campaign id in start order
// (starts_at, id): the keyset of list pages. Its position is read in SQL so
// that the comparison never depends on how a driver writes times.
func after(q *gorm.DB, id uint64) *gorm.DB {
	if id == 0 {
		return q
	}
	const at = "(SELECT starts_at FROM campaigns WHERE id = ?)"
	return q.Where("(starts_at > "+at+" OR (starts_at = "+at+" AND id > ?))", id, id, id)
}

// cursor checks that the campaign a page continues after exists: a page
// after a campaign deleted since (or an id never given out) is an error
// naming the parameter, not a silently empty list.
func (s *Service) cursor(ctx context.Context, id uint64) error {
	if id == 0 {
		return nil
	}
	var n int64
	if err := s.DB.WithContext(ctx).Model(&Campaign{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return fmt.Errorf("campaigns: list: %w", err)
	}
	if n == 0 {
		return &FieldError{Field: "after", Msg: fmt.Sprintf("there is no campaign %d to continue after (deleted meanwhile?); start again from the first page", id)}
	}
	return nil
}

// Page is one page of a campaign list in start order.
type Page struct {
	Campaigns []Campaign
	// NextAfter is the id to give as after for the next page; 0 on the
	// last page.
	NextAfter uint64
}

// List returns the page of campaigns matching f that follows campaign
// afterID (0: the first page), sorted by start then id, at most limit long
// (0: PageSize; above MaxPageSize: MaxPageSize). An afterID that names no
// campaign is a *FieldError on "after".
func (s *Service) List(ctx context.Context, f Filter, afterID uint64, limit int) (*Page, error) {
	if limit <= 0 {
		limit = PageSize
	}
	limit = min(limit, MaxPageSize)
	if err := s.cursor(ctx, afterID); err != nil {
		return nil, err
	}
	q := after(f.apply(s.DB.WithContext(ctx)), afterID).Order("starts_at, id").Limit(limit + 1)
	var out []Campaign
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("campaigns: list: %w", err)
	}
	p := &Page{Campaigns: out}
	if len(out) > limit {
		p.Campaigns = out[:limit]
		p.NextAfter = out[limit-1].ID
	}
	return p, nil
}

// Count returns how many campaigns match f and sort after campaign afterID
// (0: all of them).
func (s *Service) Count(ctx context.Context, f Filter, afterID uint64) (int64, error) {
	var n int64
	err := after(f.apply(s.DB.WithContext(ctx)), afterID).Model(&Campaign{}).Count(&n).Error
	return n, err
}

// Counts returns the number of campaigns per status among those f keeps
// (f.Status and f.Statuses aside).
func (s *Service) Counts(ctx context.Context, f Filter) (map[Status]int64, error) {
	f.Status, f.Statuses = "", nil
	var rows []struct {
		Status Status
		N      int64
	}
	err := f.apply(s.DB.WithContext(ctx)).Model(&Campaign{}).Select("status, count(*) AS n").Group("status").Scan(&rows).Error
	out := map[Status]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, err
}

// summaryColumns are what Each reads: every column but the free text and
// the readiness cache, which no computation over many campaigns needs.
var summaryColumns = []string{"id", "name", "channels", "time_zone", "starts_at", "ends_at", "currency", "budgets", "forecast",
	"landing_page_id", "status", "status_reason", "status_reason_texts", "schedule_version", "retry_while_blocked", "next_attempt_at", "created_by", "created_at", "updated_at"}

// ErrStop, returned by Each's fn, ends the reading early without an error.
var ErrStop = errors.New("campaigns: stop")

// Each calls fn with every campaign matching f, in batches read by id
// (keyset), so that a computation over thousands of campaigns reads them
// all in flat memory. Each batch is a new slice that fn may keep. The rows
// hold every column but Description and Readiness.
func (s *Service) Each(ctx context.Context, f Filter, fn func([]Campaign) error) error {
	return s.each(ctx, f, summaryColumns, fn)
}

// outlineColumns are what a calendar shows of a campaign.
var outlineColumns = []string{"id", "name", "channels", "time_zone", "starts_at", "ends_at", "status", "landing_page_id"}

// EachOutline is Each reading only what places a campaign on a calendar:
// its id, name, channels, time zone, window, status and landing page (no
// budgets, forecast or links, which cost a decoding per row).
func (s *Service) EachOutline(ctx context.Context, f Filter, fn func([]Campaign) error) error {
	return s.each(ctx, f, outlineColumns, fn)
}

func (s *Service) each(ctx context.Context, f Filter, cols []string, fn func([]Campaign) error) error {
	var last uint64
	for {
		var batch []Campaign
		err := f.apply(s.DB.WithContext(ctx)).Select(cols).Where("id > ?", last).Order("id").Limit(streamBatch).Find(&batch).Error
		if err != nil {
			return fmt.Errorf("campaigns: read: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		if err := fn(batch); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		if len(batch) < streamBatch {
			return nil
		}
		last = batch[len(batch)-1].ID
	}
}
