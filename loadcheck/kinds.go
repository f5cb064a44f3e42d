package loadcheck

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Kinds of failed requests, as a marketer reads them.
const (
	KindRefused  = "connection refused"
	KindTimeout  = "timeout"
	KindReset    = "connection reset"
	KindDNS      = "unknown host"
	KindTLS      = "TLS error"
	KindRedirect = "redirect refused"
	KindPolicy   = "address refused by the allow-list"
	KindOther    = "other error"
)

// errorKind names what went wrong with one request: an HTTP status of 400
// and above ("HTTP 503"), or the kind of its network error.
func errorKind(code uint16, err string) string {
	e := strings.ToLower(err)
	switch {
	case err == "" && code >= 400:
		return "HTTP " + strconv.Itoa(int(code))
	case err == "":
		return ""
	case strings.Contains(e, "loadcheck: refused"):
		return KindPolicy
	case strings.Contains(e, "connection refused"):
		return KindRefused
	case strings.Contains(e, "timeout") || strings.Contains(e, "deadline exceeded"):
		return KindTimeout
	case strings.Contains(e, "connection reset") || strings.Contains(e, "broken pipe") || strings.Contains(e, "eof"):
		return KindReset
	case strings.Contains(e, "no such host"):
		return KindDNS
	case strings.Contains(e, "tls") || strings.Contains(e, "x509"):
		return KindTLS
	case strings.Contains(e, "redirect"):
		return KindRedirect
	case code >= 400:
		return "HTTP " + strconv.Itoa(int(code))
	}
	return KindOther
}

// KindShare is one kind of failure and its share of a step's requests.
type KindShare struct {
	Kind  string
	Count uint64
	Share float64 // of the step's requests
}

// FailureKinds lists the kinds of failed requests of the step, most
// frequent first.
func (r StepResult) FailureKinds() []KindShare {
	out := make([]KindShare, 0, len(r.Kinds))
	for k, n := range r.Kinds {
		ks := KindShare{Kind: k, Count: n}
		if r.Requests > 0 {
			ks.Share = float64(n) / float64(r.Requests)
		}
		out = append(out, ks)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// Why says what failed in the step, by kind: "100 % connection refused",
// "62 % HTTP 503, 8 % timeout"; the threshold broken when no request
// failed (latency, rate).
func (r StepResult) Why() string {
	kinds := r.FailureKinds()
	if len(kinds) == 0 {
		return r.Broken
	}
	parts := make([]string, 0, 3)
	for _, k := range kinds[:min(3, len(kinds))] {
		parts = append(parts, fmt.Sprintf("%s %s", sharePct(k.Share), k.Kind))
	}
	if len(kinds) > 3 {
		parts = append(parts, fmt.Sprintf("%d other kinds", len(kinds)-3))
	}
	return strings.Join(parts, ", ")
}

// sharePct writes a share as a whole percentage, "<1 %" for a few requests.
func sharePct(v float64) string {
	switch p := v * 100; {
	case p > 0 && p < 1:
		return "<1 %"
	default:
		return fmt.Sprintf("%.0f %%", p)
	}
}

// FailedStep is the step that made the check fail, nil when none did.
func (c *Check) FailedStep() *StepResult {
	if c.Status != Failed {
		return nil
	}
	for i := range c.Results {
		if !c.Results[i].Held {
			return &c.Results[i]
		}
	}
	return nil
}

// Summary says in a line what the check found: "check #3 failed at 50 %:
// 100 % connection refused", "check #4 passed: 120 req/s sustained".
func (c *Check) Summary() string {
	switch c.Status {
	case Failed:
		if s := c.FailedStep(); s != nil {
			return fmt.Sprintf("check #%d failed at %s of the target (%s req/s): %s", c.ID, sharePct(s.Share), FormatRate(s.TargetRate), s.Why())
		}
		return fmt.Sprintf("check #%d failed: %s", c.ID, c.Reason)
	case Passed:
		return fmt.Sprintf("check #%d passed: %s req/s sustained", c.ID, FormatRate(c.SustainedRate))
	}
	return fmt.Sprintf("check #%d %s", c.ID, c.Status)
}
