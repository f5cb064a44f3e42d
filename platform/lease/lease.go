// Package lease runs the loops that keep a claim alive and the periodic
// work of a worker: Beat renews a claim on an interval in a goroutine of its
// own until told to stop, and Every runs a function on an interval until
// its context ends. The claims themselves stay where they belong, in each
// domain's table (a conditional UPDATE, a unique index); so does the
// judgement of a stale one (a heartbeat older than the domain's TTL, read
// on the wall clock or the domain's Clock as it decides). Both loops tick
// on real time (a time.Ticker), whatever Clock a service is given.
package lease

import (
	"context"
	"log/slog"
	"time"
)

// Every calls fn every interval until ctx ends, the first time one
// interval from now (a caller that wants a round at once calls fn first).
// A round that overruns the interval delays the next, never overlaps it,
// and no round starts once ctx has ended.
func Every(ctx context.Context, every time.Duration, fn func(context.Context)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ctx.Err() != nil {
				return
			}
			fn(ctx)
		}
	}
}

// Beat calls renew every interval, the first time one interval from now
// (the claim was written when taken), until ctx ends or stop is called.
// stop returns once the beat has ended, so that the holder may then
// release its claim without a late renewal writing it back; calling it
// again returns at once. A renew error is logged, not fatal: the next beat
// tries again, and a claim lost meanwhile is for renew to notice (its
// conditional UPDATE then changes no row) and act on, e.g. by cancelling
// the work it guards.
func Beat(ctx context.Context, every time.Duration, renew func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Every(ctx, every, func(ctx context.Context) {
			if err := renew(ctx); err != nil && ctx.Err() == nil {
				slog.Warn("lease: renew failed; trying again at the next beat", "err", err)
			}
		})
	}()
	return func() { cancel(); <-done }
}
