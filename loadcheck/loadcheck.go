// Package loadcheck attacks a campaign's landing page at a constant rate, in
// steps up to the capacity the campaign needs, with vegeta as a library; it
// records what each step achieved and which threshold broke, refuses targets
// outside the merchant's allow-list, and answers the landing.load_checked
// gate. It reads campaigns and pages through small interfaces of its own
// (CampaignSource, PageSource).
package loadcheck

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
)

// Statuses of a check.
const (
	Queued  = "queued"
	Running = "running"
	Passed  = "passed"
	Failed  = "failed"
	Aborted = "aborted"
)

// Thresholds a step must hold.
type Thresholds struct {
	MaxErrorRatio float64 `json:"max_error_ratio"` // 0.01 = 1 %
	MaxP95Ms      float64 `json:"max_p95_ms"`
	MaxP99Ms      float64 `json:"max_p99_ms"`
}

// DefaultThresholds are documented in the README.
var DefaultThresholds = Thresholds{MaxErrorRatio: 0.01, MaxP95Ms: 500, MaxP99Ms: 1000}

// DefaultSteps are the shares of the target rate, in order.
var DefaultSteps = []float64{0.25, 0.5, 1, 1.5}

// Extra is an additional URL attacked with a weight (a product page, the cart).
type Extra struct {
	URL    string  `json:"url"`
	Weight float64 `json:"weight"`
}

// StepResult is what one step measured.
type StepResult struct {
	Share        float64        `json:"share"`
	TargetRate   float64        `json:"target_rate"`
	AchievedRate float64        `json:"achieved_rate"`
	Requests     uint64         `json:"requests"`
	ErrorRatio   float64        `json:"error_ratio"`
	P50Ms        float64        `json:"p50_ms"`
	P95Ms        float64        `json:"p95_ms"`
	P99Ms        float64        `json:"p99_ms"`
	MaxMs        float64        `json:"max_ms"`
	Histogram    []Bucket       `json:"histogram"`
	StatusCodes  map[string]int `json:"status_codes"`
	Held         bool           `json:"held"`
	Broken       string         `json:"broken,omitempty"` // the threshold that failed
	// BrokenTexts is Broken in every language (platform/i18n).
	BrokenTexts  i18n.Texts `json:"broken_texts,omitempty"`
	StoppedEarly bool       `json:"stopped_early"`
	// Errors are the distinct errors of the step (at most 5), e.g.
	// "redirect to https://other.example/ not followed (not allow-listed: …)".
	Errors []string `json:"errors,omitempty"`
	// Kinds counts the failed requests by kind: "connection refused",
	// "timeout", "HTTP 503"… (errorKind).
	Kinds map[string]uint64 `json:"kinds,omitempty"`
}

// Bucket is one latency histogram bar.
type Bucket struct {
	UpToMs float64 `json:"up_to_ms"` // 0 for the last, open bucket
	Count  uint64  `json:"count"`
}

// Live is the progress of a running step, refreshed every second.
type Live struct {
	Step       int     `json:"step"`
	Steps      int     `json:"steps"`
	TargetRate float64 `json:"target_rate"`
	Rate       float64 `json:"rate"`
	P95Ms      float64 `json:"p95_ms"`
	P99Ms      float64 `json:"p99_ms"`
	ErrorsPerS float64 `json:"errors_per_s"`
	Elapsed    float64 `json:"elapsed_s"`
}

// Check is one load check.
type Check struct {
	ID             uint64       `json:"id" gorm:"primaryKey"`
	CampaignID     *uint64      `json:"campaign_id"`
	PageID         uint64       `json:"page_id"`
	PageVersionID  uint64       `json:"page_version_id"`
	URL            string       `json:"url" gorm:"column:url"`
	Extras         []Extra      `json:"extras" gorm:"serializer:json"`
	TargetRate     float64      `json:"target_rate"`
	Steps          []float64    `json:"steps" gorm:"serializer:json"`
	StepSeconds    int          `json:"step_seconds"`
	Thresholds     Thresholds   `json:"thresholds" gorm:"serializer:json"`
	Status         string       `json:"status"`
	Reason         string       `json:"reason"`
	ReasonTexts    i18n.Texts   `json:"reason_texts,omitempty"`
	SustainedRate  float64      `json:"sustained_rate"`
	Results        []StepResult `json:"results" gorm:"serializer:json"`
	Live           *Live        `json:"live,omitempty" gorm:"serializer:json"`
	AbortRequested bool         `json:"abort_requested"`
	CreatedBy      string       `json:"created_by"`
	CreatedAt      time.Time    `json:"created_at"`
	StartedAt      *time.Time   `json:"started_at"`
	FinishedAt     *time.Time   `json:"finished_at"`
	// HeartbeatAt is refreshed every second by the worker running the
	// check (Worker); older than LostAfter, the worker is lost.
	HeartbeatAt *time.Time `json:"heartbeat_at"`
	Worker      string     `json:"worker"`
	// WaitingFor is the running check a queued one waits for (Store.Show).
	WaitingFor uint64 `json:"waiting_for,omitempty" gorm:"-"`
}

// TableName keeps the table name explicit.
func (Check) TableName() string { return "load_checks" }

