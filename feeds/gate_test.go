package feeds

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
)

// A promotion that opens at the campaign's start: a Google feed generated
// ahead carries its sale with sale_price_effective_date, and the gate,
// judging as of the start, passes at the go-live instant. An idealo feed
// (no effective date) cannot carry it ahead: it passes once generated
// after the opening.
func TestGateJudgesFeedsAsOfTheCampaignStart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := &campaigns.Registry{}
	RegisterGate(reg, e.svc)
	p, err := e.promos.Create(ctx, landing.PromotionInput{Name: "Cyber", Kind: landing.PercentOff, Value: "10", Scope: landing.ScopeSKUs, ScopeValue: "F-1",
		StartsAt: "2026-11-29T00:00", EndsAt: "2026-12-01T00:00", TimeZone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.promos.Publish(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC) // 00:00 in Paris
	google := e.feed(t, &Feed{Name: "google-fr", Format: GoogleXML})
	idealo := e.feed(t, &Feed{Name: "idealo-de", Format: IdealoCSV})
	e.clk.Add(time.Minute)
	for _, f := range []*Feed{google, idealo} {
		if _, err := e.svc.Generate(ctx, f.ID, "ahead", nil); err != nil {
			t.Fatal(err)
		}
	}
	xml := string(e.read(t, google, "google-fr.xml"))
	if !strings.Contains(xml, "<g:sale_price>90.00 EUR</g:sale_price>") || !strings.Contains(xml, "2026-11-29T00:00+01:00/2026-12-01T00:00+01:00") {
		t.Fatalf("the Google feed generated ahead lacks the coming sale:\n%s", xml)
	}
	if csv := string(e.read(t, idealo, "idealo-de.csv")); strings.Contains(csv, "90.00") || strings.Contains(csv, "90,00") {
		t.Fatalf("the idealo feed shows the sale before it opens:\n%s", csv)
	}
	c := &campaigns.Campaign{ChannelList: ",comparators,", PromotionIDs: []uint64{p.ID}, TimeZone: "Europe/Paris",
		StartsAt: start, EndsAt: start.Add(48 * time.Hour), FeedIDs: []uint64{google.ID}}
	gate := func(now time.Time) campaigns.Result { return reg.Evaluate(ctx, c, now).Results[0] }
	for _, now := range []time.Time{e.clk.Now(), start} {
		if r := gate(now); r.Outcome != campaigns.Pass {
			t.Fatalf("Google feed generated ahead, gate at %s: %s %q", now, r.Outcome, r.Message)
		}
	}
	c.FeedIDs = []uint64{idealo.ID}
	if r := gate(start); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "feed idealo-de lacks F-1 at its promotional price €90.00") {
		t.Fatalf("idealo feed generated before the opening, at the start: %s %q", r.Outcome, r.Message)
	}
	e.clk.Set(start.Add(time.Second))
	e.svc.Generate(ctx, idealo.ID, "promotion window boundary", nil)
	if r := gate(e.clk.Now()); r.Outcome != campaigns.Pass {
		t.Fatalf("idealo feed generated after the opening: %s %q", r.Outcome, r.Message)
	}
}

