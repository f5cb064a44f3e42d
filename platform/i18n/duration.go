package i18n

import "time"

// Duration is a span of time as people write it, in the reader's
// language: "24 days 4 h", "2 h 27 min", "48 min" (never Go's
// "580h20m0s"). It keeps the two largest units, rounded down to the
// minute (to the second under a minute).
type Duration time.Duration

// Text writes the duration in lang.
func (d Duration) Text(lang string) string {
	t := time.Duration(d)
	if t < 0 {
		t = -t
	}
	days, hours := int(t/(24*time.Hour)), int(t%(24*time.Hour)/time.Hour)
	mins := int(t % time.Hour / time.Minute)
	switch {
	case days > 0 && hours > 0:
		return T(lang, "%s %s", M("%d days", days), M("%d h", hours))
	case days > 0:
		return T(lang, "%d days", days)
	case hours > 0 && mins > 0:
		return T(lang, "%d h %d min", hours, mins)
	case hours > 0:
		return T(lang, "%d h", hours)
	case mins > 0:
		return T(lang, "%d min", mins)
	}
	return T(lang, "%d s", int(t/time.Second))
}

// String is the English text.
func (d Duration) String() string { return d.Text(EN) }
