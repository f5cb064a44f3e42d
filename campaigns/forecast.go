package campaigns

import (
	"math"
	"sort"
	"time"
)

// Forecast defaults, documented in the README.
const (
	DefaultPagesPerVisit = 4.0
	DefaultHalfLifeHours = 2.0
	// PeakMinuteFactor turns an hour's average rate into the rate of its
	// busiest minute: visits do not arrive evenly within an hour.
	PeakMinuteFactor = 2.0
)

// diurnal is the share of a day's visits in each local hour for channels
// that bring traffic all day (comparators, SEO/SEA, affiliation, display): a
// typical European e-commerce day, quiet at night, busy at lunch and in the
// evening. It sums to 1.
var diurnal = func() [24]float64 {
	w := [24]float64{0.8, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.8, 3.0, 4.0, 4.6, 5.0, 5.6, 5.8, 5.2, 4.8, 4.8, 5.0, 5.6, 6.6, 7.4, 7.6, 6.2, 3.4}
	var sum float64
	for _, v := range w {
		sum += v
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}()

func (c *Campaign) input(ch Channel, key string, def float64) float64 {
	if v, ok := c.Forecast[ch][key]; ok {
		return v
	}
	return def
}

// dailyVisits is the visits per day a channel brings, for channels that
// bring traffic all day.
func (c *Campaign) dailyVisits(ch Channel) float64 {
	switch ch {
	case Comparators:
		return c.input(ch, "daily_clicks", 0) * c.input(ch, "uplift", 1)
	case Affiliation, Display:
		return c.input(ch, "impressions", 0) * c.input(ch, "ctr", 0)
	case SEO:
		return c.input(ch, "sessions_per_day", 0)
	}
	return 0
}

// VisitsInHour is the visits a channel brings in the hour starting at h (UTC,
// on the hour): e-mail clicks decay exponentially after the send at
// starts_at with the given half-life; other channels spread their daily
// visits over the local hours of the day by the diurnal curve.
func (c *Campaign) VisitsInHour(ch Channel, h time.Time) float64 {
	end := h.Add(time.Hour)
	if !c.Has(ch) || !end.After(c.StartsAt) || !h.Before(c.EndsAt) {
		return 0
	}
	// The share of the hour inside the campaign window.
	from, to := h, end
	if c.StartsAt.After(from) {
		from = c.StartsAt
	}
	if c.EndsAt.Before(to) {
		to = c.EndsAt
	}
	if ch == Email {
		total := c.input(Email, "audience", 0) * c.input(Email, "open_rate", 0) * c.input(Email, "click_rate", 0)
		lambda := math.Ln2 / c.input(Email, "half_life_hours", DefaultHalfLifeHours)
		a, b := from.Sub(c.StartsAt).Hours(), to.Sub(c.StartsAt).Hours()
		return total * (math.Exp(-lambda*a) - math.Exp(-lambda*b))
	}
	share := to.Sub(from).Hours()
	curve := diurnal
	if p, ok := c.Forecast[ch]["peak_hour_share"]; ok {
		curve = shaped(p)
	}
	return c.dailyVisits(ch) * curve[h.In(c.Location()).Hour()] * share
}

// shaped returns the diurnal curve made flatter or peakier so that its
// busiest hour carries `peak` of the day: a blend of the typical day and a
// flat one (1/24 per hour), extrapolated past the typical day and clipped at
// zero, normalised; the blend factor is found by bisection since clipping
// bends the relation.
func shaped(peak float64) [24]float64 {
	blend := func(alpha float64) (out [24]float64, top float64) {
		var sum float64
		for i, v := range diurnal {
			out[i] = max(0, alpha*v+(1-alpha)/24)
			sum += out[i]
		}
		for i := range out {
			out[i] /= sum
			top = max(top, out[i])
		}
		return out, top
	}
	lo, hi := 0.0, 1000.0
	for range 60 {
		mid := (lo + hi) / 2
		if _, top := blend(mid); top < peak {
			lo = mid
		} else {
			hi = mid
		}
	}
	out, _ := blend((lo + hi) / 2)
	return out
}

// RequestsPerSecond is the campaign's peak-minute request rate during the
// hour starting at h: visits × pages per visit / 3600 × PeakMinuteFactor.
func (c *Campaign) RequestsPerSecond(h time.Time) float64 {
	var rps float64
	for _, ch := range c.Channels() {
		rps += c.VisitsInHour(ch, h) * c.input(ch, "pages_per_visit", DefaultPagesPerVisit) / 3600 * PeakMinuteFactor
	}
	return rps
}

// HourPoint is the combined forecast of one hour.
type HourPoint struct {
	Start time.Time
	RPS   float64
	// By campaign id, the campaigns that make up the hour, largest first.
	Parts []Part
}

// Part is one campaign's share of an hour.
type Part struct {
	Campaign *Campaign
	RPS      float64
}

// Curve adds up the forecasts of campaigns hour by hour from `from`
// (truncated to the hour) for `hours` hours.
func Curve(list []Campaign, from time.Time, hours int) []HourPoint {
	start := from.UTC().Truncate(time.Hour)
	out := make([]HourPoint, hours)
	for i := range out {
		h := start.Add(time.Duration(i) * time.Hour)
		p := HourPoint{Start: h}
		for j := range list {
			if r := list[j].RequestsPerSecond(h); r > 0 {
				p.RPS += r
				p.Parts = append(p.Parts, Part{Campaign: &list[j], RPS: r})
			}
		}
		sort.Slice(p.Parts, func(a, b int) bool { return p.Parts[a].RPS > p.Parts[b].RPS })
		out[i] = p
	}
	return out
}

// Peak returns the busiest hour of a curve.
func Peak(curve []HourPoint) HourPoint {
	var best HourPoint
	for _, p := range curve {
		if p.RPS > best.RPS {
			best = p
		}
	}
	return best
}

// PeakOf is a campaign's own busiest hour over its window.
func (c *Campaign) PeakOf() HourPoint {
	hours := int(math.Ceil(c.EndsAt.Sub(c.StartsAt.Truncate(time.Hour)).Hours()))
	return Peak(Curve([]Campaign{*c}, c.StartsAt, max(hours, 1)))
}
