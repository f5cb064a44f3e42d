package landing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rampe/rampe/campaigns"
)

// RegisterGates adds landing.published and promotions.published to reg.
func RegisterGates(reg *campaigns.Registry, pages *Pages, promos *Promotions) {
	reg.Register(campaigns.GateFunc{GateName: "landing.published", Fn: func(ctx context.Context, c *campaigns.Campaign, _ time.Time) campaigns.Result {
		return landingPublished(ctx, pages, c)
	}})
	reg.Register(campaigns.GateFunc{GateName: "promotions.published", Fn: func(ctx context.Context, c *campaigns.Campaign, _ time.Time) campaigns.Result {
		return promotionsPublished(ctx, promos, c)
	}})
}

// SharedPage is pages.Get read once per round of gate evaluations
// (campaigns.Shared): thousands of campaigns linking one page read it once.
// The page is shared: read it, do not change it.
func SharedPage(ctx context.Context, pages *Pages, id uint64) (*Page, error) {
	return campaigns.Shared(ctx, fmt.Sprintf("landing.page:%d", id), func() (*Page, error) { return pages.Get(ctx, id) })
}

// SharedPromotion is promos.Get read once per round of gate evaluations.
func SharedPromotion(ctx context.Context, promos *Promotions, id uint64) (*Promotion, error) {
	return campaigns.Shared(ctx, fmt.Sprintf("landing.promotion:%d", id), func() (*Promotion, error) { return promos.Get(ctx, id) })
}

func landingPublished(ctx context.Context, pages *Pages, c *campaigns.Campaign) campaigns.Result {
	if c.LandingPageID == nil {
		return campaigns.Result{Outcome: campaigns.Fail, Message: "no landing page is linked to the campaign"}
	}
	p, err := SharedPage(ctx, pages, *c.LandingPageID)
	if errors.Is(err, ErrNotFound) {
		return campaigns.Result{Outcome: campaigns.Fail, Message: fmt.Sprintf("landing page #%d does not exist", *c.LandingPageID)}
	}
	if err != nil {
		return campaigns.Result{Outcome: campaigns.Pending, Message: "could not tell: " + err.Error()}
	}
	m := map[string]any{"page_id": p.ID, "slug": p.Slug}
	if !p.Published() {
		return campaigns.Result{Outcome: campaigns.Fail, Message: fmt.Sprintf("/l/%s is not published", p.Slug), Measured: m}
	}
	v, err := campaigns.Shared(ctx, fmt.Sprintf("landing.version:%d", *p.PublishedVersionID), func() (*Version, error) {
		var v Version
		return &v, pages.DB.WithContext(ctx).Take(&v, *p.PublishedVersionID).Error
	})
	if err != nil {
		return campaigns.Result{Outcome: campaigns.Pending, Message: "could not tell: " + err.Error(), Measured: m}
	}
	m["version"], m["published_at"] = v.Number, v.PublishedAt
	return campaigns.Result{Outcome: campaigns.Pass, Message: fmt.Sprintf("/l/%s is published (version %d, %s)", p.Slug, v.Number, v.PublishedAt.In(c.Location()).Format("Mon 2 Jan 2006, 15:04 MST")), Measured: m}
}

func promotionsPublished(ctx context.Context, promos *Promotions, c *campaigns.Campaign) campaigns.Result {
	if len(c.PromotionIDs) == 0 {
		return campaigns.Result{Outcome: campaigns.Pass, Message: "no promotion is linked", Measured: map[string]any{"promotions": 0}}
	}
	var problems, ok []string
	for _, id := range c.PromotionIDs {
		p, err := SharedPromotion(ctx, promos, id)
		switch {
		case errors.Is(err, ErrNotFound):
			problems = append(problems, fmt.Sprintf("promotion #%d does not exist", id))
		case err != nil:
			return campaigns.Result{Outcome: campaigns.Pending, Message: "could not tell: " + err.Error()}
		case p.Status != StatusPublished:
			problems = append(problems, fmt.Sprintf("“%s” is %s", p.Name, p.Status))
		case p.StartsAt.After(c.StartsAt):
			problems = append(problems, fmt.Sprintf("“%s” starts %s, after the campaign (%s)", p.Name, p.StartsAt.In(c.Location()).Format("Jan 2 15:04"), c.LocalStart().Format("Jan 2 15:04")))
		case p.EndsAt.Before(c.EndsAt):
			problems = append(problems, fmt.Sprintf("“%s” ends %s, before the campaign (%s)", p.Name, p.EndsAt.In(c.Location()).Format("Jan 2 15:04"), c.LocalEnd().Format("Jan 2 15:04")))
		default:
			ok = append(ok, p.Name)
		}
	}
	m := map[string]any{"linked": len(c.PromotionIDs), "ready": len(ok), "problems": problems}
	if len(problems) > 0 {
		return campaigns.Result{Outcome: campaigns.Fail, Message: strings.Join(problems, "; "), Measured: m}
	}
	return campaigns.Result{Outcome: campaigns.Pass, Message: fmt.Sprintf("%d promotion(s) published over the whole window: %s", len(ok), strings.Join(ok, ", ")), Measured: m}
}
