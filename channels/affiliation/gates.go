package affiliation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
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
	return campaigns.Result{Outcome: campaigns.Pending, Message: "could not tell: " + err.Error()}
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
		return campaigns.Result{Outcome: campaigns.Fail, Measured: measured, Message: "no active partner takes part: add partners on the campaign's Affiliation tab"}
	}
	msg := fmt.Sprintf("%d active partners take part", active)
	if len(paused) > 0 {
		return campaigns.Result{Outcome: campaigns.Warn, Measured: measured, Message: msg + "; paused: " + strings.Join(paused, ", ")}
	}
	return campaigns.Result{Outcome: campaigns.Pass, Measured: measured, Message: msg}
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
	var bad []string
	for _, m := range ms {
		if m.Code == "" {
			continue
		}
		n++
		if !hasID(c.PromotionIDs, m.PromotionID) {
			bad = append(bad, fmt.Sprintf("%s: promotion #%d is not linked to the campaign", m.Code, m.PromotionID))
			continue
		}
		p, err := s.Promotions.Get(ctx, m.PromotionID)
		if errors.Is(err, landing.ErrNotFound) {
			bad = append(bad, fmt.Sprintf("%s: promotion #%d no longer exists", m.Code, m.PromotionID))
			continue
		}
		if err != nil {
			return pending(err)
		}
		switch {
		case p.Status != landing.StatusPublished:
			bad = append(bad, fmt.Sprintf("%s: promotion %q is %s, not published", m.Code, p.Name, p.Status))
		case !p.Covers(c.StartsAt, c.EndsAt):
			bad = append(bad, fmt.Sprintf("%s: promotion %q does not cover the campaign's window", m.Code, p.Name))
		}
		if own, err := s.Promotions.WithCode(ctx, m.Code); err == nil && len(own) > 0 {
			bad = append(bad, fmt.Sprintf("%s: it is also the own code of promotion %q", m.Code, own[0].Name))
		}
	}
	measured := map[string]any{"codes": n, "bad": len(bad)}
	if len(bad) > 0 {
		sort.Strings(bad)
		return campaigns.Result{Outcome: campaigns.Fail, Measured: measured, Message: fmt.Sprintf("%d of %d partner codes would not work: %s", len(bad), n, strings.Join(bad, "; "))}
	}
	if n == 0 {
		return campaigns.Result{Outcome: campaigns.Pass, Measured: measured, Message: "no partner code in the plan"}
	}
	return campaigns.Result{Outcome: campaigns.Pass, Measured: measured, Message: fmt.Sprintf("%d partner codes, each on a published promotion covering the window", n)}
}
