package campaigns

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
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

// holdLease takes or renews the lease of instant at.
func (s *Service) holdLease(ctx context.Context, at time.Time) {
	// Heartbeats are real time (not s.Clock): other processes judge them
	// stale after leaseStale of the wall clock.
	row := goliveBatch{Instant: at.UTC(), HeartbeatAt: time.Now().UTC()}
	// Without the lease the fallbacks only compete: correct, slower.
	_ = s.DB.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
}

// dropLease ends the lease of instant at.
func (s *Service) dropLease(ctx context.Context, at time.Time) {
	s.DB.WithContext(ctx).Where("instant = ?", at.UTC()).Delete(&goliveBatch{})
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
