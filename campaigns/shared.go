package campaigns

import (
	"context"
	"sync"
	"sync/atomic"
)

// A round is one evaluation of many campaigns' gates (a re-check of the
// campaigns linked to what changed): the gates of its campaigns read the
// same rows — the landing page, its last load checks, the promotions, the
// feeds — and a round reads each once. What a round keeps lives as long
// as the round: a later round reads afresh.
type round struct {
	mu    sync.Mutex
	m     map[string]*shared
	reads atomic.Int64
}

type shared struct {
	once sync.Once
	v    any
	err  error
}

type roundKey struct{}

// WithRound returns a context under which gates share what they read
// (Shared) until the round ends with the caller.
func WithRound(ctx context.Context) context.Context {
	return context.WithValue(ctx, roundKey{}, &round{m: map[string]*shared{}})
}

// Shared returns what read gives for key, read once per round: the first
// caller of a round reads, the others (concurrent ones wait) get its value
// or error. Outside a round it simply reads. key names what is read and
// every argument it depends on (e.g. "landing.page:12").
func Shared[T any](ctx context.Context, key string, read func() (T, error)) (T, error) {
	r, _ := ctx.Value(roundKey{}).(*round)
	if r == nil {
		return read()
	}
	r.mu.Lock()
	e := r.m[key]
	if e == nil {
		e = &shared{}
		r.m[key] = e
	}
	r.mu.Unlock()
	e.once.Do(func() {
		r.reads.Add(1)
		e.v, e.err = read()
	})
	v, _ := e.v.(T)
	return v, e.err
}

// roundReads is how many reads a round's Shared made (tests).
func roundReads(ctx context.Context) int64 {
	if r, _ := ctx.Value(roundKey{}).(*round); r != nil {
		return r.reads.Load()
	}
	return 0
}
