package campaigns

import (
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/validation"
)

// Build validates in and returns the campaign it describes, or every wrong
// field (sorted by field). It never touches the database; defaultTZ is
// used when in.TimeZone is empty. Each concern reads its own fields: who
// the campaign is, its channels, its window, its money, its forecast and
// what it links.
func Build(in Input, defaultTZ string) (*Campaign, error) {
	b := &builder{c: &Campaign{RetryWhileBlocked: true, LandingPageID: in.LandingPageID,
		Budgets: map[Channel]int64{}, Forecast: map[Channel]map[string]float64{}}}
	b.identity(in)
	b.channels(in)
	b.window(in, defaultTZ)
	b.money(in)
	b.forecast(in)
	b.links(in)
	if len(b.errs) > 0 {
		sort.SliceStable(b.errs, func(i, j int) bool { return b.errs[i].Field < b.errs[j].Field })
		return nil, b.errs
	}
	return b.c, nil
}

// builder is Build's work in progress: the campaign, the wrong fields so
// far, and the channels chosen (later concerns check against them).
type builder struct {
	c    *Campaign
	errs ValidationError
	on   map[Channel]bool
}

func (b *builder) add(field, format string, args ...any) {
	b.errs = append(b.errs, validation.Fieldf(field, format, args...))
}

func (b *builder) identity(in Input) {
	b.c.Name, b.c.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	if in.RetryWhileBlocked != nil {
		b.c.RetryWhileBlocked = *in.RetryWhileBlocked
	}
	switch n := utf8.RuneCountInString(b.c.Name); {
	case n == 0:
		b.add("name", "is required")
	case n > 200:
		b.add("name", "is %d characters long; the limit is 200", n)
	}
	if n := utf8.RuneCountInString(b.c.Description); n > 5000 {
		b.add("description", "is %d characters long; the limit is 5000", n)
	}
}

func (b *builder) channels(in Input) {
	b.on = map[Channel]bool{}
	for _, s := range in.Channels {
		ch, ok := ParseChannel(s)
		if !ok {
			b.add("channels", "unknown channel %q (want affiliation, seo, email, display or comparators)", s)
			continue
		}
		b.on[ch] = true
	}
	if len(in.Channels) == 0 {
		b.add("channels", "choose at least one channel")
	}
	var list []string
	for _, ch := range AllChannels {
		if b.on[ch] {
			list = append(list, string(ch))
		}
	}
	b.c.ChannelList = "," + strings.Join(list, ",") + ","
}

// window reads the zone and the window through clock.ParseWindow, the
// reader promotions share; a campaign lasts at most a year.
func (b *builder) window(in Input, defaultTZ string) {
	b.c.TimeZone = strings.TrimSpace(in.TimeZone)
	if b.c.TimeZone == "" {
		b.c.TimeZone = defaultTZ
	}
	w, errs := clock.ParseWindow(b.c.TimeZone, in.StartsAt, in.EndsAt, defaultTZ)
	b.errs = append(b.errs, errs...)
	b.c.StartsAt, b.c.EndsAt = w.Start, w.End
	if !w.Start.IsZero() && !w.End.IsZero() && w.End.Sub(w.Start) > 366*24*time.Hour {
		b.add("ends_at", "a campaign lasts at most one year")
	}
}

// money reads the currency and each channel's budget in minor units.
func (b *builder) money(in Input) {
	b.c.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if b.c.Currency == "" {
		b.c.Currency = "EUR"
	}
	if _, err := currency.ParseISO(b.c.Currency); err != nil || len(b.c.Currency) != 3 {
		b.add("currency", "%q is not an ISO 4217 currency code", b.c.Currency)
	}
	for key, v := range in.Budgets {
		ch, ok := ParseChannel(key)
		switch {
		case !ok:
			b.add("budgets."+key, "unknown channel %q", key)
		case !b.on[ch]:
			b.add("budgets."+key, "the campaign does not run on %s", ch.Label())
		case v < 0:
			b.add("budgets."+key, "must not be negative")
		case v > 1e13:
			b.add("budgets."+key, "%d is beyond the supported budget", v)
		default:
			b.c.Budgets[ch] = v
		}
	}
}

// forecast reads each channel's forecast inputs against their ranges.
func (b *builder) forecast(in Input) {
	for key, fields := range in.Forecast {
		ch, ok := ParseChannel(key)
		if !ok || !b.on[ch] {
			b.add("forecast."+key, "the campaign does not run on channel %q", key)
			continue
		}
		known := map[string]ForecastField{}
		for _, f := range ForecastFields[ch] {
			known[f.Key] = f
		}
		vals := map[string]float64{}
		for name, v := range fields {
			f, ok := known[name]
			field := "forecast." + key + "." + name
			switch {
			case !ok:
				b.add(field, "unknown forecast input for %s", ch.Label())
			case math.IsNaN(v) || math.IsInf(v, 0) || v < f.Min || v > f.Max:
				b.add(field, "%v is out of range (%g to %g)", v, f.Min, f.Max)
			default:
				vals[name] = v
			}
		}
		if len(vals) > 0 {
			b.c.Forecast[ch] = vals
		}
	}
}

// links reads the promotions and feeds the campaign links.
func (b *builder) links(in Input) {
	b.c.PromotionIDs = dedupe(in.PromotionIDs)
	b.c.FeedIDs = dedupe(in.FeedIDs)
	if len(b.c.FeedIDs) > 0 && !b.on[Comparators] {
		b.add("feed_ids", "feeds are for campaigns on the price comparators channel")
	}
}
