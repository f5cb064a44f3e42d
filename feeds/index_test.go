package feeds

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/money"
)

// importMany adds n products G-1…G-n over three brands and two types.
func (e *env) importMany(t *testing.T, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("sku;title;brand;price;stock;product_type;link;image_link;description\n")
	brands, types := []string{"Nordik", "LUMO", "Kaze"}, []string{"Maison > Salon", "Maison > Cuisine > Four"}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "G-%d;Produit %d;%s;%d.%02d;3;%s;https://shop.example/g%d;https://cdn.example/g%d.jpg;Produit.\n",
			i, i, brands[i%3], 10+i%90, i%100, types[i%2], i, i)
	}
	if _, err := e.cat.Import(context.Background(), strings.NewReader(b.String()), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) publishWindow(t *testing.T, in landing.PromotionInput) landing.Promotion {
	t.Helper()
	in.StartsAt, in.EndsAt, in.TimeZone = "2026-11-27T00:00", "2026-12-01T00:00", "Europe/Paris"
	return *e.publish(t, in)
}

// The feed prices every product through the promotions' index: each line
// must say what EffectivePrice says over the same promotions, product by
// product; and the gate, which compares the first 2,000 products of each
// promotion, finds their price lines although the run keeps no others.
func TestGenerationPricesAsEffectivePriceAndKeepsTheGatesLines(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.importMany(t, 2600)
	var skus, every []string
	for i := 1; i <= 2600; i++ {
		if every = append(every, fmt.Sprintf("G-%d", i)); i%7 == 1 {
			skus = append(skus, every[i-1])
		}
	}
	promos := []landing.Promotion{
		e.publishWindow(t, landing.PromotionInput{Name: "brand", Kind: landing.PercentOff, Value: "15", Scope: landing.ScopeBrand, ScopeValue: "lumo"}),
		e.publishWindow(t, landing.PromotionInput{Name: "skus", Kind: landing.AmountOff, Value: "5", Scope: landing.ScopeSKUs, ScopeValue: strings.Join(skus, "\n")}),
		e.publishWindow(t, landing.PromotionInput{Name: "type", Kind: landing.FixedPrice, Value: "19.99", Scope: landing.ScopeType, ScopeValue: "Maison > Cuisine"}),
		e.publishWindow(t, landing.PromotionInput{Name: "coded", Kind: landing.PercentOff, Value: "50", Scope: landing.ScopeAll, Code: "HALF"}),
		// Every G product on sale: more than the 2,000 the gate compares.
		e.publishWindow(t, landing.PromotionInput{Name: "every G", Kind: landing.PercentOff, Value: "1", Scope: landing.ScopeSKUs, ScopeValue: strings.Join(every, ",")}),
	}
	f := e.feed(t, &Feed{Name: "prices", Format: Generic, Separator: ";", Columns: []Column{
		{Header: "sku", Template: "{sku}"}, {Header: "price", Template: "{price_value}"}, {Header: "sale", Template: "{sale_price_value}"}}})
	run, err := e.svc.Generate(ctx, f.ID, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(e.read(t, f, "prices.csv")))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil || len(rows) != 1+2600+3 { // F-3 (no image) and F-4 (price 0) are left out
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	onSale := 0
	for _, row := range rows[1:] {
		p, err := e.cat.BySKU(ctx, row[0])
		if err != nil {
			t.Fatal(err)
		}
		want := landing.EffectivePrice(p, promos, t0)
		sale := ""
		if want.OnSale() {
			sale = money.Plain(want.Effective, p.Currency)
			onSale++
		}
		if row[1] != money.Plain(p.Price, p.Currency) || row[2] != sale {
			t.Fatalf("%s: feed says %s / %q, EffectivePrice %+v", row[0], row[1], row[2], want)
		}
	}
	if onSale < 1000 {
		t.Fatalf("only %d products on sale: the test does not test much", onSale)
	}
	var lines int64
	e.svc.DB.Model(&PriceLine{}).Where("run_id = ?", run.ID).Count(&lines)
	// Every product of a SKU list, the first 2,000 of a brand or type.
	if onSale < 2600 || lines < 2600 {
		t.Fatalf("%d price lines for %d products on sale", lines, onSale)
	}
	reg := &campaigns.Registry{}
	RegisterGate(reg, e.svc)
	c := &campaigns.Campaign{ChannelList: ",comparators,", FeedIDs: []uint64{f.ID}, TimeZone: "Europe/Paris"}
	for _, p := range promos {
		if p.Code != "" {
			continue // it covers F-3 and F-4, which the feed leaves out
		}
		c.PromotionIDs = append(c.PromotionIDs, p.ID)
	}
	if res := reg.Evaluate(ctx, c, e.clk.Now()).Results[0]; res.Outcome != campaigns.Pass {
		t.Fatalf("gate: %+v", res)
	}
}

// A run keeps the lines of the first 2,000 products of a brand (or type, or
// all-products) scope, and of every product a SKU list names.
func TestGateLinesKeepTheFirst2000OfAScope(t *testing.T) {
	g := newGateLines([]landing.Promotion{{Scope: landing.ScopeBrand}, {Scope: landing.ScopeSKUs}})
	kept := 0
	for range 5 { // five parts of 600 products
		p := &part{}
		for i := range 600 {
			p.scoped = append(p.scoped, 0)
			r := scopedRead{from: int32(len(p.scoped) - 1), to: int32(len(p.scoped)), line: int32(len(p.pending))}
			if i%3 == 0 { // also in the SKU list
				p.scoped = append(p.scoped, 1)
				r.to++
			}
			p.pending = append(p.pending, pendingLine{sku: fmt.Sprint(i)})
			p.addRead(r)
		}
		kept += len(g.keep(p))
	}
	if want := 2000 + 1000/3; kept != want { // 2,000, then the listed third of the last 1,000
		t.Fatalf("kept %d lines of 3,000, want %d", kept, want)
	}
}
