package web

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// forecastLines writes a channel's forecast inputs as the campaign form
// labels them, in the form's order: rates as percentages ("24 %"), other
// numbers as lang writes them ("1 500 000"). An input the form no longer
// has shows its key.
func forecastLines(lang string, ch campaigns.Channel, m map[string]float64) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range campaigns.ForecastFields[ch] {
		v, ok := m[f.Key]
		if !ok {
			continue
		}
		seen[f.Key] = true
		val := number(lang, v)
		if f.Max == 1 {
			val = i18n.T(lang, "%s %%", number(lang, math.Round(v*1e4)/100))
		}
		out = append(out, i18n.T(lang, "%s: %s", shortLabel(lang, f.Label), val))
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, i18n.T(lang, "%s: %s", k, number(lang, m[k])))
	}
	return out
}

// shortLabel is a form label in lang without its hint in brackets: "Open
// rate (22 % or 0.22)" reads "Open rate".
func shortLabel(lang, label string) string {
	s := i18n.T(lang, label)
	if i := strings.Index(s, " ("); i > 0 {
		return s[:i]
	}
	return s
}

func init() {
	// duration writes a span of time as people do ("2 h 5 min"), in the
	// page's language (the t function writes it).
	funcs["duration"] = func(d time.Duration) i18n.Duration { return i18n.Duration(d.Round(time.Second)) }
}
