package loadcheck

import (
	"context"
	"errors"
	"slices"

	"github.com/rampe/rampe/campaigns"
)

// Headroom is what a campaign's landing page can take: the sustained rate
// of its latest passing check, and the combined peak the other campaigns
// overlapping it bring (its own channels but e-mail included) — what an
// e-mail send may add to without overloading the page.
type Headroom struct {
	Sustained float64
	Safety    float64
	Others    float64
	CheckID   uint64
}

// Headroom computes a campaign's headroom. With no passing check of its
// page, Sustained is 0.
func (s *Service) Headroom(ctx context.Context, c *campaigns.Campaign) (Headroom, error) {
	h := Headroom{Safety: s.SafetyFactor}
	if c.LandingPageID == nil {
		return h, nil
	}
	last, err := s.Store.LastPassed(ctx, *c.LandingPageID)
	if errors.Is(err, ErrNotFound) {
		return h, nil
	}
	if err != nil {
		return h, err
	}
	h.Sustained, h.CheckID = last.SustainedRate, last.ID
	curve, err := s.Campaigns.PlanCurve(ctx, c.StartsAt, c.WindowHours())
	if err != nil {
		return h, err
	}
	// This campaign's e-mail is what the send rate decides: it is taken
	// out of the plan's curve (which holds it while the campaign is open).
	open := slices.Contains(campaigns.OpenStatuses, c.Status)
	for _, p := range curve {
		rps := p.RPS
		if open {
			rps -= c.ChannelRequestsPerSecond(campaigns.Email, p.Start)
		}
		h.Others = max(h.Others, rps)
	}
	return h, nil
}
