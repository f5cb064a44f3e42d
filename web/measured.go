package web

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// msgNone is how a measured value that is absent reads (never "<nil>").
var msgNone = i18n.Key("none")

// measured writes a gate's measured values as "key=value · key=value",
// sorted by key: instants in the campaign's zone, lists without brackets,
// absent values as "none".
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
		parts = append(parts, k+"="+measure(lang, m[k], loc))
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
		return strconv.FormatFloat(x, 'f', -1, 64)
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
