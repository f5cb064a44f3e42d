package web

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
)

// chart geometry of the capacity calendar, in SVG user units.
const (
	chartW, chartH         = 1100.0, 280.0
	padL, padR, padT, padB = 56.0, 12.0, 16.0, 34.0
)

type dayBar struct {
	X, Y, W, H float64
	Label      string
	Title      string
}

type axisTick struct {
	Y     float64
	Label string
}

// niceMax rounds a maximum up to 1, 2 or 5 × a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// tickCount divides the axis of a niceMax top into round steps: 1 and 5
// × 10^k in fifths (0, 10, 20… 50), 2 × 10^k in quarters (0, 5… 20).
func tickCount(top float64) int {
	if lead := top / math.Pow(10, math.Floor(math.Log10(top))); math.Round(lead) == 2 {
		return 4
	}
	return 5
}

// showCapacity draws the next 30 days: the combined forecast of every
// planned or running campaign (the plan's curve, cached per plan version),
// hour by hour, with each day's peak and the campaigns that make it up
// (the largest by name, the others counted).
func (s *Server) showCapacity(c *fiber.Ctx) error {
	loc, err := clock.Location(s.Campaigns.DefaultTimeZone)
	if err != nil {
		loc = time.UTC
	}
	now := s.now().In(loc)
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	end := start.AddDate(0, 0, 30)
	hours := int(end.Sub(start).Hours())
	// The plan's curve is computed once per plan version; the campaigns
	// are counted in SQL.
	curve, err := s.Campaigns.PlanCurve(c.UserContext(), start, hours)
	if err != nil {
		return err
	}
	added, err := s.Campaigns.Count(c.UserContext(), campaigns.Filter{From: start.UTC(), To: end.UTC(), Statuses: campaigns.OpenStatuses}, 0)
	if err != nil {
		return err
	}
	peak := campaigns.Peak(curve)
	capacity := 0.0
	last, err := s.LoadChecks.Store.LastPassedAny(c.UserContext())
	if err == nil {
		capacity = last.SustainedRate
	} else if !errors.Is(err, loadcheck.ErrNotFound) {
		return err
	}
	top := niceMax(max(peak.RPS, capacity) * 1.1)
	plotW, plotH := chartW-padL-padR, chartH-padT-padB
	x := func(i int) float64 { return padL + plotW*float64(i)/float64(hours) }
	y := func(v float64) float64 { return padT + plotH*(1-v/top) }
	var pts strings.Builder
	for i, p := range curve {
		fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y(p.RPS))
	}
	lang := s.lang(c)
	var bars []dayBar
	for d := 0; d < 30; d++ {
		day := curve[d*hours/30 : (d+1)*hours/30]
		dp := campaigns.Peak(day)
		date := i18n.FormatTime(lang, start.AddDate(0, 0, d), "Mon 2 Jan")
		title := i18n.T(lang, "%s: peak %.0f req/s", date, dp.RPS)
		if dp.RPS > 0 {
			title = i18n.T(lang, "%s: peak %.0f req/s at %s", date, dp.RPS, dp.Start.In(loc).Format("15:04"))
			for _, part := range dp.Parts {
				title += "\n• " + i18n.T(lang, "%s: %.0f req/s", part.Campaign.Name, part.RPS)
			}
			if n := dp.Others(); n > 0 {
				title += "\n• " + i18n.T(lang, "and %d more campaigns", n)
			}
		}
		bx := x(d * hours / 30)
		bars = append(bars, dayBar{X: bx, Y: y(dp.RPS), W: plotW / 30, H: padT + plotH - y(dp.RPS), Label: start.AddDate(0, 0, d).Format("2"), Title: title})
	}
	var ticks []axisTick
	for i, n := 0, tickCount(top); i <= n; i++ {
		v := top * float64(i) / float64(n)
		ticks = append(ticks, axisTick{Y: y(v), Label: i18n.T(lang, "%.0f", v)})
	}
	var peakNames []string
	for _, part := range peak.Parts {
		peakNames = append(peakNames, part.Campaign.Name)
	}
	if n := peak.Others(); n > 0 {
		peakNames = append(peakNames, i18n.T(lang, "and %d more", n))
	}
	return s.render(c, "capacity", pageData{Title: i18n.M("Capacity"), Nav: "capacity", Data: map[string]any{
		"W": chartW, "H": chartH, "Points": pts.String(), "Bars": bars, "Ticks": ticks, "PadL": padL, "Right": chartW - padR, "Base": padT + plotH,
		"Peak": peak, "PeakAt": peak.Start.In(loc), "PeakNames": strings.Join(peakNames, ", "), "From": start, "To": end.AddDate(0, 0, -1),
		"Campaigns": added, "PeakCampaigns": peak.Campaigns, "Capacity": capacity, "CapacityY": y(capacity), "LastCheck": last, "Short": capacity > 0 && capacity < peak.RPS*s.LoadChecks.SafetyFactor, "Safety": s.LoadChecks.SafetyFactor, "Zone": loc.String(), "PagesPerVisit": campaigns.DefaultPagesPerVisit, "Factor": campaigns.PeakMinuteFactor}})
}
