package web

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
)

// calendarPerDay is how many campaigns a day of the calendar names, the
// earliest started first; the day counts the others ("+N more").
const calendarPerDay = 8

// calendarGrid is a month of the calendar with its campaigns placed.
type calendarGrid struct {
	weeks [][]calendarDay
	count int
}

// calendarDay is one cell of the month grid.
type calendarDay struct {
	Date      time.Time
	InMonth   bool
	Today     bool
	Campaigns []calendarEntry
	// More is how many campaigns run on the day beyond Campaigns.
	More int
	next time.Time
}

// calendarEntry is a campaign running on a day; Starts and Ends draw the
// rounded ends of its bar.
type calendarEntry struct {
	C            *campaigns.Campaign
	Starts, Ends bool
}

// monthGrid lays out the weeks (Monday first) covering month in loc, with
// no campaign yet: place adds them.
func monthGrid(month time.Time, loc *time.Location, now time.Time) [][]calendarDay {
	first := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, loc)
	offset := (int(first.Weekday()) + 6) % 7
	day := first.AddDate(0, 0, -offset)
	today := now.In(loc)
	var weeks [][]calendarDay
	for len(weeks) < 6 {
		week := make([]calendarDay, 7)
		for i := range week {
			next := day.AddDate(0, 0, 1)
			week[i] = calendarDay{Date: day, InMonth: day.Month() == month.Month(), next: next,
				Today: day.Year() == today.Year() && day.YearDay() == today.YearDay()}
			day = next
		}
		weeks = append(weeks, week)
		if day.Month() != month.Month() && len(weeks) >= 4 {
			break
		}
	}
	return weeks
}

// place puts campaign c on every day of the grid it runs on, keeping per day
// the calendarPerDay that start first (then by id) and counting the rest.
func place(weeks [][]calendarDay, c *campaigns.Campaign) {
	for w := range weeks {
		for i := range weeks[w] {
			d := &weeks[w][i]
			if !c.StartsAt.Before(d.next) || !c.EndsAt.After(d.Date) {
				continue
			}
			e := calendarEntry{C: c, Starts: !c.StartsAt.Before(d.Date), Ends: !c.EndsAt.After(d.next)}
			j := len(d.Campaigns)
			for j > 0 && startsBefore(c, d.Campaigns[j-1].C) {
				j--
			}
			if j == calendarPerDay {
				d.More++
				continue
			}
			if len(d.Campaigns) == calendarPerDay {
				d.More++
				d.Campaigns = d.Campaigns[:calendarPerDay-1]
			}
			d.Campaigns = append(d.Campaigns, calendarEntry{})
			copy(d.Campaigns[j+1:], d.Campaigns[j:])
			d.Campaigns[j] = e
		}
	}
}

func startsBefore(a, b *campaigns.Campaign) bool {
	return a.StartsAt.Before(b.StartsAt) || a.StartsAt.Equal(b.StartsAt) && a.ID < b.ID
}

// showCalendar draws a month with every campaign running around it (read in
// batches, however many there are).
func (s *Server) showCalendar(c *fiber.Ctx) error {
	loc, err := clock.Location(s.Campaigns.DefaultTimeZone)
	if err != nil {
		loc = time.UTC
	}
	now := s.now().In(loc)
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
		return badInput(ferr)
	}
	f.From = month.AddDate(0, 0, -7).UTC()
	f.To = month.AddDate(0, 1, 7).UTC()
	// The grid is computed once per plan version (and day: today is
	// marked), however many times it is shown.
	key := fmt.Sprintf("calendar:%s:%s:%s:%s:%s", month.Format("2006-01"), loc, now.Format("2006-01-02"), f.Status, f.Channel)
	grid, err := campaigns.PlanCached(c.UserContext(), s.Campaigns, key, func() (calendarGrid, error) {
		g := calendarGrid{weeks: monthGrid(month, loc, now)}
		err := s.Campaigns.EachOutline(c.UserContext(), f, func(list []campaigns.Campaign) error {
			g.count += len(list)
			for i := range list {
				place(g.weeks, &list[i])
			}
			return nil
		})
		return g, err
	})
	if err != nil {
		return err
	}
	weeks, count := grid.weeks, grid.count
	return s.render(c, "calendar", pageData{Title: i18n.M("Calendar"), Nav: "calendar", Data: map[string]any{
		"Weeks": weeks, "Month": month, "Prev": month.AddDate(0, -1, 0).Format("2006-01"),
		"Next": month.AddDate(0, 1, 0).Format("2006-01"), "Zone": loc.String(), "Count": count,
		"Weekdays": []string{i18n.Key("Mon"), i18n.Key("Tue"), i18n.Key("Wed"), i18n.Key("Thu"), i18n.Key("Fri"), i18n.Key("Sat"), i18n.Key("Sun")}}})
}
