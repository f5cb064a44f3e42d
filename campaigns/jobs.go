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

	"github.com/rampe/rampe/platform/queue"
)

// Task types owned by this package.
const (
	TypeGoLive  = "campaign:golive"
	TypeEnd     = "campaign:end"
	TypeRecheck = "campaign:recheck"
)

// Recheck horizons before the start.
var RecheckHorizons = []time.Duration{24 * time.Hour, time.Hour}

// FallbackDelay is how long after starts_at the per-campaign go-live task
// runs: the batch task of the instant normally puts the campaign live first,
// and this one is the guarantee if the batch was lost or failed.
const FallbackDelay = 2 * time.Second

// DefaultLead is Service.Lead for workers that poll Redis every second,
// the default jobs.poll_interval.
var DefaultLead = queue.Ahead(time.Second)

// taskRetention keeps finished tasks' IDs in Redis so that the reconciler
// enqueuing the same TaskID again is refused rather than run twice.
const taskRetention = 48 * time.Hour

type payload struct {
	CampaignID uint64 `json:"campaign_id"`
	Version    int    `json:"version"`
	Horizon    string `json:"horizon,omitempty"`
}

func task(typ string, p payload) *asynq.Task {
	b, _ := json.Marshal(p)
	return asynq.NewTask(typ, b)
}

// Task IDs are deterministic: campaign, schedule version and purpose.
func goLiveID(c *Campaign) string { return fmt.Sprintf("golive:%d:v%d", c.ID, c.ScheduleVersion) }
func endID(c *Campaign) string    { return fmt.Sprintf("end:%d:v%d", c.ID, c.ScheduleVersion) }
func recheckID(c *Campaign, h time.Duration) string {
	return fmt.Sprintf("recheck:%d:v%d:%s", c.ID, c.ScheduleVersion, h)
}
func retryID(c *Campaign, at time.Time) string {
	return fmt.Sprintf("golive:%d:v%d:retry:%d", c.ID, c.ScheduleVersion, at.Unix())
}

func (s *Service) enqueue(ctx context.Context, typ, id string, p payload, at time.Time, queueName string) {
	_, err := s.Tasks.Enqueue(ctx, task(typ, p), asynq.TaskID(id), asynq.ProcessAt(at),
		asynq.Queue(queueName), asynq.Retention(taskRetention), asynq.MaxRetry(20), asynq.Timeout(5*time.Minute))
	if err != nil {
		// The reconciler re-creates it from the database; log and go on.
		slog.Warn("campaigns: enqueue failed; the reconciler will retry", "task_id", id, "err", err)
	}
}

// enqueueSchedule enqueues go-live, end and the re-checks of c's current
// schedule version. Enqueuing twice is harmless.
func (s *Service) enqueueSchedule(ctx context.Context, c *Campaign) {
	s.enqueueDue(ctx, c, time.Time{})
}

// enqueueDue is enqueueSchedule for the tasks whose instant comes by dueBy
// (zero: all): a reconcile round of what is due soon enqueues those, not
// every task of a campaign that has one due (a few hundred Redis scripts a
// minute at 5,000 campaigns).
func (s *Service) enqueueDue(ctx context.Context, c *Campaign, dueBy time.Time) {
	due := func(at time.Time) bool { return dueBy.IsZero() || !at.After(dueBy) }
	p := payload{CampaignID: c.ID, Version: c.ScheduleVersion}
	now := s.Clock.Now()
	if c.Status == Scheduled {
		if due(c.StartsAt) {
			s.enqueueBatch(ctx, c.StartsAt)
			s.enqueue(ctx, TypeGoLive, goLiveID(c), p, c.StartsAt.Add(FallbackDelay), "critical")
		}
		for _, h := range RecheckHorizons {
			if at := c.StartsAt.Add(-h); at.After(now) && due(at) {
				rp := p
				rp.Horizon = h.String()
				s.enqueue(ctx, TypeRecheck, recheckID(c, h), rp, at, "default")
			}
		}
	}
	if c.Status == Blocked && c.NextAttemptAt != nil && due(*c.NextAttemptAt) {
		s.enqueue(ctx, TypeGoLive, retryID(c, *c.NextAttemptAt), p, *c.NextAttemptAt, "critical")
	}
	if due(c.EndsAt) {
		s.enqueue(ctx, TypeEnd, endID(c), p, c.EndsAt, "critical")
	}
}

