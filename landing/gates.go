package landing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
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
func SharedPage(ctx context.Context, pages interface {
	Get(ctx context.Context, id uint64) (*Page, error)
}, id uint64) (*Page, error) {
	return campaigns.Shared(ctx, fmt.Sprintf("landing.page:%d", id), func() (*Page, error) { return pages.Get(ctx, id) })
}

// SharedPromotion is promos.Get read once per round of gate evaluations.
func SharedPromotion(ctx context.Context, promos interface {
	Get(ctx context.Context, id uint64) (*Promotion, error)
}, id uint64) (*Promotion, error) {
	return campaigns.Shared(ctx, fmt.Sprintf("landing.promotion:%d", id), func() (*Promotion, error) { return promos.Get(ctx, id) })
}

func landingPublished(ctx context.Context, pages *Pages, c *campaigns.Campaign) campaigns.Result {
	if c.LandingPageID == nil {
		return campaigns.Answer(campaigns.Fail, i18n.M("no landing page is linked to the campaign"), nil)
	}
	p, err := SharedPage(ctx, pages, *c.LandingPageID)
	if errors.Is(err, ErrNotFound) {
		return campaigns.Answer(campaigns.Fail, i18n.M("landing page #%s does not exist", strconv.FormatUint(*c.LandingPageID, 10)), nil)
	}
	if err != nil {
		return campaigns.Answer(campaigns.Pending, i18n.M("could not tell: %s", err), nil)
	}
	m := map[string]any{"page_id": p.ID, "slug": p.Slug}
	if !p.Published() {
		return campaigns.Answer(campaigns.Fail, i18n.M("/l/%s is not published", p.Slug), m)
	}
	v, err := campaigns.Shared(ctx, fmt.Sprintf("landing.version:%d", *p.PublishedVersionID), func() (*Version, error) {
		var v Version
		return &v, pages.DB.WithContext(ctx).Take(&v, *p.PublishedVersionID).Error
	})
	if err != nil {
		return campaigns.Answer(campaigns.Pending, i18n.M("could not tell: %s", err), m)
	}
	m["version"], m["published_at"] = v.Number, v.PublishedAt
	return campaigns.Answer(campaigns.Pass, i18n.M("/l/%s is published (version %d, %s)", p.Slug, v.Number, i18n.Time{T: v.PublishedAt.In(c.Location()), Layout: "Mon 2 Jan 2006, 15:04 MST"}), m)
}

func promotionsPublished(ctx context.Context, promos *Promotions, c *campaigns.Campaign) campaigns.Result {
	if len(c.PromotionIDs) == 0 {
		return campaigns.Answer(campaigns.Pass, i18n.M("no promotion is linked"), map[string]any{"promotions": 0})
	}
	var problems, ok []string
	var says []any
	problem := func(m i18n.Message) { problems, says = append(problems, m.String()), append(says, m) }
	day := func(t time.Time) i18n.Time { return i18n.Time{T: t.In(c.Location()), Layout: "2 Jan 15:04"} }
	for _, id := range c.PromotionIDs {
		p, err := SharedPromotion(ctx, promos, id)
		switch {
		case errors.Is(err, ErrNotFound):
			problem(i18n.M("promotion #%s does not exist", strconv.FormatUint(id, 10)))
		case err != nil:
			return campaigns.Answer(campaigns.Pending, i18n.M("could not tell: %s", err), nil)
		case p.Status != StatusPublished:
			problem(i18n.M("“%s” is %s", p.Name, i18n.M(string(p.Status))))
		case p.StartsAt.After(c.StartsAt):
			problem(i18n.M("“%s” starts %s, after the campaign (%s)", p.Name, day(p.StartsAt), day(c.StartsAt)))
		case p.EndsAt.Before(c.EndsAt):
			problem(i18n.M("“%s” ends %s, before the campaign (%s)", p.Name, day(p.EndsAt), day(c.EndsAt)))
		default:
			ok = append(ok, p.Name)
		}
	}
	m := map[string]any{"linked": len(c.PromotionIDs), "ready": len(ok), "problems": problems}
	if len(problems) > 0 {
		return campaigns.Answer(campaigns.Fail, i18n.M("%s", i18n.Join{Parts: says, Sep: "; "}), m)
	}
	return campaigns.Answer(campaigns.Pass, i18n.M("%d promotion(s) published over the whole window: %s", len(ok), strings.Join(ok, ", ")), m)
}
