package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
)

// allowed is the state machine: from → the states it may move to.
var allowed = map[Status][]Status{
	Draft:     {Scheduled, Cancelled},
	Scheduled: {Live, Blocked, Draft, Ended, Cancelled},
	Blocked:   {Live, Draft, Ended, Cancelled},
	Live:      {Paused, Ended, Cancelled},
	Paused:    {Live, Ended, Cancelled},
}

// CanMove tells whether from → to is a legal transition.
func CanMove(from, to Status) bool {
	for _, s := range allowed[from] {
		if s == to {
			return true
		}
	}
	return false
}

// TransitionError explains a refused transition.
type TransitionError struct {
	From, To Status
	Why      string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("campaigns: cannot move from %s to %s: %s", e.From, e.To, e.Why)
}

// Errors callers map to responses.
var (
	ErrNotFound = errors.New("campaigns: campaign not found")
	// ErrConflict means someone else changed the campaign meanwhile.
	ErrConflict = errors.New("campaigns: the campaign changed meanwhile; reload and try again")
)

// Transition is one line of the audit log.
type Transition struct {
	ID              uint64 `gorm:"primaryKey"`
	CampaignID      uint64
	At              time.Time
	Actor           string
	FromStatus      Status
	ToStatus        Status
	Reason          string
	ScheduleVersion int
	Gates           []Result `gorm:"serializer:json"`
	// ReasonTexts is Reason in every language (empty on older lines).
	ReasonTexts i18n.Texts
}

// Why is the reason in the reader's language.
func (t Transition) Why() i18n.Localizer { return i18n.Stored(t.ReasonTexts, t.Reason) }

// Alert is something a marketer must look at.
type Alert struct {
	ID         uint64 `gorm:"primaryKey"`
	CampaignID uint64
	Kind       string
	Message    string
	CreatedAt  time.Time
	ResolvedAt *time.Time
	// MessageTexts is Message in every language (empty on older alerts).
	MessageTexts i18n.Texts
}

// Say is the alert's message in the reader's language.
func (a Alert) Say() i18n.Localizer { return i18n.Stored(a.MessageTexts, a.Message) }

// reasonOf is a reason's English and its every-language texts: reason is
// an i18n message, or a string shown as typed (a user's "why").
func reasonOf(reason any) (string, i18n.Texts) {
	if s, ok := reason.(string); ok {
		return s, nil
	}
	return i18n.Text(i18n.EN, reason), i18n.Render(reason)
}

