// Package affiliation is the affiliation channel: the merchant's partners
// (affiliate sites and networks), each campaign's plan (which partners take
// part, their tracked links and deep links, their promo codes tied to the
// campaign's promotions), the links and codes that follow the campaign
// (fallback before go-live and after halt or end, landing page while live;
// codes valid only while live), the kit each partner receives, conversions
// attributed by last click within the partner's cookie window (a partner's
// code when there is no click), the commission ledger and the postbacks to
// partners through the allow-listed outbound client.
package affiliation

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/mailer"
)

// Migrations of the affiliation tables.
var Migrations = []db.Migration{
	{ID: "2026120219_affiliation", SQL: `
CREATE TABLE partners (id {{id}}, name VARCHAR(100) NOT NULL, network VARCHAR(20) NOT NULL, email VARCHAR(254) NOT NULL, status VARCHAR(10) NOT NULL,
  commission_kind VARCHAR(10) NOT NULL, commission_value {{bigint}} NOT NULL, currency CHAR(3) NOT NULL, overrides TEXT NOT NULL DEFAULT '',
  cookie_days INTEGER NOT NULL, time_zone VARCHAR(64) NOT NULL, postback_url TEXT NOT NULL DEFAULT '', created_at {{ts}} NOT NULL, updated_at {{ts}} NOT NULL);
CREATE UNIQUE INDEX partners_name ON partners (name);
CREATE TABLE affiliation_plans (campaign_id {{bigint}} PRIMARY KEY REFERENCES campaigns(id) ON DELETE CASCADE, fallback_url TEXT NOT NULL DEFAULT '',
  links_live BOOLEAN NOT NULL DEFAULT FALSE, switched_at {{ts}}, switch_note VARCHAR(200) NOT NULL DEFAULT '', updated_at {{ts}} NOT NULL);
CREATE TABLE affiliation_members (campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE, partner_id {{bigint}} NOT NULL REFERENCES partners(id),
  code VARCHAR(50) NOT NULL DEFAULT '', promotion_id {{bigint}} NOT NULL DEFAULT 0, added_at {{ts}} NOT NULL, PRIMARY KEY (campaign_id, partner_id));
CREATE INDEX affiliation_members_code ON affiliation_members (code);
CREATE TABLE affiliation_kits (id {{id}}, campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE, partner_id {{bigint}} NOT NULL,
  hash VARCHAR(64) NOT NULL, body TEXT NOT NULL, changes TEXT NOT NULL DEFAULT '', sent_at {{ts}}, error TEXT NOT NULL DEFAULT '', created_at {{ts}} NOT NULL);
CREATE INDEX affiliation_kits_member ON affiliation_kits (campaign_id, partner_id, id);
CREATE TABLE conversions (id {{id}}, order_id VARCHAR(100) NOT NULL, amount {{bigint}} NOT NULL, currency CHAR(3) NOT NULL, items TEXT NOT NULL DEFAULT '',
  click_id VARCHAR(32) NOT NULL DEFAULT '', code VARCHAR(50) NOT NULL DEFAULT '', at {{ts}} NOT NULL, status VARCHAR(12) NOT NULL,
  partner_id {{bigint}} NOT NULL DEFAULT 0, campaign_id {{bigint}} NOT NULL DEFAULT 0, attributed_by VARCHAR(10) NOT NULL DEFAULT '',
  source VARCHAR(10) NOT NULL, created_at {{ts}} NOT NULL, updated_at {{ts}} NOT NULL);
CREATE UNIQUE INDEX conversions_order ON conversions (order_id);
CREATE TABLE commissions (conversion_id {{bigint}} PRIMARY KEY REFERENCES conversions(id) ON DELETE CASCADE, partner_id {{bigint}} NOT NULL,
  amount {{bigint}} NOT NULL, currency CHAR(3) NOT NULL, status VARCHAR(10) NOT NULL, approve_after {{ts}} NOT NULL, decided_by VARCHAR(254) NOT NULL DEFAULT '',
  note VARCHAR(500) NOT NULL DEFAULT '', updated_at {{ts}} NOT NULL);
CREATE INDEX commissions_partner ON commissions (partner_id, status);
CREATE TABLE postbacks (id {{id}}, conversion_id {{bigint}} NOT NULL REFERENCES conversions(id) ON DELETE CASCADE, partner_id {{bigint}} NOT NULL,
  url TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, status VARCHAR(10) NOT NULL, last_error TEXT NOT NULL DEFAULT '', response_code INTEGER NOT NULL DEFAULT 0,
  created_at {{ts}} NOT NULL, updated_at {{ts}} NOT NULL)`},
	// When a failed postback is tried again, for its log.
	{ID: "2026120310_postbacks_next_attempt", SQL: `ALTER TABLE postbacks ADD COLUMN next_attempt_at {{ts}};
CREATE INDEX postbacks_partner ON postbacks (partner_id, id)`},
}