// manyProducts adds n valid products of brand Many.
func (e *env) manyProducts(t *testing.T, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("sku;title;brand;price;link;image_link;description\n")
	for i := range n {
		fmt.Fprintf(&b, "M-%02d;Objet %d;Many;50.00;https://shop.example/m%d;https://cdn.example/m%d.jpg;Objet.\n", i, i, i, i)
	}
	if _, err := e.cat.Import(context.Background(), strings.NewReader(b.String()), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) publish(t *testing.T, in landing.PromotionInput) *landing.Promotion {
	t.Helper()
	p, err := e.promos.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = e.promos.Publish(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	return p
}

// Two promotions over the same 25 products and two idealo feeds whose sale
// outlived the window: the gate names ten problems, not ten per promotion
// and feed.
func TestGateNamesAtMostTenProblems(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := &campaigns.Registry{}
	RegisterGate(reg, e.svc)
	e.manyProducts(t, 25)
	window := landing.PromotionInput{Kind: landing.PercentOff, Scope: landing.ScopeBrand, ScopeValue: "Many",
		StartsAt: "2026-11-28T00:00", EndsAt: "2026-11-29T00:00", TimeZone: "Europe/Paris"}
	a, b := window, window
	a.Name, a.Value, b.Name, b.Value = "A", "10", "B", "5"
	pa, pb := e.publish(t, a), e.publish(t, b)
	c := &campaigns.Campaign{ChannelList: ",comparators,", PromotionIDs: []uint64{pa.ID, pb.ID}, TimeZone: "Europe/Paris"}
	for _, name := range []string{"idealo-1", "idealo-2"} {
		f := e.feed(t, &Feed{Name: name, Format: IdealoCSV})
		e.clk.Add(time.Minute)
		e.svc.Generate(ctx, f.ID, "test", nil)
		c.FeedIDs = append(c.FeedIDs, f.ID)
	}
	r := reg.Evaluate(ctx, c, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)).Results[0]
	probs, _ := r.Measured["problems"].([]string)
	if r.Outcome != campaigns.Fail || len(probs) != 10 || !strings.Contains(r.Message, "(first 10 problems)") {
		t.Fatalf("%s with %d problems: %q", r.Outcome, len(probs), r.Message)
	}
}

// The promoted products are read once per evaluation, not once per feed,
// and a feed's price lines in one query, not one per product.
func TestGateReadsPromotedProductsOncePerEvaluation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := &campaigns.Registry{}
	RegisterGate(reg, e.svc)
	e.manyProducts(t, 25)
	p := e.publish(t, landing.PromotionInput{Name: "A", Kind: landing.PercentOff, Value: "10", Scope: landing.ScopeBrand, ScopeValue: "Many",
		StartsAt: "2026-11-28T00:00", EndsAt: "2026-11-30T00:00", TimeZone: "Europe/Paris"})
	c := &campaigns.Campaign{ChannelList: ",comparators,", PromotionIDs: []uint64{p.ID}, TimeZone: "Europe/Paris"}
	for _, name := range []string{"g-1", "g-2", "g-3"} {
		f := e.feed(t, &Feed{Name: name, Format: GoogleXML})
		e.clk.Add(time.Minute)
		e.svc.Generate(ctx, f.ID, "test", nil)
		c.FeedIDs = append(c.FeedIDs, f.ID)
	}
	var products, all atomic.Int32
	if err := e.svc.DB.Callback().Query().After("gorm:query").Register("test:count", func(tx *gorm.DB) {
		all.Add(1)
		if tx.Statement.Table == "products" {
			products.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	r := reg.Evaluate(ctx, c, e.clk.Now()).Results[0]
	if r.Outcome != campaigns.Pass || r.Measured["promoted_products_checked"] != 75 {
		t.Fatalf("setup: %s %q %v", r.Outcome, r.Message, r.Measured)
	}
	// One for the promotion's products, one for the catalog's version.
	if products.Load() != 2 || all.Load() > 16 {
		t.Fatalf("%d queries of products (want 2, one promotion), %d queries in all for 3 feeds × 25 products", products.Load(), all.Load())
	}
	// Evaluated again: the promotion's products and the runs' lines come
	// from the cache; an import changes the catalog's version.
	products.Store(0)
	all.Store(0)
	if r := reg.Evaluate(ctx, c, e.clk.Now()).Results[0]; r.Outcome != campaigns.Pass || products.Load() != 1 || all.Load() > 7 {
		t.Fatalf("again: %s, %d queries of products, %d in all", r.Outcome, products.Load(), all.Load())
	}
	e.clk.Add(time.Minute)
	if _, err := e.cat.Import(ctx, strings.NewReader("sku,title,brand,price,link,image_link,description\nM-1,Autre,Many,1.00,https://shop.example/m,https://cdn.example/m.jpg,x\n"), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	if r := reg.Evaluate(ctx, c, e.clk.Now()).Results[0]; r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "lacks M-1 ") {
		t.Fatalf("after an import that added a promoted product: %s %q", r.Outcome, r.Message)
	}
}

// A finished generation re-checks the campaigns linking the feed: a
// campaign blocked on a stale idealo feed goes live once it is generated
// again.
func TestFinishedGenerationRechecksLinkedCampaigns(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cs := campaigns.NewService(e.svc.DB, &recorder{}, e.clk)
	cs.Gates = &campaigns.Registry{}
	RegisterGate(cs.Gates, e.svc)
	var rechecks atomic.Int32
	e.svc.Generated = func(ctx context.Context, feedID, runID uint64, name string) {
		rechecks.Add(1)
		if err := cs.RecheckLinked(ctx, campaigns.Link{FeedID: feedID}, i18n.M("feed %s was generated", name)); err != nil {
			t.Error(err)
		}
	}
	p := e.publish(t, landing.PromotionInput{Name: "Cyber", Kind: landing.PercentOff, Value: "10", Scope: landing.ScopeSKUs, ScopeValue: "F-1",
		StartsAt: "2026-11-29T00:00", EndsAt: "2026-12-01T00:00", TimeZone: "Europe/Paris"})
	f := e.feed(t, &Feed{Name: "idealo-de", Format: IdealoCSV})
	e.clk.Add(time.Minute)
	e.svc.Generate(ctx, f.ID, "ahead", nil)
	c, err := cs.Create(ctx, campaigns.Input{Name: "Cyber", Channels: []string{"comparators"}, TimeZone: "Europe/Paris",
		StartsAt: "2026-11-29T00:00", EndsAt: "2026-11-30T00:00", Budgets: map[string]int64{"comparators": 100},
		Forecast:     map[string]map[string]float64{"comparators": {"daily_clicks": 100, "uplift": 2}},
		PromotionIDs: []uint64{p.ID}, FeedIDs: []uint64{f.ID}}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	c, _ = cs.Schedule(ctx, c.ID, "ana")
	e.clk.Set(c.StartsAt)
	cs.GoLive(ctx, c.ID, c.ScheduleVersion, "worker")
	if got, _ := cs.Get(ctx, c.ID); got.Status != campaigns.Blocked {
		t.Fatalf("setup: %s (%s)", got.Status, got.StatusReason)
	}
	e.clk.Add(time.Second)
	if _, err := e.svc.Generate(ctx, f.ID, "promotion window boundary", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := cs.Get(ctx, c.ID); rechecks.Load() == 0 || got.Status != campaigns.Live {
		t.Fatalf("after the generation: %d re-checks, campaign %s (%s)", rechecks.Load(), got.Status, got.StatusReason)
	}
}

// A promotion opening within the minute: the scheduler queues the
// generation for the opening instant itself.
func TestSchedulerQueuesGenerationAtTheComingBoundary(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := &recorder{}
	j := &Jobs{Service: e.svc, Tasks: rec}
	f := e.feed(t, &Feed{Name: "idealo-de", Format: IdealoCSV})
	opening := time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC) // 00:00 in Paris
	e.publish(t, landing.PromotionInput{Name: "Cyber", Kind: landing.PercentOff, Value: "10", Scope: landing.ScopeSKUs, ScopeValue: "F-1",
		StartsAt: "2026-11-29T00:00", EndsAt: "2026-12-01T00:00", TimeZone: "Europe/Paris"})
	e.clk.Add(time.Minute)
	e.svc.Generate(ctx, f.ID, "first", nil)
	e.clk.Set(opening.Add(-40 * time.Second))
	j.Tick(ctx, e.clk.Now())
	want := fmt.Sprintf("feed:%d:promotion window boundary:%d", f.ID, opening.Unix())
	if len(rec.ids) != 1 || rec.ids[0] != want {
		t.Fatalf("queued %v, want %s", rec.ids, want)
	}
}

// The gate's verdict is kept for everything it depends on: asked again
// with nothing changed it compares nothing again; another promotion
// published over the same products, or the feed generated again, is judged
// afresh.
func TestGateVerdictFollowsPromotionsAndRuns(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := &campaigns.Registry{}
	RegisterGate(reg, e.svc)
	e.manyProducts(t, 25)
	window := landing.PromotionInput{Kind: landing.PercentOff, Scope: landing.ScopeBrand, ScopeValue: "Many",
		StartsAt: "2026-11-28T00:00", EndsAt: "2026-11-30T00:00", TimeZone: "Europe/Paris"}
	a := window
	a.Name, a.Value = "A", "10"
	p := e.publish(t, a)
	f := e.feed(t, &Feed{Name: "g", Format: GoogleXML})
	e.clk.Add(time.Minute)
	e.svc.Generate(ctx, f.ID, "test", nil)
	c := &campaigns.Campaign{ChannelList: ",comparators,", PromotionIDs: []uint64{p.ID}, FeedIDs: []uint64{f.ID}, TimeZone: "Europe/Paris"}
	at := e.clk.Now()
	for range 2 {
		if r := reg.Evaluate(ctx, c, at).Results[0]; r.Outcome != campaigns.Pass {
			t.Fatalf("setup: %s %q", r.Outcome, r.Message)
		}
	}
	b := window
	b.Name, b.Value = "B", "30"
	e.publish(t, b)
	r := reg.Evaluate(ctx, c, at).Results[0]
	if r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "the landing page says") {
		t.Fatalf("after a deeper promotion over the same products: %s %q", r.Outcome, r.Message)
	}
	e.clk.Add(time.Minute)
	e.svc.Generate(ctx, f.ID, "test", nil)
	if r := reg.Evaluate(ctx, c, at).Results[0]; r.Outcome != campaigns.Pass {
		t.Fatalf("after generating the feed again: %s %q", r.Outcome, r.Message)
	}
}
