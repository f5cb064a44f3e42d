// Package clicks is the tracked-click redirector every channel shares:
// a link of a campaign on a channel gets a signed token, /r/{token}
// answers a 302 to its destination and records the click (link, recipient,
// time). Tokens are the link's id and the recipient's (0 for a link that
// is the same for everyone, such as an ad's), signed with the deployment's
// HMAC key: a token cannot be forged or altered, and a wrong one gets a
// bare 404. Clicks are buffered in memory and written in batches (see
// write.go) every second or every 1,000 clicks, and on shutdown; what
// cannot be written is kept and tried again, so a database hiccup loses
// nothing.
package clicks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/flusher"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/signed"
	"github.com/rampe/rampe/platform/validation"
)

// Migrations of the tracked links and their clicks.
var Migrations = []db.Migration{
	{ID: "2026120204_clicks", SQL: `
CREATE TABLE tracked_links (id {{id}}, campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE, channel VARCHAR(20) NOT NULL,
  label VARCHAR(200) NOT NULL DEFAULT '', url TEXT NOT NULL, created_by VARCHAR(254) NOT NULL DEFAULT '', created_at {{ts}} NOT NULL);
CREATE UNIQUE INDEX tracked_links_unique ON tracked_links (campaign_id, channel, url);
CREATE TABLE clicks (link_id {{bigint}} NOT NULL REFERENCES tracked_links(id) ON DELETE CASCADE, recipient_id {{bigint}} NOT NULL DEFAULT 0,
  at {{ts}} NOT NULL);
CREATE INDEX clicks_link ON clicks (link_id, at)`},
	// Partner links (one per partner to the same destination) and what a
	// click says of its visitor without keeping who it is: a hashed IP
	// (daily salt), the user agent's class (bots are left out of reports)
	// and, for partner links, the click id handed to the landing page.
	{ID: "2026120218_clicks_partners", SQL: `
ALTER TABLE tracked_links ADD COLUMN partner_id {{bigint}} NOT NULL DEFAULT 0;
DROP INDEX tracked_links_unique;
CREATE UNIQUE INDEX tracked_links_unique_partner ON tracked_links (campaign_id, channel, partner_id, url);
ALTER TABLE clicks ADD COLUMN partner_id {{bigint}} NOT NULL DEFAULT 0;
ALTER TABLE clicks ADD COLUMN ip_hash VARCHAR(32) NOT NULL DEFAULT '';
ALTER TABLE clicks ADD COLUMN ua_class VARCHAR(10) NOT NULL DEFAULT '';
ALTER TABLE clicks ADD COLUMN click_id VARCHAR(32) NOT NULL DEFAULT '';
CREATE INDEX clicks_click_id ON clicks (click_id)`},
}

// Link is a destination of a campaign on a channel.
type Link struct {
	ID         uint64 `gorm:"primaryKey"`
	CampaignID uint64
	Channel    campaigns.Channel
	Label      string
	URL        string
	PartnerID  uint64 // an affiliate partner's link (0: everyone's)
	CreatedBy  string
	CreatedAt  time.Time
}

// TableName of links.
func (Link) TableName() string { return "tracked_links" }

// Click is one visit through a tracked link.
type Click struct {
	LinkID      uint64
	RecipientID uint64
	At          time.Time
	PartnerID   uint64
	IPHash      string // keyed by a salt of the day: no raw IP is kept
	UAClass     string // bot, mobile, tablet, desktop or other
	ClickID     string // handed to the destination of a partner link
}

// FieldError names what is wrong in a link.
// Its message is translated (platform/validation).
type FieldError = validation.FieldError

// ErrNotFound is a token that names no link (forged, altered, deleted).
var ErrNotFound = errors.New("clicks: no such link")

// Service is the redirector.
type Service struct {
	DB     *gorm.DB
	Secret []byte
	Clock  clock.Clock

	// Routes decide, per channel, where a link goes at the moment of the
	// click (affiliate links follow their campaign's state); a channel
	// without one goes to the link's URL.
	Routes map[campaigns.Channel]Router

	links      sync.Map // id → *Link: links never change once made
	tokens     sync.Map // token → [link id, recipient id], tokens that passed
	tokenCount atomic.Int64
	salt       saltOfDay

	mu      sync.Mutex
	pending []Click
	kick    chan struct{}
	done    chan struct{}
}

func (s *Service) now() time.Time { return clock.Or(s.Clock).Now() }

// MaxBuffered bounds the clicks kept in memory while the database does not
// answer; past it the oldest are dropped, and the log says how many.
const MaxBuffered = 1 << 20

const (
	flushEvery = time.Second
	flushSize  = 1000
)

// Settle bounds, while the database answers, how long after it is made a
// click is in the database, on whichever node it was made: the node writes
// it at its next flush (within flushEvery), and Settle leaves two seconds
// for that write. Attribution waits that long for a click id it is given
// and cannot find yet (a node whose database is down keeps its clicks
// longer: an order meanwhile is attributed without them).
const Settle = flushEvery + 2*time.Second

