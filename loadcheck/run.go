package loadcheck

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/rampe/rampe/platform/i18n"
)

// histogramBuckets are the latency bars of a step.
var histogramBuckets = vegeta.Buckets{0, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// FormatRate shows a rate as a person reads it: 4200 → "4200", 0.475 →
// "0.475" (the UI and the CLI write rates with it too).
func FormatRate(v float64) string { return fmtNumber(v) }

// pacer sends rate requests per second, fractional rates included: vegeta's
// ConstantPacer counts whole hits per period, so the period is stretched
// (0.475 req/s is 1 hit every 2.105 s). A rate that is not a positive
// number is refused: vegeta reads a frequency of 0 as "as fast as possible".
func pacer(rate float64) (vegeta.Pacer, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return nil, fmt.Errorf("rate %v req/s: a step's rate must be a number above 0", rate)
	}
	freq := math.Ceil(rate)
	return vegeta.Rate{Freq: int(freq), Per: time.Duration(freq / rate * float64(time.Second))}, nil
}

// stepErrors are the first distinct errors of a step, without the
// `Get "url": ` prefix the HTTP client puts on each.
func stepErrors(all []string) []string {
	var out []string
	for _, e := range all {
		if strings.HasPrefix(e, "Get \"") {
			if i := strings.Index(e, "\": "); i > 0 {
				e = e[i+3:]
			}
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
		if len(out) == 5 {
			break
		}
	}
	return out
}

// fmtMs shows milliseconds as a person reads them: 1,000 ms → "1000",
// 0.05 ms → "0.05", 12.345 → "12.3".
func fmtMs(v float64) string { return fmtNumber(v) }

// fmtNumber writes a measure whole from 100 on, with three significant
// digits below, never in exponent form.
func fmtNumber(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// visitorHeader is sent with every request of a check: a browser asks for
// compressed pages, so the site serves the bytes visitors get; and the
// merchant's analytics can tell the check's traffic apart. It is shared by
// the requests: vegeta copies it into each.
var visitorHeader = http.Header{
	"Accept-Encoding": {"gzip, deflate, br"},
	"User-Agent":      {"Rampe-LoadCheck/1 (+capacity check of a campaign's landing page)"},
}

// targeter sends the landing page, or an extra URL by weight.
func targeter(main string, extras []Extra) vegeta.Targeter {
	total := 1.0
	for _, e := range extras {
		total += e.Weight
	}
	return func(t *vegeta.Target) error {
		t.Method, t.URL, t.Header = http.MethodGet, main, visitorHeader
		pick := rand.Float64() * total
		for _, e := range extras {
			if pick -= e.Weight; pick < 0 {
				t.URL = e.URL
				break
			}
		}
		return nil
	}
}

// judge compares a step's metrics with the thresholds and names the first
// one broken.
func judge(m *vegeta.Metrics, target float64, th Thresholds) i18n.Message {
	errRatio := 1 - m.Success
	switch {
	case m.Requests == 0:
		return i18n.M("no request completed")
	case errRatio > th.MaxErrorRatio:
		if errs := stepErrors(m.Errors); len(errs) > 0 {
			return i18n.M("error ratio %.1f %% > %.1f %%: %s", errRatio*100, th.MaxErrorRatio*100, errs[0])
		}
		return i18n.M("error ratio %.1f %% > %.1f %%", errRatio*100, th.MaxErrorRatio*100)
	case ms(m.Latencies.P99) > th.MaxP99Ms:
		return i18n.M("p99 %s ms > %s ms", Rate(ms(m.Latencies.P99)), Rate(th.MaxP99Ms))
	case ms(m.Latencies.P95) > th.MaxP95Ms:
		return i18n.M("p95 %s ms > %s ms", Rate(ms(m.Latencies.P95)), Rate(th.MaxP95Ms))
	case m.Rate < 0.9*target:
		return i18n.M("only %s req/s could be sent of %s (the load generator is the limit; nothing is proven)", Rate(m.Rate), Rate(target))
	}
	return i18n.Message{}
}

// Rate is a measure (a rate, milliseconds) to write in a message: whole
// from 100 on, three significant digits below, as each language writes
// numbers ("12.5", "12,5").
type Rate float64

// Text writes the measure in lang.
func (r Rate) Text(lang string) string {
	if r >= 100 {
		return i18n.T(lang, "%.0f", float64(r))
	}
	// Three significant digits first: the printer reads a precision as
	// decimals, not digits.
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(r), 'g', 3, 64), 64)
	return i18n.T(lang, "%v", v)
}

