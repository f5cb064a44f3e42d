package campaigns

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// Outcome is a gate's answer.
type Outcome string

// Gate outcomes. Pending ("could not tell") holds a go-live exactly as Fail.
const (
	Pass    Outcome = "pass"
	Fail    Outcome = "fail"
	Warn    Outcome = "warn"
	Pending Outcome = "pending"
)

// Result is one gate's answer with the values it measured.
type Result struct {
	Gate      string         `json:"gate"`
	Outcome   Outcome        `json:"outcome"`
	Message   string         `json:"message"`
	CheckedAt time.Time      `json:"checked_at"`
	Measured  map[string]any `json:"measured,omitempty"`
}

// Report is the readiness of a campaign at one instant.
type Report struct {
	Ready     bool      `json:"ready"`
	CheckedAt time.Time `json:"checked_at"`
	Results   []Result  `json:"gates"`
}

// Failing returns the results that hold a go-live.
func (r *Report) Failing() []Result {
	var out []Result
	for _, g := range r.Results {
		if g.Outcome == Fail || g.Outcome == Pending {
			out = append(out, g)
		}
	}
	return out
}

// Summary is one sentence for status reasons and alerts.
func (r *Report) Summary() string {
	f := r.Failing()
	if len(f) == 0 {
		return fmt.Sprintf("all %d gates pass", len(r.Results))
	}
	parts := make([]string, len(f))
	for i, g := range f {
		parts[i] = g.Gate + " " + string(g.Outcome) + ": " + g.Message
	}
	return strings.Join(parts, "; ")
}

// Gate is a named readiness check. Other packages implement it and register
// with the Registry; a gate that cannot measure answers Pending.
type Gate interface {
	// Name is stable and dotted, e.g. "landing.published".
	Name() string
	// Channels the gate applies to; nil means every campaign.
	Channels() []Channel
	// Check answers for campaign c at instant now.
	Check(ctx context.Context, c *Campaign, now time.Time) Result
}

// Registry holds the gates. It is safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	gates   []Gate
	Timeout time.Duration
}

// Register adds a gate; a second gate with the same name replaces the first.
func (r *Registry) Register(g Gate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, old := range r.gates {
		if old.Name() == g.Name() {
			r.gates[i] = g
			return
		}
	}
	r.gates = append(r.gates, g)
	sort.SliceStable(r.gates, func(i, j int) bool { return r.gates[i].Name() < r.gates[j].Name() })
}

// Names lists the registered gates.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, len(r.gates))
	for i, g := range r.gates {
		out[i] = g.Name()
	}
	return out
}

func applies(g Gate, c *Campaign) bool {
	chs := g.Channels()
	if chs == nil {
		return true
	}
	for _, ch := range chs {
		if c.Has(ch) {
			return true
		}
	}
	return false
}

// Evaluate runs every applicable gate, concurrently; the results keep the
// gates' order. A gate that panics, overruns its
// timeout or answers an unknown outcome counts as Pending.
func (r *Registry) Evaluate(ctx context.Context, c *Campaign, now time.Time) *Report {
	r.mu.RLock()
	gates := append([]Gate(nil), r.gates...)
	r.mu.RUnlock()
	rep := &Report{Ready: true, CheckedAt: now}
	var run []Gate
	for _, g := range gates {
		if applies(g, c) {
			run = append(run, g)
		}
	}
	// The gates run side by side (each waits on its own reads): a report
	// takes as long as its slowest gate, not as their sum.
	rep.Results = make([]Result, len(run))
	var wg sync.WaitGroup
	for i, g := range run {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep.Results[i] = r.run(ctx, g, c, now)
		}()
	}
	wg.Wait()
	for _, res := range rep.Results {
		if res.Outcome == Fail || res.Outcome == Pending {
			rep.Ready = false
		}
	}
	return rep
}

