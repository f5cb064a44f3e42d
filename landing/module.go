package landing

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
)

// Rechecker queues the re-check of the campaigns linked to what changed,
// once per change key: a publish answers at once, however many campaigns
// link to the page.
type Rechecker interface {
	EnqueueRecheck(ctx context.Context, l campaigns.Link, key string, why i18n.Message)
}

// Module is the landing domain wired together.
type Module struct {
	Promotions *Promotions
	Pages      *Pages
	Server     *Server
}

// New builds promotions, pages and the public page server on clock clk,
// registers their gates with reg, and makes every publish or unpublish drop
// cached pages (on every node, through bus) and re-check the campaigns that
// link to it.
func New(g *gorm.DB, cat Products, rc Rechecker, reg *campaigns.Registry, bus redis.UniversalClient, baseURL, tz string, clk clock.Clock) *Module {
	m := &Module{Server: &Server{Catalog: cat, BaseURL: baseURL, Clock: clk, Bus: bus}}
	m.Promotions = &Promotions{DB: g, Catalog: cat, Clock: clk, DefaultTZ: tz, Changed: func(ctx context.Context, id uint64) {
		m.Server.Invalidate(ctx, "")
		key := fmt.Sprintf("promotion:%d", id)
		if p, err := m.Promotions.Get(ctx, id); err == nil {
			key += fmt.Sprintf(":%d", p.ChangedAt.UnixNano())
		}
		rc.EnqueueRecheck(ctx, campaigns.Link{PromotionID: id}, key, i18n.M("promotion #%s changed", strconv.FormatUint(id, 10)))
	}}
	m.Pages = &Pages{DB: g, Clock: clk, Changed: func(ctx context.Context, id uint64, slug, change string) {
		m.Server.Invalidate(ctx, slug)
		rc.EnqueueRecheck(ctx, campaigns.Link{PageID: id}, fmt.Sprintf("page:%d:%s", id, change), i18n.M("landing page /l/%s changed", slug))
	}}
	m.Server.Pages, m.Server.Promotions = m.Pages, m.Promotions
	RegisterGates(reg, m.Pages, m.Promotions)
	return m
}