// Skew is how far ahead of this node's clock another node's may be: a
// click id made "later" than now by up to Skew is still waited for.
const Skew = time.Second

// Router gives the destination of a click on l; clickID is the click's
// own id ("" when the link has no partner).
type Router func(ctx context.Context, l *Link, clickID string) (string, error)

// Link returns the link of campaign c on channel ch to rawURL, made once
// (the same destination on the same channel is the same link).
func (s *Service) Link(ctx context.Context, c *campaigns.Campaign, ch campaigns.Channel, rawURL, label, by string) (*Link, error) {
	return s.PartnerLink(ctx, c, ch, 0, rawURL, label, by)
}

// PartnerLink is Link for one partner: each partner has its own link to
// the same destination, so its clicks are its own.
func (s *Service) PartnerLink(ctx context.Context, c *campaigns.Campaign, ch campaigns.Channel, partnerID uint64, rawURL, label, by string) (*Link, error) {
	if !c.Has(ch) {
		return nil, validation.Field("channel", "the campaign is not on the %s channel", i18n.M(ch.Label()))
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(rawURL) > 4000 {
		return nil, validation.Field("url", "%q is not an absolute http(s) URL", rawURL)
	}
	if len(label) > 200 {
		return nil, validation.Field("label", "at most 200 characters")
	}
	l := &Link{CampaignID: c.ID, Channel: ch, Label: strings.TrimSpace(label), URL: u.String(), PartnerID: partnerID, CreatedBy: by, CreatedAt: s.now()}
	err = s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(l).Error
	if err != nil {
		return nil, fmt.Errorf("clicks: make link: %w", err)
	}
	if l.ID == 0 { // it existed
		err = s.DB.WithContext(ctx).Where("campaign_id = ? AND channel = ? AND partner_id = ? AND url = ?", c.ID, ch, partnerID, l.URL).Take(l).Error
	}
	return l, err
}

// Token is the signed token of a link for one recipient (0: everyone).
func (s *Service) Token(linkID, recipientID uint64) string {
	return signed.Token(s.Secret, "rampe-click", linkID, recipientID)
}

// parse checks a token's signature and returns what it names. Tokens
// that passed are remembered (up to maxTokens): a partner's or an ad's
// link is one token followed by all its visitors, and its HMAC need not be
// computed again. A token that fails is never remembered.
func (s *Service) parse(token string) (linkID, recipientID uint64, ok bool) {
	if v, ok := s.tokens.Load(token); ok {
		ids := v.([2]uint64)
		return ids[0], ids[1], true
	}
	n, ok := signed.Parse(s.Secret, "rampe-click", token, 2, 64)
	if !ok {
		return 0, 0, false
	}
	if s.tokenCount.Load() < maxTokens {
		if _, loaded := s.tokens.LoadOrStore(strings.Clone(token), [2]uint64{n[0], n[1]}); !loaded {
			s.tokenCount.Add(1)
		}
	}
	return n[0], n[1], true
}

// maxTokens bounds the tokens remembered: past it (e-mail links, one token
// per recipient), a token's signature is checked at each click.
const maxTokens = 50000

// Follow resolves a token to its destination and records the click. Only
// a valid signature reaches the database.
func (s *Service) Follow(ctx context.Context, token string) (string, error) {
	dest, _, err := s.FollowFrom(ctx, token, Visitor{})
	return dest, err
}

// Visitor is who follows a link, as the request tells: it is kept only
// as a hash of the IP and the class of the user agent.
type Visitor struct {
	IP        string
	UserAgent string
}

// FollowFrom is Follow for a visitor; it also returns the click's id
// (partner links only, "" otherwise).
func (s *Service) FollowFrom(ctx context.Context, token string, v Visitor) (dest, clickID string, err error) {
	linkID, recipientID, ok := s.parse(token)
	if !ok {
		return "", "", ErrNotFound
	}
	l, err := s.byID(ctx, linkID)
	if err != nil {
		return "", "", err
	}
	now := s.now()
	c := Click{LinkID: l.ID, RecipientID: recipientID, At: now, PartnerID: l.PartnerID}
	if v != (Visitor{}) { // Follow without a request (tests, tools) knows nothing of its visitor
		c.UAClass = Classify(v.UserAgent)
		c.IPHash = s.salt.hash(s.Secret, now, v.IP)
	}
	dest = l.URL
	if route := s.Routes[l.Channel]; route != nil {
		if l.PartnerID != 0 {
			c.ClickID = newClickID(now)
		}
		if dest, err = route(ctx, l, c.ClickID); err != nil {
			return "", "", err
		}
	}
	s.record(c)
	return dest, c.ClickID, nil
}

func (s *Service) byID(ctx context.Context, id uint64) (*Link, error) {
	if l, ok := s.links.Load(id); ok {
		return l.(*Link), nil
	}
	l, err := db.Take[Link](s.DB.WithContext(ctx), ErrNotFound, id)
	if err != nil {
		return nil, err
	}
	s.links.Store(id, l)
	return l, nil
}

func (s *Service) record(c Click) {
	s.mu.Lock()
	if len(s.pending) >= MaxBuffered {
		s.pending = s.pending[1:]
		slog.Error("clicks: buffer full while the database does not answer; dropped the oldest click")
	}
	s.pending = append(s.pending, c)
	full, kick := len(s.pending) >= flushSize, s.kick
	s.mu.Unlock()
	if full && kick != nil {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}

// Flush writes the buffered clicks (see write.go). What could not be
// written stays buffered for the next flush.
func (s *Service) Flush(ctx context.Context) error {
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	n, err := s.write(ctx, batch)
	if err != nil {
		s.mu.Lock()
		s.pending = append(batch[n:len(batch):len(batch)], s.pending...)
		s.mu.Unlock()
		return fmt.Errorf("clicks: write %d clicks (%d written): %w", len(batch), n, err)
	}
	return nil
}

// Run flushes every second, or as soon as 1,000 clicks wait, until ctx
// ends; then it flushes what is left and returns.
func (s *Service) Run(ctx context.Context) {
	s.mu.Lock()
	kick, done := make(chan struct{}, 1), make(chan struct{})
	s.kick, s.done = kick, done
	s.mu.Unlock()
	defer close(done)
	flusher.Run(ctx, "clicks", flushEvery, kick, s.Flush)
}

// Wait returns once Run has flushed and returned. When Run never started
// (a server stopped before its goroutine ran), Wait writes what was
// recorded itself: no click is left in memory.
func (s *Service) Wait() {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done != nil {
		<-done
		return
	}
	if err := s.Flush(context.Background()); err != nil {
		slog.Error("clicks: write the last clicks", "err", err)
	}
}

// LinkStats is a link with its clicks (bots left out).
type LinkStats struct {
	Link
	Clicks int64
	Unique int64 // distinct recipients, for personal links
	LastAt *time.Time
	Token  string // the token for everyone (recipient 0)
}

// Stats lists a campaign's links with their click counts.
func (s *Service) Stats(ctx context.Context, campaignID uint64) ([]LinkStats, error) {
	var links []Link
	if err := s.DB.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("channel, id").Find(&links).Error; err != nil {
		return nil, err
	}
	type agg struct {
		LinkID uint64
		N      int64
		U      int64
		Last   sql.NullString // SQLite's MAX of a time is its text
	}
	var rows []agg
	if len(links) > 0 {
		ids := make([]uint64, len(links))
		for i, l := range links {
			ids[i] = l.ID
		}
		err := s.DB.WithContext(ctx).Model(&Click{}).Select("link_id, COUNT(*) AS n, COUNT(DISTINCT NULLIF(recipient_id, 0)) AS u, MAX(at) AS last").
			Where("link_id IN ? AND ua_class <> ?", ids, BotClass).Group("link_id").Scan(&rows).Error
		if err != nil {
			return nil, err
		}
	}
	by := map[uint64]agg{}
	for _, r := range rows {
		by[r.LinkID] = r
	}
	out := make([]LinkStats, len(links))
	for i, l := range links {
		a := by[l.ID]
		out[i] = LinkStats{Link: l, Clicks: a.N, Unique: a.U, LastAt: parseTime(a.Last), Token: s.Token(l.ID, 0)}
	}
	return out, nil
}

// parseTime reads a time as PostgreSQL (RFC 3339) or SQLite (its text
// form) gives it back from an aggregate.
func parseTime(v sql.NullString) *time.Time {
	if !v.Valid {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, v.String); err == nil {
			return &t
		}
	}
	return nil
}

// Track makes (or finds) the e-mail links of campaign c to each
// destination, in order: the links of a message.
func (s *Service) Track(ctx context.Context, c *campaigns.Campaign, dests []string) ([]uint64, error) {
	ids := make([]uint64, len(dests))
	for i, d := range dests {
		l, err := s.Link(ctx, c, campaigns.Email, d, "", "e-mail")
		if err != nil {
			return nil, err
		}
		ids[i] = l.ID
	}
	return ids, nil
}

// Clickers are the recipients who clicked one of a campaign's e-mail
// links (buffered clicks are flushed first).
func (s *Service) Clickers(ctx context.Context, campaignID uint64) (map[uint64]bool, error) {
	if err := s.Flush(ctx); err != nil {
		return nil, err
	}
	var ids []uint64
	err := s.DB.WithContext(ctx).Table("clicks").Joins("JOIN tracked_links l ON l.id = clicks.link_id").
		Where("l.campaign_id = ? AND l.channel = ? AND clicks.recipient_id <> 0", campaignID, campaigns.Email).
		Distinct().Pluck("clicks.recipient_id", &ids).Error
	out := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}
