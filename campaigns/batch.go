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
	"github.com/rampe/rampe/platform/db"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

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
}

func (s *Service) enqueueBatch(ctx context.Context, at time.Time) {
	b, _ := json.Marshal(batchPayload{At: at})
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
	due, next, err := s.loadDue(ctx, p.At, 0)
	if err != nil {
		return err
	}
	s.holdLease(ctx, p.At)
	beat, stopBeat := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-beat.Done():
				return
			case <-t.C:
				s.holdLease(beat, p.At)
			}
		}
	}()
	defer func() { stopBeat(); s.dropLease(context.WithoutCancel(ctx), p.At) }()
	now, err := s.waitFor(ctx, p.At)
	if err != nil {
		return err
	}
	if len(due) > 0 && !now.Before(p.At) {
		if _, err := s.goLiveLoaded(ctx, due, now, time.Now()); err != nil {
			return err
		}
		if next == 0 {
			return nil // every campaign of the instant was loaded
		}
	}
	_, err = s.GoLiveDue(ctx)
	return err
}

// GoLiveDue evaluates the gates of every scheduled campaign whose start has
// come, puts the ready ones live in a few transactions and blocks the
// others, batchLimit campaigns at a time in start order. It returns how many
// went live.
func (s *Service) GoLiveDue(ctx context.Context) (int, error) {
	now := s.Clock.Now()
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
			now := s.Clock.Now()
			var moved []Campaign
			res := tx.Model(&moved).Clauses(clause.Returning{Columns: []clause.Column{{Name: "id"}}}).
				Where("status = ? AND (id, schedule_version) IN ?", Scheduled, keys).
				Updates(map[string]any{"status": Live, "status_reason": batchReason, "readiness": nil, "next_attempt_at": nil, "updated_at": now})
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
					Reason: "went live: " + reports[i].Summary(), ScheduleVersion: c.ScheduleVersion, Gates: reports[i].Results}
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
				c.Status, c.StatusReason = Live, batchReason
			}
			transitionsTotal.WithLabelValues(string(Scheduled), string(Live)).Add(float64(len(moved)))
			went += len(moved)
			ids = ids[:0]
			for _, m := range moved {
				ids = append(ids, m.ID)
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
