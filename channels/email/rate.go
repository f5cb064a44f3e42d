package email

import (
	"context"
	"fmt"

	"golang.org/x/time/rate"

	"github.com/rampe/rampe/campaigns"
)

// Headroom is what a campaign's landing page can take: the sustained rate
// of its last passing load check divided by the safety factor, and what
// the other campaigns overlapping this one (this one's other channels
// included) are forecast to bring at their combined peak.
type Headroom struct {
	Sustained float64 // req/s of the last passing check; 0: none
	Safety    float64
	Others    float64 // req/s at the combined peak
	CheckID   uint64
}

// CapacityFunc reads a campaign's headroom (the load checks domain).
type CapacityFunc func(ctx context.Context, c *campaigns.Campaign) (Headroom, error)

// rateFor is the send rate (messages/s; rate.Inf: no cap) and what caps
// it. The visits a send brings arrive at most at rate × open rate ×
// click rate visits/s, each of pages-per-visit requests: that, added to
// the other campaigns' peak, must stay under the page's measured
// capacity ÷ the safety factor. email.max_rate caps it too.
func (s *Sender) rateFor(ctx context.Context, c *campaigns.Campaign) (rate.Limit, string, error) {
	limit, reason := rate.Inf, "no cap: no load check and no email.max_rate"
	if s.Capacity != nil {
		h, err := s.Capacity(ctx, c)
		if err != nil {
			return 0, "", err
		}
		perMsg := c.Forecast[campaigns.Email]["open_rate"] * c.Forecast[campaigns.Email]["click_rate"] * pagesPerVisit(c)
		switch {
		case h.Sustained <= 0:
			reason = "no passing load check of the landing page: not capped by capacity"
		case perMsg <= 0:
			reason = "no open and click rates in the e-mail forecast: not capped by capacity"
		default:
			room := h.Sustained/max(h.Safety, 1) - h.Others
			r := max(room/perMsg, 0.1) // never zero: a send always moves
			limit = rate.Limit(r)
			reason = fmt.Sprintf("landing page capacity: check #%d sustained %.0f req/s ÷ %.1f, minus %.1f req/s of overlapping campaigns, leaves %.1f req/s; each message brings %.4f req/s",
				h.CheckID, h.Sustained, max(h.Safety, 1), h.Others, max(room, 0), perMsg)
		}
	}
	if s.MaxRate > 0 && (limit == rate.Inf || float64(limit) > s.MaxRate) {
		limit, reason = rate.Limit(s.MaxRate), fmt.Sprintf("email.max_rate %.0f messages/s", s.MaxRate)
	}
	return limit, reason, nil
}

func pagesPerVisit(c *campaigns.Campaign) float64 {
	if v, ok := c.Forecast[campaigns.Email]["pages_per_visit"]; ok && v > 0 {
		return v
	}
	return campaigns.DefaultPagesPerVisit
}
