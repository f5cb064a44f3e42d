// Package search is the SEO / SEA channel (campaigns.SEO). SEO: the
// landing pages campaigns made indexable, listed in /sitemap.xml (a
// sitemap index) and /sitemaps/N.xml; /robots.txt; an audit of a landing
// page (at publish and as the gate seo.page); an IndexNow notification at
// launch. SEA: a campaign's ad groups, keywords and responsive search ads,
// checked by the gate sea.ads, and exported as Google Ads Editor and
// Microsoft Advertising bulk CSV files on every lifecycle move (launch,
// halt, resume), so that the file which pauses the ads exists as soon as
// the campaign stops.
package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
)

// Migrations of the search channel's tables.
var Migrations = []db.Migration{
	{ID: "2026120240_search", SQL: `
CREATE TABLE search_settings (campaign_id {{bigint}} PRIMARY KEY REFERENCES campaigns(id) ON DELETE CASCADE,
  evergreen BOOLEAN NOT NULL DEFAULT FALSE, updated_at {{ts}} NOT NULL);
CREATE TABLE sitemap_entries (page_id {{bigint}} NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
  campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE, added_at {{ts}} NOT NULL, PRIMARY KEY (page_id, campaign_id));
CREATE TABLE seo_audits (page_id {{bigint}} PRIMARY KEY REFERENCES pages(id) ON DELETE CASCADE, slug VARCHAR(100) NOT NULL,
  checked_at {{ts}} NOT NULL, findings TEXT NOT NULL);
CREATE TABLE sea_ad_groups (id {{id}}, campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  name VARCHAR(255) NOT NULL, max_cpc {{bigint}} NOT NULL DEFAULT 0, keywords TEXT NOT NULL, created_at {{ts}} NOT NULL,
  UNIQUE (campaign_id, name));
CREATE TABLE sea_ads (id {{id}}, ad_group_id {{bigint}} NOT NULL REFERENCES sea_ad_groups(id) ON DELETE CASCADE,
  headlines TEXT NOT NULL, descriptions TEXT NOT NULL, path1 VARCHAR(100) NOT NULL DEFAULT '', path2 VARCHAR(100) NOT NULL DEFAULT '',
  created_at {{ts}} NOT NULL, updated_at {{ts}} NOT NULL);
CREATE TABLE sea_exports (id {{id}}, campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  move VARCHAR(10) NOT NULL, status VARCHAR(10) NOT NULL, google TEXT NOT NULL, microsoft TEXT NOT NULL, created_at {{ts}} NOT NULL);
CREATE INDEX sea_exports_campaign ON sea_exports (campaign_id, id)`},
}

// ErrNotFound is returned for an unknown ad group, ad or export.
var ErrNotFound = errors.New("search: not found")

// Pages is what the channel needs of the landing pages.
type Pages interface {
	Get(ctx context.Context, id uint64) (*landing.Page, error)
	PublishedRefs(ctx context.Context, ids []uint64) ([]landing.PublishedRef, error)
}

// Renderer gives the published page at slug as visitors get it now.
type Renderer interface {
	Get(ctx context.Context, slug string) (*landing.Rendered, error)
}

// Offers prices a campaign's landing page at an instant (landing.Server).
type Offers interface {
	Offer(ctx context.Context, c *campaigns.Campaign, at time.Time) (*landing.Offer, error)
}

// Settings are a campaign's search settings.
type Settings struct {
	CampaignID uint64 `gorm:"primaryKey"`
	// Evergreen keeps the page in the sitemap after the campaign ends or
	// is cancelled; otherwise it leaves then.
	Evergreen bool
	UpdatedAt time.Time
}

// TableName of Settings.
func (Settings) TableName() string { return "search_settings" }

// Channel is the SEO / SEA channel.
type Channel struct {
	DB       *gorm.DB
	Pages    Pages
	Renderer Renderer
	Offers   Offers
	// BaseURL is public.base_url, the host of /l/, /sitemap.xml.
	BaseURL string
	Auditor *Auditor
	// IndexNow notifies search engines at launch (nil: off).
	IndexNow *IndexNow
	Clock    clock.Clock
}

func (ch *Channel) now() time.Time { return clock.Or(ch.Clock).Now() }

// Name of the channel.
func (*Channel) Name() campaigns.Channel { return campaigns.SEO }

