package feeds

import (
	"context"
	"time"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
)

// Catalog is what feeds read of the catalog (a *catalog.Store): its
// products streamed in id order, and its version, which says when it last
// changed.
type Catalog interface {
	StreamPlan() (width, inFlight int)
	Stream(ctx context.Context, f catalog.Filter, free <-chan []catalog.Product, out chan<- []catalog.Product) error
	Version(ctx context.Context) (catalog.Version, error)
}

// PromotionSource is what feeds read of the promotions (a
// *landing.Promotions): those published, one by id, the products a
// promotion prices, and when a promotion was last published or unpublished.
type PromotionSource interface {
	Get(ctx context.Context, id uint64) (*landing.Promotion, error)
	Published(ctx context.Context, t time.Time) ([]landing.Promotion, error)
	PricingProducts(ctx context.Context, p *landing.Promotion, limit int) ([]catalog.Product, error)
	LastChanged(ctx context.Context) (time.Time, error)
}
