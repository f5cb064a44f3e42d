package display

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/medama-io/go-useragent"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/flusher"
)

type counterKey struct{ placement, creative uint64 }

// counter is the impressions of one creative on one placement not yet
// written. It outlives snapshots: a rebuild keeps counting in it.
type counter struct {
	key        counterKey
	human, bot atomic.Int64
}

func (s *Service) counter(placement, creative uint64) *counter {
	k := counterKey{placement, creative}
	if c, ok := s.counters.Load(k); ok {
		return c.(*counter)
	}
	c, _ := s.counters.LoadOrStore(k, &counter{key: k})
	return c.(*counter)
}

// isBot marks requests of crawlers and scripts: an empty User-Agent (every
// browser sends one) or one the user-agent parser knows as a bot.
func (s *Service) isBot(ua []byte) bool {
	if len(ua) == 0 {
		return true
	}
	s.uaOnce.Do(func() { s.ua = useragent.NewParser() })
	return s.ua.Parse(string(ua)).IsBot()
}

// Flush writes the counted impressions, one transaction, added to the
// hour's row. What could not be written is counted again for the next
// flush.
func (s *Service) Flush(ctx context.Context) error {
	hour := s.now().Truncate(time.Hour)
	var rows []impressionRow
	var taken []*counter
	s.counters.Range(func(_, v any) bool {
		c := v.(*counter)
		h, b := c.human.Swap(0), c.bot.Swap(0)
		if h > 0 {
			rows = append(rows, impressionRow{PlacementID: c.key.placement, CreativeID: c.key.creative, Hour: hour, N: h})
		}
		if b > 0 {
			rows = append(rows, impressionRow{PlacementID: c.key.placement, CreativeID: c.key.creative, Hour: hour, Bot: true, N: b})
		}
		if h > 0 || b > 0 {
			taken = append(taken, c)
		}
		return true
	})
	if len(rows) == 0 {
		return nil
	}
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "placement_id"}, {Name: "creative_id"}, {Name: "hour"}, {Name: "bot"}},
			DoUpdates: clause.Assignments(map[string]any{"n": gorm.Expr("display_impressions.n + excluded.n")}),
		}).CreateInBatches(rows, db.InsertBatch).Error
	})
	if err != nil {
		for _, r := range rows {
			c := s.counter(r.PlacementID, r.CreativeID)
			if r.Bot {
				c.bot.Add(r.N)
			} else {
				c.human.Add(r.N)
			}
		}
		return fmt.Errorf("display: write impressions of %d counters: %w", len(taken), err)
	}
	return nil
}

// Run flushes every second until ctx ends, then once more and returns.
// Stop the web server first: the impressions of its last requests are in
// that last flush.
func (s *Service) Run(ctx context.Context) {
	done := make(chan struct{})
	s.mu.Lock()
	s.done = done
	s.mu.Unlock()
	defer close(done)
	flusher.Run(ctx, "display", time.Second, nil, s.Flush)
}

// Wait returns once Run has made its last flush.
func (s *Service) Wait() {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

// CreativeStats is a creative with its impressions and clicks.
type CreativeStats struct {
	Creative
	Impressions int64 `json:"impressions"`
	Bots        int64 `json:"bot_impressions"` // left out of Impressions
	Clicks      int64 `json:"clicks"`
}

// CTR is clicks per impression, in percent.
func (c CreativeStats) CTR() float64 {
	if c.Impressions == 0 {
		return 0
	}
	return 100 * float64(c.Clicks) / float64(c.Impressions)
}

// Stats lists a campaign's creatives with their impressions (written
// ones: up to a second behind) and clicks.
func (s *Service) Stats(ctx context.Context, campaignID uint64) ([]CreativeStats, error) {
	crs, err := s.Creatives(ctx, &campaignID)
	if err != nil || len(crs) == 0 {
		return nil, err
	}
	ids := make([]uint64, len(crs))
	for i, c := range crs {
		ids[i] = c.ID
	}
	var agg []struct {
		CreativeID uint64
		Bot        bool
		N          int64
	}
	err = s.DB.WithContext(ctx).Model(&impressionRow{}).Select("creative_id, bot, SUM(n) AS n").Where("creative_id IN ?", ids).
		Group("creative_id, bot").Scan(&agg).Error
	if err != nil {
		return nil, err
	}
	clicks := map[uint64]int64{}
	if s.Clicks != nil {
		links, err := s.Clicks.Stats(ctx, campaignID)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			clicks[l.ID] = l.Clicks
		}
	}
	out := make([]CreativeStats, len(crs))
	for i, c := range crs {
		out[i].Creative = c
		if c.LinkID != nil {
			out[i].Clicks = clicks[*c.LinkID]
		}
		for _, a := range agg {
			if a.CreativeID != c.ID {
				continue
			}
			if a.Bot {
				out[i].Bots += a.N
			} else {
				out[i].Impressions += a.N
			}
		}
	}
	return out, nil
}

// TotalImpressions is every impression written, bots included (the
// benchmark compares it with the responses it received).
func (s *Service) TotalImpressions(ctx context.Context) (int64, error) {
	var n int64
	return n, s.DB.WithContext(ctx).Model(&impressionRow{}).Select("COALESCE(SUM(n), 0)").Scan(&n).Error
}
