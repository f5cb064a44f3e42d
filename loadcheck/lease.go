package loadcheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/lease"
)

// One check runs at a time in the whole deployment. The lease is the
// running check's own row: a unique index allows one row with status
// "running", a worker claims a queued check by setting that status, and
// keeps it alive with a heartbeat every second. A row whose heartbeat is
// older than LostAfter belongs to a dead worker: the sweep marks it failed,
// which frees the slot. The heartbeat is written by the step's own loop
// (run.go), not by lease.Beat: it carries the step's live figures, and its
// answer (lost, abort requested) stops the attack in that same loop.

// DefaultLostAfter is how old a running check's heartbeat may be before its
// worker counts as lost.
const DefaultLostAfter = 15 * time.Second

// DefaultBusyRetry is how soon a check that found another one running is
// tried again.
const DefaultBusyRetry = 2 * time.Second

// ErrBusy is returned (wrapped in a BusyError) by Run when another check
// holds the slot; the task is retried later, the check stays queued.
var ErrBusy = errors.New("loadcheck: another check is running")

// BusyError names the check that is running.
type BusyError struct{ Running uint64 }

func (e *BusyError) Error() string {
	return fmt.Sprintf("loadcheck: waiting: check #%d is running", e.Running)
}

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// workerName names this process in the rows it claims.
var workerName = func() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s pid %d", h, os.Getpid())
}()

func (s *Store) lostAfter() time.Duration {
	if s.LostAfter > 0 {
		return s.LostAfter
	}
	return DefaultLostAfter
}

// stale selects running rows whose worker has sent no heartbeat since cutoff.
const stale = "status = 'running' AND (heartbeat_at < ? OR (heartbeat_at IS NULL AND started_at < ?))"

// Running is the check that holds the slot, or ErrNotFound.
func (s *Store) Running(ctx context.Context) (*Check, error) {
	return db.Take[Check](s.DB.WithContext(ctx).Where("status = ?", Running), ErrNotFound)
}

// Show loads a check for display: a queued one names the check it waits for.
func (s *Store) Show(ctx context.Context, id uint64) (*Check, error) {
	c, err := s.Get(ctx, id)
	if err != nil || c.Status != Queued {
		return c, err
	}
	if r, err := s.Running(ctx); err == nil && r.ID != c.ID {
		c.WaitingFor = r.ID
	}
	return c, nil
}

// step is where a check stood: the live step, or the one after its last result.
func (c *Check) step() int {
	if c.Live != nil && c.Live.Step > 0 {
		return c.Live.Step
	}
	return min(len(c.Results)+1, max(len(c.Steps), 1))
}

// SweepLost marks failed every running check whose worker has sent no
// heartbeat for LostAfter ("worker lost at step 2 …"). Workers run it at
// start, periodically, and before claiming a check.
func (s *Store) SweepLost(ctx context.Context) (int, error) {
	now := s.now()
	cutoff := now.Add(-s.lostAfter())
	var lost []Check
	if err := s.DB.WithContext(ctx).Where(stale, cutoff, cutoff).Find(&lost).Error; err != nil {
		return 0, err
	}
	n := 0
	for _, c := range lost {
		since := c.StartedAt
		if c.HeartbeatAt != nil {
			since = c.HeartbeatAt
		}
		var who any = c.Worker
		if c.Worker == "" {
			who = i18n.M("its worker")
		}
		reason := i18n.M("worker lost at step %d of %d: %s sent no heartbeat since %s", c.step(), len(c.Steps), who, since.UTC().Format(time.RFC3339))
		cols := verdict(Failed, reason)
		cols["finished_at"], cols["live"] = now, nil
		res := s.DB.WithContext(ctx).Model(&Check{}).Where("id = ? AND "+stale, c.ID, cutoff, cutoff).Updates(cols)
		if res.Error != nil {
			return n, res.Error
		}
		if res.RowsAffected > 0 {
			slog.Warn("loadcheck: worker lost", "check", c.ID, "reason", reason.String())
			n++
		}
	}
	return n, nil
}

// RequestAbort ends the check it names: a queued check, or one whose worker
// is lost, is marked aborted at once; a running one is flagged, and its
// worker, which reads the flag every second, stops it. A check that has
// already ended is refused, saying so.
func (s *Store) RequestAbort(ctx context.Context, id uint64) error {
	for range 3 { // the check may change state under us: look again
		c, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		now := s.now()
		cutoff := now.Add(-s.lostAfter())
		var res *gorm.DB
		switch c.Status {
		case Queued:
			res = s.DB.WithContext(ctx).Model(&Check{}).Where("id = ? AND status = ?", id, Queued).
				Updates(withCols(verdict(Aborted, i18n.M("aborted before it started")), map[string]any{"finished_at": now, "abort_requested": true}))
		case Running:
			res = s.DB.WithContext(ctx).Model(&Check{}).Where("id = ? AND "+stale, id, cutoff, cutoff).
				Updates(withCols(verdict(Aborted, i18n.M("aborted; its worker had been lost at step %d", c.step())),
					map[string]any{"finished_at": now, "abort_requested": true, "live": nil}))
			if res.Error == nil && res.RowsAffected == 0 {
				res = s.DB.WithContext(ctx).Model(&Check{}).Where("id = ? AND status = ?", id, Running).Update("abort_requested", true)
			}
		default:
			return &RefusedError{Why: fmt.Sprintf("check #%d has already ended (%s)", id, c.Status)}
		}
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
	}
	return fmt.Errorf("loadcheck: abort of check #%d: its state kept changing; try again", id)
}