// Settings reads a campaign's search settings (defaults when none).
func (ch *Channel) Settings(ctx context.Context, campaignID uint64) (Settings, error) {
	var s Settings
	err := ch.DB.WithContext(ctx).Take(&s, "campaign_id = ?", campaignID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Settings{CampaignID: campaignID}, nil
	}
	return s, err
}

// SaveSettings stores a campaign's search settings.
func (ch *Channel) SaveSettings(ctx context.Context, s Settings) error {
	s.UpdatedAt = ch.now()
	return ch.DB.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "campaign_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"evergreen", "updated_at"})}).Create(&s).Error
}

// Launch puts the campaign's page in the sitemap, notifies IndexNow, and
// writes the ads export that enables them.
func (ch *Channel) Launch(ctx context.Context, c *campaigns.Campaign) (string, error) {
	return ch.move(ctx, c, campaigns.MoveLaunch)
}

// Resume is Launch again.
func (ch *Channel) Resume(ctx context.Context, c *campaigns.Campaign) (string, error) {
	return ch.move(ctx, c, campaigns.MoveResume)
}

// Halt writes the export that pauses the ads; when the campaign ended or
// was cancelled, its page leaves the sitemap unless it is evergreen.
func (ch *Channel) Halt(ctx context.Context, c *campaigns.Campaign, _ string) (string, error) {
	var parts []string
	if c.Status == campaigns.Ended || c.Status == campaigns.Cancelled {
		set, err := ch.Settings(ctx, c.ID)
		if err != nil {
			return "", err
		}
		if set.Evergreen {
			parts = append(parts, "page stays in the sitemap (evergreen)")
		} else {
			if err := ch.DB.WithContext(ctx).Where("campaign_id = ?", c.ID).Delete(&entry{}).Error; err != nil {
				return "", fmt.Errorf("search: sitemap: %w", err)
			}
			parts = append(parts, "page left the sitemap")
		}
	}
	ex, err := ch.Export(ctx, c, campaigns.MoveHalt)
	if err != nil {
		return "", err
	}
	if ex != nil {
		parts = append(parts, fmt.Sprintf("pause export #%d", ex.ID))
	}
	return strings.Join(parts, "; "), nil
}

func (ch *Channel) move(ctx context.Context, c *campaigns.Campaign, m campaigns.Move) (string, error) {
	var parts []string
	if c.LandingPageID != nil {
		e := entry{PageID: *c.LandingPageID, CampaignID: c.ID, AddedAt: ch.now()}
		if err := ch.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&e).Error; err != nil {
			return "", fmt.Errorf("search: sitemap: %w", err)
		}
		parts = append(parts, "page in the sitemap")
		if ch.IndexNow != nil {
			if refs, err := ch.Pages.PublishedRefs(ctx, []uint64{*c.LandingPageID}); err == nil && len(refs) == 1 {
				u := ch.BaseURL + "/l/" + refs[0].Slug
				if err := ch.IndexNow.Notify(ctx, []string{u}); err != nil {
					// Search engines find the page through the sitemap
					// anyway: a refused ping is logged, not retried.
					slog.Warn("search: indexnow", "campaign_id", c.ID, "err", err)
					parts = append(parts, "IndexNow refused: "+err.Error())
				} else {
					parts = append(parts, "IndexNow notified")
				}
			}
		}
	}
	ex, err := ch.Export(ctx, c, m)
	if err != nil {
		return "", err
	}
	if ex != nil {
		parts = append(parts, fmt.Sprintf("ads export #%d", ex.ID))
	}
	return strings.Join(parts, "; "), nil
}

// RegisterGates adds seo.page and sea.ads.
func (ch *Channel) RegisterGates(reg *campaigns.Registry) {
	on := []campaigns.Channel{campaigns.SEO}
	reg.Register(campaigns.GateFunc{GateName: "seo.page", ForChannels: on, Fn: ch.pageGate})
	reg.Register(campaigns.GateFunc{GateName: "sea.ads", ForChannels: on, Fn: ch.adsGate})
}

// The details of search's moves (parts joined by "; "), read back in the reader's language.
func init() {
	campaigns.DescribeMoves(
		"page in the sitemap",
		"IndexNow refused: %s",
		"IndexNow notified",
		"ads export #%d",
		"pause export #%d",
	)
}
