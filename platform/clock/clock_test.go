package clock

import (
	"testing"
	"time"
)

func TestLocationIsLoadedOnceAndRefusesWhatIsNoZone(t *testing.T) {
	a, err := Location("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Location("Europe/Paris")
	if a != b {
		t.Fatal("Europe/Paris was loaded twice")
	}
	if off := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC).In(a).Format("-07:00"); off != "+02:00" {
		t.Fatalf("Paris in July is %s", off)
	}
	for _, bad := range []string{"Europe/Atlantis", "../../etc/passwd", "Europe/Paris\x00", "europe/paris"} {
		if _, err := Location(bad); err == nil {
			t.Errorf("%q accepted as a time zone", bad)
		}
		if _, kept := locations.Load(bad); kept {
			t.Errorf("%q kept in the cache", bad)
		}
	}
}

// A service's unset Clock is the wall clock, in UTC; a set one is itself.
func TestOrFallsBackToTheWallClock(t *testing.T) {
	before := time.Now()
	got := Or(nil).Now()
	if got.Location() != time.UTC || got.Before(before.Add(-time.Second)) || got.After(time.Now().Add(time.Second)) {
		t.Fatalf("Or(nil).Now() = %s, want the wall clock in UTC", got)
	}
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	f := NewFixed(at)
	if c := Or(f); c != f || !c.Now().Equal(at) {
		t.Fatalf("Or(fixed) = %v", c)
	}
}
