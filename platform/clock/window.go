package clock

import (
	"strings"
	"time"

	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// LocalLayout is how forms write a local date and time (datetime-local).
const LocalLayout = "2006-01-02T15:04"

// ParseLocal parses a date and time typed in loc (or an RFC 3339 instant),
// refusing times that do not exist (the hour skipped when clocks go
// forward). An ambiguous time (the hour repeated when clocks go back)
// resolves to its first occurrence. The instant is returned in UTC.
func ParseLocal(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{LocalLayout, "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		p, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t := time.Date(p.Year(), p.Month(), p.Day(), p.Hour(), p.Minute(), p.Second(), 0, loc)
		if t.Hour() != p.Hour() || t.Minute() != p.Minute() {
			return time.Time{}, i18n.Errorf("%s does not exist in %s (clocks go forward that night)", s, loc.String())
		}
		// Go may pick either instant of a repeated hour; take the first.
		for _, back := range []time.Duration{time.Hour, 30 * time.Minute} {
			if e := t.Add(-back); e.Hour() == p.Hour() && e.Minute() == p.Minute() && e.Day() == p.Day() {
				t = e
				break
			}
		}
		return t.UTC(), nil
	}
	return time.Time{}, i18n.Errorf("%q is not a date and time (want YYYY-MM-DDTHH:MM)", s)
}

// Zone reads a time zone field: an IANA name, or the error that names the
// field (the server's own zone, "Local", is refused with its own words).
// On error the zone is UTC, so that the other fields can still be checked.
func Zone(field, name string) (*time.Location, *validation.FieldError) {
	loc, err := Location(name)
	if err == nil {
		return loc, nil
	}
	var fe validation.FieldError
	if strings.EqualFold(name, "local") {
		fe = validation.Fieldf(field, "%q is the server's own zone, not an IANA time zone name; give one such as Europe/Paris", name)
	} else {
		fe = validation.Fieldf(field, "unknown time zone %q (IANA name, e.g. Europe/Paris)", name)
	}
	return time.UTC, &fe
}

// Window is a time window typed in a zone: a campaign's, a promotion's.
type Window struct {
	Zone       *time.Location
	Start, End time.Time // UTC
}

// ParseWindow is the one reader of a window's three fields, time_zone,
// starts_at and ends_at, as forms and the API give them (zone empty: zone
// defaultZone). It returns the window and every wrong field; a window
// that ends at or before its start is wrong on ends_at. Whatever the
// errors, the fields that parsed are set.
func ParseWindow(zone, start, end, defaultZone string) (Window, validation.Errors) {
	var errs validation.Errors
	zone = strings.TrimSpace(zone)
	if zone == "" {
		zone = defaultZone
	}
	var w Window
	var fe *validation.FieldError
	if w.Zone, fe = Zone("time_zone", zone); fe != nil {
		errs = append(errs, *fe)
	}
	read := func(field, s string) (time.Time, bool) {
		if strings.TrimSpace(s) == "" {
			errs = append(errs, validation.Fieldf(field, "is required"))
			return time.Time{}, false
		}
		t, err := ParseLocal(s, w.Zone)
		if err != nil {
			errs = append(errs, validation.Fieldf(field, "%v", err))
			return time.Time{}, false
		}
		return t, true
	}
	var okS, okE bool
	w.Start, okS = read("starts_at", start)
	w.End, okE = read("ends_at", end)
	if okS && okE && !w.End.After(w.Start) {
		// The start in the reader's language: "dim. 20 déc. 2026, 10:00 CET".
		start := i18n.Time{T: w.Start.In(w.Zone), Layout: "Mon 2 Jan 2006, 15:04 MST"}
		errs = append(errs, validation.Fieldf("ends_at", "must be after the start (%s)", start))
	}
	return w, errs
}