// Register installs this package's task handlers on mux.
func (s *Service) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeGoLive, func(ctx context.Context, t *asynq.Task) error {
		p, err := decode(t)
		if err != nil {
			return err
		}
		return s.GoLive(ctx, p.CampaignID, p.Version, "worker")
	})
	mux.HandleFunc(TypeGoLiveBatch, s.handleBatch)
	mux.HandleFunc(TypeRecheckLinked, s.handleRecheckLinked)
	mux.HandleFunc(TypeChannelMoves, func(ctx context.Context, t *asynq.Task) error {
		var p movesPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("campaigns: bad channel moves payload: %v: %w", err, asynq.SkipRetry)
		}
		return s.runMovesOf(ctx, p.CampaignIDs)
	})
	mux.HandleFunc(TypeEnd, func(ctx context.Context, t *asynq.Task) error {
		p, err := decode(t)
		if err != nil {
			return err
		}
		return s.End(ctx, p.CampaignID, p.Version)
	})
	mux.HandleFunc(TypeRecheck, func(ctx context.Context, t *asynq.Task) error {
		p, err := decode(t)
		if err != nil {
			return err
		}
		return s.Recheck(ctx, p.CampaignID, p.Version, p.Horizon)
	})
}

func decode(t *asynq.Task) (payload, error) {
	var p payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.CampaignID == 0 {
		return p, fmt.Errorf("campaigns: bad payload for %s: %q: %w", t.Type(), t.Payload(), asynq.SkipRetry)
	}
	return p, nil
}

// GoLive re-evaluates every gate of a scheduled or blocked campaign and puts
// it live when all pass, or blocks it with the reasons. It is idempotent: a
// stale version, a campaign already live or one that moved elsewhere is a
// no-op, and two concurrent runs produce one transition.
func (s *Service) GoLive(ctx context.Context, id uint64, version int, actor string) error {
	c, err := s.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.With("campaign_id", id, "version", version)
	if c.ScheduleVersion != version {
		log.Debug("campaigns: go-live for a stale schedule version; nothing to do")
		return nil
	}
	if c.Status == Live {
		return nil // live already: its moves were recorded with the transition
	}
	if c.Status != Scheduled && c.Status != Blocked {
		return nil
	}
	now := s.Clock.Now()
	if now, err = s.waitFor(ctx, c.StartsAt); err != nil {
		return err
	} else if now.Before(c.StartsAt) {
		return nil // not this task's moment; the task at starts_at will come
	}
	// The batch of the instant (it takes scheduled campaigns only) may be
	// putting this one live: let it, and read the campaign again if it did.
	if c.Status == Scheduled {
		waited, err := s.waitForBatch(ctx, c.StartsAt)
		if err != nil {
			return err
		}
		if waited {
			if c, err = s.Get(ctx, id); errors.Is(err, ErrNotFound) {
				return nil
			} else if err != nil || c.ScheduleVersion != version || c.Status != Scheduled {
				return err
			}
			now = s.Clock.Now()
		}
	}
	if c.Status == Blocked && c.NextAttemptAt != nil {
		// A retry arriving a little ahead of its instant waits for it, so
		// that it finds its attempt due and queues the next one.
		if now, err = s.waitFor(ctx, *c.NextAttemptAt); err != nil {
			return err
		}
	}
	if !now.Before(c.EndsAt) {
		return nil // the end task closes it
	}
	rep := s.Gates.Evaluate(ctx, c, now)
	log.Info("campaigns: go-live gates evaluated", "ready", rep.Ready)
	if s.GoLiveHold > 0 {
		select {
		case <-time.After(s.GoLiveHold):
		case <-ctx.Done():
			return ctx.Err()
		}
		now = s.Clock.Now()
	}
	if rep.Ready {
		err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return move(tx, c, Live, actor, "went live: "+rep.Summary(), rep.Results, now,
				map[string]any{"readiness": reportJSON(rep), "next_attempt_at": nil})
		})
		if errors.Is(err, ErrConflict) {
			return nil // another run won the race
		}
		if err != nil {
			return err
		}
		log.Info("campaigns: live")
		s.dispatchMoves(ctx, c)
		return nil
	}
	return s.block(ctx, c, rep, actor, now)
}

// block records that c did not go live at now. A scheduled campaign moves
// to blocked (one audit line, one alert); a blocked one gets its reasons
// refreshed. The next attempt is one instant, next_attempt_at, and its task
// ID derives from it: only the run that writes a new next_attempt_at — the
// move to blocked, or the attempt that was due — queues it, so a blocked
// campaign has one retry chain per schedule version, whatever else (the
// per-campaign fallback, a re-check, a duplicate delivery) evaluates it.
func (s *Service) block(ctx context.Context, c *Campaign, rep *Report, actor string, now time.Time) error {
	var next *time.Time
	if c.RetryWhileBlocked {
		at := now.Add(s.RetryInterval).Truncate(time.Second)
		if at.Before(c.EndsAt) {
			next = &at
		}
	}
	reason := "blocked at go-live: " + rep.Summary()
	armed := false
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if c.Status == Blocked {
			var err error
			armed, err = refreshBlocked(tx, c, rep, "blocked: "+rep.Summary(), next, now)
			return err
		}
		if err := move(tx, c, Blocked, actor, reason, rep.Results, now, map[string]any{"readiness": reportJSON(rep), "next_attempt_at": next}); err != nil {
			return err
		}
		armed = true
		return raiseAlert(tx, c.ID, "blocked", fmt.Sprintf("%s did not go live: %s", c.Name, rep.Summary()), now)
	})
	if errors.Is(err, ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	slog.Warn("campaigns: blocked", "campaign_id", c.ID, "reasons", rep.Summary(), "next_attempt", next, "armed", armed)
	if armed && next != nil {
		c.Status, c.NextAttemptAt = Blocked, next
		s.enqueue(ctx, TypeGoLive, retryID(c, *next), payload{CampaignID: c.ID, Version: c.ScheduleVersion}, *next, "critical")
	}
	return nil
}

