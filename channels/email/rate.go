package email

import (
	"context"
	"fmt"
	"math"

	"golang.org/x/time/rate"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
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
	limit, reason := rate.Inf, rateNone
	if s.Capacity != nil {
		h, err := s.Capacity(ctx, c)
		if err != nil {
			return 0, "", err
		}
		limit, reason = capacityRate(c, h, n)
	}
	if s.MaxRate > 0 && (limit == rate.Inf || float64(limit) > s.MaxRate) {
		limit, reason = rate.Limit(s.MaxRate), fmt.Sprintf(rateMax, s.MaxRate)
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
		return rate.Inf, rateNoCheck
	case perMsg <= 0:
		return rate.Inf, rateNoEmailFc
	}
	safety := max(h.Safety, 1)
	room := h.Sustained/safety - h.Others
	head := []any{h.CheckID, h.Sustained, safety, h.Others, max(room, 0)}
	peak := func(r float64) float64 { return perMsg * r * (1 - math.Exp(-lambda*float64(n)/r)) }
	if n > 0 && perMsg*float64(n)*lambda <= room {
		return rate.Inf, fmt.Sprintf(rateWhole, head...)
	}
	if room <= peak(minRate) {
		return rate.Limit(minRate), fmt.Sprintf(rateFloor, append(head, minRate)...)
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
	return rate.Limit(lo), fmt.Sprintf(rateCapped, append(head, lo, n)...)
}

// The reasons of a send's rate, stored in English and read back in the
// reader's language (Send.SayRate).
var (
	rateNone      = i18n.Key("no cap: no load check and no email.max_rate")
	rateMax       = i18n.Key("email.max_rate %.0f messages/s")
	rateNoCheck   = i18n.Key("no passing load check of the landing page: not capped by capacity")
	rateNoEmailFc = i18n.Key("no open and click rates in the e-mail forecast: not capped by capacity")
	rateWhole     = i18n.Key("check #%d sustained %.0f req/s ÷ %.1f, minus %.1f req/s of overlapping campaigns, leaves %.1f req/s: the page takes the whole send at once")
	rateFloor     = i18n.Key("check #%d sustained %.0f req/s ÷ %.1f, minus %.1f req/s of overlapping campaigns, leaves %.1f req/s: the overlapping campaigns fill the page; sending at the floor of %.1f messages/s")
	rateCapped    = i18n.Key("check #%d sustained %.0f req/s ÷ %.1f, minus %.1f req/s of overlapping campaigns, leaves %.1f req/s: %.1f messages/s keeps the visits they bring under it (%d recipients)")
	rateFormats   = []string{rateNone, rateMax, rateNoCheck, rateNoEmailFc, rateWhole, rateFloor, rateCapped}
)

// SayRate is why the send goes at its rate, in the reader's language.
func (sd Send) SayRate() i18n.Message { return i18n.Parse(sd.RateReason, rateFormats) }

func pagesPerVisit(c *campaigns.Campaign) float64 {
	if v, ok := c.Forecast[campaigns.Email]["pages_per_visit"]; ok && v > 0 {
		return v
	}
	return campaigns.DefaultPagesPerVisit
}
