package affiliation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/validation"
)

// Plan is a campaign's affiliation plan: where its links go when it is
// not live, and whether they go to the landing page now (set by the
// channel's launch, halt and resume).
type Plan struct {
	CampaignID  uint64 `gorm:"primaryKey"`
	FallbackURL string
	LinksLive   bool
	SwitchedAt  *time.Time
	SwitchNote  string
	UpdatedAt   time.Time
}

// TableName of plans.
func (Plan) TableName() string { return "affiliation_plans" }

// Member is a partner taking part in a campaign, with its optional code
// tied to one of the campaign's promotions.
type Member struct {
	CampaignID  uint64 `gorm:"primaryKey"`
	PartnerID   uint64 `gorm:"primaryKey"`
	Code        string
	PromotionID uint64
	AddedAt     time.Time
}

// TableName of members.
func (Member) TableName() string { return "affiliation_members" }

// Links is the tracked-click redirector (channels/clicks).
type Links interface {
	PartnerLink(ctx context.Context, c *campaigns.Campaign, ch campaigns.Channel, partnerID uint64, rawURL, label, by string) (*clicks.Link, error)
	Token(linkID, recipientID uint64) string
	// Flush writes the clicks this node holds in memory (attribution reads
	// clicks from the database).
	Flush(ctx context.Context) error
}

// Offers gives a campaign's landing page address (landing).
type Offers interface {
	Offer(ctx context.Context, c *campaigns.Campaign, at time.Time) (*landing.Offer, error)
}

// Promotions reads promotions (landing).
type Promotions interface {
	Get(ctx context.Context, id uint64) (*landing.Promotion, error)
	WithCode(ctx context.Context, code string) ([]landing.Promotion, error)
}

// Products finds a product's page for deep links (catalog).
type Products interface {
	ProductLink(ctx context.Context, sku string) (string, error)
}

// LandingLabel is the label of a partner's link to the landing page; its
// destination is the landing page's address at the moment of the click.
const LandingLabel = "landing"

// PlanOf reads a campaign's plan; a campaign without one has the default
// (fallback to the shop's home, links not live).
func (s *Service) PlanOf(ctx context.Context, campaignID uint64) (*Plan, error) {
	var p Plan
	err := s.DB.WithContext(ctx).Where("campaign_id = ?", campaignID).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &Plan{CampaignID: campaignID}, nil
	}
	return &p, err
}

// Fallback is where the plan's links go when the campaign is not live.
func (s *Service) Fallback(p *Plan) string {
	if p.FallbackURL != "" {
		return p.FallbackURL
	}
	return s.ShopURL
}

// SetFallback sets the campaign's fallback URL ("" for the shop's home).
func (s *Service) SetFallback(ctx context.Context, c *campaigns.Campaign, raw string) error {
	raw = strings.TrimSpace(raw)
	if raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(raw) > 2000 {
			return validation.Errors{validation.Fieldf("fallback_url", "%q is not an absolute http(s) URL", raw)}
		}
	}
	err := s.DB.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "campaign_id"}}, DoUpdates: clause.AssignmentColumns([]string{"fallback_url", "updated_at"})}).
		Create(&Plan{CampaignID: c.ID, FallbackURL: raw, UpdatedAt: s.now()}).Error
	s.forget(c.ID)
	if err == nil {
		s.PlanChanged(ctx, c, "fallback")
	}
	return err
}

// Members lists a campaign's partners.
func (s *Service) Members(ctx context.Context, campaignID uint64) ([]Member, error) {
	var out []Member
	err := s.DB.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("partner_id").Find(&out).Error
	return out, err
}

// MemberInput adds a partner to a campaign, or changes its code.
type MemberInput struct {
	PartnerID   uint64 `json:"partner_id"`
	Code        string `json:"code"`
	PromotionID uint64 `json:"promotion_id"`
}