// String is the English text.
func (r Rate) String() string { return fmtNumber(float64(r)) }

// clearlyBroken tells whether a running step has failed beyond doubt, so the
// attack stops early instead of hammering a site that is down.
func clearlyBroken(m *vegeta.Metrics, th Thresholds) bool {
	if m.Requests < 50 {
		return false
	}
	return 1-m.Success > 5*th.MaxErrorRatio+0.05 || ms(m.Latencies.P99) > 3*th.MaxP99Ms
}

// Run executes a queued check, step by step, storing progress every second.
// A check that is not queued (already run, aborted) is left alone; while
// another check runs anywhere in the deployment it returns a BusyError and
// the check stays queued.
func (s *Service) Run(ctx context.Context, id uint64) error {
	c, err := s.Store.Get(ctx, id)
	if err != nil || c.Status != Queued {
		return err
	}
	if ok, err := s.claim(ctx, id); !ok {
		return err
	}
	status, reason := Passed, i18n.Message{}
	// One client for every step: its keep-alive connections carry over
	// from step to step, and are closed when the check ends (a client per
	// step left the previous step's idle connections open on the site).
	client := s.Policy.client()
	defer client.CloseIdleConnections()
	for i, share := range c.Steps {
		rate := c.TargetRate * share
		// An attacker stops itself at the end of its attack: one per step.
		// 256 workers and keep-alive connections, started up front: spawning
		// workers on demand lagged behind the pacer (10k req/s asked, 8k
		// sent), and an unbounded pool makes the load generator, not the
		// site, the bottleneck on a small machine (bench/loadcheck).
		// Bodies are read off the wire and dropped (MaxBody 0): kept,
		// they were a 12 KB allocation per response, and with Go's own
		// Accept-Encoding they were also gunzipped — half the load
		// generator's CPU at 10k req/s (perf).
		// Every dial and redirect goes through the policy (Policy.client).
		attacker := vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(256), vegeta.MaxWorkers(256), vegeta.MaxBody(0))
		step, stop := s.step(ctx, c, attacker, i, rate)
		if stop == stopLost {
			// The row is no longer ours: a sweep found this worker lost,
			// or an abort ended it. Whatever it says now stands.
			slog.Warn("loadcheck: check ended elsewhere while running; stopped", "check", id, "step", i+1)
			return nil
		}
		step.Share = share
		c.Results = append(c.Results, step)
		if step.Held && step.Throughput() > c.SustainedRate {
			c.SustainedRate = step.Throughput()
		}
		s.Store.DB.WithContext(ctx).Model(&Check{}).Where("id = ? AND status = ?", id, Running).
			Updates(map[string]any{"results": resultsJSON(c.Results), "sustained_rate": c.SustainedRate, "heartbeat_at": s.now()})
		if stop == stopAborted {
			status, reason = Aborted, i18n.M("aborted during step %d (%s req/s)", i+1, Rate(rate))
			break
		}
		if !step.Held {
			if share <= 1 {
				status, reason = Failed, i18n.M("step %d of %d (%s req/s, %.0f %% of the target): %s", i+1, len(c.Steps), Rate(rate), share*100, step.SayBroken())
				if len(step.Kinds) > 0 {
					reason = i18n.M("step %d of %d (%s req/s, %.0f %% of the target): %s (%s)", i+1, len(c.Steps), Rate(rate), share*100, step.Why(), step.SayBroken())
				}
			} else {
				reason = i18n.M("the target held; beyond it, step %d (%s req/s) broke: %s", i+1, Rate(rate), step.SayBroken())
			}
			break
		}
	}
	if status == Passed && reason.Format == "" {
		reason = i18n.M("every step held up to %s req/s", Rate(c.TargetRate*c.Steps[len(c.Steps)-1]))
	}
	return s.finish(ctx, c, status, reason)
}

