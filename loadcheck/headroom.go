package loadcheck

import (
	"context"
	"errors"
	"strings"

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
	hours := int(c.EndsAt.Sub(c.StartsAt.Truncate(3600e9)).Hours()) + 1
	curve := campaigns.NewCurve(c.StartsAt, hours)
	f := campaigns.Filter{From: c.StartsAt, To: c.EndsAt, Statuses: campaigns.OpenStatuses}
	err = s.Campaigns.Each(ctx, f, func(list []campaigns.Campaign) error {
		for i := range list {
			o := list[i]
			if o.ID == c.ID {
				// This campaign's e-mail is what the send rate decides.
				o.ChannelList = strings.Replace(o.ChannelList, ","+string(campaigns.Email)+",", ",", 1)
			}
			curve.Add(&o)
		}
		return nil
	})
	if err != nil {
		return h, err
	}
	h.Others = campaigns.Peak(curve.Points()).RPS
	return h, nil
}
