package email

import (
	"context"
	"fmt"
	"math"

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

// rateFor is the send rate (messages/s; rate.Inf: no cap) of a send to n
// recipients, and what caps it. A message brings open rate × click rate
// visits of pages-per-visit requests, its clicks arriving with the e-mail
// forecast's decay (half-life) after it leaves: sent at R messages/s, the
// visits peak when the last message leaves, at R·o·c·(1 − e^(−λn/R)). That
// peak, added to the other campaigns' combined peak, must stay under the
// page's measured capacity ÷ the safety factor. email.max_rate caps it too.
func (s *Sender) rateFor(ctx context.Context, c *campaigns.Campaign, n int) (rate.Limit, string, error) {
	limit, reason := rate.Inf, "no cap: no load check and no email.max_rate"
	if s.Capacity != nil {
		h, err := s.Capacity(ctx, c)
		if err != nil {
			return 0, "", err
		}
		limit, reason = capacityRate(c, h, n)
	}
	if s.MaxRate > 0 && (limit == rate.Inf || float64(limit) > s.MaxRate) {
		limit, reason = rate.Limit(s.MaxRate), fmt.Sprintf("email.max_rate %.0f messages/s", s.MaxRate)
	}
	return limit, reason, nil
}

// minRate is the slowest a capped send goes: it always moves.
const minRate = 0.1

func capacityRate(c *campaigns.Campaign, h Headroom, n int) (rate.Limit, string) {
	fc := c.Forecast[campaigns.Email]
	perMsg := fc["open_rate"] * fc["click_rate"] * pagesPerVisit(c)
	halfLife := fc["half_life_hours"]
	if halfLife <= 0 {
		halfLife = campaigns.DefaultHalfLifeHours
	}
	lambda := math.Ln2 / (halfLife * 3600)
	switch {
	case h.Sustained <= 0:
		return rate.Inf, "no passing load check of the landing page: not capped by capacity"
	case perMsg <= 0:
		return rate.Inf, "no open and click rates in the e-mail forecast: not capped by capacity"
	}
	safety := max(h.Safety, 1)
	room := h.Sustained/safety - h.Others
	head := fmt.Sprintf("check #%d sustained %.0f req/s ÷ %.1f, minus %.1f req/s of overlapping campaigns, leaves %.1f req/s", h.CheckID, h.Sustained, safety, h.Others, max(room, 0))
	peak := func(r float64) float64 { return perMsg * r * (1 - math.Exp(-lambda*float64(n)/r)) }
	if n > 0 && perMsg*float64(n)*lambda <= room {
		return rate.Inf, head + ": the page takes the whole send at once"
	}
	if room <= peak(minRate) {
		return rate.Limit(minRate), head + fmt.Sprintf(": the overlapping campaigns fill the page; sending at the floor of %.1f messages/s", minRate)
	}
	lo, hi := minRate, 1e6
	for range 60 {
		mid := (lo + hi) / 2
		if peak(mid) <= room {
			lo = mid
		} else {
			hi = mid
		}
	}
	return rate.Limit(lo), head + fmt.Sprintf(": %.1f messages/s keeps the visits they bring under it (%d recipients)", lo, n)
}

func pagesPerVisit(c *campaigns.Campaign) float64 {
	if v, ok := c.Forecast[campaigns.Email]["pages_per_visit"]; ok && v > 0 {
		return v
	}
	return campaigns.DefaultPagesPerVisit
}
