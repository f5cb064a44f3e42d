package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
)

// Enqueuer delivers tasks. An existing task with the same TaskID is not an
// error: created is false.
type Enqueuer interface {
	Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (created bool, err error)
}

// Service is the campaigns domain: plan, schedule and move campaigns.
type Service struct {
	DB    *gorm.DB
	Tasks Enqueuer
	Gates *Registry
	// Clock is "now" for every status, window and gate (nil: the wall clock).
	Clock clock.Clock
	// Actors are the channels' sides of the lifecycle (channels.Register).
	Actors map[Channel]ChannelActor

	DefaultTimeZone string
	RetryInterval   time.Duration
	// Lead is how long before a go-live instant its batch task is due: the
	// worker holds it by the instant and waits for it (queue.Ahead of the
	// workers' poll and delayed-check intervals).
	Lead time.Duration
	// GoLiveHold pauses go-live between gate evaluation and the transition;
	// crash tests use it to kill a worker at that instant.
	GoLiveHold time.Duration

	// plan caches the combined forecast per plan version (plan.go).
	plan *planCache
}

func (s *Service) now() time.Time { return clock.Or(s.Clock).Now() }

// NewService returns a service with the built-in gates registered.
func NewService(g *gorm.DB, tasks Enqueuer, clk clock.Clock) *Service {
	reg := &Registry{}
	reg.Register(ScheduleGate)
	reg.Register(ChannelsGate)
	return &Service{DB: g, Tasks: tasks, Gates: reg, Clock: clk, Actors: map[Channel]ChannelActor{},
		DefaultTimeZone: "Europe/Paris", RetryInterval: 5 * time.Minute, Lead: DefaultLead, plan: newPlanCache()}
}

// Get loads a campaign with its promotion links.
func (s *Service) Get(ctx context.Context, id uint64) (*Campaign, error) {
	var c Campaign
	err := s.DB.WithContext(ctx).Take(&c, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("campaigns: load %d: %w", id, err)
	}
	var links []CampaignPromotion
	if err := s.DB.WithContext(ctx).Where("campaign_id = ?", id).Order("promotion_id").Find(&links).Error; err != nil {
		return nil, err
	}
	for _, l := range links {
		c.PromotionIDs = append(c.PromotionIDs, l.PromotionID)
	}
	var feeds []CampaignFeed
	if err := s.DB.WithContext(ctx).Where("campaign_id = ?", id).Order("feed_id").Find(&feeds).Error; err != nil {
		return nil, err
	}
	for _, l := range feeds {
		c.FeedIDs = append(c.FeedIDs, l.FeedID)
	}
	return &c, nil
}

// Create validates in and stores a draft.
func (s *Service) Create(ctx context.Context, in Input, actor string) (*Campaign, error) {
	c, err := Build(in, s.DefaultTimeZone)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c.Status, c.CreatedBy, c.CreatedAt, c.UpdatedAt = Draft, actor, now, now
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(c).Error; err != nil {
			return fmt.Errorf("campaigns: create: %w", err)
		}
		return savePromotions(tx, c)
	})
	return c, err
}

func savePromotions(tx *gorm.DB, c *Campaign) error {
	if err := tx.Where("campaign_id = ?", c.ID).Delete(&CampaignPromotion{}).Error; err != nil {
		return err
	}
	for _, pid := range c.PromotionIDs {
		if err := tx.Create(&CampaignPromotion{CampaignID: c.ID, PromotionID: pid}).Error; err != nil {
			return fmt.Errorf("campaigns: link promotion %d: %w", pid, err)
		}
	}
	if err := tx.Where("campaign_id = ?", c.ID).Delete(&CampaignFeed{}).Error; err != nil {
		return err
	}
	for _, fid := range c.FeedIDs {
		if err := tx.Create(&CampaignFeed{CampaignID: c.ID, FeedID: fid}).Error; err != nil {
			return fmt.Errorf("campaigns: link feed %d: %w", fid, err)
		}
	}
	return nil
}

