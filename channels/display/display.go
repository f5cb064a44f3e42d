// Package display is the display channel: image creatives (PNG, JPEG, GIF,
// WebP in the IAB sizes, read and checked from their bytes), placements
// (named slots of a size on the merchant's site or a partner's) and the ad
// tag each placement carries, /d/{placement}.js or .html, which serves a
// creative of a live campaign targeting it (weighted rotation, an optional
// frequency cap per visitor) or a house creative when none is live.
// Creatives are kept in the database, which every web node shares; what the
// tags serve is a snapshot in each node's memory, rebuilt when a generation
// number in Redis moves — launch, halt and resume bump it and tell every
// node over Redis pub/sub; it is also read every display.poll_interval, so
// a node that missed a notice still catches up.
// Impressions are counted in memory per placement and creative, marked bot
// or not from the User-Agent, and written in batches like clicks.
package display

import (
	"context"
	"errors"
	"fmt"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medama-io/go-useragent"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/platform/db"
)

// Migrations of placements, creatives, targets and impressions.
var Migrations = []db.Migration{
	{ID: "2026120220_display", SQL: `
CREATE TABLE display_placements (id {{id}}, key VARCHAR(60) NOT NULL UNIQUE, name VARCHAR(100) NOT NULL, site VARCHAR(200) NOT NULL DEFAULT '',
  width INTEGER NOT NULL, height INTEGER NOT NULL, created_at {{ts}} NOT NULL);
CREATE TABLE display_creatives (id {{id}}, campaign_id {{bigint}} REFERENCES campaigns(id) ON DELETE CASCADE, name VARCHAR(100) NOT NULL,
  alt VARCHAR(150) NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, mime VARCHAR(20) NOT NULL, size INTEGER NOT NULL,
  sha VARCHAR(64) NOT NULL, data {{blob}} NOT NULL, rotation INTEGER NOT NULL DEFAULT 1, click_url TEXT NOT NULL, link_id {{bigint}},
  created_by VARCHAR(254) NOT NULL DEFAULT '', created_at {{ts}} NOT NULL);
CREATE INDEX display_creatives_campaign ON display_creatives (campaign_id);
CREATE INDEX display_creatives_sha ON display_creatives (sha);
CREATE TABLE display_targets (campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  placement_id {{bigint}} NOT NULL REFERENCES display_placements(id) ON DELETE CASCADE, PRIMARY KEY (campaign_id, placement_id));
CREATE TABLE display_campaigns (campaign_id {{bigint}} PRIMARY KEY REFERENCES campaigns(id) ON DELETE CASCADE,
  live BOOLEAN NOT NULL DEFAULT FALSE, freq_cap INTEGER NOT NULL DEFAULT 0, updated_at {{ts}} NOT NULL);
CREATE TABLE display_impressions (placement_id {{bigint}} NOT NULL, creative_id {{bigint}} NOT NULL, hour {{ts}} NOT NULL,
  bot BOOLEAN NOT NULL, n {{bigint}} NOT NULL, PRIMARY KEY (placement_id, creative_id, hour, bot))`},
}

// Placement is a named slot of one size on a site.
type Placement struct {
	ID            uint64    `gorm:"primaryKey" json:"id"`
	Key           string    `json:"key"`
	Name          string    `json:"name"`
	Site          string    `json:"site"`
	Width, Height int       `json:"-"`
	CreatedAt     time.Time `json:"created_at"`
}

// TableName of placements.
func (Placement) TableName() string { return "display_placements" }

// Size is the placement's size, "300x250".
func (p *Placement) Size() Size { return Size{p.Width, p.Height} }

// Creative is an image of a campaign (or a house creative, CampaignID nil).
type Creative struct {
	ID            uint64    `gorm:"primaryKey" json:"id"`
	CampaignID    *uint64   `json:"campaign_id"`
	Name          string    `json:"name"`
	Alt           string    `json:"alt"`
	Width, Height int       `json:"-"`
	MIME          string    `gorm:"column:mime" json:"mime"`
	Size          int       `json:"bytes"`
	SHA           string    `gorm:"column:sha" json:"sha256"`
	Data          []byte    `json:"-"`
	Rotation      int       `json:"rotation_weight"`
	ClickURL      string    `json:"click_url"`
	LinkID        *uint64   `json:"-"`
	CreatedBy     string    `json:"created_by"`
	CreatedAt     time.Time `json:"created_at"`
}

