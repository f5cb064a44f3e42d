package campaigns

import (
	"math"
	"sync/atomic"
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
	if !c.Has(ch) {
		return 0
	}
	return c.prepare(nil).visits(c.prepareChannel(ch, nil), h)
}

// ChannelRequestsPerSecond is the peak-minute request rate channel ch of
// the campaign brings during the hour starting at h.
func (c *Campaign) ChannelRequestsPerSecond(ch Channel, h time.Time) float64 {
	if !c.Has(ch) {
		return 0
	}
	cf := c.prepareChannel(ch, nil)
	return (&forecast{c: c, loc: c.Location()}).visits(cf, h) * cf.perVisit
}

// RequestsPerSecond is the campaign's peak-minute request rate during the
// hour starting at h: visits × pages per visit / 3600 × PeakMinuteFactor.
func (c *Campaign) RequestsPerSecond(h time.Time) float64 {
	return c.prepare(nil).rps(h)
}

// forecast is a campaign's forecast made ready once for many hours: the
// inputs read, the arrival curve of each channel shaped, the time zone
// loaded. Hours then cost arithmetic only.
type forecast struct {
	c     *Campaign
	loc   *time.Location
	chans []channelForecast
}

type channelForecast struct {
	ch Channel
	// perVisit turns visits into requests/s: pages per visit / 3600 ×
	// PeakMinuteFactor.
	perVisit float64
	// e-mail: clicks in all and their decay rate.
	total, lambda float64
	// other channels: visits per day and their share per local hour.
	daily float64
	curve *[24]float64
}

// shapes memoises shaped curves by peak share within one computation.
type shapes map[float64]*[24]float64

// prepare reads c's forecast once; sh (nil: none) shares shaped curves
// between the campaigns of one computation.
func (c *Campaign) prepare(sh shapes) *forecast {
	f := &forecast{c: c, loc: c.Location()}
	for _, ch := range c.Channels() {
		f.chans = append(f.chans, c.prepareChannel(ch, sh))
	}
	return f
}

func (c *Campaign) prepareChannel(ch Channel, sh shapes) channelForecast {
	cf := channelForecast{ch: ch, perVisit: c.input(ch, "pages_per_visit", DefaultPagesPerVisit) / 3600 * PeakMinuteFactor}
	if ch == Email {
		cf.total = c.input(Email, "audience", 0) * c.input(Email, "open_rate", 0) * c.input(Email, "click_rate", 0)
		cf.lambda = math.Ln2 / c.input(Email, "half_life_hours", DefaultHalfLifeHours)
		return cf
	}
	cf.daily = c.dailyVisits(ch)
	cf.curve = &diurnal
	if p, ok := c.Forecast[ch]["peak_hour_share"]; ok {
		if cf.curve = sh[p]; cf.curve == nil {
			v := shaped(p)
			cf.curve = &v
			if sh != nil {
				sh[p] = cf.curve
			}
		}
	}
	return cf
}

// visits is what one channel brings in the hour starting at h.
func (f *forecast) visits(cf channelForecast, h time.Time) float64 {
	c := f.c
	end := h.Add(time.Hour)
	if !end.After(c.StartsAt) || !h.Before(c.EndsAt) {
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
	if cf.ch == Email {
		a, b := from.Sub(c.StartsAt).Hours(), to.Sub(c.StartsAt).Hours()
		return cf.total * (math.Exp(-cf.lambda*a) - math.Exp(-cf.lambda*b))
	}
	return cf.daily * cf.curve[h.In(f.loc).Hour()] * to.Sub(from).Hours()
}

func (f *forecast) rps(h time.Time) float64 {
	var rps float64
	for _, cf := range f.chans {
		rps += f.visits(cf, h) * cf.perVisit
	}
	return rps
}

// shapings counts the curves shaped, for tests of the memoisation.
var shapings atomic.Int64

// shaped returns the diurnal curve made flatter or peakier so that its
// busiest hour carries `peak` of the day: a blend of the typical day and a
// flat one (1/24 per hour), extrapolated past the typical day and clipped at
// zero, normalised; the blend factor is found by bisection since clipping
// bends the relation. It costs 60 blends: a computation shapes each
// campaign's curve once (prepare), not once per hour.
func shaped(peak float64) [24]float64 {
	shapings.Add(1)
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