// Update replaces the plan of a draft, scheduled or blocked campaign. A
// scheduled or blocked campaign is rescheduled: its schedule version goes up,
// so tasks of the old plan become no-ops, and new tasks are enqueued.
func (s *Service) Update(ctx context.Context, id uint64, in Input, actor string) (*Campaign, error) {
	old, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !old.Editable() {
		return nil, &TransitionError{From: old.Status, To: old.Status, Why: "only draft, scheduled or blocked campaigns can be edited"}
	}
	c, err := Build(in, s.DefaultTimeZone)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c.ID, c.Status, c.CreatedBy, c.CreatedAt, c.UpdatedAt = old.ID, old.Status, old.CreatedBy, old.CreatedAt, now
	c.ScheduleVersion = old.ScheduleVersion
	rescheduled := old.Status != Draft
	if rescheduled {
		if !c.EndsAt.After(now) {
			return nil, ValidationError{{Field: "ends_at", Msg: "is in the past; a scheduled campaign must end in the future"}}
		}
		c.ScheduleVersion++
	}
	if old.Status == Blocked {
		// The edit may have fixed what held it: one attempt at once (or at
		// its start, if moved later), whatever retry_while_blocked says.
		next := now
		if c.StartsAt.After(now) {
			next = c.StartsAt
		}
		c.NextAttemptAt = &next
	}
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Campaign{}).Where("id = ? AND status = ? AND schedule_version = ?", id, old.Status, old.ScheduleVersion).
			Select("name", "description", "channels", "time_zone", "starts_at", "ends_at", "currency", "budgets", "forecast",
				"landing_page_id", "retry_while_blocked", "schedule_version", "updated_at", "next_attempt_at").
			Updates(c)
		if res.Error != nil {
			return fmt.Errorf("campaigns: update %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrConflict
		}
		if rescheduled {
			if err := tx.Create(&Transition{CampaignID: id, At: now, Actor: actor, FromStatus: old.Status, ToStatus: old.Status,
				Reason:      fmt.Sprintf("plan edited: rescheduled as version %d", c.ScheduleVersion),
				ReasonTexts: i18n.Render(i18n.M("plan edited: rescheduled as version %d", c.ScheduleVersion)), ScheduleVersion: c.ScheduleVersion}).Error; err != nil {
				return err
			}
		}
		return savePromotions(tx, c)
	})
	if err != nil {
		return nil, err
	}
	if rescheduled {
		s.enqueueSchedule(ctx, c)
	}
	// The checklist follows the plan just saved (new dates, new inputs),
	// not the answer of the plan before.
	c.Readiness = s.Gates.Evaluate(ctx, c, s.now())
	s.saveReadiness(ctx, c.ID, c.Readiness)
	return c, nil
}

// Delete removes a draft or cancelled campaign.
func (s *Service) Delete(ctx context.Context, id uint64) error {
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if c.Status != Draft && c.Status != Cancelled {
		return &TransitionError{From: c.Status, To: "deleted", Why: "only draft or cancelled campaigns can be deleted; cancel it first"}
	}
	return s.DB.WithContext(ctx).Delete(&Campaign{}, id).Error
}

// Schedule validates a draft for launch, moves it to scheduled under a new
// schedule version and enqueues its tasks.
func (s *Service) Schedule(ctx context.Context, id uint64, actor string) (*Campaign, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if c.Status != Draft {
		return nil, &TransitionError{From: c.Status, To: Scheduled, Why: "only a draft can be scheduled"}
	}
	if !c.EndsAt.After(now) {
		return nil, &TransitionError{From: c.Status, To: Scheduled, Why: fmt.Sprintf("its window ended at %s; change the dates first", c.LocalEnd().Format("Mon 2 Jan 2006, 15:04 MST"))}
	}
	reason := i18n.M("scheduled to go live at %s", i18n.Time{T: c.LocalStart(), Layout: "Mon 2 Jan 2006, 15:04 MST"})
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return move(tx, c, Scheduled, actor, reason, nil, now, map[string]any{"schedule_version": c.ScheduleVersion + 1, "next_attempt_at": nil})
	})
	if err != nil {
		return nil, err
	}
	s.enqueueSchedule(ctx, c)
	return c, nil
}

// Unschedule moves a scheduled or blocked campaign back to draft.
func (s *Service) Unschedule(ctx context.Context, id uint64, actor string) (*Campaign, error) {
	return s.simpleMove(ctx, id, Draft, actor, i18n.M("unscheduled; back to draft"), true)
}

// Pause suspends a live campaign.
func (s *Service) Pause(ctx context.Context, id uint64, actor, why string) (*Campaign, error) {
	if why == "" {
		return s.simpleMove(ctx, id, Paused, actor, i18n.M("paused"), false)
	}
	return s.simpleMove(ctx, id, Paused, actor, why, false)
}

// Cancel stops a campaign for good; its pending tasks become no-ops.
func (s *Service) Cancel(ctx context.Context, id uint64, actor, why string) (*Campaign, error) {
	if why == "" {
		return s.simpleMove(ctx, id, Cancelled, actor, i18n.M("cancelled"), true)
	}
	return s.simpleMove(ctx, id, Cancelled, actor, why, true)
}

func (s *Service) simpleMove(ctx context.Context, id uint64, to Status, actor string, why any, bump bool) (*Campaign, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !CanMove(c.Status, to) {
		return nil, &TransitionError{From: c.Status, To: to, Why: "not allowed from this state"}
	}
	extra := map[string]any{}
	if bump {
		extra["schedule_version"] = c.ScheduleVersion + 1
		extra["next_attempt_at"] = nil
	}
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return move(tx, c, to, actor, why, nil, s.now(), extra)
	})
	if err == nil {
		s.dispatchMoves(ctx, c)
	}
	return c, err
}

