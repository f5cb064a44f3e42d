package feeds

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func TestScheduleExprRoundTripsAndRunsInItsZone(t *testing.T) {
	for _, c := range []struct {
		s    Schedule
		expr string
	}{
		{Schedule{}, ""},
		{Schedule{Every: EveryHours, Hours: 6, Zone: "Europe/Paris"}, "CRON_TZ=Europe/Paris 0 */6 * * *"},
		{Schedule{Every: EveryDay, At: "09:30", Zone: "Europe/Paris"}, "CRON_TZ=Europe/Paris 30 9 * * *"},
		{Schedule{Every: EveryWeek, At: "07:05", Day: time.Monday, Zone: "America/New_York"}, "CRON_TZ=America/New_York 5 7 * * 1"},
		{Schedule{Every: EveryCron, Cron: "15 3 1 * *"}, "15 3 1 * *"},
	} {
		got, errs := c.s.Expr()
		if len(errs) > 0 || got != c.expr {
			t.Errorf("%+v: %q %v, want %q", c.s, got, errs, c.expr)
			continue
		}
		if got == "" {
			continue
		}
		if _, err := cron.ParseStandard(got); err != nil {
			t.Errorf("%q does not parse: %v", got, err)
		}
		if back := ParseSchedule(got, "Europe/Paris"); back != c.s && !(c.s.Every == EveryCron && back.Cron == c.s.Cron) {
			t.Errorf("ParseSchedule(%q) = %+v, want %+v", got, back, c.s)
		}
	}
	// Daily at 09:30 in Paris is 08:30 UTC in winter.
	expr, _ := Schedule{Every: EveryDay, At: "09:30", Zone: "Europe/Paris"}.Expr()
	sched, _ := cron.ParseStandard(expr)
	if next := sched.Next(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)); !next.Equal(time.Date(2026, 12, 3, 8, 30, 0, 0, time.UTC)) {
		t.Errorf("next run %s, want 08:30 UTC", next.UTC())
	}
	// An expression written by hand, and the demo's, read back.
	if s := ParseSchedule("0 */6 * * *", "Europe/Paris"); s.Every != EveryHours || s.Hours != 6 || s.Zone != "UTC" {
		t.Errorf("bare every-6-hours: %+v", s)
	}
	if s := ParseSchedule("*/5 * * * *", "Europe/Paris"); s.Every != EveryCron || s.Cron != "*/5 * * * *" {
		t.Errorf("other cron: %+v", s)
	}
}

func TestScheduleErrorsNameTheirField(t *testing.T) {
	for _, c := range []struct {
		s     Schedule
		field string
	}{
		{Schedule{Every: EveryHours, Hours: 0, Zone: "UTC"}, "schedule_hours"},
		{Schedule{Every: EveryHours, Hours: 25, Zone: "UTC"}, "schedule_hours"},
		{Schedule{Every: EveryDay, At: "25:00", Zone: "UTC"}, "schedule_at"},
		{Schedule{Every: EveryDay, At: "9h", Zone: "UTC"}, "schedule_at"},
		{Schedule{Every: EveryWeek, At: "09:00", Day: 9, Zone: "UTC"}, "schedule_day"},
		{Schedule{Every: EveryDay, At: "09:00", Zone: "Mars/Olympus"}, "schedule_zone"},
		{Schedule{Every: EveryCron, Cron: "soon"}, "cron"},
		{Schedule{Every: EveryCron}, "cron"},
		{Schedule{Every: "monthly"}, "schedule_every"},
	} {
		expr, errs := c.s.Expr()
		if expr != "" || len(errs) != 1 || errs[0].Field != c.field {
			t.Errorf("%+v: %q %v, want one error on %s", c.s, expr, errs, c.field)
		}
	}
}