func (r *Registry) run(ctx context.Context, g Gate, c *Campaign, now time.Time) (res Result) {
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan Result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				slog.Error("campaigns: gate panicked", "gate", g.Name(), "campaign_id", c.ID, "panic", p)
				done <- Result{Outcome: Pending, Message: fmt.Sprintf("could not tell: the check crashed (%v)", p)}
			}
		}()
		done <- g.Check(ctx, c, now)
	}()
	select {
	case res = <-done:
	case <-ctx.Done():
		res = Result{Outcome: Pending, Message: fmt.Sprintf("could not tell: the check did not answer within %s", timeout)}
	}
	res.Gate = g.Name()
	if res.CheckedAt.IsZero() {
		res.CheckedAt = now
	}
	switch res.Outcome {
	case Pass, Fail, Warn, Pending:
	default:
		res.Message = fmt.Sprintf("could not tell: unknown outcome %q (%s)", res.Outcome, res.Message)
		res.Outcome = Pending
	}
	return res
}

// GateFunc adapts a function to a Gate.
type GateFunc struct {
	GateName    string
	ForChannels []Channel
	Fn          func(ctx context.Context, c *Campaign, now time.Time) Result
}

// Name implements Gate.
func (g GateFunc) Name() string { return g.GateName }

// Channels implements Gate.
func (g GateFunc) Channels() []Channel { return g.ForChannels }

// Check implements Gate.
func (g GateFunc) Check(ctx context.Context, c *Campaign, now time.Time) Result {
	return g.Fn(ctx, c, now)
}

// ScheduleGate checks that the campaign window still lies ahead or around now.
var ScheduleGate = GateFunc{GateName: "schedule.valid", Fn: func(_ context.Context, c *Campaign, now time.Time) Result {
	m := map[string]any{"starts_at": c.StartsAt, "ends_at": c.EndsAt, "now": now, "time_zone": c.TimeZone}
	switch {
	case !c.EndsAt.After(c.StartsAt):
		return Result{Outcome: Fail, Message: "the end is not after the start", Measured: m}
	case !now.Before(c.EndsAt):
		return Result{Outcome: Fail, Message: fmt.Sprintf("the campaign window ended at %s", c.LocalEnd().Format("Mon 2 Jan 2006, 15:04 MST")), Measured: m}
	}
	left := c.EndsAt.Sub(now).Round(time.Minute)
	return Result{Outcome: Pass, Message: fmt.Sprintf("window %s → %s, %s left", c.LocalStart().Format("Jan 2 15:04"), c.LocalEnd().Format("Jan 2 15:04 MST"), left), Measured: m}
}}

// ChannelsGate checks that every channel of the campaign is configured: a
// budget above zero and every required forecast input of the channel above
// zero (an input with a documented default may be left out). A zero budget
// or a zero audience forecasts nothing and pays for nothing.
var ChannelsGate = GateFunc{GateName: "channels.configured", Fn: func(_ context.Context, c *Campaign, _ time.Time) Result {
	chs := c.Channels()
	if len(chs) == 0 {
		return Result{Outcome: Fail, Message: "the campaign has no channel"}
	}
	var missing []string
	for _, ch := range chs {
		if what := unconfigured(c, ch); len(what) > 0 {
			missing = append(missing, ch.Label()+": "+strings.Join(what, ", "))
		}
	}
	m := map[string]any{"channels": len(chs), "missing": missing}
	if len(missing) > 0 {
		return Result{Outcome: Fail, Message: strings.Join(missing, "; "), Measured: m}
	}
	return Result{Outcome: Pass, Message: fmt.Sprintf("%d channel(s) with a budget and their forecast inputs above zero", len(chs)), Measured: m}
}}

// unconfigured says what channel ch of c lacks.
func unconfigured(c *Campaign, ch Channel) []string {
	var out []string
	switch b, ok := c.Budgets[ch]; {
	case !ok:
		out = append(out, "no budget")
	case b <= 0:
		out = append(out, "budget is 0")
	}
	for _, f := range ForecastFields[ch] {
		if f.Optional {
			continue
		}
		switch v, ok := c.Forecast[ch][f.Key]; {
		case !ok:
			out = append(out, "forecast "+f.Key+" missing")
		case v <= 0:
			out = append(out, "forecast "+f.Key+" is 0")
		}
	}
	return out
}
