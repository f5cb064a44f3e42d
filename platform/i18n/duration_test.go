package i18n

import (
	"testing"
	"time"
)

// A duration reads as people write it, in English and in French.
func TestDurationReadsAsPeopleWriteIt(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		en, fr string
	}{
		{580*time.Hour + 20*time.Minute, "24 days 4 h", "24 jours 4 h"},
		{48 * time.Hour, "2 days", "2 jours"},
		{25 * time.Hour, "1 day 1 h", "1 jour 1 h"},
		{100*time.Hour + 27*time.Minute, "4 days 4 h", "4 jours 4 h"},
		{2*time.Hour + 27*time.Minute, "2 h 27 min", "2 h 27 min"},
		{3 * time.Hour, "3 h", "3 h"},
		{9*time.Minute + 30*time.Second, "9 min", "9 min"},
		{42 * time.Second, "42 s", "42 s"},
	} {
		if got := Duration(c.d).Text(EN); got != c.en {
			t.Errorf("%v en: %q, want %q", c.d, got, c.en)
		}
		if got := Duration(c.d).Text(FR); got != c.fr {
			t.Errorf("%v fr: %q, want %q", c.d, got, c.fr)
		}
	}
	if got := T(FR, "%s left", Duration(48*time.Hour)); got == "" || Duration(time.Hour).String() != "1 h" {
		t.Errorf("a duration as an argument: %q", got)
	}
}
