package campaigns

import (
	"strings"
	"testing"
	"time"
)

func validInput() Input {
	return Input{
		Name: "Black Friday", Channels: []string{"email", "seo"}, TimeZone: "Europe/Paris",
		StartsAt: "2026-11-27T08:00", EndsAt: "2026-11-30T23:59", Currency: "EUR",
		Budgets:  map[string]int64{"email": 150000, "seo": 90000},
		Forecast: map[string]map[string]float64{"email": {"audience": 200000, "open_rate": 0.25, "click_rate": 0.1}, "seo": {"sessions_per_day": 12000}},
	}
}

func TestBuildStoresUTCFromCampaignTimeZone(t *testing.T) {
	c, err := Build(validInput(), "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// 27 Nov in Paris is winter time, UTC+1.
	if want := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC); !c.StartsAt.Equal(want) || c.StartsAt.Location() != time.UTC {
		t.Fatalf("starts_at = %v, want %v in UTC", c.StartsAt, want)
	}
	if got := c.Channels(); len(got) != 2 || got[0] != SEO || got[1] != Email {
		t.Fatalf("channels = %v", got)
	}
	if c.TotalBudget() != 240000 {
		t.Fatalf("total budget = %d", c.TotalBudget())
	}
}

func TestBuildDST(t *testing.T) {
	in := validInput()
	// 29 March 2026, 02:30 does not exist in Paris (clocks jump 02:00 → 03:00).
	in.StartsAt, in.EndsAt = "2026-03-29T02:30", "2026-03-30T10:00"
	_, err := Build(in, "Europe/Paris")
	ve, ok := err.(ValidationError)
	if !ok || !strings.Contains(ve.For("starts_at"), "does not exist") {
		t.Fatalf("want starts_at refused as non-existent, got %v", err)
	}
	// 25 October 2026, 02:30 happens twice; the first (summer time, UTC+2) is taken.
	in.StartsAt, in.EndsAt = "2026-10-25T02:30", "2026-10-26T10:00"
	c, err := Build(in, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC); !c.StartsAt.Equal(want) {
		t.Fatalf("ambiguous time resolved to %v, want %v", c.StartsAt, want)
	}
	// A campaign across the change lasts its real duration.
	in.StartsAt, in.EndsAt = "2026-10-24T12:00", "2026-10-25T12:00"
	c, err = Build(in, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	if d := c.EndsAt.Sub(c.StartsAt); d != 25*time.Hour {
		t.Fatalf("duration across fall-back = %v, want 25h", d)
	}
}

func TestBuildNamesEveryBadField(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Input)
		field string
		msg   string
	}{
		{"no name", func(in *Input) { in.Name = "  " }, "name", "required"},
		{"huge name", func(in *Input) { in.Name = strings.Repeat("é", 201) }, "name", "201 characters"},
		{"no channel", func(in *Input) { in.Channels = nil; in.Budgets = nil; in.Forecast = nil }, "channels", "at least one"},
		{"bad channel", func(in *Input) { in.Channels = append(in.Channels, "tv") }, "channels", `"tv"`},
		{"bad zone", func(in *Input) { in.TimeZone = "Mars/Olympus" }, "time_zone", "Mars/Olympus"},
		{"bad start", func(in *Input) { in.StartsAt = "next friday" }, "starts_at", "next friday"},
		{"inverted", func(in *Input) { in.EndsAt = "2026-11-26T08:00" }, "ends_at", "after the start"},
		{"too long", func(in *Input) { in.EndsAt = "2028-01-01T00:00" }, "ends_at", "one year"},
		{"currency", func(in *Input) { in.Currency = "EURO" }, "currency", "ISO 4217"},
		{"negative budget", func(in *Input) { in.Budgets["email"] = -1 }, "budgets.email", "negative"},
		{"budget off-channel", func(in *Input) { in.Budgets["display"] = 5 }, "budgets.display", "does not run"},
		{"rate > 1", func(in *Input) { in.Forecast["email"]["open_rate"] = 1.5 }, "forecast.email.open_rate", "out of range"},
		{"unknown input", func(in *Input) { in.Forecast["seo"]["weird"] = 1 }, "forecast.seo.weird", "unknown"},
		{"feeds off-channel", func(in *Input) { in.FeedIDs = []uint64{1} }, "feed_ids", "price comparators"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := validInput()
			tc.edit(&in)
			_, err := Build(in, "Europe/Paris")
			ve, ok := err.(ValidationError)
			if !ok {
				t.Fatalf("want ValidationError, got %v", err)
			}
			if msg := ve.For(tc.field); !strings.Contains(msg, tc.msg) {
				t.Fatalf("field %s: message %q does not contain %q (all: %v)", tc.field, msg, tc.msg, ve)
			}
		})
	}
}

func TestStateMachine(t *testing.T) {
	legal := [][2]Status{{Draft, Scheduled}, {Scheduled, Live}, {Scheduled, Blocked}, {Blocked, Live}, {Live, Paused}, {Paused, Live}, {Live, Ended}, {Live, Cancelled}}
	for _, m := range legal {
		if !CanMove(m[0], m[1]) {
			t.Errorf("%s → %s should be legal", m[0], m[1])
		}
	}
	illegal := [][2]Status{{Draft, Live}, {Ended, Live}, {Cancelled, Scheduled}, {Live, Draft}, {Live, Scheduled}, {Draft, Ended}, {Paused, Blocked}}
	for _, m := range illegal {
		if CanMove(m[0], m[1]) {
			t.Errorf("%s → %s should be refused", m[0], m[1])
		}
	}
}
