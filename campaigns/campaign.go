// Package campaigns owns the campaign model, its lifecycle state machine with
// its audit log, the readiness gate engine that other packages register gates
// with, and the asynq jobs that put campaigns live and end them. The database
// is the source of truth; Redis only delivers tasks, and the reconciler
// re-creates any that went missing.
package campaigns

import (
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// Channel is an acquisition channel.
type Channel string

// The five channels.
const (
	Affiliation Channel = "affiliation"
	SEO         Channel = "seo"
	Email       Channel = "email"
	Display     Channel = "display"
	Comparators Channel = "comparators"
)

// AllChannels in display order.
var AllChannels = []Channel{Affiliation, SEO, Email, Display, Comparators}

// Label is the human name of a channel.
func (c Channel) Label() string {
	switch c {
	case SEO:
		return i18n.Key("SEO / SEA")
	case Email:
		return i18n.Key("E-mailing")
	case Comparators:
		return i18n.Key("Price comparators")
	case Affiliation:
		return i18n.Key("Affiliation")
	case Display:
		return i18n.Key("Display")
	}
	return strings.ToUpper(string(c[:1])) + string(c[1:])
}

// ParseChannel validates a channel name.
func ParseChannel(s string) (Channel, bool) {
	for _, c := range AllChannels {
		if string(c) == strings.ToLower(strings.TrimSpace(s)) {
			return c, true
		}
	}
	return "", false
}

// Status is a lifecycle state.
type Status string

// States of a campaign.
const (
	Draft     Status = "draft"
	Scheduled Status = "scheduled"
	Live      Status = "live"
	Ended     Status = "ended"
	Blocked   Status = "blocked"
	Paused    Status = "paused"
	Cancelled Status = "cancelled"
)

// AllStatuses in lifecycle order.
var AllStatuses = []Status{Draft, Scheduled, Blocked, Live, Paused, Ended, Cancelled}

// ForecastFields lists, per channel, the forecast inputs and their bounds.
var ForecastFields = map[Channel][]ForecastField{
	Email: {{"audience", i18n.Key("Audience (recipients)"), 0, 1e9, false}, {"open_rate", i18n.Key("Open rate (22 % or 0.22)"), 0, 1, false}, {"click_rate", i18n.Key("Click rate of openers (8 % or 0.08)"), 0, 1, false},
		{"half_life_hours", i18n.Key("Clicks half-life after the send (hours, default 2)"), 0.1, 72, true}, pagesPerVisit},
	Comparators: {{"daily_clicks", i18n.Key("Clicks per day"), 0, 1e9, false}, {"uplift", i18n.Key("Uplift during the campaign (×)"), 0, 100, false}, pagesPerVisit, peakHourShare},
	Affiliation: {{"impressions", i18n.Key("Impressions per day"), 0, 1e11, false}, {"ctr", i18n.Key("Click-through rate (2 % or 0.02)"), 0, 1, false}, pagesPerVisit, peakHourShare},
	Display:     {{"impressions", i18n.Key("Impressions per day"), 0, 1e11, false}, {"ctr", i18n.Key("Click-through rate (2 % or 0.02)"), 0, 1, false}, pagesPerVisit, peakHourShare},
	SEO:         {{"sessions_per_day", i18n.Key("Sessions per day"), 0, 1e9, false}, pagesPerVisit, peakHourShare},
}

// peakHourShare shapes the arrival curve of all-day channels per campaign.
var peakHourShare = ForecastField{"peak_hour_share", i18n.Key("Busiest hour's share of the day (0.042 flat – 1; default 0.086)"), 1.0 / 24, 1, true}

var pagesPerVisit = ForecastField{"pages_per_visit", i18n.Key("Pages per visit (default 4)"), 1, 100, true}

// ForecastField is one forecast input of a channel.
type ForecastField struct {
	Key, Label string
	Min, Max   float64
	// Optional inputs have a documented default (README, forecast).
	Optional bool
}

// Campaign is a planned marketing operation on one or more channels.
type Campaign struct {
	ID            uint64 `gorm:"primaryKey"`
	Name          string
	Description   string
	ChannelList   string `gorm:"column:channels"`
	TimeZone      string
	StartsAt      time.Time
	EndsAt        time.Time
	Currency      string
	Budgets       map[Channel]int64              `gorm:"serializer:json"`
	Forecast      map[Channel]map[string]float64 `gorm:"serializer:json"`
	LandingPageID *uint64
	Status        Status
	StatusReason  string
	// StatusReasonTexts is StatusReason in every language (platform/i18n).
	StatusReasonTexts i18n.Texts
	ScheduleVersion   int
	RetryWhileBlocked bool
	NextAttemptAt     *time.Time
	Readiness         *Report `gorm:"serializer:json"`
	CreatedBy         string
	CreatedAt         time.Time
	UpdatedAt         time.Time

	PromotionIDs []uint64 `gorm:"-"`
	// FeedIDs are the comparator feeds that must carry the campaign.
	FeedIDs []uint64 `gorm:"-"`

	// Set by move: the last transition written, and whether it recorded
	// channel moves that dispatchMoves must hand to a job.
	lastTransition uint64
	movesPending   bool
}

// Why is the status reason in the reader's language.
func (c *Campaign) Why() i18n.Localizer { return i18n.Stored(c.StatusReasonTexts, c.StatusReason) }

// CampaignFeed links a campaign on the comparators channel to a feed.
type CampaignFeed struct {
	CampaignID uint64 `gorm:"primaryKey"`
	FeedID     uint64 `gorm:"primaryKey"`
}

// Channels returns the campaign's channels in display order.
func (c *Campaign) Channels() []Channel {
	var out []Channel
	for _, ch := range AllChannels {
		if strings.Contains(c.ChannelList, ","+string(ch)+",") {
			out = append(out, ch)
		}
	}
	return out
}

// Has tells whether the campaign runs on ch.
func (c *Campaign) Has(ch Channel) bool { return strings.Contains(c.ChannelList, ","+string(ch)+",") }

// Location is the campaign's time zone (UTC if unknown).
func (c *Campaign) Location() *time.Location {
	loc, err := clock.Location(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// LocalStart is StartsAt in the campaign's time zone.
func (c *Campaign) LocalStart() time.Time { return c.StartsAt.In(c.Location()) }

// LocalEnd is EndsAt in the campaign's time zone.
func (c *Campaign) LocalEnd() time.Time { return c.EndsAt.In(c.Location()) }

// TotalBudget sums the channel budgets in minor units.
func (c *Campaign) TotalBudget() int64 {
	var t int64
	for _, v := range c.Budgets {
		t += v
	}
	return t
}

// Editable tells whether the campaign's plan may still change.
func (c *Campaign) Editable() bool {
	return c.Status == Draft || c.Status == Scheduled || c.Status == Blocked
}

// CampaignPromotion links a campaign to a promotion (promotions arrive with
// the landing-pages issue; the link is kept without a foreign key until then).
type CampaignPromotion struct {
	CampaignID  uint64 `gorm:"primaryKey"`
	PromotionID uint64 `gorm:"primaryKey"`
}

// Input is what a marketer submits, from the form or the JSON API. Times are
// local to TimeZone ("2006-01-02T15:04") or RFC 3339 with an offset.
type Input struct {
	Name              string                        `json:"name"`
	Description       string                        `json:"description"`
	Channels          []string                      `json:"channels"`
	TimeZone          string                        `json:"time_zone"`
	StartsAt          string                        `json:"starts_at"`
	EndsAt            string                        `json:"ends_at"`
	Currency          string                        `json:"currency"`
	Budgets           map[string]int64              `json:"budgets"`
	Forecast          map[string]map[string]float64 `json:"forecast"`
	LandingPageID     *uint64                       `json:"landing_page_id"`
	PromotionIDs      []uint64                      `json:"promotion_ids"`
	FeedIDs           []uint64                      `json:"feed_ids"`
	RetryWhileBlocked *bool                         `json:"retry_while_blocked"`
}

// FieldError names the field that is wrong.
type FieldError = validation.FieldError

// ValidationError lists every wrong field.
type ValidationError = validation.Errors

const localLayout = "2006-01-02T15:04"

// ParseLocal parses a local time in loc, refusing times that do not exist
// (the hour skipped when clocks go forward). An ambiguous time (the hour
// repeated when clocks go back) resolves to its first occurrence.
func ParseLocal(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{localLayout, "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		p, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t := time.Date(p.Year(), p.Month(), p.Day(), p.Hour(), p.Minute(), p.Second(), 0, loc)
		if t.Hour() != p.Hour() || t.Minute() != p.Minute() {
			return time.Time{}, i18n.Errorf("%s does not exist in %s (clocks go forward that night)", s, loc.String())
		}
		// Go may pick either instant of a repeated hour; take the first.
		for _, back := range []time.Duration{time.Hour, 30 * time.Minute} {
			if e := t.Add(-back); e.Hour() == p.Hour() && e.Minute() == p.Minute() && e.Day() == p.Day() {
				t = e
				break
			}
		}
		return t.UTC(), nil
	}
	return time.Time{}, i18n.Errorf("%q is not a date and time (want YYYY-MM-DDTHH:MM)", s)
}

// Build validates in and returns the campaign it describes. It never touches
// the database; defaultTZ is used when in.TimeZone is empty.
func Build(in Input, defaultTZ string) (*Campaign, error) {
	var errs ValidationError
	add := func(field, format string, args ...any) {
		errs = append(errs, validation.Fieldf(field, format, args...))
	}
	c := &Campaign{
		Name:              strings.TrimSpace(in.Name),
		Description:       strings.TrimSpace(in.Description),
		TimeZone:          strings.TrimSpace(in.TimeZone),
		Currency:          strings.ToUpper(strings.TrimSpace(in.Currency)),
		LandingPageID:     in.LandingPageID,
		RetryWhileBlocked: true,
		Budgets:           map[Channel]int64{},
		Forecast:          map[Channel]map[string]float64{},
	}
	if in.RetryWhileBlocked != nil {
		c.RetryWhileBlocked = *in.RetryWhileBlocked
	}
	switch n := utf8.RuneCountInString(c.Name); {
	case n == 0:
		add("name", "is required")
	case n > 200:
		add("name", "is %d characters long; the limit is 200", n)
	}
	if n := utf8.RuneCountInString(c.Description); n > 5000 {
		add("description", "is %d characters long; the limit is 5000", n)
	}
	seen := map[Channel]bool{}
	for _, s := range in.Channels {
		ch, ok := ParseChannel(s)
		if !ok {
			add("channels", "unknown channel %q (want affiliation, seo, email, display or comparators)", s)
			continue
		}
		seen[ch] = true
	}
	if len(in.Channels) == 0 {
		add("channels", "choose at least one channel")
	}
	var list []string
	for _, ch := range AllChannels {
		if seen[ch] {
			list = append(list, string(ch))
		}
	}
	c.ChannelList = "," + strings.Join(list, ",") + ","

	if c.TimeZone == "" {
		c.TimeZone = defaultTZ
	}
	loc, err := clock.Location(c.TimeZone)
	if err != nil {
		if strings.EqualFold(c.TimeZone, "local") {
			add("time_zone", "%q is the server's own zone, not an IANA time zone name; give one such as Europe/Paris", c.TimeZone)
		} else {
			add("time_zone", "unknown time zone %q (IANA name, e.g. Europe/Paris)", c.TimeZone)
		}
		loc = time.UTC
	}
	var startOK, endOK bool
	if strings.TrimSpace(in.StartsAt) == "" {
		add("starts_at", "is required")
	} else if c.StartsAt, err = ParseLocal(in.StartsAt, loc); err != nil {
		add("starts_at", "%v", err)
	} else {
		startOK = true
	}
	if strings.TrimSpace(in.EndsAt) == "" {
		add("ends_at", "is required")
	} else if c.EndsAt, err = ParseLocal(in.EndsAt, loc); err != nil {
		add("ends_at", "%v", err)
	} else {
		endOK = true
	}
	if startOK && endOK && !c.EndsAt.After(c.StartsAt) {
		add("ends_at", "must be after the start (%s)", c.LocalStart().Format("Mon 2 Jan 2006, 15:04 MST"))
	}
	if startOK && endOK && c.EndsAt.Sub(c.StartsAt) > 366*24*time.Hour {
		add("ends_at", "a campaign lasts at most one year")
	}

	if c.Currency == "" {
		c.Currency = "EUR"
	}
	if _, err := currency.ParseISO(c.Currency); err != nil || len(c.Currency) != 3 {
		add("currency", "%q is not an ISO 4217 currency code", c.Currency)
	}
	for key, v := range in.Budgets {
		ch, ok := ParseChannel(key)
		switch {
		case !ok:
			add("budgets."+key, "unknown channel %q", key)
		case !seen[ch]:
			add("budgets."+key, "the campaign does not run on %s", ch.Label())
		case v < 0:
			add("budgets."+key, "must not be negative")
		case v > 1e13:
			add("budgets."+key, "%d is beyond the supported budget", v)
		default:
			c.Budgets[ch] = v
		}
	}
	for key, fields := range in.Forecast {
		ch, ok := ParseChannel(key)
		if !ok || !seen[ch] {
			add("forecast."+key, "the campaign does not run on channel %q", key)
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
				add(field, "unknown forecast input for %s", ch.Label())
			case math.IsNaN(v) || math.IsInf(v, 0) || v < f.Min || v > f.Max:
				add(field, "%v is out of range (%g to %g)", v, f.Min, f.Max)
			default:
				vals[name] = v
			}
		}
		if len(vals) > 0 {
			c.Forecast[ch] = vals
		}
	}
	c.PromotionIDs = dedupe(in.PromotionIDs)
	c.FeedIDs = dedupe(in.FeedIDs)
	if len(c.FeedIDs) > 0 && !seen[Comparators] {
		add("feed_ids", "feeds are for campaigns on the price comparators channel")
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, errs
	}
	return c, nil
}

func dedupe(ids []uint64) []uint64 {
	seen := map[uint64]bool{}
	var out []uint64
	for _, id := range ids {
		if id != 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
