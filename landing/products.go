package landing

import (
	"context"

	"github.com/rampe/rampe/catalog"
)

// Products is what landing reads of the catalog (a *catalog.Store): the
// products of a page's SKU list, and the products of a promotion's scope,
// counted and listed, with the catalog's version that says when a count
// may be kept.
type Products interface {
	BySKUs(ctx context.Context, skus []string) ([]catalog.Product, error)
	Version(ctx context.Context) (catalog.Version, error)
	CountIn(ctx context.Context, sc catalog.Scope) (int64, error)
	ProductsIn(ctx context.Context, sc catalog.Scope, limit int) ([]catalog.Product, error)
	PricingIn(ctx context.Context, sc catalog.Scope, limit int) ([]catalog.Product, error)
}

// CatalogScope is the part of the catalog the promotion applies to.
func (p *Promotion) CatalogScope() catalog.Scope {
	switch p.Scope {
	case ScopeSKUs:
		return catalog.SKUScope(p.SKUs())
	case ScopeBrand:
		return catalog.BrandScope(p.ScopeValue)
	case ScopeType:
		return catalog.TypeScope(p.ScopeValue)
	}
	return catalog.AllProducts()
}
