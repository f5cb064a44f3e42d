package affiliation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// Channel is the affiliation channel: launch switches the campaign's
// partner links to the landing page and makes its partner codes usable;
// halt switches them back to the fallback (links stay on partners' sites
// for years: never a 404) and the codes stop working; resume switches
// them again. Each move records what switched, and running one twice
// changes nothing the second time.
type Channel struct {
	Service *Service
	// Notice is how long before starts_at every partner must have the kit
	// of the current plan (affiliation.notice).
	Notice time.Duration
}

// Name of the channel.
func (*Channel) Name() campaigns.Channel { return campaigns.Affiliation }

// Launch switches links and codes on.
func (ch *Channel) Launch(ctx context.Context, c *campaigns.Campaign) (string, error) {
	return ch.Service.switchLinks(ctx, c, true, "")
}

// Halt switches links and codes off.
func (ch *Channel) Halt(ctx context.Context, c *campaigns.Campaign, reason string) (string, error) {
	return ch.Service.switchLinks(ctx, c, false, reason)
}

// Resume switches links and codes on again.
func (ch *Channel) Resume(ctx context.Context, c *campaigns.Campaign) (string, error) {
	return ch.Service.switchLinks(ctx, c, true, "")
}

// switchLinks records the plan's state and says what switched.
func (s *Service) switchLinks(ctx context.Context, c *campaigns.Campaign, live bool, reason string) (string, error) {
	ms, err := s.Members(ctx, c.ID)
	if err != nil {
		return "", err
	}
	codes := 0
	for _, m := range ms {
		if m.Code != "" {
			codes++
		}
	}
	p, err := s.PlanOf(ctx, c.ID)
	if err != nil {
		return "", err
	}
	what := fmt.Sprintf("%d partner links to the landing page, %d codes usable", len(ms), codes)
	if !live {
		what = fmt.Sprintf("%d partner links to the fallback %s, %d codes stopped", len(ms), s.Fallback(p), codes)
		if reason != "" {
			what += " (" + reason + ")"
		}
	}
	if p.LinksLive == live && p.SwitchedAt != nil {
		return "already switched: " + what, nil
	}
	now := s.now()
	note := what
	if len(note) > 200 {
		note = note[:200]
	}
	err = s.DB.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "campaign_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"links_live", "switched_at", "switch_note", "updated_at"})}).
		Create(&Plan{CampaignID: c.ID, FallbackURL: p.FallbackURL, LinksLive: live, SwitchedAt: &now, SwitchNote: note, UpdatedAt: now}).Error
	if err != nil {
		return "", fmt.Errorf("affiliation: switch links of campaign %d: %w", c.ID, err)
	}
	s.forget(c.ID)
	return "switched " + what, nil
}

// ResolveCode is landing.PartnerCodes: a partner's code, the promotion it
// is tied to, and whether its campaign is live now.
func (s *Service) ResolveCode(ctx context.Context, code string, at time.Time) (uint64, bool, string, bool, error) {
	var m Member
	err := s.DB.WithContext(ctx).Where("LOWER(code) = LOWER(?) AND code <> ''", strings.TrimSpace(code)).Take(&m).Error
	if err != nil {
		return 0, false, "", false, nil
	}
	c, err := s.Campaigns.Get(ctx, m.CampaignID)
	if err != nil {
		return 0, false, "", false, err
	}
	p, err := s.PlanOf(ctx, c.ID)
	if err != nil {
		return 0, false, "", false, err
	}
	switch {
	case at.Before(c.StartsAt):
		return m.PromotionID, false, fmt.Sprintf("the code works from %s, when campaign %q goes live", c.LocalStart().Format("2 Jan 2006 15:04 MST"), c.Name), true, nil
	case !at.Before(c.EndsAt):
		return m.PromotionID, false, fmt.Sprintf("campaign %q ended on %s", c.Name, c.LocalEnd().Format("2 Jan 2006 15:04 MST")), true, nil
	case c.Status != campaigns.Live || !p.LinksLive:
		return m.PromotionID, false, fmt.Sprintf("campaign %q is %s, not live", c.Name, c.Status), true, nil
	}
	return m.PromotionID, true, "", true, nil
}

// The details of affiliation's moves, read back in the reader's language.
func init() {
	campaigns.DescribeMoves(
		"switched %d partner links to the landing page, %d codes usable",
		"already switched: %d partner links to the landing page, %d codes usable",
		"switched %d partner links to the fallback %s, %d codes stopped",
		"already switched: %d partner links to the fallback %s, %d codes stopped",
		i18n.Key("switched %d partner links to the fallback %s, %d codes stopped (%s)"),
		i18n.Key("already switched: %d partner links to the fallback %s, %d codes stopped (%s)"),
	)
}

// noteFormats are those of a plan's switch note (what switched).
var noteFormats = []string{
	i18n.Key("%d partner links to the landing page, %d codes usable"),
	i18n.Key("%d partner links to the fallback %s, %d codes stopped"),
	i18n.Key("%d partner links to the fallback %s, %d codes stopped (%s)"),
}

// SayNote is what the last switch did, in the reader's language.
func (p *Plan) SayNote() i18n.Message { return i18n.Parse(p.SwitchNote, noteFormats) }