// GatesError is returned when a manual go-live or resume is refused.
type GatesError struct{ Report *Report }

func (e *GatesError) Error() string { return "campaigns: not ready: " + e.Report.Summary().String() }

// Text says what fails in lang.
func (e *GatesError) Text(lang string) string {
	return i18n.T(lang, "not ready: %s", e.Report.Summary())
}

// Resume puts a paused campaign back live, after its gates pass again.
func (s *Service) Resume(ctx context.Context, id uint64, actor string) (*Campaign, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Status != Paused {
		return nil, &TransitionError{From: c.Status, To: Live, Why: "only a paused campaign can be resumed"}
	}
	now := s.now()
	rep := s.Gates.Evaluate(ctx, c, now)
	if !rep.Ready {
		s.saveReadiness(ctx, c.ID, rep)
		return nil, &GatesError{Report: rep}
	}
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return move(tx, c, Live, actor, i18n.M("resumed: %s", rep.Summary()), rep.Results, now, map[string]any{"readiness": reportJSON(rep)})
	})
	if err == nil {
		s.dispatchMoves(ctx, c)
	}
	return c, err
}

// Readiness evaluates every gate of a campaign now, without storing
// anything: reading a campaign's readiness (a GET) changes nothing. Check
// stores what it finds.
func (s *Service) Readiness(ctx context.Context, id uint64) (*Campaign, *Report, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	rep := s.Gates.Evaluate(ctx, c, s.now())
	c.Readiness = rep
	return c, rep, nil
}

// Check evaluates every gate of a campaign now and acts on it ("Check now",
// re-check jobs): the readiness is stored, and a blocked campaign either
// goes live at once, every gate passing, or has its status_reason name what
// holds it now.
func (s *Service) Check(ctx context.Context, id uint64, actor string) (*Campaign, *Report, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	rep := s.Gates.Evaluate(ctx, c, s.now())
	if err := s.settle(ctx, c, rep, actor); err != nil {
		return nil, nil, err
	}
	if c, err = s.Get(ctx, id); err != nil {
		return nil, nil, err
	}
	c.Readiness = rep
	return c, rep, nil
}

// settle stores what an evaluation of c found: its readiness, and for a
// blocked campaign its go-live when every gate passes, or else the reasons
// that hold it now.
func (s *Service) settle(ctx context.Context, c *Campaign, rep *Report, actor string) error {
	if c.Status != Blocked {
		s.saveReadiness(ctx, c.ID, rep)
		return nil
	}
	if rep.Ready {
		return s.GoLive(ctx, c.ID, c.ScheduleVersion, actor)
	}
	why := i18n.M("blocked: %s", rep.Summary())
	return s.DB.WithContext(ctx).Model(&Campaign{}).Where("id = ? AND status = ? AND schedule_version = ?", c.ID, Blocked, c.ScheduleVersion).
		Updates(map[string]any{"readiness": reportJSON(rep), "status_reason": why.String(), "status_reason_texts": i18n.Render(why)}).Error
}

func (s *Service) saveReadiness(ctx context.Context, id uint64, rep *Report) {
	// Readiness is a cache of the last answer; losing the write loses nothing.
	s.DB.WithContext(ctx).Model(&Campaign{}).Where("id = ?", id).UpdateColumn("readiness", reportJSON(rep))
}

// readinessBatch is how many readiness writes share a transaction.
const readinessBatch = 250

// saveReadinesses stores reps[i] as the readiness of campaign ids[i],
// readinessBatch to a transaction. Like saveReadiness, a failed write is
// logged and loses nothing but the cache.
func (s *Service) saveReadinesses(ctx context.Context, ids []uint64, reps []*Report) {
	for lo := 0; lo < len(ids); lo += readinessBatch {
		hi := min(lo+readinessBatch, len(ids))
		err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for i := lo; i < hi; i++ {
				if err := tx.Model(&Campaign{}).Where("id = ?", ids[i]).UpdateColumn("readiness", reportJSON(reps[i])).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			slog.Warn("campaigns: store readiness", "campaigns", hi-lo, "err", err)
		}
	}
}

// reportJSON encodes a report for a column update (map updates bypass the
// field serializer).
func reportJSON(rep *Report) string {
	b, _ := json.Marshal(rep)
	return string(b)
}

// Linked returns the open campaigns (scheduled, blocked, live, paused) that
// link to a landing page (pageID) or a promotion (promotionID); 0 ignores one.
func (s *Service) Linked(ctx context.Context, pageID, promotionID uint64) ([]Campaign, error) {
	return s.linked(ctx, Link{PageID: pageID, PromotionID: promotionID})
}
