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
