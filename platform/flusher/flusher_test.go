package flusher

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunFlushesWhenKickedAndOnceMoreAtTheEnd(t *testing.T) {
	var calls, after atomic.Int32
	stopped := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	kick := make(chan struct{}, 1)
	flushed := make(chan struct{}, 10)
	go func() {
		defer close(stopped)
		Run(ctx, "test", time.Hour, kick, func(fctx context.Context) error {
			calls.Add(1)
			if ctx.Err() != nil {
				if fctx.Err() != nil {
					t.Error("the last flush got a cancelled context")
				}
				after.Add(1)
			}
			flushed <- struct{}{}
			return errors.New("database away") // kept by the caller; the loop goes on
		})
	}()
	kick <- struct{}{}
	select {
	case <-flushed:
	case <-time.After(5 * time.Second):
		t.Fatal("a kick did not flush")
	}
	cancel()
	<-stopped
	if calls.Load() != 2 || after.Load() != 1 {
		t.Fatalf("%d flushes, %d after the stop; want 2 and 1 (the kick's, the last)", calls.Load(), after.Load())
	}
}