// Migrations of the campaigns tables.
var Migrations = []db.Migration{
	// List pages follow (starts_at, id); SQLite's index on starts_at holds
	// the rowid already, PostgreSQL's needs the id to read a page in order.
	{ID: "2026112210_campaigns_start_keyset", SQL: `CREATE INDEX campaigns_starts_id ON campaigns (starts_at, id);
DROP INDEX campaigns_starts`},
	{ID: "2026112208_campaign_feeds", SQL: `CREATE TABLE campaign_feeds (campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  feed_id {{bigint}} NOT NULL, PRIMARY KEY (campaign_id, feed_id))`},
	{ID: "2026112202_campaigns", SQL: `
CREATE TABLE campaigns (id {{id}}, name VARCHAR(200) NOT NULL, description TEXT NOT NULL DEFAULT '', channels VARCHAR(100) NOT NULL,
  time_zone VARCHAR(64) NOT NULL, starts_at {{ts}} NOT NULL, ends_at {{ts}} NOT NULL, currency CHAR(3) NOT NULL,
  budgets TEXT, forecast TEXT, landing_page_id {{bigint}}, status VARCHAR(20) NOT NULL, status_reason TEXT NOT NULL DEFAULT '',
  schedule_version INTEGER NOT NULL DEFAULT 0, retry_while_blocked BOOLEAN NOT NULL DEFAULT TRUE, next_attempt_at {{ts}},
  readiness TEXT, created_by VARCHAR(254) NOT NULL DEFAULT '', created_at {{ts}} NOT NULL, updated_at {{ts}} NOT NULL);
CREATE INDEX campaigns_status_starts ON campaigns (status, starts_at);
CREATE INDEX campaigns_starts ON campaigns (starts_at);
CREATE TABLE campaign_promotions (campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE, promotion_id {{bigint}} NOT NULL, PRIMARY KEY (campaign_id, promotion_id));
CREATE TABLE transitions (id {{id}}, campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE, at {{ts}} NOT NULL,
  actor VARCHAR(254) NOT NULL, from_status VARCHAR(20) NOT NULL, to_status VARCHAR(20) NOT NULL, reason TEXT NOT NULL DEFAULT '',
  schedule_version INTEGER NOT NULL, gates TEXT);
CREATE INDEX transitions_campaign ON transitions (campaign_id, at);
CREATE TABLE alerts (id {{id}}, campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE, kind VARCHAR(40) NOT NULL,
  message TEXT NOT NULL, created_at {{ts}} NOT NULL, resolved_at {{ts}});
CREATE INDEX alerts_open ON alerts (resolved_at, created_at);
CREATE TABLE launches (campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE, channel VARCHAR(20) NOT NULL,
  schedule_version INTEGER NOT NULL, launched_at {{ts}} NOT NULL, PRIMARY KEY (campaign_id, channel, schedule_version))`},
	{ID: "2026120202_channel_moves", SQL: movesMigration},
	{ID: "2026120205_golive_batches", SQL: batchLeaseMigration},
	// Channel moves (channel_moves) replaced the launches record.
	{ID: "2026120207_drop_launches", SQL: `DROP TABLE launches`},
	// Reasons and alerts in every language (platform/i18n Texts, JSON).
	{ID: "2026120301_reason_texts", SQL: `ALTER TABLE campaigns ADD COLUMN status_reason_texts TEXT;
ALTER TABLE transitions ADD COLUMN reason_texts TEXT;
ALTER TABLE alerts ADD COLUMN message_texts TEXT`},
	// The plan's version, bumped by a trigger on every change that moves
	// the combined forecast (plan.go).
	{ID: "2026120301_campaign_plan_sqlite", Engine: "sqlite", SQL: planMigrationSQLite},
	{ID: "2026120302_campaign_plan_postgres", Engine: "postgres", SQL: planMigrationPostgres},
}

var transitionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "rampe_campaign_transitions_total", Help: "Campaign lifecycle transitions.",
}, []string{"from", "to"})

func init() { prometheus.MustRegister(transitionsTotal) }