// finish stores a check's verdict, which frees the slot, unless the row
// stopped being this worker's meanwhile.
func (s *Service) finish(ctx context.Context, c *Check, status string, reason i18n.Message) error {
	ctx = context.WithoutCancel(ctx)
	res := s.Store.DB.WithContext(ctx).Model(&Check{}).Where("id = ? AND status = ?", c.ID, Running).
		Updates(withCols(verdict(status, reason), map[string]any{"finished_at": s.now(), "live": nil}))
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	slog.Info("loadcheck: finished", "check", c.ID, "status", status, "sustained", c.SustainedRate, "reason", reason.String())
	if status == Passed && s.Recheck != nil {
		s.Recheck(ctx, c.PageID, c.ID)
	}
	return nil
}

// Why a step stopped before its end.
const (
	stopAborted = "aborted" // asked to, or the worker is shutting down
	stopLost    = "lost"    // the row is no longer running: not ours any more
)

// Throughput is the successful requests per second of a step.
func (r StepResult) Throughput() float64 { return r.AchievedRate * (1 - r.ErrorRatio) }

// step attacks at rate for the check's step duration.
func (s *Service) step(ctx context.Context, c *Check, attacker *vegeta.Attacker, i int, rate float64) (StepResult, string) {
	out := StepResult{TargetRate: rate}
	pace, err := pacer(rate)
	if err != nil {
		out.Broken, out.BrokenTexts = err.Error(), i18n.Render(err)
		return out, ""
	}
	duration := time.Duration(c.StepSeconds) * time.Second
	var all, window vegeta.Metrics
	all.Histogram = &vegeta.Histogram{Buckets: histogramBuckets}
	results := attacker.Attack(targeter(c.URL, c.Extras), pace, duration, fmt.Sprintf("check-%d-step-%d", c.ID, i))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	start := time.Now()
	stop, early := "", false
	kinds := map[string]uint64{}
	for done := false; !done; {
		select {
		case r, ok := <-results:
			if !ok {
				done = true
				break
			}
			all.Add(r)
			window.Add(r)
			if k := errorKind(r.Code, r.Error); k != "" {
				kinds[k]++
			}
		case <-tick.C:
			window.Close()
			all.Close()
			live := &Live{Step: i + 1, Steps: len(c.Steps), TargetRate: rate, Rate: window.Rate, P95Ms: ms(all.Latencies.P95),
				P99Ms: ms(all.Latencies.P99), ErrorsPerS: window.Rate * (1 - window.Success), Elapsed: time.Since(start).Seconds()}
			window = vegeta.Metrics{}
			lost, abort := s.heartbeat(ctx, c.ID, live)
			if lost {
				stop = stopLost
				attacker.Stop()
			} else if abort || ctx.Err() != nil {
				stop = stopAborted
				attacker.Stop()
			} else if !early && time.Since(start) > 2*time.Second && clearlyBroken(&all, c.Thresholds) {
				early = true
				attacker.Stop()
			}
		}
	}
	all.Close()
	out = StepResult{TargetRate: rate, AchievedRate: all.Rate, Requests: all.Requests, ErrorRatio: 1 - all.Success,
		P50Ms: ms(all.Latencies.P50), P95Ms: ms(all.Latencies.P95), P99Ms: ms(all.Latencies.P99), MaxMs: ms(all.Latencies.Max),
		StatusCodes: all.StatusCodes, StoppedEarly: early, Errors: stepErrors(all.Errors)}
	if len(kinds) > 0 {
		out.Kinds = kinds
	}
	if all.Requests == 0 {
		out.ErrorRatio = 0
	}
	for j, n := range all.Histogram.Counts {
		b := Bucket{Count: n}
		if j+1 < len(histogramBuckets) {
			b.UpToMs = ms(histogramBuckets[j+1])
		}
		out.Histogram = append(out.Histogram, b)
	}
	broken := judge(&all, rate, c.Thresholds)
	if early && broken.Format == "" {
		broken = i18n.M("stopped early: thresholds clearly broken")
	}
	if broken.Format != "" {
		out.Broken, out.BrokenTexts = broken.String(), i18n.Render(broken)
	}
	out.Held = out.Broken == "" && stop == ""
	return out, stop
}
