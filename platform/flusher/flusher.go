// Package flusher runs the loop that writes buffered events (clicks,
// impressions) to the database: every interval, or at once when kicked,
// and a last time when its context ends.
package flusher

import (
	"context"
	"log/slog"
	"time"
)

// Run calls flush every interval, or as soon as kick receives (nil: never),
// until ctx ends; then it flushes once more and returns. A flush is not
// cut by the stop: cancelled in the middle of its commit, the driver may
// report a failure for a transaction the database has committed, and the
// batch would be written twice. A failed flush keeps its events for the
// next one (flush's own contract); name prefixes the log lines.
func Run(ctx context.Context, name string, every time.Duration, kick <-chan struct{}, flush func(context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := flush(fctx); err != nil {
				slog.Error(name+": last flush", "err", err)
			}
			cancel()
			return
		case <-t.C:
		case <-kick:
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := flush(fctx); err != nil {
			slog.Warn(name+": flush failed; kept for the next one", "err", err)
		}
		cancel()
	}
}