// refreshBlocked stores a still-blocked campaign's reasons. It sets the
// next attempt only when none is pending (next_attempt_at empty or due by
// now) and says whether it did: an attempt already queued for later is
// left alone, so no second chain starts.
func refreshBlocked(tx *gorm.DB, c *Campaign, rep *Report, reason string, next *time.Time, now time.Time) (bool, error) {
	cols := map[string]any{"readiness": reportJSON(rep), "status_reason": reason, "updated_at": now}
	guard := func() *gorm.DB {
		return tx.Model(&Campaign{}).Where("id = ? AND status = ? AND schedule_version = ?", c.ID, Blocked, c.ScheduleVersion)
	}
	withNext := map[string]any{"next_attempt_at": next}
	for k, v := range cols {
		withNext[k] = v
	}
	res := guard().Where("next_attempt_at IS NULL OR next_attempt_at <= ?", now).Updates(withNext)
	if res.Error != nil {
		return false, res.Error
	}
	if res.RowsAffected > 0 {
		return true, nil
	}
	res = guard().Updates(cols)
	if res.Error != nil {
		return false, res.Error
	}
	if res.RowsAffected == 0 {
		return false, ErrConflict
	}
	return false, nil
}

// End closes a campaign at the end of its window.
func (s *Service) End(ctx context.Context, id uint64, version int) error {
	c, err := s.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.ScheduleVersion != version || !CanMove(c.Status, Ended) || c.Status == Draft {
		return nil
	}
	now, err := s.waitFor(ctx, c.EndsAt)
	if err != nil {
		return err
	}
	if now.Before(c.EndsAt) {
		return nil // the plan was extended; its own end task will come
	}
	reason := "window ended"
	if c.Status == Scheduled || c.Status == Blocked {
		reason = "window ended without going live"
	}
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := move(tx, c, Ended, "worker", reason, nil, now, map[string]any{"next_attempt_at": nil}); err != nil {
			return err
		}
		if reason != "window ended" {
			return raiseAlert(tx, c.ID, "ended-unlaunched", fmt.Sprintf("%s ended without going live", c.Name), now)
		}
		return nil
	})
	if errors.Is(err, ErrConflict) {
		return nil
	}
	if err == nil {
		s.dispatchMoves(ctx, c)
	}
	return err
}

// Recheck evaluates the gates ahead of the start and raises an alert when the
// campaign would not go live if it started now.
func (s *Service) Recheck(ctx context.Context, id uint64, version int, horizon string) error {
	c, err := s.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.ScheduleVersion != version || c.Status != Scheduled {
		return nil
	}
	now := s.Clock.Now()
	rep := s.Gates.Evaluate(ctx, c, now)
	s.saveReadiness(ctx, id, rep)
	if rep.Ready {
		return nil
	}
	msg := fmt.Sprintf("%s starts in %s and is not ready: %s", c.Name, c.StartsAt.Sub(now).Round(time.Minute), rep.Summary())
	return raiseAlert(s.DB.WithContext(ctx), id, "recheck-"+horizon, msg, now)
}

// maxEarly bounds how long a handler waits for its instant when its task
// arrives ahead of time: the lead, asynq's rounding to the second, and a
// second of slack.
func (s *Service) maxEarly() time.Duration { return s.Lead + 2*time.Second }

// waitFor sleeps until at when it is at most maxEarly away: the go-live
// batch is made due Lead ahead of its instant, asynq schedules to the
// whole second (a task may arrive up to a second earlier still), and a
// campaign must never go live (or end) before its instant. It returns the
// time after waiting, which is still before at when at was too far.
func (s *Service) waitFor(ctx context.Context, at time.Time) (time.Time, error) {
	now := s.Clock.Now()
	early := at.Sub(now)
	if early <= 0 || early > s.maxEarly() {
		return now, nil
	}
	select {
	case <-time.After(early):
	case <-ctx.Done():
		return now, ctx.Err()
	}
	return s.Clock.Now(), nil
}
