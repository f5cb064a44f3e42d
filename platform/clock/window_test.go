package clock

import (
	"strings"
	"testing"
	"time"
)

// The one reader of campaign and promotion windows.
func TestParseWindow(t *testing.T) {
	paris, _ := Location("Europe/Paris")
	w, errs := ParseWindow("", "2026-11-27T08:00", "2026-11-30T23:59", "Europe/Paris")
	if len(errs) != 0 || w.Zone != paris || !w.Start.Equal(time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)) || w.Start.Location() != time.UTC {
		t.Fatalf("a plain window: %+v %v", w, errs)
	}
	if w, errs = ParseWindow("Europe/Paris", "2026-11-27T08:00:00Z", "2026-11-27T10:00:00+01:00", ""); len(errs) != 0 || !w.End.Equal(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("RFC 3339 instants: %+v %v", w, errs)
	}
	for _, tc := range []struct {
		zone, start, end string
		field, want      string
	}{
		{"Local", "2026-11-27T08:00", "2026-11-30T23:59", "time_zone", "the server's own zone"},
		{"Mars/Olympus", "2026-11-27T08:00", "2026-11-30T23:59", "time_zone", `unknown time zone "Mars/Olympus"`},
		{"Europe/Paris", " ", "2026-11-30T23:59", "starts_at", "is required"},
		{"Europe/Paris", "2026-11-27T08:00", "tomorrow", "ends_at", `"tomorrow" is not a date and time`},
		{"Europe/Paris", "2026-03-29T02:30", "2026-03-30T00:00", "starts_at", "does not exist in Europe/Paris"},
		{"Europe/Paris", "2026-11-27T08:00", "2026-11-27T08:00", "ends_at", "must be after the start (Fri 27 Nov 2026, 08:00 CET)"},
	} {
		_, errs := ParseWindow(tc.zone, tc.start, tc.end, "Europe/Paris")
		if got := errs.For(tc.field); !strings.Contains(got, tc.want) || len(errs) != 1 {
			t.Errorf("%q %q %q: %v, want one error on %s with %q", tc.zone, tc.start, tc.end, errs, tc.field, tc.want)
		}
	}
	// The hour repeated when clocks go back is its first occurrence (CEST).
	w, _ = ParseWindow("Europe/Paris", "2026-10-25T02:30", "2026-10-26T00:00", "")
	if want := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC); !w.Start.Equal(want) {
		t.Fatalf("ambiguous 02:30: %s, want %s", w.Start, want)
	}
}
