package campaigns

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/rampe/rampe/platform/i18n"
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
	// Texts is Message in every language (platform/i18n), set by Answer
	// or from Msg; it is stored with the result, so a past answer reads in
	// French too.
	Texts i18n.Texts `json:"texts,omitempty"`
	// Msg, when a gate sets it instead of Message, is the sentence in
	// every language (an i18n.Message, i18n.Join…); the registry writes
	// Message (English) and Texts from it.
	Msg i18n.Localizer `json:"-"`
}

// Localize writes Message and Texts from Msg (nothing when Msg is nil).
func (r *Result) Localize() {
	if r.Msg == nil {
		return
	}
	r.Texts = i18n.Render(r.Msg)
	r.Message = r.Texts.String()
}

// Text is the sentence in lang (an i18n.Localizer, so {{text .}} reads it).
func (r Result) Text(lang string) string {
	if r.Msg != nil {
		return r.Msg.Text(lang)
	}
	return r.Say().Text(lang)
}

// Answer is a gate's result with a message users read: Message is its
// English, Texts every language.
func Answer(o Outcome, msg i18n.Message, measured map[string]any) Result {
	return Result{Outcome: o, Message: msg.String(), Texts: i18n.Render(msg), Measured: measured}
}

// Say is the result's message as the reader's language writes it (the
// English Message of a result stored before it had Texts).
func (r Result) Say() i18n.Localizer { return i18n.Stored(r.Texts, r.Message) }

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

// Summary is one sentence for status reasons and alerts: "all 5 gates
// pass", or each failing gate with its message.
func (r *Report) Summary() i18n.Message {
	f := r.Failing()
	if len(f) == 0 {
		return i18n.M("all %d gates pass", len(r.Results))
	}
	parts := make([]any, len(f))
	for i, g := range f {
		parts[i] = i18n.M("%s %s: %s", g.Gate, i18n.M(string(g.Outcome)), g.Say())
	}
	return i18n.M("%s", i18n.Join{Parts: parts, Sep: "; "})
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
				done <- Answer(Pending, i18n.M("could not tell: the check crashed (%s)", fmt.Sprint(p)), nil)
			}
		}()
		done <- g.Check(ctx, c, now)
	}()
	select {
	case res = <-done:
	case <-ctx.Done():
		res = Answer(Pending, i18n.M("could not tell: the check did not answer within %s", i18n.Duration(timeout)), nil)
	}
	res.Gate = g.Name()
	res.Localize()
	if res.CheckedAt.IsZero() {
		res.CheckedAt = now
	}
	switch res.Outcome {
	case Pass, Fail, Warn, Pending:
	default:
		res = Answer(Pending, i18n.M("could not tell: unknown outcome %q (%s)", string(res.Outcome), res.Say()), res.Measured)
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
		return Answer(Fail, i18n.M("the end is not after the start"), m)
	case !now.Before(c.EndsAt):
		return Answer(Fail, i18n.M("the campaign window ended at %s", i18n.Time{T: c.LocalEnd(), Layout: "Mon 2 Jan 2006, 15:04 MST"}), m)
	}
	left := c.EndsAt.Sub(now).Round(time.Minute)
	return Answer(Pass, i18n.M("window %s → %s, %s left", i18n.Time{T: c.LocalStart(), Layout: "2 Jan 15:04"}, i18n.Time{T: c.LocalEnd(), Layout: "2 Jan 15:04 MST"}, i18n.Duration(left)), m)
}}

// ChannelsGate checks that every channel of the campaign is configured: a
// budget above zero and every required forecast input of the channel above
// zero (an input with a documented default may be left out). A zero budget
// or a zero audience forecasts nothing and pays for nothing.
var ChannelsGate = GateFunc{GateName: "channels.configured", Fn: func(_ context.Context, c *Campaign, _ time.Time) Result {
	chs := c.Channels()
	if len(chs) == 0 {
		return Answer(Fail, i18n.M("the campaign has no channel"), nil)
	}
	var missing []string
	var says []any
	for _, ch := range chs {
		if what := unconfigured(c, ch); len(what) > 0 {
			say := i18n.M("%s: %s", i18n.M(ch.Label()), i18n.Join{Parts: what, Sep: ", "})
			missing = append(missing, say.String())
			says = append(says, say)
		}
	}
	m := map[string]any{"channels": len(chs), "missing": missing}
	if len(missing) > 0 {
		return Answer(Fail, i18n.M("%s", i18n.Join{Parts: says, Sep: "; "}), m)
	}
	return Answer(Pass, i18n.M("%d channel(s) with a budget and their forecast inputs above zero", len(chs)), m)
}}

// unconfigured says what channel ch of c lacks.
func unconfigured(c *Campaign, ch Channel) []any {
	var out []any
	switch b, ok := c.Budgets[ch]; {
	case !ok:
		out = append(out, i18n.M("no budget"))
	case b <= 0:
		out = append(out, i18n.M("budget is 0"))
	}
	for _, f := range ForecastFields[ch] {
		if f.Optional {
			continue
		}
		switch v, ok := c.Forecast[ch][f.Key]; {
		case !ok:
			out = append(out, i18n.M("forecast %s missing", f.Key))
		case v <= 0:
			out = append(out, i18n.M("forecast %s is 0", f.Key))
		}
	}
	return out
}
