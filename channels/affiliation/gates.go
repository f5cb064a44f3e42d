package affiliation

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
)

// RegisterGates adds affiliation.partners, affiliation.codes and
// affiliation.kit_sent.
func (ch *Channel) RegisterGates(reg *campaigns.Registry) {
	on := []campaigns.Channel{campaigns.Affiliation}
	reg.Register(campaigns.GateFunc{GateName: "affiliation.partners", ForChannels: on, Fn: ch.partnersGate})
	reg.Register(campaigns.GateFunc{GateName: "affiliation.codes", ForChannels: on, Fn: ch.codesGate})
	reg.Register(campaigns.GateFunc{GateName: "affiliation.kit_sent", ForChannels: on, Fn: ch.kitGate})
}

func pending(err error) campaigns.Result {
	return campaigns.Result{Outcome: campaigns.Pending, Msg: i18n.M("could not tell: %v", err)}
}

// partnersGate: at least one active partner takes part.
func (ch *Channel) partnersGate(ctx context.Context, c *campaigns.Campaign, _ time.Time) campaigns.Result {
	s := ch.Service
	ms, err := s.Members(ctx, c.ID)
	if err != nil {
		return pending(err)
	}
	active, paused := 0, []string{}
	for _, m := range ms {
		p, err := s.Partner(ctx, m.PartnerID)
		if err != nil {
			return pending(err)
		}
		if p.Active() {
			active++
		} else {
			paused = append(paused, p.Name)
		}
	}
	measured := map[string]any{"active_partners": active}
	if active == 0 {
		return campaigns.Result{Outcome: campaigns.Fail, Measured: measured, Msg: i18n.M("no active partner takes part: add partners on the campaign's Affiliation tab")}
	}
	if len(paused) > 0 {
		return campaigns.Result{Outcome: campaigns.Warn, Measured: measured, Msg: i18n.M("%d active partners take part; paused: %s", active, strings.Join(paused, ", "))}
	}
	return campaigns.Result{Outcome: campaigns.Pass, Measured: measured, Msg: i18n.M("%d active partners take part", active)}
}

// codesGate: every partner code belongs to one of the campaign's
// promotions, published, covering the whole window, and the code is no
// other promotion's own (the code check would answer for that one).
func (ch *Channel) codesGate(ctx context.Context, c *campaigns.Campaign, _ time.Time) campaigns.Result {
	s := ch.Service
	ms, err := s.Members(ctx, c.ID)
	if err != nil {
		return pending(err)
	}
	n := 0
	var bad []i18n.Message
	for _, m := range ms {
		if m.Code == "" {
			continue
		}
		n++
		if !hasID(c.PromotionIDs, m.PromotionID) {
			bad = append(bad, i18n.M("%s: promotion #%d is not linked to the campaign", m.Code, m.PromotionID))
			continue
		}
		p, err := s.Promotions.Get(ctx, m.PromotionID)
		if errors.Is(err, landing.ErrNotFound) {
			bad = append(bad, i18n.M("%s: promotion #%d no longer exists", m.Code, m.PromotionID))
			continue
		}
		if err != nil {
			return pending(err)
		}
		switch {
		case p.Status != landing.StatusPublished:
			bad = append(bad, i18n.M("%s: promotion %q is %s, not published", m.Code, p.Name, i18n.M(string(p.Status))))
		case !p.Covers(c.StartsAt, c.EndsAt):
			bad = append(bad, i18n.M("%s: promotion %q does not cover the campaign's window", m.Code, p.Name))
		}
		if own, err := s.Promotions.WithCode(ctx, m.Code); err == nil && len(own) > 0 {
			bad = append(bad, i18n.M("%s: it is also the own code of promotion %q", m.Code, own[0].Name))
		}
	}
	measured := map[string]any{"codes": n, "bad": len(bad)}
	if len(bad) > 0 {
		// Sorted as English reads them: the same order in every language.
		sort.Slice(bad, func(i, j int) bool { return bad[i].String() < bad[j].String() })
		items := make([]any, len(bad))
		for i, b := range bad {
			items[i] = b
		}
		return campaigns.Result{Outcome: campaigns.Fail, Measured: measured, Msg: i18n.M("%d of %d partner codes would not work: %s", len(bad), n, i18n.Join{Parts: items, Sep: "; "})}
	}
	if n == 0 {
		return campaigns.Result{Outcome: campaigns.Pass, Measured: measured, Msg: i18n.M("no partner code in the plan")}
	}
	return campaigns.Result{Outcome: campaigns.Pass, Measured: measured, Msg: i18n.M("%d partner codes, each on a published promotion covering the window", n)}
}
