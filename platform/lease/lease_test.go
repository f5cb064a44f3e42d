package lease_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/lease"
)

// The loops run on real time with short intervals; the tests wait for
// events (a renewal, a return), never for a duration.
const tick = time.Millisecond

// A beat renews again and again until stopped.
func TestBeatRenewsUntilStop(t *testing.T) {
	var n atomic.Int64
	third := make(chan struct{})
	stop := lease.Beat(context.Background(), tick, func(context.Context) error {
		if n.Add(1) == 3 {
			close(third)
		}
		return nil
	})
	<-third
	stop()
	after := n.Load()
	stop() // a second stop returns at once
	if got := n.Load(); got != after || after < 3 {
		t.Fatalf("renewals: %d when stopped, %d after; want at least 3, then none", after, got)
	}
}

// stop returns only once the renewal in flight has returned: the holder
// can release its claim without a late renewal writing it back.
func TestBeatStopWaitsForTheRenewalInFlight(t *testing.T) {
	var finished atomic.Bool
	inFlight := make(chan struct{})
	var once sync.Once
	stop := lease.Beat(context.Background(), tick, func(ctx context.Context) error {
		once.Do(func() { close(inFlight) })
		<-ctx.Done() // stop cancels the renewal's context...
		finished.Store(true)
		return ctx.Err()
	})
	<-inFlight
	stop()
	if !finished.Load() {
		t.Fatal("stop returned while a renewal was still running")
	}
}

// A failed renewal is logged and the beat goes on.
func TestBeatLogsRenewErrorsAndGoesOn(t *testing.T) {
	var buf syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)

	var n atomic.Int64
	third := make(chan struct{})
	stop := lease.Beat(context.Background(), tick, func(context.Context) error {
		if n.Add(1) == 3 {
			close(third)
		}
		return errors.New("database unreachable")
	})
	<-third
	stop()
	if out := buf.String(); !strings.Contains(out, "lease: renew failed") || !strings.Contains(out, "database unreachable") {
		t.Fatalf("log = %q, want the renew error", out)
	}
}

// The beat ends with its parent context: the renewal in flight sees it
// end, and stop then returns.
func TestBeatEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	inFlight, released := make(chan struct{}), make(chan error)
	var once sync.Once
	stop := lease.Beat(ctx, tick, func(rctx context.Context) error {
		once.Do(func() {
			close(inFlight)
			<-rctx.Done()
			released <- context.Cause(rctx)
		})
		return nil
	})
	<-inFlight
	cancel()
	if err := <-released; !errors.Is(err, context.Canceled) {
		t.Fatalf("renewal released by %v, want the parent's cancel", err)
	}
	stop()
}

// Every calls fn on each tick and returns when its context ends.
func TestEveryRunsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0 // only the loop's goroutine touches it until Every returns
	lease.Every(ctx, tick, func(ctx context.Context) {
		if n++; n == 3 {
			cancel()
		}
	})
	if n != 3 {
		t.Fatalf("fn ran %d times, want 3 (the third cancels)", n)
	}
}

// A context already ended runs no round.
func TestEveryWithEndedContextRunsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	lease.Every(ctx, tick, func(context.Context) { ran = true })
	if ran {
		t.Fatal("fn ran after its context ended")
	}
}

// syncBuffer is a bytes.Buffer safe for the beat's goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