// claim takes the deployment's one slot for a queued check. It reports
// false with no error when the check is no longer queued (run or aborted
// meanwhile), and a BusyError when another check holds the slot.
func (s *Service) claim(ctx context.Context, id uint64) (bool, error) {
	if n, err := s.Store.SweepLost(ctx); err != nil {
		return false, err
	} else if n > 0 {
		slog.Warn("loadcheck: marked checks of lost workers as failed", "checks", n)
	}
	now := s.now()
	res := s.Store.DB.WithContext(ctx).Model(&Check{}).Where("id = ? AND status = ?", id, Queued).
		Updates(map[string]any{"status": Running, "started_at": now, "heartbeat_at": now, "worker": workerName})
	if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
		running := uint64(0)
		if r, err := s.Store.Running(ctx); err == nil {
			running = r.ID
		}
		return false, &BusyError{Running: running}
	}
	return res.Error == nil && res.RowsAffected > 0, res.Error
}

// heartbeat stores the live progress and proves the worker alive. It
// reports lost when the row is no longer running (marked lost by a sweep, or
// aborted directly), and abort when an abort was requested.
func (s *Service) heartbeat(ctx context.Context, id uint64, live *Live) (lost, abort bool) {
	res := s.Store.DB.WithContext(ctx).Model(&Check{}).Where("id = ? AND status = ?", id, Running).
		Updates(map[string]any{"live": liveJSON(live), "heartbeat_at": s.now()})
	if res.Error == nil && res.RowsAffected == 0 {
		return true, false
	}
	s.Store.DB.WithContext(ctx).Model(&Check{}).Where("id = ?", id).Select("abort_requested").Scan(&abort)
	return false, abort
}

// RunSweeper, now and every interval until ctx ends, sweeps lost checks
// and re-enqueues the task of every check queued for more than a minute
// (Redis delivers, the database decides: a task lost with an in-process
// Redis's restart must not leave its check queued forever; enqueuing an
// existing task again is harmless).
func (s *Service) RunSweeper(ctx context.Context, every time.Duration) {
	s.sweep(ctx)
	lease.Every(ctx, every, s.sweep)
}

// sweep is one round of RunSweeper.
func (s *Service) sweep(ctx context.Context) {
	if _, err := s.Store.SweepLost(ctx); err != nil && ctx.Err() == nil {
		slog.Error("loadcheck: sweep of lost checks", "err", err)
	}
	var queued []Check
	s.Store.DB.WithContext(ctx).Where("status = ? AND created_at < ?", Queued, s.now().Add(-time.Minute)).Find(&queued)
	for i := range queued {
		if err := s.enqueue(ctx, &queued[i]); err != nil && ctx.Err() == nil {
			slog.Error("loadcheck: re-enqueue a queued check", "check", queued[i].ID, "err", err)
		}
	}
}

// NewServer builds the load-check worker: a queue of its own, one task at a
// time, and a check that finds the slot taken is retried after BusyRetry
// without counting as a failure, so it waits its turn however long.
func (s *Service) NewServer(r redis.UniversalClient, poll, delayed time.Duration) *asynq.Server {
	wait := s.BusyRetry
	if wait <= 0 {
		wait = DefaultBusyRetry
	}
	// A waiting check is retried after wait: its queue's due tasks are
	// moved at least that often, or the wait would stretch to the interval.
	delayed = min(delayed, wait)
	return asynq.NewServerFromRedisClient(r, asynq.Config{Concurrency: 1, Queues: map[string]int{Queue: 1},
		TaskCheckInterval: poll, DelayedTaskCheckInterval: delayed, ShutdownTimeout: 5 * time.Second, LogLevel: asynq.WarnLevel,
		IsFailure: func(err error) bool { return !errors.Is(err, ErrBusy) },
		RetryDelayFunc: func(n int, err error, t *asynq.Task) time.Duration {
			if errors.Is(err, ErrBusy) {
				return wait
			}
			return asynq.DefaultRetryDelayFunc(n, err, t)
		}})
}

// withCols adds more columns to cols.
func withCols(cols, more map[string]any) map[string]any {
	for k, v := range more {
		cols[k] = v
	}
	return cols
}
