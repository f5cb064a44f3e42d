package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
)

// The go-live path, in one file: the batch that puts live every campaign
// due at an instant (handleBatch, GoLiveDue, moveLive), the per-campaign
// task that guarantees it when no batch ran (GoLive), what a campaign that
// is not ready gets (block, refreshBlocked: its reasons and its one retry
// chain), and the wait for the instant itself (waitFor). The batch's lease
// is in batchlease.go; the task plumbing in jobs.go.

// TypeGoLiveBatch puts live, in one pass, every campaign due at one instant.
// Big operations start many campaigns at the same minute (Black Friday,
// 00:00); one task per campaign would write their transitions one by one.
// The per-campaign go-live tasks stay as the guarantee: whichever runs first
// wins, the other finds nothing to do. The batch is due Service.Lead before
// its instant and waits for it in the worker, so that it starts on time
// however rarely workers poll.
const TypeGoLiveBatch = "campaign:golive-batch"

// batchLimit is how many due campaigns one pass of a batch loads and
// evaluates at once; a batch makes as many passes as there are due
// campaigns. A variable so that tests can make it smaller than their data.
var batchLimit = 5000

func batchID(at time.Time) string { return fmt.Sprintf("golive-batch:%d", at.UnixNano()) }

type batchPayload struct {
	At time.Time `json:"at"`
	// Lead is how early the enqueuing node made the batch due: a worker
	// whose own Lead is shorter (a rolling upgrade, settings that differ)
	// still waits for the instant instead of finding it too far.
	Lead time.Duration `json:"lead,omitempty"`
}

func (s *Service) enqueueBatch(ctx context.Context, at time.Time) {
	b, _ := json.Marshal(batchPayload{At: at, Lead: s.Lead})
	_, err := s.Tasks.Enqueue(ctx, asynq.NewTask(TypeGoLiveBatch, b), asynq.TaskID(batchID(at)), asynq.ProcessAt(at.Add(-s.Lead)),
		asynq.Queue("critical"), asynq.Retention(taskRetention), asynq.MaxRetry(3), asynq.Timeout(5*time.Minute))
	if err != nil {
		slog.Warn("campaigns: enqueue go-live batch failed; per-campaign tasks remain", "at", at, "err", err)
	}
}