// TableName of creatives.
func (Creative) TableName() string { return "display_creatives" }

// Dim is the creative's size.
func (c *Creative) Dim() Size { return Size{c.Width, c.Height} }

// ImageURL is where the public fetches a creative's image.
func (s *Service) ImageURL(c *Creative) string { return s.BaseURL + "/d/i/" + c.File() }

// File is the name the image is served under, /d/i/{File}.
func (c *Creative) File() string { return c.SHA[:32] + "." + extOf[c.MIME] }

var extOf = map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}

type target struct {
	CampaignID, PlacementID uint64
}

func (target) TableName() string { return "display_targets" }

// campaignState is what the channel's moves set: whether the campaign's
// creatives are on, and its frequency cap.
type campaignState struct {
	CampaignID uint64 `gorm:"primaryKey"`
	Live       bool
	FreqCap    int
	UpdatedAt  time.Time
}

func (campaignState) TableName() string { return "display_campaigns" }

type impressionRow struct {
	PlacementID, CreativeID uint64
	Hour                    time.Time
	Bot                     bool
	N                       int64
}

func (impressionRow) TableName() string { return "display_impressions" }

// FieldError names what is wrong in an input, in every language.
type FieldError struct {
	Field string
	Msg   i18n.Message
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg.String() }

// Text is the error in lang (i18n.Localizer).
func (e *FieldError) Text(lang string) string { return e.Field + ": " + e.Msg.Text(lang) }

// ErrNotFound is a placement or creative that does not exist.
var ErrNotFound = errors.New("display: not found")

// Service holds the display channel's data and serves its tags.
type Service struct {
	DB     *gorm.DB
	Clicks *clicks.Service
	// Bus holds the generation number, and carries the notice that it
	// moved to every web node; nil: this node only (tests).
	Bus     redis.UniversalClient
	BaseURL string
	// MaxBytes is the heaviest creative accepted (display.max_weight_kb).
	MaxBytes int
	// PollInterval is how often the generation is read besides the notices,
	// in case one was lost (display.poll_interval).
	PollInterval time.Duration
	// LandingURL is the absolute URL of the campaign's landing page, ""
	// when it has none.
	LandingURL func(ctx context.Context, c *campaigns.Campaign) (string, error)
	Clock      clock.Clock
	// CreativesChanged is told when a campaign's creatives changed (the
	// partner kits of affiliation carry them, and go out again); nil: no one.
	CreativesChanged func(ctx context.Context, campaignID uint64)

	snap     atomic.Pointer[snapshot]
	mu       sync.Mutex // serialises reloads
	seen     string     // the generation the snapshot was built at
	counters sync.Map   // counterKey → *counter
	done     chan struct{}
	uaOnce   sync.Once
	ua       *useragent.Parser
}

// GenerationKey is the Redis key of the serving generation.
const GenerationKey = "rampe:display:gen"

// ChangedChannel is the Redis pub/sub channel that tells every web node
// the generation moved.
const ChangedChannel = "rampe:display:changed"

// DefaultMaxBytes is IAB LEAN's initial-load budget for a display unit.
const DefaultMaxBytes = 150 << 10

func (s *Service) maxBytes() int {
	if s.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return s.MaxBytes
}

func (s *Service) now() time.Time { return clock.Or(s.Clock).Now() }

// Changed bumps the generation so that every node rebuilds what its tags
// serve, and rebuilds this node's at once when it serves tags (a worker
// process does not).
func (s *Service) Changed(ctx context.Context) error {
	if s.Bus != nil {
		gen, err := s.Bus.Incr(ctx, GenerationKey).Result()
		if err != nil {
			return fmt.Errorf("display: bump generation: %w", err)
		}
		// A lost notice is caught by the nodes' next read of the generation.
		if err := s.Bus.Publish(ctx, ChangedChannel, gen).Err(); err != nil {
			slog.Warn("display: tell the nodes", "err", err)
		}
	}
	if s.snap.Load() == nil {
		return nil
	}
	return s.Reload(ctx)
}

// MaxKB is the weight limit in KB, for the pages.
func (s *Service) MaxKB() int { return s.maxBytes() >> 10 }
