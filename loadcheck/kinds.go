package loadcheck

import (
	"sort"
	"strconv"
	"strings"

	"github.com/rampe/rampe/platform/i18n"
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

// kindKeys mark the kinds as catalog keys (a kind is written with
// i18n.Text, "HTTP 503" as it is).
var _ = []string{i18n.Key(KindRefused), i18n.Key(KindTimeout), i18n.Key(KindReset), i18n.Key(KindDNS), i18n.Key(KindTLS),
	i18n.Key(KindRedirect), i18n.Key(KindPolicy), i18n.Key(KindOther)}

const ()

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
func (r StepResult) Why() i18n.Message {
	kinds := r.FailureKinds()
	if len(kinds) == 0 {
		return i18n.M("%s", r.SayBroken())
	}
	parts := make([]any, 0, 4)
	for _, k := range kinds[:min(3, len(kinds))] {
		parts = append(parts, i18n.M("%s %s", sharePct(k.Share), i18n.M(k.Kind)))
	}
	if len(kinds) > 3 {
		parts = append(parts, i18n.M("%d other kinds", len(kinds)-3))
	}
	return i18n.M("%s", i18n.Join{Parts: parts, Sep: ", "})
}

// sharePct writes a share as a whole percentage, "<1 %" for a few requests.
func sharePct(v float64) i18n.Message {
	switch p := v * 100; {
	case p > 0 && p < 1:
		return i18n.M("<%d %%", 1)
	default:
		return i18n.M("%.0f %%", p)
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
func (c *Check) Summary() i18n.Message {
	id := strconv.FormatUint(c.ID, 10)
	switch c.Status {
	case Failed:
		if s := c.FailedStep(); s != nil {
			return i18n.M("check #%s failed at %s of the target (%s req/s): %s", id, sharePct(s.Share), Rate(s.TargetRate), s.Why())
		}
		return i18n.M("check #%s failed: %s", id, c.Say())
	case Passed:
		return i18n.M("check #%s passed: %s req/s sustained", id, Rate(c.SustainedRate))
	}
	return i18n.M("check #%s %s", id, i18n.M(c.Status))
}
