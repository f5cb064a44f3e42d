package landing

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
)

// Rechecker re-evaluates the campaigns linked to a page or a promotion.
type Rechecker interface {
	RecheckLinked(ctx context.Context, pageID, promotionID uint64, why string) error
}

// Module is the landing domain wired together.
type Module struct {
	Promotions *Promotions
	Pages      *Pages
	Server     *Server
}

// New builds promotions, pages and the public page server, registers their
// gates with reg, and makes every publish or unpublish drop cached pages (on
// every node, through bus) and re-check the campaigns that link to it.
func New(g *gorm.DB, cat *catalog.Store, rc Rechecker, reg *campaigns.Registry, bus redis.UniversalClient, baseURL, tz string) *Module {
	now := func() time.Time { return time.Now().UTC() }
	m := &Module{Server: &Server{Catalog: cat, BaseURL: baseURL, Now: now, Bus: bus}}
	m.Promotions = &Promotions{DB: g, Catalog: cat, Now: now, DefaultTZ: tz, Changed: func(ctx context.Context, id uint64) {
		m.Server.Invalidate(ctx, "")
		if err := rc.RecheckLinked(ctx, 0, id, "a promotion it advertises changed"); err != nil {
			slog.Error("landing: re-check campaigns after a promotion change", "promotion", id, "err", err)
		}
	}}
	m.Pages = &Pages{DB: g, Now: now, Changed: func(ctx context.Context, id uint64, slug string) {
		m.Server.Invalidate(ctx, slug)
		if err := rc.RecheckLinked(ctx, id, 0, "its landing page /l/"+slug+" changed"); err != nil {
			slog.Error("landing: re-check campaigns after a page change", "page", id, "err", err)
		}
	}}
	m.Server.Pages, m.Server.Promotions = m.Pages, m.Promotions
	RegisterGates(reg, m.Pages, m.Promotions)
	return m
}
