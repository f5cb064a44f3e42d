// Package campaigns owns the campaign model, its lifecycle state machine with
// its audit log, the readiness gate engine that other packages register gates
// with, and the asynq jobs that put campaigns live and end them. The database
// is the source of truth; Redis only delivers tasks, and the reconciler
// re-creates any that went missing.
package campaigns

import (
	"strings"
	"time"

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

// ParseLocal parses a date and time typed in loc: clock.ParseLocal, the
// one parser of campaign and promotion windows.
func ParseLocal(s string, loc *time.Location) (time.Time, error) { return clock.ParseLocal(s, loc) }

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
