package web

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// msgNone is how a measured value that is absent reads (never "<nil>").
var msgNone = i18n.Key("none")

// measuredLabels name the measured values of the built-in gates (English
// catalog keys); a value no label names shows its key.
var measuredLabels = map[string]string{
	"starts_at": i18n.Key("starts"), "ends_at": i18n.Key("ends"), "now": i18n.Key("checked at"), "time_zone": i18n.Key("time zone"),
	"channels": i18n.Key("channels"), "missing": i18n.Key("channels to set up"),
	"page_id": i18n.Key("page"), "slug": i18n.Key("address"), "version": i18n.Key("version"), "published_at": i18n.Key("published"),
	"promotions": i18n.Key("promotions"), "linked": i18n.Key("promotions linked"), "ready": i18n.Key("ready"), "problems": i18n.Key("problems"),
	"needed_rps": i18n.Key("needed (req/s)"), "forecast_peak_rps": i18n.Key("forecast peak (req/s)"), "safety_factor": i18n.Key("safety factor"),
	"peak_at": i18n.Key("peak at"), "peak_campaigns": i18n.Key("campaigns at the peak"), "check_id": i18n.Key("load check"),
	"sustained_rps": i18n.Key("sustained (req/s)"), "checked_at": i18n.Key("checked"),
	"feeds": i18n.Key("feeds"), "promoted_products_checked": i18n.Key("promoted products checked"), "as_of": i18n.Key("prices as of"),
	"mailable": i18n.Key("mailable"), "html_bytes": i18n.Key("HTML size (bytes)"), "links": i18n.Key("links"),
	"active_partners": i18n.Key("active partners"), "codes": i18n.Key("codes"), "bad": i18n.Key("codes that would not work"),
	"partners": i18n.Key("partners"), "without_current_kit": i18n.Key("without the current kit"), "late": i18n.Key("kit sent late"),
	"placements": i18n.Key("placements"), "creatives": i18n.Key("creatives"), "heaviest_bytes": i18n.Key("heaviest (bytes)"),
	"bytes": i18n.Key("size (bytes)"), "fails": i18n.Key("errors"), "warns": i18n.Key("advice"),
	"ad_groups": i18n.Key("ad groups"), "ads": i18n.Key("ads"), "keywords": i18n.Key("keywords"),
}

// countedOnly are the measured lists of sentences the gate's message
// already says in the reader's language: they show as a count.
var countedOnly = map[string]bool{"missing": true, "problems": true}

// measuredLabel names a measured value in lang: "excluded_bounced" reads
// "left out (bounced)".
func measuredLabel(lang, key string) string {
	if l, ok := measuredLabels[key]; ok {
		return i18n.T(lang, l)
	}
	if k, ok := strings.CutPrefix(key, "excluded_"); ok {
		return i18n.T(lang, "left out (%s)", i18n.M(k))
	}
	return key
}

// measured writes a gate's measured values as "label: value · label:
// value", sorted by key: numbers as lang writes them, instants in the
// campaign's zone, lists without brackets, absent values as "none".
func measured(lang string, m map[string]any, c *campaigns.Campaign) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	loc := time.UTC
	if c != nil {
		loc = c.Location()
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		if countedOnly[k] {
			v = lenOf(v)
		}
		parts = append(parts, i18n.T(lang, "%s: %s", measuredLabel(lang, k), measure(lang, v, loc)))
	}
	return strings.Join(parts, " · ")
}

func measure(lang string, v any, loc *time.Location) string {
	switch x := v.(type) {
	case nil:
		return i18n.T(lang, msgNone)
	case time.Time:
		return i18n.FormatTime(lang, x.In(loc), dateLayout)
	case *time.Time:
		if x == nil {
			return i18n.T(lang, msgNone)
		}
		return i18n.FormatTime(lang, x.In(loc), dateLayout)
	case string:
		// Read back from the audit log, an instant is RFC 3339 text.
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return i18n.FormatTime(lang, t.In(loc), dateLayout)
		}
		if x == "" {
			return i18n.T(lang, msgNone)
		}
		return x
	case float64:
		return number(lang, x)
	case float32:
		return number(lang, float64(x))
	case int, int64, int32, uint64, uint32, uint:
		return i18n.T(lang, "%d", x)
	case []any:
		if len(x) == 0 {
			return i18n.T(lang, msgNone)
		}
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = measure(lang, e, loc)
		}
		return strings.Join(out, ", ")
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return i18n.T(lang, msgNone)
		}
		return measure(lang, rv.Elem().Interface(), loc)
	case reflect.Slice:
		if rv.Len() == 0 {
			return i18n.T(lang, msgNone)
		}
		out := make([]string, rv.Len())
		for i := range out {
			out[i] = measure(lang, rv.Index(i).Interface(), loc)
		}
		return strings.Join(out, ", ")
	}
	return fmt.Sprint(v)
}

// number writes x as lang writes numbers: a whole number grouped
// ("1 500 000"), else with its decimals ("11,9").
func number(lang string, x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return i18n.T(lang, "%d", int64(x))
	}
	return i18n.T(lang, "%v", x)
}

// lenOf is the length of a list (0 for anything else).
func lenOf(v any) int {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
		return rv.Len()
	}
	return 0
}
