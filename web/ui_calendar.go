package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
)

// calendarDay is one cell of the month grid.
type calendarDay struct {
	Date      time.Time
	InMonth   bool
	Today     bool
	Campaigns []calendarEntry
}

// calendarEntry is a campaign running on a day; Starts and Ends draw the
// rounded ends of its bar.
type calendarEntry struct {
	C            *campaigns.Campaign
	Starts, Ends bool
}

// monthGrid lays out the weeks (Monday first) covering month, with the
// campaigns running on each day in loc.
func monthGrid(month time.Time, list []campaigns.Campaign, loc *time.Location, now time.Time) [][]calendarDay {
	first := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, loc)
	offset := (int(first.Weekday()) + 6) % 7
	day := first.AddDate(0, 0, -offset)
	today := now.In(loc)
	var weeks [][]calendarDay
	for len(weeks) < 6 {
		week := make([]calendarDay, 7)
		for i := range week {
			next := day.AddDate(0, 0, 1)
			d := calendarDay{Date: day, InMonth: day.Month() == month.Month(),
				Today: day.Year() == today.Year() && day.YearDay() == today.YearDay()}
			for j := range list {
				c := &list[j]
				if c.StartsAt.Before(next) && c.EndsAt.After(day) {
					d.Campaigns = append(d.Campaigns, calendarEntry{C: c, Starts: !c.StartsAt.Before(day), Ends: !c.EndsAt.After(next)})
				}
			}
			week[i] = d
			day = next
		}
		weeks = append(weeks, week)
		if day.Month() != month.Month() && len(weeks) >= 4 {
			break
		}
	}
	return weeks
}

func (s *Server) showCalendar(c *fiber.Ctx) error {
	loc, err := clock.Location(s.Campaigns.DefaultTimeZone)
	if err != nil {
		loc = time.UTC
	}
	now := time.Now().In(loc)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	if m := c.Query("month"); m != "" {
		p, err := time.ParseInLocation("2006-01", m, loc)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "month: want YYYY-MM, got "+m)
		}
		month = p
	}
	f, ferr := listFilter(c)
	if ferr != nil {
		return fiber.NewError(fiber.StatusBadRequest, ferr.Error())
	}
	f.From = month.AddDate(0, 0, -7).UTC()
	f.To = month.AddDate(0, 1, 7).UTC()
	list, err := s.Campaigns.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	return s.render(c, "calendar", pageData{Title: "Calendar", Nav: "calendar", Data: map[string]any{
		"Weeks": monthGrid(month, list, loc, now), "Month": month, "Prev": month.AddDate(0, -1, 0).Format("2006-01"),
		"Next": month.AddDate(0, 1, 0).Format("2006-01"), "Zone": loc.String(), "Count": len(list),
		"Weekdays": []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}}})
}