// SetMember adds a partner to a campaign's plan (or changes its code) and
// makes its tracked link to the landing page. A code is unique across
// campaigns, tied to one of the campaign's promotions, and no other
// promotion's own code. Only a plan that may still change is changed.
func (s *Service) SetMember(ctx context.Context, c *campaigns.Campaign, in MemberInput, by string) (*Member, error) {
	if !c.Has(campaigns.Affiliation) {
		return nil, validation.Errors{validation.Fieldf("campaign", "the campaign is not on the affiliation channel")}
	}
	var errs validation.Errors
	add := func(f, format string, args ...any) {
		errs = append(errs, validation.Fieldf(f, format, args...))
	}
	p, err := s.Partner(ctx, in.PartnerID)
	if errors.Is(err, ErrNotFound) {
		add("partner_id", "no partner #%d", in.PartnerID)
	} else if err != nil {
		return nil, err
	} else if !p.Active() {
		add("partner_id", "%s is paused; set it active first", p.Name)
	}
	m := &Member{CampaignID: c.ID, PartnerID: in.PartnerID, Code: strings.TrimSpace(in.Code), PromotionID: in.PromotionID, AddedAt: s.now()}
	if m.Code != "" {
		if len(m.Code) > 50 || strings.ContainsAny(m.Code, " \t\r\n<>\"'") {
			add("code", "at most 50 characters, no spaces, quotes or angle brackets")
		}
		switch {
		case len(c.PromotionIDs) == 0:
			add("code", "a code needs one of the campaign's promotions, and this campaign has none: link one on the campaign's edit page first")
		case m.PromotionID == 0:
			add("promotion_id", "choose the promotion the code is for: a code needs one of the campaign's promotions")
		case !hasID(c.PromotionIDs, m.PromotionID):
			add("promotion_id", "a code is tied to one of the campaign's promotions; #%d is not one of them", m.PromotionID)
		}
		var other Member
		err := s.DB.WithContext(ctx).Where("LOWER(code) = LOWER(?) AND NOT (campaign_id = ? AND partner_id = ?)", m.Code, m.CampaignID, m.PartnerID).Take(&other).Error
		if err == nil {
			add("code", "%q is already the code of partner #%d on campaign #%d", m.Code, other.PartnerID, other.CampaignID)
		}
		if own, err := s.Promotions.WithCode(ctx, m.Code); err == nil && len(own) > 0 {
			add("code", "%q is the own code of promotion %q: a partner's code must be its own", m.Code, own[0].Name)
		}
	} else {
		m.PromotionID = 0
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if !c.Editable() && c.Status != campaigns.Live && c.Status != campaigns.Paused {
		return nil, validation.Errors{validation.Fieldf("campaign", "the campaign is %s: its plan no longer changes", c.Status)}
	}
	err = s.DB.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "campaign_id"}, {Name: "partner_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"code", "promotion_id"})}).Create(m).Error
	if err != nil {
		return nil, fmt.Errorf("affiliation: add partner: %w", err)
	}
	if _, err := s.landingLink(ctx, c, m.PartnerID, by); err != nil {
		return nil, err
	}
	s.PlanChanged(ctx, c, "partner")
	return m, nil
}

// RemoveMember takes a partner out of a campaign's plan. Its links stay
// (they may be on its site) and go to the fallback.
func (s *Service) RemoveMember(ctx context.Context, c *campaigns.Campaign, partnerID uint64) error {
	res := s.DB.WithContext(ctx).Where("campaign_id = ? AND partner_id = ?", c.ID, partnerID).Delete(&Member{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

func hasID(ids []uint64, id uint64) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

// landingLink is the partner's link to the campaign's landing page. Its
// stored URL names the campaign (the redirector gives the landing page's
// address of the moment).
func (s *Service) landingLink(ctx context.Context, c *campaigns.Campaign, partnerID uint64, by string) (*clicks.Link, error) {
	return s.Links.PartnerLink(ctx, c, campaigns.Affiliation, partnerID, fmt.Sprintf("%s/campaigns/%d/landing", strings.TrimRight(s.BaseURL, "/"), c.ID), LandingLabel, by)
}

// DeepLink makes a partner's link to a product of the catalog.
func (s *Service) DeepLink(ctx context.Context, c *campaigns.Campaign, partnerID uint64, sku, by string) (*clicks.Link, error) {
	var m Member
	if err := s.DB.WithContext(ctx).Where("campaign_id = ? AND partner_id = ?", c.ID, partnerID).Take(&m).Error; err != nil {
		return nil, validation.Errors{validation.Fieldf("partner_id", "partner #%d does not take part in the campaign", partnerID)}
	}
	sku = strings.TrimSpace(sku)
	link, err := s.Products.ProductLink(ctx, sku)
	if err != nil || link == "" {
		return nil, validation.Errors{validation.Fieldf("sku", "no product with SKU %q in the catalog", sku)}
	}
	l, err := s.Links.PartnerLink(ctx, c, campaigns.Affiliation, partnerID, link, "sku "+sku, by)
	if err == nil {
		s.PlanChanged(ctx, c, "deeplink")
	}
	return l, err
}

// TrackedURL is the public address of a link.
func (s *Service) TrackedURL(l *clicks.Link) string {
	return strings.TrimRight(s.BaseURL, "/") + "/r/" + s.Links.Token(l.ID, 0)
}

// routeState is what the redirector knows of a campaign, kept a moment.
type routeState struct {
	refreshing atomic.Bool // one request reloads an expired state; the others use it meanwhile
	live       bool
	fallback   string
	landing    string
	campaign   string
	loaded     time.Time
	dests      sync.Map // link id → *destTemplate: its destination in this state
}

// routeTTL bounds how long a node routes on what it read: a halt takes
// effect everywhere within it.
const routeTTL = 2 * time.Second

type routeCache struct {
	mu       sync.Mutex
	states   map[uint64]*routeState
	partners map[uint64]string // id → UTM source
}

func (s *Service) forget(campaignID uint64) {
	s.routes.mu.Lock()
	delete(s.routes.states, campaignID)
	s.routes.mu.Unlock()
}

func (s *Service) state(ctx context.Context, campaignID uint64) (*routeState, error) {
	now := s.now()
	s.routes.mu.Lock()
	st := s.routes.states[campaignID]
	s.routes.mu.Unlock()
	if st != nil && now.Sub(st.loaded) < routeTTL && now.Sub(st.loaded) >= 0 {
		return st, nil
	}
	if st != nil && !st.refreshing.CompareAndSwap(false, true) {
		return st, nil // another request is reloading it
	}
	if st != nil {
		defer st.refreshing.Store(false)
	}
	c, err := s.Campaigns.Get(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	p, err := s.PlanOf(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	st = &routeState{fallback: s.Fallback(p), campaign: slugify(c.Name), loaded: now,
		live: p.LinksLive && c.Status == campaigns.Live && !now.Before(c.StartsAt) && now.Before(c.EndsAt)}
	if st.live {
		off, err := s.Offers.Offer(ctx, c, now)
		if err != nil {
			return nil, err
		}
		if off == nil || off.LandingURL == "" {
			st.live = false // no page to land on: never a 404
		} else {
			st.landing = off.LandingURL
		}
	}
	s.routes.mu.Lock()
	if s.routes.states == nil {
		s.routes.states = map[uint64]*routeState{}
	}
	s.routes.states[campaignID] = st
	s.routes.mu.Unlock()
	return st, nil
}

func (s *Service) partnerSource(ctx context.Context, id uint64) string {
	s.routes.mu.Lock()
	src, ok := s.routes.partners[id]
	s.routes.mu.Unlock()
	if ok {
		return src
	}
	p, err := s.Partner(ctx, id)
	if err != nil {
		return "partner"
	}
	s.routes.mu.Lock()
	if s.routes.partners == nil {
		s.routes.partners = map[uint64]string{}
	}
	s.routes.partners[id] = p.Slug()
	s.routes.mu.Unlock()
	return p.Slug()
}

// Route is the redirector's router of affiliate links: while the campaign
// is live, to the landing page (or the product of a deep link); before
// go-live and after halt or end, to the fallback — never a 404. The
// destination carries utm_source=<partner>, utm_medium=affiliate,
// utm_campaign and the click id (rampe_click) the shop hands back with
// the order. The destination of a link is made once per state of its
// campaign (routeTTL) and the click id put in its place.
func (s *Service) Route(ctx context.Context, l *clicks.Link, clickID string) (string, error) {
	st, err := s.state(ctx, l.CampaignID)
	if err != nil {
		return "", err
	}
	if len(clickID) != clickIDLen {
		return s.destination(ctx, st, l, clickID), nil
	}
	if t, ok := st.dests.Load(l.ID); ok {
		return t.(*destTemplate).with(clickID), nil
	}
	t := s.template(ctx, st, l)
	st.dests.Store(l.ID, t)
	return t.with(clickID), nil
}

// destination is where a click on l goes in state st.
func (s *Service) destination(ctx context.Context, st *routeState, l *clicks.Link, clickID string) string {
	dest := st.fallback
	if st.live {
		dest = l.URL
		if l.Label == LandingLabel {
			dest = st.landing
		}
	}
	u, err := url.Parse(dest)
	if err != nil {
		return dest
	}
	q := u.Query()
	q.Set("utm_source", s.partnerSource(ctx, l.PartnerID))
	q.Set("utm_medium", "affiliate")
	q.Set("utm_campaign", st.campaign)
	if clickID != "" {
		q.Set(ClickParam, clickID)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

const clickIDLen = 32

// destTemplate is a destination around its click id: head + id + tail.
// A destination the click id cannot be found in again has it in no
// place: whole is made for every click.
type destTemplate struct {
	head, tail string
	whole      func(clickID string) string
}

func (t *destTemplate) with(clickID string) string {
	if t.whole != nil {
		return t.whole(clickID)
	}
	return t.head + clickID + t.tail
}

// template makes the destination of l with a placeholder for the click id
// and cuts it there. The placeholder is found as the value of the
// rampe_click parameter: at the start of the query or after an &, which
// no other key nor any value can hold once encoded.
func (s *Service) template(ctx context.Context, st *routeState, l *clicks.Link) *destTemplate {
	full := s.destination(ctx, st, l, clickPlaceholder)
	mark := ClickParam + "=" + clickPlaceholder
	q := strings.IndexByte(full, '?')
	if q >= 0 {
		query, _, _ := strings.Cut(full[q+1:], "#")
		for at := 0; at < len(query); {
			i := strings.Index(query[at:], mark)
			if i < 0 {
				break
			}
			i += at
			if i == 0 || query[i-1] == '&' {
				k := q + 1 + i + len(ClickParam) + 1
				return &destTemplate{head: full[:k], tail: full[k+clickIDLen:]}
			}
			at = i + 1
		}
	}
	return &destTemplate{whole: func(id string) string { return s.destination(context.Background(), st, l, id) }}
}

// clickPlaceholder stands for a click id while a template is made: 32
// characters no click id has (they are hex).
const clickPlaceholder = "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"

// ClickParam is the query parameter of the click id on landing URLs.
const ClickParam = "rampe_click"

// PartnerLinks lists a partner's links of a campaign, the landing link first.
func (s *Service) PartnerLinks(ctx context.Context, campaignID, partnerID uint64) ([]clicks.Link, error) {
	var out []clicks.Link
	err := s.DB.WithContext(ctx).Where("campaign_id = ? AND channel = ? AND partner_id = ?", campaignID, campaigns.Affiliation, partnerID).
		Order("CASE WHEN label = 'landing' THEN 0 ELSE 1 END, id").Find(&out).Error
	return out, err
}
