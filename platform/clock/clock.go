// Package clock gives domain code a replaceable notion of "now" so that tests
// can pin time without sleeping. Every service that reads the time takes a
// Clock field (nil: System, through Or); cmd/rampe builds one System clock
// for the stack and gives that same value to every service. No struct
// carries a func() time.Time of its own (rule_test.go holds it).
package clock

import (
	"fmt"
	"sync"
	"time"
)

// Clock returns the current instant.
type Clock interface{ Now() time.Time }

// System is the wall clock, always in UTC.
type System struct{}

// Now returns time.Now in UTC.
func (System) Now() time.Time { return time.Now().UTC() }

// Or returns c, or the wall clock when c is nil: services take a Clock
// field that may be left unset, and read it as clock.Or(s.Clock).Now().
func Or(c Clock) Clock {
	if c == nil {
		return System{}
	}
	return c
}

// Fixed is a settable clock for tests.
type Fixed struct {
	mu sync.Mutex
	t  time.Time
}

// NewFixed returns a clock stopped at t.
func NewFixed(t time.Time) *Fixed { return &Fixed{t: t.UTC()} }

// Now returns the pinned instant.
func (f *Fixed) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }

// Set moves the clock to t.
func (f *Fixed) Set(t time.Time) { f.mu.Lock(); f.t = t.UTC(); f.mu.Unlock() }

// Add moves the clock by d.
func (f *Fixed) Add(d time.Duration) { f.mu.Lock(); f.t = f.t.Add(d); f.mu.Unlock() }

var locations sync.Map // IANA name → *time.Location

// Location is time.LoadLocation, remembered: LoadLocation reads and parses
// the zone's file each time (14 µs here), and campaigns convert to their
// time zone in every gate, every forecast hour and every page. Only zones
// that exist are kept, so the cache is bounded by the time zone database.
//
// Only IANA names are time zones here: "Local" (which LoadLocation reads as
// the server's own zone, different on every machine) is refused, as is "".
func Location(name string) (*time.Location, error) {
	if name == "Local" || name == "" {
		return nil, fmt.Errorf("clock: %q is not an IANA time zone name (e.g. Europe/Paris)", name)
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}