// Migrations of the load-check table.
var Migrations = []db.Migration{
	{ID: "2026112207_loadcheck", SQL: `
CREATE TABLE load_checks (id {{id}}, campaign_id {{bigint}}, page_id {{bigint}} NOT NULL, page_version_id {{bigint}} NOT NULL, url TEXT NOT NULL,
  extras TEXT, target_rate DOUBLE PRECISION NOT NULL, steps TEXT, step_seconds INTEGER NOT NULL, thresholds TEXT, status VARCHAR(12) NOT NULL,
  reason TEXT NOT NULL DEFAULT '', sustained_rate DOUBLE PRECISION NOT NULL DEFAULT 0, results TEXT, live TEXT,
  abort_requested BOOLEAN NOT NULL DEFAULT FALSE, created_by VARCHAR(254) NOT NULL DEFAULT '', created_at {{ts}} NOT NULL, started_at {{ts}}, finished_at {{ts}});
CREATE INDEX load_checks_page ON load_checks (page_id, status, finished_at);
CREATE INDEX load_checks_campaign ON load_checks (campaign_id, id)`},
	// One running check in the whole deployment: the running row is the
	// lease, kept alive by heartbeat_at. Checks left running by workers of
	// before this rule have no heartbeat and no owner: they are failed.
	{ID: "2026112216_loadcheck_lease", SQL: `
UPDATE load_checks SET status = 'failed', reason = 'worker lost: still running when one-check-at-a-time was installed', finished_at = COALESCE(started_at, created_at) WHERE status = 'running';
ALTER TABLE load_checks ADD COLUMN heartbeat_at {{ts}};
ALTER TABLE load_checks ADD COLUMN worker VARCHAR(200) NOT NULL DEFAULT '';
CREATE UNIQUE INDEX load_checks_one_running ON load_checks (status) WHERE status = 'running'`},
	// The verdict in every language (platform/i18n Texts, JSON).
	{ID: "2026120302_loadcheck_reason_texts", SQL: `ALTER TABLE load_checks ADD COLUMN reason_texts TEXT`},
}

// Say is the check's verdict in the reader's language.
func (c *Check) Say() i18n.Localizer { return i18n.Stored(c.ReasonTexts, c.Reason) }

// SayBroken is the step's broken threshold in the reader's language.
func (r StepResult) SayBroken() i18n.Localizer { return i18n.Stored(r.BrokenTexts, r.Broken) }

// verdict is the columns of a verdict: its English and every language.
func verdict(status string, reason i18n.Message) map[string]any {
	return map[string]any{"status": status, "reason": reason.String(), "reason_texts": i18n.Render(reason)}
}

// Store is the load-check repository.
type Store struct {
	DB *gorm.DB
	// LostAfter is how old a running check's heartbeat may get before its
	// worker counts as lost; DefaultLostAfter when 0.
	LostAfter time.Duration
	// Clock judges heartbeats and dates verdicts (nil: the wall clock);
	// give it the Service's, which writes the heartbeats.
	Clock clock.Clock
}

func (s *Store) now() time.Time { return clock.Or(s.Clock).Now() }

// ErrNotFound is returned for an unknown check.
var ErrNotFound = errors.New("loadcheck: not found")

// Get loads a check.
func (s *Store) Get(ctx context.Context, id uint64) (*Check, error) {
	return db.Take[Check](s.DB.WithContext(ctx), ErrNotFound, id)
}

// ForCampaign lists a campaign's checks, newest first.
func (s *Store) ForCampaign(ctx context.Context, campaignID uint64, limit int) ([]Check, error) {
	var out []Check
	return out, s.DB.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("id DESC").Limit(limit).Find(&out).Error
}

// LastPassed is the newest passing check of a page.
func (s *Store) LastPassed(ctx context.Context, pageID uint64) (*Check, error) {
	return db.Take[Check](s.DB.WithContext(ctx).Where("page_id = ? AND status = ?", pageID, Passed).Order("finished_at DESC, id DESC"), ErrNotFound)
}

// Latest is the newest check of a page with a verdict (passed or failed) of
// one of the given versions.
func (s *Store) Latest(ctx context.Context, pageID uint64, versionIDs []uint64) (*Check, error) {
	return db.Take[Check](s.DB.WithContext(ctx).Where("page_id = ? AND page_version_id IN ? AND status IN ? AND finished_at IS NOT NULL", pageID, versionIDs,
		[]string{Passed, Failed}).Order("finished_at DESC, id DESC"), ErrNotFound)
}

// LastPassedAny is the newest passing check of any page, for the capacity page.
func (s *Store) LastPassedAny(ctx context.Context) (*Check, error) {
	return db.Take[Check](s.DB.WithContext(ctx).Where("status = ?", Passed).Order("finished_at DESC, id DESC"), ErrNotFound)
}

// ListPage is one page of checks, newest first, and where the next begins.
type ListPage struct {
	Checks    []Check
	NextAfter uint64 // 0: this is the last page
}

// List returns at most limit checks with an id below before (0: from the
// newest), newest first, for the load checks page.
func (s *Store) List(ctx context.Context, before uint64, limit int) (ListPage, error) {
	q := s.DB.WithContext(ctx).Order("id DESC").Limit(limit + 1)
	if before != 0 {
		q = q.Where("id < ?", before)
	}
	var out []Check
	if err := q.Find(&out).Error; err != nil {
		return ListPage{}, fmt.Errorf("loadcheck: list: %w", err)
	}
	page := ListPage{Checks: out}
	if len(out) > limit {
		page.Checks, page.NextAfter = out[:limit], out[limit-1].ID
	}
	return page, nil
}