// Errors of the affiliation domain.
var (
	ErrNotFound = errors.New("affiliation: not found")
)

// Outbound is the HTTP client postbacks go through, with the allow-list
// rules of load checks: no private or loopback target unless listed.
type Outbound interface {
	CheckTarget(ctx context.Context, raw string) error
	Client() *http.Client
}

// Campaigns reads campaigns (the campaigns service).
type Campaigns interface {
	Get(ctx context.Context, id uint64) (*campaigns.Campaign, error)
}

// Service is the affiliation domain: partners, plans, conversions.
type Service struct {
	DB         *gorm.DB
	Campaigns  Campaigns
	Outbound   Outbound
	Links      Links
	Offers     Offers
	Promotions Promotions
	Products   Products
	// Extras adds feeds and creatives to kits (nil: none).
	Extras Extras
	// Mailer sends kits to partners (the e-mail channel's SMTP server).
	Mailer interface {
		Send(ctx context.Context, msgs ...mailer.Message) error
	}
	// BaseURL is public.base_url; ShopURL the shop's home, where links go
	// when their campaign is not live and it sets no fallback.
	BaseURL, ShopURL string
	// DefaultTimeZone of partners that name none.
	DefaultTimeZone string
	// DefaultLang is the merchant's language (landing.default_lang): the
	// kits' e-mails are written in it (KitLang).
	DefaultLang string
	// PixelKey signs conversion pixels (PixelKey of the secret).
	PixelKey string
	// ReturnWindow holds commissions pending (affiliation.return_window).
	ReturnWindow time.Duration
	// Postbacks is called when an attributed conversion or its commission
	// changes (the postback job's enqueuer; nil: none).
	Postbacks func(ctx context.Context, c *Conversion)
	// RetryPostback queues a postback's next attempt again when its task
	// was lost (Jobs.RetryPostback; nil: none).
	RetryPostback func(ctx context.Context, pb *Postback)
	// SendKitsLater queues the sending of a campaign's kits (the kits
	// job's enqueuer; nil: kits go only when asked).
	SendKitsLater func(ctx context.Context, campaignID uint64, reason string)
	// KitsSent is told when kits of a campaign went out (its readiness is
	// checked again: a blocked campaign held only by stale kits goes live).
	KitsSent func(ctx context.Context, campaignID uint64)
	Clock    clock.Clock

	routes routeCache

	clientOnce sync.Once
	client     *http.Client // Outbound's client, built once: postbacks share its connections
}

func (s *Service) now() time.Time { return clock.Or(s.Clock).Now() }

// outboundClient is the client postbacks go through, built on first use.
func (s *Service) outboundClient() *http.Client {
	s.clientOnce.Do(func() { s.client = s.Outbound.Client() })
	return s.client
}

// PlanChanged is told when a campaign's plan or schedule changed: once the
// campaign is scheduled (or later), partners get the kit of the new plan.
func (s *Service) PlanChanged(ctx context.Context, c *campaigns.Campaign, reason string) {
	if s.SendKitsLater == nil || !c.Has(campaigns.Affiliation) {
		return
	}
	switch c.Status {
	case campaigns.Scheduled, campaigns.Blocked, campaigns.Live, campaigns.Paused:
		s.SendKitsLater(ctx, c.ID, reason)
	}
}
