package feeds

import (
	"context"
	"sync"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
)

// gateCache keeps what comparators.feeds_fresh reads over and over: the
// products of a promotion (up to 2,000, read by id from everywhere in the
// table) and what a run wrote for a product. A publish re-checks a
// thousand comparators campaigns that share a few promotions and one feed,
// and each evaluation read them again (two thirds of its 500 ms).
//
// A finished run never changes, so its lines are kept as read. A
// promotion's products are kept for its changed_at and the catalog's
// version: the newest product id and updated_at (products are inserted or
// updated, never deleted), read once per evaluation from their indexes.
type gateCache struct {
	mu       sync.Mutex
	version  catalogVersion
	products map[promoKey][]catalog.Product
	runs     map[uint64]*runCache
	order    []uint64 // runs, oldest first
	// verdicts are comparators.feeds_fresh's answers by everything they
	// depend on (verdictKey): a readiness asked again with nothing
	// changed compares no price again.
	verdicts map[string]campaigns.Result
}

// maxCachedVerdicts bounds the verdicts kept; past it they start again.
const maxCachedVerdicts = 2000

func (c *gateCache) verdict(key string) (campaigns.Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.verdicts[key]
	return r, ok
}

func (c *gateCache) keepVerdict(key string, r campaigns.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.verdicts == nil || len(c.verdicts) >= maxCachedVerdicts {
		c.verdicts = map[string]campaigns.Result{}
	}
	c.verdicts[key] = r
}

type catalogVersion = catalog.Version

type promoKey struct {
	id      uint64
	changed time.Time
}

// runCache is what a run wrote for the SKUs asked so far: a line, or nil
// when it wrote none (left[sku] then says why, if it left the product out).
type runCache struct {
	lines map[string]*PriceLine
	left  map[string]string
}

const (
	maxCachedPromotions = 200
	maxCachedRuns       = 4
)

// catalogVersion is the catalog's version.
func (s *Service) catalogVersion(ctx context.Context) (catalogVersion, error) {
	return s.Catalog.Version(ctx)
}

// promotionProducts is PricingProducts(p, maxGateProducts), from the cache
// when neither p nor the catalog changed since.
func (s *Service) promotionProducts(ctx context.Context, v catalogVersion, p *landing.Promotion) ([]catalog.Product, error) {
	key := promoKey{p.ID, p.ChangedAt}
	c := &s.gateCache
	c.mu.Lock()
	if c.version != v || len(c.products) >= maxCachedPromotions {
		c.version, c.products = v, map[promoKey][]catalog.Product{}
	}
	prods, ok := c.products[key]
	c.mu.Unlock()
	if ok {
		return prods, nil
	}
	prods, err := s.Promotions.PricingProducts(ctx, p, maxGateProducts)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.version == v {
		c.products[key] = prods
	}
	c.mu.Unlock()
	return prods, nil
}

// cachedFindings splits prods into what the cache knows of run and the
// rest, which runFindings reads and remember stores.
func (c *gateCache) cachedFindings(run uint64, prods []*catalog.Product) (map[string]*PriceLine, map[string]string, []*catalog.Product) {
	lines, left := make(map[string]*PriceLine, len(prods)), map[string]string{}
	c.mu.Lock()
	defer c.mu.Unlock()
	rc := c.runs[run]
	if rc == nil {
		return lines, left, prods
	}
	var rest []*catalog.Product
	for _, p := range prods {
		l, ok := rc.lines[p.SKU]
		if !ok {
			rest = append(rest, p)
			continue
		}
		if l != nil {
			lines[p.SKU] = l
		} else if why, ok := rc.left[p.SKU]; ok {
			left[p.SKU] = why
		}
	}
	return lines, left, rest
}

// remember stores what run wrote for asked.
func (c *gateCache) remember(run uint64, asked []*catalog.Product, lines map[string]*PriceLine, left map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runs == nil {
		c.runs = map[uint64]*runCache{}
	}
	rc := c.runs[run]
	if rc == nil {
		rc = &runCache{lines: map[string]*PriceLine{}, left: map[string]string{}}
		c.runs[run] = rc
		if c.order = append(c.order, run); len(c.order) > maxCachedRuns {
			delete(c.runs, c.order[0])
			c.order = c.order[1:]
		}
	}
	for _, p := range asked {
		rc.lines[p.SKU] = lines[p.SKU]
		if why, ok := left[p.SKU]; ok {
			rc.left[p.SKU] = why
		}
	}
}
