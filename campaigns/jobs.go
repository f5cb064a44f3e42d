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

	"github.com/rampe/rampe/platform/i18n"
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

// DefaultLead is Service.Lead of a service that is not told its workers'
// polls (tests): workers that look for tasks and move due ones every
// second. rampe's own wiring sets queue.Ahead of its settings (7.5 s with
// the defaults).
var DefaultLead = queue.Ahead(time.Second, time.Second)

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
	now := s.now()
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
	reason, unlaunched := i18n.M("window ended"), c.Status == Scheduled || c.Status == Blocked
	if unlaunched {
		reason = i18n.M("window ended without going live")
	}
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := move(tx, c, Ended, "worker", reason, nil, now, map[string]any{"next_attempt_at": nil}); err != nil {
			return err
		}
		if unlaunched {
			return raiseAlert(tx, c.ID, "ended-unlaunched", i18n.M("%s ended without going live", c.Name), now)
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
	now := s.now()
	rep := s.Gates.Evaluate(ctx, c, now)
	s.saveReadiness(ctx, id, rep)
	if rep.Ready {
		return nil
	}
	msg := i18n.M("%s starts in %s and is not ready: %s", c.Name, i18n.Duration(c.StartsAt.Sub(now).Round(time.Minute)), rep.Summary())
	return raiseAlert(s.DB.WithContext(ctx), id, "recheck-"+horizon, msg, now)
}
