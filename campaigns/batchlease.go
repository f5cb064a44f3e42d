package campaigns

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/platform/lease"
)

// A go-live batch holds a lease on its instant while it works (a row with a
// heartbeat, in the database so that every worker sees it). The
// per-campaign go-live tasks of the instant, due FallbackDelay after it,
// wait while the lease is alive instead of racing the batch for the same
// rows: with thousands of campaigns at one instant, twenty workers going
// live one campaign at a time beside the batch slowed both (10,000 at one
// instant on PostgreSQL: p99 7.4 s). A batch that died leaves a lease
// whose heartbeat stops, and the tasks then do its work.
const (
	leaseStale   = 5 * time.Second
	leaseMaxWait = 2 * time.Minute
	leasePoll    = 100 * time.Millisecond
)

const batchLeaseMigration = `CREATE TABLE golive_batches (instant {{ts}} PRIMARY KEY, heartbeat_at {{ts}} NOT NULL)`

type goliveBatch struct {
	Instant     time.Time `gorm:"primaryKey"`
	HeartbeatAt time.Time
}

func (goliveBatch) TableName() string { return "golive_batches" }

// holdLease takes the lease of instant at and renews it every second
// until stop, which ends it. Without the lease the fallbacks only compete:
// correct, slower; a failed renewal is only logged.
func (s *Service) holdLease(ctx context.Context, at time.Time) (stop func()) {
	write := func(ctx context.Context) error {
		// Heartbeats are real time (not s.Clock): other processes judge
		// them stale after leaseStale of the wall clock.
		row := goliveBatch{Instant: at.UTC(), HeartbeatAt: time.Now().UTC()}
		if err := s.DB.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
			return fmt.Errorf("campaigns: go-live batch lease of %s: %w", at.UTC().Format(time.RFC3339Nano), err)
		}
		return nil
	}
	_ = write(ctx)
	stopBeat := lease.Beat(ctx, time.Second, write)
	return func() {
		stopBeat() // no renewal after this: the row stays deleted
		s.DB.WithContext(context.WithoutCancel(ctx)).Where("instant = ?", at.UTC()).Delete(&goliveBatch{})
	}
}

// waitForBatch waits while a live batch works on instant at, at most
// leaseMaxWait; it returns at once when there is none. waited says whether
// it waited (the campaign may have moved meanwhile). Like the heartbeats,
// the wait is in real time, whatever s.Clock says.
func (s *Service) waitForBatch(ctx context.Context, at time.Time) (waited bool, err error) {
	deadline := time.Now().Add(leaseMaxWait)
	for time.Now().Before(deadline) {
		var n int64
		err := s.DB.WithContext(ctx).Model(&goliveBatch{}).Where("instant = ? AND heartbeat_at > ?", at.UTC(), time.Now().UTC().Add(-leaseStale)).Count(&n).Error
		if err != nil || n == 0 {
			return waited, nil
		}
		waited = true
		select {
		case <-time.After(leasePoll):
		case <-ctx.Done():
			return waited, ctx.Err()
		}
	}
	return waited, nil
}