func (s *Service) handleBatch(ctx context.Context, t *asynq.Task) error {
	var p batchPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.At.IsZero() {
		return fmt.Errorf("campaigns: bad batch payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	// The campaigns of the instant are read while waiting for it: a plan
	// edited meanwhile bumps its version, which moveLive's update checks,
	// and the gates are evaluated only at the instant.
	due, _, err := s.loadDue(ctx, p.At, 0)
	if err != nil {
		return err
	}
	dropLease := s.holdLease(ctx, p.At)
	defer dropLease()
	now, err := s.waitWithin(ctx, p.At, max(s.Lead, p.Lead)+2*time.Second)
	if err != nil {
		return err
	}
	if len(due) > 0 && !now.Before(p.At) {
		if _, err := s.goLiveLoaded(ctx, due, now, time.Now()); err != nil {
			return err
		}
	}
	// One more pass finds what the read left out: the campaigns past the
	// first batchLimit, and any scheduled for the instant after the read
	// (within Lead of it), which would otherwise wait for their fallback
	// task, seconds late.
	_, err = s.GoLiveDue(ctx)
	return err
}

// GoLiveDue evaluates the gates of every scheduled campaign whose start has
// come, puts the ready ones live in a few transactions and blocks the
// others, batchLimit campaigns at a time in start order. It returns how many
// went live.
func (s *Service) GoLiveDue(ctx context.Context) (int, error) {
	now := s.now()
	var went int
	var last uint64
	for {
		n, next, err := s.goLivePass(ctx, now, last)
		went += n
		if err != nil || next == 0 {
			return went, err
		}
		last = next
	}
}

// goLivePass is one pass of GoLiveDue over the due campaigns after
// campaign last (0: from the first); next is the last campaign it loaded
// when more may follow, else 0.
func (s *Service) goLivePass(ctx context.Context, now time.Time, last uint64) (went int, next uint64, err error) {
	t0 := time.Now()
	due, next, err := s.loadDue(ctx, now, last)
	if err != nil || len(due) == 0 {
		return 0, 0, err
	}
	went, err = s.goLiveLoaded(ctx, due, now, t0)
	return went, next, err
}

// loadDue reads, with their promotion links, the scheduled campaigns due
// at now after campaign last, batchLimit at most; next is the last one read
// when more may follow, else 0.
func (s *Service) loadDue(ctx context.Context, now time.Time, last uint64) (due []Campaign, next uint64, err error) {
	q := s.DB.WithContext(ctx).Where("status = ? AND starts_at <= ? AND ends_at > ?", Scheduled, now, now)
	if err := after(q, last).Order("starts_at, id").Limit(batchLimit).Find(&due).Error; err != nil {
		return nil, 0, fmt.Errorf("campaigns: load due campaigns: %w", err)
	}
	if len(due) == batchLimit {
		next = due[len(due)-1].ID
	}
	if len(due) > 0 {
		if err := s.loadPromotions(ctx, due); err != nil {
			return nil, 0, err
		}
	}
	return due, next, nil
}

// goLiveLoaded evaluates the gates of loaded campaigns at now, puts the
// ready ones live and blocks the others.
func (s *Service) goLiveLoaded(ctx context.Context, due []Campaign, now, t0 time.Time) (went int, err error) {
	t1 := time.Now()
	reports := s.evaluateAll(ctx, due, now)
	t2 := time.Now()
	slog.Info("campaigns: go-live gates evaluated", "campaigns", len(due))
	if s.GoLiveHold > 0 {
		select {
		case <-time.After(s.GoLiveHold):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	var ready, blocked []int
	for i, rep := range reports {
		if rep.Ready {
			ready = append(ready, i)
		} else {
			blocked = append(blocked, i)
		}
	}
	went, err = s.moveLive(ctx, due, reports, ready)
	for _, i := range blocked {
		if berr := s.block(ctx, &due[i], reports[i], "worker", now); berr != nil {
			err = errors.Join(err, berr)
		}
	}
	slog.Info("campaigns: go-live batch", "due", len(due), "live", went, "blocked", len(blocked),
		"load", t1.Sub(t0), "gates", t2.Sub(t1), "total", time.Since(t0))
	return went, err
}

// evaluateAll runs the gates of many campaigns with bounded parallelism:
// later gates do I/O (HTTP, database), and a batch must not wait for them in
// sequence. The batch is one round (WithRound): what its gates read is
// read once for all its campaigns.
func (s *Service) evaluateAll(ctx context.Context, list []Campaign, now time.Time) []*Report {
	ctx = WithRound(ctx)
	out := make([]*Report, len(list))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range list {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = s.Gates.Evaluate(ctx, &list[i], now)
		}()
	}
	wg.Wait()
	return out
}

// moveLive writes the live transitions of the ready campaigns in chunks:
// per chunk, one UPDATE guarded by (id, schedule_version) and status, which
// returns the rows it moved, and one multi-row INSERT of their audit lines.
// A campaign another worker moved or rescheduled meanwhile is not returned
// and so not written twice. The readiness cache is cleared: the audit line
// holds the gate answers, and the campaign page re-evaluates on open.
func (s *Service) moveLive(ctx context.Context, list []Campaign, reports []*Report, ready []int) (int, error) {
	const chunk = 250
	went := 0
	var ids []uint64 // campaigns a chunk moved live, whose moves a job runs
	var first uint64
	for lo := 0; lo < len(ready); lo += chunk {
		part := ready[lo:min(lo+chunk, len(ready))]
		keys := make([][]any, len(part))
		byID := make(map[uint64]int, len(part))
		for j, i := range part {
			keys[j] = []any{list[i].ID, list[i].ScheduleVersion}
			byID[list[i].ID] = i
		}
		err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			now := s.now()
			var moved []Campaign
			res := tx.Model(&moved).Clauses(clause.Returning{Columns: []clause.Column{{Name: "id"}}}).
				Where("status = ? AND (id, schedule_version) IN ?", Scheduled, keys).
				Updates(map[string]any{"status": Live, "status_reason": batchReason, "status_reason_texts": i18n.Render(i18n.M(batchReason)), "readiness": nil, "next_attempt_at": nil, "updated_at": now})
			if res.Error != nil {
				return fmt.Errorf("campaigns: batch go-live: %w", res.Error)
			}
			if len(moved) == 0 {
				return nil
			}
			lines := make([]Transition, len(moved))
			for j, m := range moved {
				i := byID[m.ID]
				c := &list[i]
				lines[j] = Transition{CampaignID: c.ID, At: now, Actor: "worker", FromStatus: Scheduled, ToStatus: Live,
					Reason: "went live: " + reports[i].Summary().String(), ReasonTexts: i18n.Render(i18n.M("went live: %s", reports[i].Summary())), ScheduleVersion: c.ScheduleVersion, Gates: reports[i].Results}
			}
			if err := tx.CreateInBatches(lines, db.InsertBatch).Error; err != nil {
				return fmt.Errorf("campaigns: batch audit lines: %w", err)
			}
			var moves []ChannelMove
			for j, m := range moved {
				moves = movesOf(moves, &list[byID[m.ID]], lines[j].ID, MoveLaunch, lines[j].Reason, now)
			}
			if len(moves) > 0 {
				if err := tx.CreateInBatches(moves, db.InsertBatch).Error; err != nil {
					return fmt.Errorf("campaigns: batch channel moves: %w", err)
				}
			}
			for _, m := range moved {
				c := &list[byID[m.ID]]
				c.Status, c.StatusReason, c.StatusReasonTexts = Live, batchReason, i18n.Render(i18n.M(batchReason))
			}
			transitionsTotal.WithLabelValues(string(Scheduled), string(Live)).Add(float64(len(moved)))
			went += len(moved)
			ids = ids[:0]
			for _, m := range moved {
				ids = append(ids, m.ID)
			}
			if err := resolveOnLive(tx, ids, now); err != nil {
				return err
			}
			first = lines[0].ID
			return nil
		})
		if err != nil {
			return went, err
		}
		if len(ids) > 0 {
			s.enqueueMoves(ctx, slices.Clone(ids), fmt.Sprintf("moves:batch:t%d", first))
		}
	}
	return went, nil
}

const batchReason = "went live: every gate passed"

func (s *Service) loadPromotions(ctx context.Context, list []Campaign) error {
	ids := make([]uint64, len(list))
	idx := make(map[uint64]int, len(list))
	for i := range list {
		ids[i], idx[list[i].ID] = list[i].ID, i
	}
	var links []CampaignPromotion
	for lo := 0; lo < len(ids); lo += 500 {
		var part []CampaignPromotion
		if err := s.DB.WithContext(ctx).Where("campaign_id IN ?", ids[lo:min(lo+500, len(ids))]).Order("promotion_id").Find(&part).Error; err != nil {
			return fmt.Errorf("campaigns: load promotion links: %w", err)
		}
		links = append(links, part...)
	}
	for _, l := range links {
		c := &list[idx[l.CampaignID]]
		c.PromotionIDs = append(c.PromotionIDs, l.PromotionID)
	}
	for lo := 0; lo < len(ids); lo += 500 {
		var part []CampaignFeed
		if err := s.DB.WithContext(ctx).Where("campaign_id IN ?", ids[lo:min(lo+500, len(ids))]).Order("feed_id").Find(&part).Error; err != nil {
			return fmt.Errorf("campaigns: load feed links: %w", err)
		}
		for _, l := range part {
			c := &list[idx[l.CampaignID]]
			c.FeedIDs = append(c.FeedIDs, l.FeedID)
		}
	}
	return nil
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
	now := s.now()
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
			now = s.now()
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
		now = s.now()
	}
	if rep.Ready {
		err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return move(tx, c, Live, actor, i18n.M("went live: %s", rep.Summary()), rep.Results, now,
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
	reason := i18n.M("blocked at go-live: %s", rep.Summary())
	armed := false
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if c.Status == Blocked {
			var err error
			armed, err = refreshBlocked(tx, c, rep, i18n.M("blocked: %s", rep.Summary()), next, now)
			return err
		}
		if err := move(tx, c, Blocked, actor, reason, rep.Results, now, map[string]any{"readiness": reportJSON(rep), "next_attempt_at": next}); err != nil {
			return err
		}
		armed = true
		return raiseAlert(tx, c.ID, "blocked", i18n.M("%s did not go live: %s", c.Name, rep.Summary()), now)
	})
	if errors.Is(err, ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	slog.Warn("campaigns: blocked", "campaign_id", c.ID, "reasons", rep.Summary().String(), "next_attempt", next, "armed", armed)
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
func refreshBlocked(tx *gorm.DB, c *Campaign, rep *Report, why i18n.Message, next *time.Time, now time.Time) (bool, error) {
	cols := map[string]any{"readiness": reportJSON(rep), "status_reason": why.String(), "status_reason_texts": i18n.Render(why), "updated_at": now}
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
	return s.waitWithin(ctx, at, s.maxEarly())
}

// waitWithin is waitFor with its own bound on how early a task may be.
func (s *Service) waitWithin(ctx context.Context, at time.Time, maxEarly time.Duration) (time.Time, error) {
	now := s.now()
	early := at.Sub(now)
	if early <= 0 || early > maxEarly {
		return now, nil
	}
	select {
	case <-time.After(early):
	case <-ctx.Done():
		return now, ctx.Err()
	}
	return s.now(), nil
}
