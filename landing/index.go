package landing

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampe/rampe/catalog"
)

// Index finds the promotions whose scope may include a product without
// looking at every promotion: SKU lists are split once into a set, brands
// and product types become map keys. Pricing through it gives exactly what
// EffectivePrice gives over the same promotions (the candidates are then
// judged by Matches, in the promotions' order); it is built once per
// evaluation or generation, where EffectivePrice re-split every SKU list
// for every product.
type Index struct {
	promos []Promotion
	all    []int            // scope all
	sku    map[string][]int // by SKU
	brand  map[string][]int // by ASCII brand, lower-cased
	// foldBrand are brand scopes with non-ASCII letters: Unicode case
	// folding (strings.EqualFold) has no simple key, so they are always
	// judged. Rare.
	foldBrand []int
	anyBrand  []int            // every brand scope, for a non-ASCII product brand
	typ       map[string][]int // by product type, exact
}

// NewIndex indexes promos; the index keeps the slice (do not change it).
func NewIndex(promos []Promotion) *Index {
	x := &Index{promos: promos, sku: map[string][]int{}, brand: map[string][]int{}, typ: map[string][]int{}}
	for i := range promos {
		p := &promos[i]
		switch p.Scope {
		case ScopeAll:
			x.all = append(x.all, i)
		case ScopeSKUs:
			for _, s := range p.SKUs() {
				x.sku[s] = append(x.sku[s], i)
			}
		case ScopeBrand:
			x.anyBrand = append(x.anyBrand, i)
			if isASCII(p.ScopeValue) {
				k := strings.ToLower(p.ScopeValue)
				x.brand[k] = append(x.brand[k], i)
			} else {
				x.foldBrand = append(x.foldBrand, i)
			}
		case ScopeType:
			x.typ[p.ScopeValue] = append(x.typ[p.ScopeValue], i)
		}
	}
	return x
}

// Promotions are the indexed promotions.
func (x *Index) Promotions() []Promotion { return x.promos }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerASCII appends s lower-cased to buf: a map lookup with
// m[string(bytes)] allocates nothing (strings.ToLower made a string per
// product).
func lowerASCII(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf
}

// candidates appends to dst, in the promotions' order and once each, the
// promotions that may match pr; Matches decides.
func (x *Index) candidates(pr *catalog.Product, dst []int) []int {
	dst = append(dst, x.all...)
	dst = append(dst, x.sku[pr.SKU]...)
	if isASCII(pr.Brand) {
		if len(x.brand) > 0 {
			var buf [64]byte
			dst = append(dst, x.brand[string(lowerASCII(buf[:0], pr.Brand))]...)
		}
		dst = append(dst, x.foldBrand...)
	} else {
		dst = append(dst, x.anyBrand...)
	}
	if len(x.typ) > 0 {
		// A type scope holds the product's type and every type it is
		// under ("A > B" is under "A").
		t := pr.ProductType
		dst = append(dst, x.typ[t]...)
		for i := strings.Index(t, " >"); i >= 0; {
			dst = append(dst, x.typ[t[:i]]...)
			j := strings.Index(t[i+2:], " >")
			if j < 0 {
				break
			}
			i += 2 + j
		}
	}
	slices.Sort(dst)
	return slices.Compact(dst)
}

// Scoped appends to dst the promotions (indexes into Promotions()) whose
// scope includes pr, whatever their status or window.
func (x *Index) Scoped(pr *catalog.Product, dst []int) []int {
	var buf [8]int
	for _, i := range x.candidates(pr, buf[:0]) {
		if p := &x.promos[i]; p.Scope == ScopeSKUs || p.Matches(pr) {
			dst = append(dst, i)
		}
	}
	return dst
}

// Price is EffectivePrice(pr, promotions, t), looking only at the
// promotions whose scope may include pr.
func (x *Index) Price(pr *catalog.Product, t time.Time) Price {
	var buf [8]int
	return x.PriceAmong(pr, t, x.Scoped(pr, buf[:0]))
}

// PriceAmong is Price(pr, t) given scoped, what Scoped(pr) answered: a
// generation asks for both.
func (x *Index) PriceAmong(pr *catalog.Product, t time.Time, scoped []int) Price {
	out := Price{Regular: pr.Price, Effective: pr.Price, Currency: pr.Currency}
	for _, i := range scoped {
		out.consider(&x.promos[i], pr, t, true)
	}
	return out
}

// consider applies p to out when p is active at t and includes pr (matches
// tells): the rule of EffectivePrice for one promotion.
func (out *Price) consider(p *Promotion, pr *catalog.Product, t time.Time, matches bool) {
	if !matches || !p.ActiveAt(t) {
		return
	}
	v, ok := p.Apply(pr.Price, pr.Currency)
	if !ok || v >= pr.Price {
		return
	}
	if p.Code != "" {
		out.Coded = append(out.Coded, CodedPrice{Code: p.Code, Price: v})
		return
	}
	if v < out.Effective || (v == out.Effective && out.Promotion != nil && p.ID < out.Promotion.ID) {
		out.Effective, out.Promotion = v, p
	}
}
