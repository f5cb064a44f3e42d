package feeds

import (
	"strings"
	"time"

	"github.com/rampe/rampe/landing"
)

// gateLines chooses the price lines a run keeps: those the gate may read.
// comparators.feeds_fresh compares the first maxGateProducts products (by
// id) of each promotion's scope (of a SKU list, among its first 1,000
// SKUs); a run keeps the line of a product listed by a SKU-scoped
// promotion, or among the first maxGateProducts of a brand, type or
// all-products scope among the products it read. That is every line the
// gate can ask for (the gate counts the whole catalog, the run only what
// the feed reads, so the run's first ones reach at least as far): at most
// 2,000 per promotion (SKU lists: 10,000), where every promoted product
// of a million-product catalog wrote one. A draft promotion has no lines,
// but a campaign linking one fails promotions.published anyway.
//
// Workers note the promotions of each product they format (scope); the
// writer, which takes parts in id order, counts them (keep).
type gateLines struct {
	seen []int  // products read in each promotion's scope so far
	list []bool // the promotion's scope is a SKU list
}

func newGateLines(promos []landing.Promotion) gateLines {
	g := gateLines{seen: make([]int, len(promos)), list: make([]bool, len(promos))}
	for i := range promos {
		g.list[i] = promos[i].Scope == landing.ScopeSKUs
	}
	return g
}

// scopedRead is one product read that lies in a promotion's scope: its
// promotions are part.scoped[from:to], its prices part.pending[line] (-1:
// not promoted).
type scopedRead struct {
	from, to, line int32
}

// pendingLine is a promoted item's prices until keep decides: nothing is
// allocated for the many promoted products whose line is not kept (the SKU
// still points into the batch's text).
type pendingLine struct {
	sku         string
	price, sale int64
	onSale      bool
	from, until time.Time
}

// scope notes the promotions whose scope includes a product (the
// builder's Scoped answer).
func (p *part) scope(scoped []int) scopedRead {
	from := len(p.scoped)
	p.scoped = append(p.scoped, scoped...)
	return scopedRead{from: int32(from), to: int32(len(p.scoped)), line: -1}
}

func (p *part) addRead(r scopedRead) {
	if r.to > r.from {
		p.reads = append(p.reads, r)
	}
}

// keep counts the part's products in their promotions' scopes and returns
// the lines to store.
func (g *gateLines) keep(p *part) []PriceLine {
	var out []PriceLine
	for _, r := range p.reads {
		keep := false
		for _, i := range p.scoped[r.from:r.to] {
			if g.seen[i]++; g.list[i] || g.seen[i] <= maxGateProducts {
				keep = true
			}
		}
		if keep && r.line >= 0 {
			out = append(out, p.pending[r.line].line())
		}
	}
	return out
}

// line is what the gate compares of a promoted item.
func (l *pendingLine) line() PriceLine {
	// A copy: the SKU is a slice of the text the batch was read into,
	// which the line would keep alive.
	line := PriceLine{SKU: strings.Clone(l.sku), Price: l.price}
	if l.onSale {
		sale := l.sale
		line.SalePrice = &sale
		if !l.from.IsZero() {
			from, until := l.from, l.until
			line.SaleStartsAt, line.SaleEndsAt = &from, &until
		}
	}
	return line
}
