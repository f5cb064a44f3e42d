package campaigns

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/rampe/rampe/platform/lease"
)

// LateAfter is how long past its instant a go-live or end may stay undone
// before the reconciler enqueues a recovery task for it (a task lost with
// Redis, or held by a worker that died).
const LateAfter = 10 * time.Second

// Reconcile re-creates, from the database, every task that open campaigns
// need: go-live, end, re-checks and blocked retries. Task IDs are
// deterministic, so tasks still in Redis are left as they are; overdue work
// gets a recovery task with its own ID, and the handlers' idempotence makes a
// late duplicate a no-op. It returns how many campaigns it looked at.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	return s.reconcileWhere(ctx, Filter{})
}

// ReconcileDue is Reconcile for the campaigns with something to do by
// dueBy only: a round every minute then costs what is about to happen,
// not the whole plan (5,000 open campaigns kept a core 14 % busy).
func (s *Service) ReconcileDue(ctx context.Context, dueBy time.Time) (int, error) {
	return s.reconcileWhere(ctx, Filter{DueBy: dueBy})
}

func (s *Service) reconcileWhere(ctx context.Context, f Filter) (int, error) {
	now := s.now()
	n := 0
	f.Statuses = []Status{Scheduled, Blocked, Live, Paused}
	err := s.Each(ctx, f, func(open []Campaign) error {
		for i := range open {
			s.reconcile(ctx, &open[i], now, f.DueBy)
		}
		n += len(open)
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("campaigns: reconcile: %w", err)
	}
	return n, nil
}

// reconcile enqueues c's tasks due by dueBy (zero: all of them) and
// recovery tasks for what is late.
func (s *Service) reconcile(ctx context.Context, c *Campaign, now, dueBy time.Time) {
	p := payload{CampaignID: c.ID, Version: c.ScheduleVersion}
	s.enqueueDue(ctx, c, dueBy)
	if c.Status == Scheduled && now.Sub(c.StartsAt) > LateAfter {
		s.enqueue(ctx, TypeGoLive, goLiveID(c)+":late", p, now, "critical")
	}
	if c.Status == Blocked && c.NextAttemptAt != nil && now.Sub(*c.NextAttemptAt) > LateAfter {
		s.enqueue(ctx, TypeGoLive, retryID(c, *c.NextAttemptAt)+":late", p, now, "critical")
	}
	if now.Sub(c.EndsAt) > LateAfter {
		s.enqueue(ctx, TypeEnd, endID(c)+":late", p, now, "critical")
	}
}

// FullReconcileEvery is how often the reconciler looks at what is due
// within FullHorizon; its other rounds look at what is due within a few
// rounds. A task lost far ahead of its instant is re-created once it comes
// near, and a Redis that lost its data is reconciled at once
// (queue.WatchLoss).
const FullReconcileEvery = time.Hour

// FullHorizon is how far ahead the full round enqueues tasks.
const FullHorizon = 25 * time.Hour

// RunReconciler reconciles everything at once and every hour, and what
// is due soon every interval, until ctx ends.
func (s *Service) RunReconciler(ctx context.Context, interval time.Duration) {
	var lastFull time.Time
	round := func(ctx context.Context) {
		var err error
		if time.Since(lastFull) >= FullReconcileEvery {
			err, lastFull = s.ReconcileAll(ctx), time.Now()
		} else {
			_, err = s.ReconcileDue(ctx, s.now().Add(2*interval+s.Lead+LateAfter))
			if err == nil {
				_, err = s.ReconcileMoves(ctx)
			}
		}
		if err != nil {
			slog.Error("campaigns: reconcile failed", "err", err)
		}
	}
	round(ctx)
	lease.Every(ctx, interval, round)
}

// ReconcileAll re-creates the open campaigns' missing tasks due within
// FullHorizon and hands lost channel moves to a job again: RunReconciler's
// full round (at start and hourly), and what a worker does at once when
// Redis lost its data (queue.WatchLoss).
//
// Tasks further ahead are left to the rounds of what is due soon, which
// enqueue each task before its instant: the rounds of what is due soon enqueue each later task
// before its instant, and a full round enqueuing the whole plan's tasks
// (five Redis scripts per campaign, 25,000 at 5,000 campaigns) cost more
// CPU than everything else an idle server does.
func (s *Service) ReconcileAll(ctx context.Context) error {
	n, err := s.reconcileWhere(ctx, Filter{DueBy: s.now().Add(FullHorizon)})
	if err != nil {
		return err
	}
	slog.Debug("campaigns: reconciled", "campaigns", n)
	moved, err := s.ReconcileMoves(ctx)
	if err != nil {
		return fmt.Errorf("campaigns: reconcile channel moves: %w", err)
	}
	if moved > 0 {
		slog.Info("campaigns: channel moves handed to a job again", "campaigns", moved)
	}
	return nil
}