// move changes c's status inside tx, if and only if c is still in the state
// and schedule version the caller read, and writes the audit line. A second
// worker racing the same move finds nothing to update and gets ErrConflict,
// which is how a go-live can run twice and still go live once.
// The reason is an i18n message or a string shown as typed.
func move(tx *gorm.DB, c *Campaign, to Status, actor string, why any, gates []Result, now time.Time, extra map[string]any) error {
	if !CanMove(c.Status, to) {
		return &TransitionError{From: c.Status, To: to, Why: "not a lifecycle step"}
	}
	reason, texts := reasonOf(why)
	updates := map[string]any{"status": to, "status_reason": reason, "status_reason_texts": texts, "updated_at": now}
	for k, v := range extra {
		updates[k] = v
	}
	res := tx.Model(&Campaign{}).
		Where("id = ? AND status = ? AND schedule_version = ?", c.ID, c.Status, c.ScheduleVersion).
		Updates(updates)
	if res.Error != nil {
		return fmt.Errorf("campaigns: update status of %d: %w", c.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	if v, ok := extra["schedule_version"].(int); ok {
		c.ScheduleVersion = v
	}
	t := &Transition{CampaignID: c.ID, At: now, Actor: actor, FromStatus: c.Status, ToStatus: to,
		Reason: reason, ReasonTexts: texts, ScheduleVersion: c.ScheduleVersion, Gates: gates}
	if err := tx.Create(t).Error; err != nil {
		return fmt.Errorf("campaigns: write audit line for %d: %w", c.ID, err)
	}
	if err := recordMoves(tx, c, c.Status, to, t.ID, reason, now); err != nil {
		return err
	}
	if to == Live {
		if err := resolveOnLive(tx, []uint64{c.ID}, now); err != nil {
			return err
		}
	}
	transitionsTotal.WithLabelValues(string(c.Status), string(to)).Inc()
	c.Status, c.StatusReason, c.StatusReasonTexts, c.lastTransition = to, reason, texts, t.ID
	return nil
}

// History returns the audit log of a campaign, newest first.
func (s *Service) History(ctx context.Context, id uint64) ([]Transition, error) {
	var out []Transition
	err := s.DB.WithContext(ctx).Where("campaign_id = ?", id).Order("at DESC, id DESC").Find(&out).Error
	return out, err
}

// AlertFilter narrows an alert list.
type AlertFilter struct {
	CampaignID uint64 // 0: every campaign
	OpenOnly   bool
}

func (f AlertFilter) apply(q *gorm.DB) *gorm.DB {
	if f.CampaignID != 0 {
		q = q.Where("campaign_id = ?", f.CampaignID)
	}
	if f.OpenOnly {
		q = q.Where("resolved_at IS NULL")
	}
	return q
}

// alertsAfter keeps the alerts that sort after alert id, newest first
// (created_at DESC, id DESC).
func alertsAfter(q *gorm.DB, id uint64) *gorm.DB {
	if id == 0 {
		return q
	}
	const at = "(SELECT created_at FROM alerts WHERE id = ?)"
	return q.Where("(created_at < "+at+" OR (created_at = "+at+" AND id < ?))", id, id, id)
}

// AlertPage is one page of alerts, newest first.
type AlertPage struct {
	Alerts []Alert
	// NextAfter is the id to give as after for the next page; 0 on the last.
	NextAfter uint64
	// Total is how many alerts the filter keeps, on every page.
	Total int64
}

// Alerts returns the page of alerts matching f that follows alert afterID
// (0: the newest), newest first, at most limit long (0: PageSize; above
// MaxPageSize: MaxPageSize). An afterID that names no alert is a *FieldError
// on "after".
func (s *Service) Alerts(ctx context.Context, f AlertFilter, afterID uint64, limit int) (*AlertPage, error) {
	if limit <= 0 {
		limit = PageSize
	}
	limit = min(limit, MaxPageSize)
	db := s.DB.WithContext(ctx)
	p := &AlertPage{}
	if err := f.apply(db.Model(&Alert{})).Count(&p.Total).Error; err != nil {
		return nil, err
	}
	if afterID != 0 {
		var n int64
		if err := db.Model(&Alert{}).Where("id = ?", afterID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, &FieldError{Field: "after", Msg: fmt.Sprintf("there is no alert %d to continue after; start again from the first page", afterID)}
		}
	}
	var out []Alert
	if err := alertsAfter(f.apply(db), afterID).Order("created_at DESC, id DESC").Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, err
	}
	p.Alerts = out
	if len(out) > limit {
		p.Alerts, p.NextAfter = out[:limit], out[limit-1].ID
	}
	return p, nil
}

// OpenAlerts counts the alerts nobody resolved yet.
func (s *Service) OpenAlerts(ctx context.Context) (int64, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&Alert{}).Where("resolved_at IS NULL").Count(&n).Error
	return n, err
}

// ResolveAlert marks an alert as handled.
func (s *Service) ResolveAlert(ctx context.Context, id uint64) error {
	now := s.now()
	res := s.DB.WithContext(ctx).Model(&Alert{}).Where("id = ? AND resolved_at IS NULL", id).Update("resolved_at", now)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// resolveOnLive resolves the open alerts that said campaigns would not go
// live ("blocked", "dependency", a re-check's "recheck-…"): they went live,
// every gate passing, so what the alerts asked for is done.
func resolveOnLive(tx *gorm.DB, ids []uint64, now time.Time) error {
	err := tx.Model(&Alert{}).Where("resolved_at IS NULL AND campaign_id IN ? AND (kind IN ? OR kind LIKE ?)", ids, []string{"blocked", "dependency"}, "recheck-%").
		Update("resolved_at", now).Error
	if err != nil {
		return fmt.Errorf("campaigns: resolve the alerts of campaigns gone live: %w", err)
	}
	return nil
}

func raiseAlert(tx *gorm.DB, campaignID uint64, kind string, msg i18n.Message, now time.Time) error {
	return tx.Create(&Alert{CampaignID: campaignID, Kind: kind, Message: msg.String(), MessageTexts: i18n.Render(msg), CreatedAt: now}).Error
}
