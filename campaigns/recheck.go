package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/hibiken/asynq"

	"github.com/rampe/rampe/platform/i18n"
)

// TypeRecheckLinked re-checks the campaigns linked to something that
// changed (a landing page, a promotion, a feed).
const TypeRecheckLinked = "campaign:recheck-linked"

// Link names what changed: one of a landing page, a promotion or a
// comparator feed.
type Link struct {
	PageID      uint64 `json:"page_id,omitempty"`
	PromotionID uint64 `json:"promotion_id,omitempty"`
	FeedID      uint64 `json:"feed_id,omitempty"`
}

type recheckPayload struct {
	Link
	Why      string     `json:"why"`
	WhyTexts i18n.Texts `json:"why_texts,omitempty"`
}

// alertNames is how many campaigns an alert about many names; it counts
// the others.
const alertNames = 5

// linked returns the open campaigns (scheduled, blocked, live, paused) that
// link to l, in start order, with their promotion and feed links.
func (s *Service) linked(ctx context.Context, l Link) ([]Campaign, error) {
	q := s.DB.WithContext(ctx).Where("status IN ?", []Status{Scheduled, Blocked, Live, Paused}).Order("starts_at, id")
	switch {
	case l.PageID != 0:
		q = q.Where("landing_page_id = ?", l.PageID)
	case l.PromotionID != 0:
		q = q.Where("id IN (SELECT campaign_id FROM campaign_promotions WHERE promotion_id = ?)", l.PromotionID)
	case l.FeedID != 0:
		q = q.Where("id IN (SELECT campaign_id FROM campaign_feeds WHERE feed_id = ?)", l.FeedID)
	default:
		return nil, nil
	}
	var out []Campaign
	if err := q.Find(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	return out, s.loadPromotions(ctx, out)
}

// EnqueueRecheck queues the re-check of the campaigns linked to l, for the
// change key (e.g. "page:12:v3": a page and its version): the same change
// queued twice is re-checked once. Requests (a publish) return without
// waiting for hundreds of campaigns' gates.
func (s *Service) EnqueueRecheck(ctx context.Context, l Link, key string, why i18n.Message) {
	b, _ := json.Marshal(recheckPayload{Link: l, Why: why.String(), WhyTexts: i18n.Render(why)})
	id := "recheck-linked:" + key
	_, err := s.Tasks.Enqueue(ctx, asynq.NewTask(TypeRecheckLinked, b), asynq.TaskID(id), asynq.Queue("critical"),
		asynq.Retention(taskRetention), asynq.MaxRetry(10), asynq.Timeout(10*time.Minute))
	if err != nil {
		// Blocked campaigns still retry on their interval; live ones are
		// re-checked at the next change.
		slog.Warn("campaigns: enqueue re-check of linked campaigns failed", "task_id", id, "err", err)
	}
}

func (s *Service) handleRecheckLinked(ctx context.Context, t *asynq.Task) error {
	var p recheckPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Link == (Link{}) {
		return fmt.Errorf("campaigns: bad re-check payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	return s.RecheckLinked(ctx, p.Link, i18n.M("%s", i18n.Stored(p.WhyTexts, p.Why)))
}

// RecheckLinked re-evaluates the gates of the campaigns linked to l after
// it changed (why says how, e.g. "landing page /l/soldes changed"): each
// readiness is stored, a blocked campaign goes live at once if everything
// passes (or names what holds it now), and live or paused campaigns whose
// gates now fail raise one alert per failing gate, naming the first
// campaigns and counting the others.
func (s *Service) RecheckLinked(ctx context.Context, l Link, why i18n.Message) error {
	list, err := s.linked(ctx, l)
	if err != nil {
		return err
	}
	reps, err := s.evaluateRound(ctx, list)
	if err != nil {
		return err
	}
	failing := map[string][]*Campaign{}
	example := map[string]i18n.Message{}
	for i := range list {
		c, rep := &list[i], reps[i]
		if (c.Status != Live && c.Status != Paused) || rep.Ready {
			continue
		}
		for _, g := range rep.Failing() {
			if len(failing[g.Gate]) == 0 {
				example[g.Gate] = i18n.M("%s: %s", c.Name, g.Say())
			}
			failing[g.Gate] = append(failing[g.Gate], c)
		}
	}
	gates := make([]string, 0, len(failing))
	for g := range failing {
		gates = append(gates, g)
	}
	sort.Strings(gates)
	now := s.now()
	for _, g := range gates {
		if err := s.raiseOnce(ctx, failing[g][0].ID, causeMessage(why, g, failing[g], example[g]), now); err != nil {
			return err
		}
	}
	return nil
}

// RecheckWorkers is how many campaigns a re-check of linked campaigns
// evaluates at once.
var RecheckWorkers = 4

// evaluateRound evaluates and settles the gates of list in one round
// (WithRound: what the gates read is read once for all), RecheckWorkers at
// a time: the reports in list's order, and the first error of a
// settlement (the others are still settled).
func (s *Service) evaluateRound(ctx context.Context, list []Campaign) ([]*Report, error) {
	ctx = WithRound(ctx)
	now := s.now()
	reps := make([]*Report, len(list))
	errs := make([]error, len(list))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(max(RecheckWorkers, 1), len(list)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(list); i = int(next.Add(1)) - 1 {
				if err := ctx.Err(); err != nil {
					errs[i] = err
					continue
				}
				reps[i] = s.Gates.Evaluate(ctx, &list[i], now)
				if list[i].Status == Blocked {
					errs[i] = s.settle(ctx, &list[i], reps[i], "worker")
				}
			}
		}()
	}
	wg.Wait()
	slog.Debug("campaigns: round evaluated", "campaigns", len(list), "shared_reads", roundReads(ctx))
	// The others' readiness (a cache of the last answer) is written in a
	// few transactions, not one commit per campaign.
	var ids []uint64
	var done []*Report
	for i := range list {
		if list[i].Status != Blocked && reps[i] != nil {
			ids, done = append(ids, list[i].ID), append(done, reps[i])
		}
	}
	s.saveReadinesses(ctx, ids, done)
	for _, err := range errs {
		if err != nil {
			return reps, err
		}
	}
	return reps, nil
}

// raiseOnce raises a dependency alert unless the same one is still open (two
// re-checks of one cause, e.g. of a publish and of the unpublish after it,
// run late by a worker that was down).
// The check and the insert run in one transaction holding the campaign's
// row lock, so two re-checks running side by side raise it once.
func (s *Service) raiseOnce(ctx context.Context, campaignID uint64, msg i18n.Message, now time.Time) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("UPDATE campaigns SET id = id WHERE id = ?", campaignID).Error; err != nil {
			return err
		}
		var n int64
		err := tx.Model(&Alert{}).Where("campaign_id = ? AND kind = ? AND message = ? AND resolved_at IS NULL", campaignID, "dependency", msg.String()).
			Count(&n).Error
		if err != nil || n > 0 {
			return err
		}
		return raiseAlert(tx, campaignID, "dependency", msg, now)
	})
}

// causeMessage is one alert for every live campaign a change made fail
// gate: "landing page /l/x changed: 37 live or paused campaigns now fail
// landing.published — A, B, C, D, E and 32 more (A: …)".
func causeMessage(why i18n.Message, gate string, list []*Campaign, example i18n.Message) i18n.Message {
	var names []string
	for _, c := range list[:min(len(list), alertNames)] {
		names = append(names, c.Name)
	}
	who := i18n.M("%s", strings.Join(names, ", "))
	if len(list) > alertNames {
		who = i18n.M("%s and %d more", strings.Join(names, ", "), len(list)-alertNames)
	}
	return i18n.M("%s: %d live or paused campaigns now fail %s — %s (%s)", why, len(list), gate, who, example)
}
