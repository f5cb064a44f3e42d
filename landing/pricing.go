package landing

import (
	"time"

	"github.com/rampe/rampe/catalog"
)

// Price is what a product costs at one instant.
type Price struct {
	Regular   int64
	Effective int64
	Currency  string
	// Promotion is the winning promotion, nil when the regular price holds.
	Promotion *Promotion
	// Coded lists promotions that need a code at checkout, with their price;
	// they never change the displayed price.
	Coded []CodedPrice
}

// CodedPrice is a price reachable with a promo code.
type CodedPrice struct {
	Code  string
	Price int64
}

// OnSale tells whether a promotion lowers the price.
func (p Price) OnSale() bool { return p.Effective < p.Regular }

// EffectivePrice applies the rule written in the README: among the published
// promotions active at t that match the product (and need no code), the
// lowest resulting price wins; promotions never stack; a price never goes
// below zero; percentages round half-up to the minor unit; a tie goes to the
// promotion created first.
func EffectivePrice(pr *catalog.Product, promos []Promotion, t time.Time) Price {
	out := Price{Regular: pr.Price, Effective: pr.Price, Currency: pr.Currency}
	for i := range promos {
		if p := &promos[i]; p.ActiveAt(t) {
			out.consider(p, pr, t, p.Matches(pr))
		}
	}
	return out
}

// NextBoundary is the first instant after t at which one of promos starts or
// ends: until then, every effective price computed at t stays true.
func NextBoundary(promos []Promotion, t time.Time) time.Time {
	var next time.Time
	for _, p := range promos {
		if p.Status != StatusPublished {
			continue
		}
		for _, b := range []time.Time{p.StartsAt, p.EndsAt} {
			if b.After(t) && (next.IsZero() || b.Before(next)) {
				next = b
			}
		}
	}
	return next
}
