package feeds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/money"
)

// maxGateProducts bounds how many promoted products the gate compares.
const maxGateProducts = 2000

// RegisterGate adds comparators.feeds_fresh: for a campaign on the
// comparators channel, every linked feed was generated after the last change of the
// campaign's promotions, carries each promoted product (that its filters
// keep) without a blocking error, at the price and sale price a landing page
// shows at this instant.
func RegisterGate(reg *campaigns.Registry, s *Service) {
	reg.Register(campaigns.GateFunc{GateName: "comparators.feeds_fresh", ForChannels: []campaigns.Channel{campaigns.Comparators},
		Fn: func(ctx context.Context, c *campaigns.Campaign, now time.Time) campaigns.Result {
			return s.fresh(ctx, c, now)
		}})
}

func (s *Service) fresh(ctx context.Context, c *campaigns.Campaign, now time.Time) campaigns.Result {
	pending := func(err error) campaigns.Result {
		return campaigns.Result{Outcome: campaigns.Pending, Message: "could not tell: " + err.Error()}
	}
	if len(c.FeedIDs) == 0 {
		return campaigns.Result{Outcome: campaigns.Fail, Message: "no comparator feed is linked to the campaign"}
	}
	var feeds []Feed
	for _, id := range c.FeedIDs {
		f, err := s.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return campaigns.Result{Outcome: campaigns.Fail, Message: fmt.Sprintf("linked feed #%d does not exist", id)}
		}
		if err != nil {
			return pending(err)
		}
		feeds = append(feeds, *f)
	}
	var promos []*landing.Promotion
	var changed time.Time
	for _, id := range c.PromotionIDs {
		p, err := s.Promotions.Get(ctx, id)
		if errors.Is(err, landing.ErrNotFound) {
			continue // promotions.published names it
		}
		if err != nil {
			return pending(err)
		}
		promos = append(promos, p)
		if p.ChangedAt.After(changed) {
			changed = p.ChangedAt
		}
	}
	published, err := s.Promotions.Published(ctx, now)
	if err != nil {
		return pending(err)
	}
	var problems []string
	checked := 0
	for i := range feeds {
		f := &feeds[i]
		switch {
		case f.LastRunID == nil:
			problems = append(problems, fmt.Sprintf("feed %s was never generated", f.Name))
			continue
		case f.GeneratedAt.Before(changed):
			problems = append(problems, fmt.Sprintf("feed %s was generated %s, before the last change of a promotion (%s)",
				f.Name, f.GeneratedAt.Format("Jan 2 15:04 UTC"), changed.Format("Jan 2 15:04 UTC")))
			continue
		}
		m := f.matcher()
		for _, p := range promos {
			prods, err := s.Promotions.Products(ctx, p, maxGateProducts)
			if err != nil {
				return pending(err)
			}
			for j := range prods {
				pr := &prods[j]
				if !m.matches(pr) {
					continue
				}
				checked++
				if msg := s.compare(ctx, f, pr, published, now); msg != "" {
					problems = append(problems, msg)
				}
				if len(problems) >= 10 {
					break
				}
			}
		}
	}
	m := map[string]any{"feeds": len(feeds), "promoted_products_checked": checked}
	if len(problems) > 0 {
		more := ""
		if len(problems) >= 10 {
			more = " (first 10 problems)"
		}
		m["problems"] = problems
		return campaigns.Result{Outcome: campaigns.Fail, Message: strings.Join(problems, "; ") + more, Measured: m}
	}
	return campaigns.Result{Outcome: campaigns.Pass, Message: fmt.Sprintf("%d feed(s) fresh; %d promoted product line(s) match the landing-page price", len(feeds), checked), Measured: m}
}

// compare checks one promoted product of one feed against the price in
// force now; it returns "" when they agree.
func (s *Service) compare(ctx context.Context, f *Feed, pr *catalog.Product, published []landing.Promotion, now time.Time) string {
	want := landing.EffectivePrice(pr, published, now)
	var line PriceLine
	err := s.DB.WithContext(ctx).Where("run_id = ? AND sku = ?", *f.LastRunID, pr.SKU).Take(&line).Error
	if err != nil {
		var iss Issue
		if s.DB.WithContext(ctx).Where("run_id = ? AND sku = ? AND severity = ?", *f.LastRunID, pr.SKU, "error").Take(&iss).Error == nil {
			return fmt.Sprintf("feed %s leaves out %s: %s", f.Name, pr.SKU, iss.Message)
		}
		if !want.OnSale() {
			return "" // not on sale now (window not open yet): nothing to compare
		}
		return fmt.Sprintf("feed %s lacks %s at its promotional price %s", f.Name, pr.SKU, money.Format(want.Effective, pr.Currency))
	}
	fsale := "none"
	if line.SalePrice != nil {
		fsale = money.Format(*line.SalePrice, pr.Currency)
	}
	wsale := "none"
	if want.OnSale() {
		wsale = money.Format(want.Effective, pr.Currency)
	}
	if line.Price != want.Regular || fsale != wsale {
		return fmt.Sprintf("%s: feed %s says %s (sale %s), the landing page says %s (sale %s)", pr.SKU, f.Name,
			money.Format(line.Price, pr.Currency), fsale, money.Format(want.Regular, pr.Currency), wsale)
	}
	return ""
}
