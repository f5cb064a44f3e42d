package landing

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/rampe/rampe/catalog"
)

// TestIndexPricesAsEffectivePrice: pricing through the index gives exactly
// what EffectivePrice gives over the same promotions, for every scope (SKU
// lists with odd separators, brands in any case and outside ASCII, nested
// product types), codes, ties, windows and currencies.
func TestIndexPricesAsEffectivePrice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	brands := []string{"Nordik", "NORDIK", "nordik", "Lumen", "Éclat", "éclat", "\u212Aelvin", "kelvin", "", "Nord"}
	types := []string{"", "Maison", "Maison > Salon", "Maison > Salon > Chaises", "Maison >", "Maison > > X", "Jardin > Salon", "Maisonette"}
	var promos []Promotion
	for i := range 60 {
		p := Promotion{ID: uint64(i + 1), Status: StatusPublished, Currency: "EUR", StartsAt: t0.Add(-time.Hour), EndsAt: t0.Add(time.Duration(rng.IntN(48)) * time.Hour)}
		switch rng.IntN(4) {
		case 0:
			p.Kind, p.Value = PercentOff, int64(100+rng.IntN(5000))
		case 1:
			p.Kind, p.Value = AmountOff, int64(rng.IntN(3000))
		case 2:
			p.Kind, p.Value = FixedPrice, int64(rng.IntN(5000))
		default:
			p.Kind, p.Value, p.Currency = AmountOff, 100, "USD"
		}
		switch rng.IntN(5) {
		case 0:
			p.Scope = ScopeAll
		case 1:
			p.Scope, p.ScopeValue = ScopeSKUs, fmt.Sprintf("S%d, S%d;S%d\nS%d\r\nS%d S%d", rng.IntN(40), rng.IntN(40), rng.IntN(40), rng.IntN(40), rng.IntN(40), rng.IntN(40))
		case 2, 3:
			p.Scope, p.ScopeValue = ScopeBrand, brands[rng.IntN(len(brands)-1)]
		default:
			p.Scope, p.ScopeValue = ScopeType, types[1+rng.IntN(len(types)-1)]
		}
		if rng.IntN(6) == 0 {
			p.Code = fmt.Sprintf("CODE%d", i)
		}
		if rng.IntN(8) == 0 {
			p.Status = StatusDraft
		}
		promos = append(promos, p)
	}
	x := NewIndex(promos)
	for i := range 3000 {
		pr := &catalog.Product{SKU: fmt.Sprintf("S%d", rng.IntN(50)), Brand: brands[rng.IntN(len(brands))], ProductType: types[rng.IntN(len(types))],
			Price: int64(1 + rng.IntN(10000)), Currency: "EUR"}
		if i%7 == 0 {
			pr.Currency = "USD"
		}
		at := t0.Add(time.Duration(rng.IntN(50)-2) * time.Hour)
		want, got := EffectivePrice(pr, promos, at), x.Price(pr, at)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("product %+v at %s: index gives %+v, EffectivePrice %+v", pr, at, got, want)
		}
	}
}

func BenchmarkIndexPrice(b *testing.B) {
	var promos []Promotion
	for i := range 50 {
		p := Promotion{ID: uint64(i + 1), Status: StatusPublished, Kind: PercentOff, Value: 1000, Currency: "EUR", StartsAt: t0.Add(-time.Hour), EndsAt: t0.Add(time.Hour)}
		if i%2 == 0 {
			p.Scope, p.ScopeValue = ScopeBrand, fmt.Sprintf("Brand%d", i)
		} else {
			p.Scope = ScopeSKUs
			for j := range 500 {
				p.ScopeValue += fmt.Sprintf("B-%d\n", i*1000+j)
			}
		}
		promos = append(promos, p)
	}
	pr := &catalog.Product{SKU: "B-1234", Brand: "Brand4", Price: 1000, Currency: "EUR"}
	b.Run("index", func(b *testing.B) {
		x := NewIndex(promos)
		for b.Loop() {
			x.Price(pr, t0)
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			EffectivePrice(pr, promos, t0)
		}
	})
}
