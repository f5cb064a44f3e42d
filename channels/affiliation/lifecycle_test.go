package affiliation

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/channels"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/mailer/mailertest"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
)

// env is the affiliation channel wired to real campaigns, landing pages,
// promotions, the click redirector and an SMTP server.
type env struct {
	s      *Service
	cs     *campaigns.Service
	m      *landing.Module
	clicks *clicks.Service
	clk    *clock.Fixed
	smtp   *mailertest.Server
	ch     *Channel
	cat    *catalog.Store
	tasks  *queue.Client
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

type catalogLinks struct{ cat *catalog.Store }

func (c catalogLinks) ProductLink(ctx context.Context, sku string) (string, error) {
	p, err := c.cat.BySKU(ctx, sku)
	if err != nil {
		return "", err
	}
	return p.Link, nil
}

func newEnv(t *testing.T) *env {
	t.Helper()
	g := testenv.DB(t, db.Migrations, campaigns.Migrations, catalog.Migrations, landing.Migrations, clicks.Migrations, Migrations)
	conn := testenv.Redis(t)
	clk := clock.NewFixed(t0)
	cs := campaigns.NewService(g, queue.NewClient(conn), clk)
	cat := &catalog.Store{DB: g}
	m := landing.New(g, cat, cs, cs.Gates, conn.Redis, "http://127.0.0.1:19201", "Europe/Paris", clk)
	cl := &clicks.Service{DB: g, Secret: []byte("0123456789abcdef0123456789abcdef"), Clock: clk}
	srv := mailertest.Start(t)
	mc, err := mailer.ParseURL(fmt.Sprintf("smtp://%s?tls=none", srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	mc.From = "Rampe <rampe@shop.example>"
	s := &Service{DB: g, Campaigns: cs, Outbound: policy(), Links: cl, Offers: m.Server, Promotions: m.Promotions, Products: catalogLinks{cat},
		Mailer: mailer.New(mc), BaseURL: "http://127.0.0.1:19201", ShopURL: "https://shop.example/", DefaultTimeZone: "Europe/Paris", Clock: clk}
	cl.Routes = map[campaigns.Channel]clicks.Router{campaigns.Affiliation: s.Route}
	m.Promotions.PartnerCodes = s
	ch := &Channel{Service: s, Notice: 48 * time.Hour}
	if err := channels.Register(cs, ch); err != nil {
		t.Fatal(err)
	}
	return &env{tasks: queue.NewClient(conn), s: s, cs: cs, m: m, clicks: cl, clk: clk, smtp: srv, ch: ch, cat: cat}
}

// campaign makes a published page, a published promotion over the window
// and a draft campaign on the affiliation channel linking both.
func (e *env) campaign(t *testing.T) *campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	for _, p := range []catalog.Product{{SKU: "MANTEAU-1", Title: "Manteau", Link: "https://shop.example/p/manteau-1", Brand: "Rampe", Condition: "new", ProductType: "Mode > Manteaux",
		Price: 12000, Currency: "EUR", StockQuantity: 5, Availability: "in_stock", UpdatedAt: t0}} {
		if err := e.cat.DB.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
	}
	page, err := e.m.Pages.Create(ctx, landing.PageInput{Slug: "soldes-hiver", Title: "Soldes d'hiver", Body: "Tout à -20 %"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Pages.Publish(ctx, page.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	pr, err := e.m.Promotions.Create(ctx, landing.PromotionInput{Name: "Soldes -20 %", Kind: "percent", Value: "20", Scope: "all", StartsAt: "2026-12-01T00:00", EndsAt: "2027-01-31T00:00"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Promotions.Publish(ctx, pr.ID); err != nil {
		t.Fatal(err)
	}
	in := campaigns.Input{Name: "Soldes d'hiver", Channels: []string{"affiliation"}, TimeZone: "Europe/Paris", StartsAt: "2026-12-10T08:00", EndsAt: "2026-12-20T20:00",
		Currency: "EUR", Budgets: map[string]int64{"affiliation": 100000}, Forecast: map[string]map[string]float64{"affiliation": {"impressions": 10000, "ctr": 0.02}},
		LandingPageID: &page.ID, PromotionIDs: []uint64{pr.ID}}
	c, err := e.cs.Create(ctx, in, "ana")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// follow clicks a partner's landing link as a browser would.
func (e *env) follow(t *testing.T, c *campaigns.Campaign, partnerID uint64) *url.URL {
	t.Helper()
	links, err := e.s.PartnerLinks(context.Background(), c.ID, partnerID)
	if err != nil || len(links) == 0 {
		t.Fatalf("links: %v %v", links, err)
	}
	dest, _, err := e.clicks.FollowFrom(context.Background(), e.clicks.Token(links[0].ID, 0), clicks.Visitor{IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dest)
	return u
}

func (e *env) gate(t *testing.T, c *campaigns.Campaign, name string) campaigns.Result {
	t.Helper()
	c, _ = e.cs.Get(context.Background(), c.ID)
	for _, r := range e.cs.Gates.Evaluate(context.Background(), c, e.clk.Now()).Results {
		if r.Gate == name {
			return r
		}
	}
	t.Fatalf("no gate %s", name)
	return campaigns.Result{}
}

// Links and codes follow the campaign through every lifecycle move:
// fallback before go-live, landing page while live, fallback when paused,
// back on resume, fallback after the end; the code works only while live.
func TestLinksAndCodesFollowTheCampaign(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.campaign(t)
	a, err := e.s.CreatePartner(ctx, good())
	if err != nil {
		t.Fatal(err)
	}
	if r := e.gate(t, c, "affiliation.partners"); r.Outcome != campaigns.Fail {
		t.Errorf("partners gate without partners: %+v", r)
	}
	if _, err := e.s.SetMember(ctx, c, MemberInput{PartnerID: a.ID, Code: "MAREDUC20", PromotionID: 999}, "ana"); fieldOf(err) != "promotion_id" {
		t.Errorf("a code on a promotion not of the campaign: %v", err)
	}
	// No promotion chosen: the code is refused on the promotion, plainly
	// (not "#0 is not one of them"); a campaign without promotion refuses
	// it on the code, saying how to link one.
	if _, err := e.s.SetMember(ctx, c, MemberInput{PartnerID: a.ID, Code: "MAREDUC20"}, "ana"); fieldOf(err) != "promotion_id" ||
		!strings.Contains(err.Error(), "choose the promotion the code is for") {
		t.Errorf("a code on no promotion: %v", err)
	}
	bare := *c
	bare.PromotionIDs = nil
	if _, err := e.s.SetMember(ctx, &bare, MemberInput{PartnerID: a.ID, Code: "MAREDUC20"}, "ana"); fieldOf(err) != "code" ||
		!strings.Contains(err.Error(), "this campaign has none: link one on the campaign's edit page first") {
		t.Errorf("a code on a campaign without promotion: %v", err)
	}
	if _, err := e.s.SetMember(ctx, c, MemberInput{PartnerID: a.ID, Code: "MAREDUC20", PromotionID: c.PromotionIDs[0]}, "ana"); err != nil {
		t.Fatal(err)
	}
	if r := e.gate(t, c, "affiliation.partners"); r.Outcome != campaigns.Pass {
		t.Errorf("partners gate: %+v", r)
	}
	if r := e.gate(t, c, "affiliation.codes"); r.Outcome != campaigns.Pass {
		t.Errorf("codes gate: %+v", r)
	}
	if r := e.gate(t, c, "affiliation.kit_sent"); r.Outcome != campaigns.Fail {
		t.Errorf("kit gate before any kit: %+v", r)
	}
	expectFallback := func(when string) {
		t.Helper()
		u := e.follow(t, c, a.ID)
		q := u.Query()
		if u.Host != "shop.example" || q.Get("utm_source") != "ma-reduc" || q.Get("utm_medium") != "affiliate" || len(q.Get(ClickParam)) != 32 {
			t.Errorf("%s: %s, want the fallback with UTM and click id", when, u)
		}
		chk, err := e.m.Promotions.CheckCode(ctx, "mareduc20", e.clk.Now())
		if err != nil || chk.Valid || !chk.Partner || chk.Reason == "" {
			t.Errorf("%s: the code %+v %v", when, chk, err)
		}
	}
	expectLanding := func(when string) {
		t.Helper()
		u := e.follow(t, c, a.ID)
		if u.Path != "/l/soldes-hiver" || u.Query().Get("utm_source") != "ma-reduc" || u.Query().Get(ClickParam) == "" {
			t.Errorf("%s: %s, want the landing page", when, u)
		}
		chk, err := e.m.Promotions.CheckCode(ctx, "MAREDUC20", e.clk.Now())
		if err != nil || !chk.Valid || chk.Promotion.ID != c.PromotionIDs[0] {
			t.Errorf("%s: the code %+v %v", when, chk, err)
		}
	}
	expectFallback("draft")
	if _, err := e.cs.Schedule(ctx, c.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	if n, err := e.s.SendKits(ctx, c.ID); err != nil || n != 1 {
		t.Fatalf("kits: %d %v", n, err)
	}
	if n, _ := e.s.SendKits(ctx, c.ID); n != 0 {
		t.Errorf("an unchanged kit was sent again")
	}
	mails := e.smtp.Mails()
	if len(mails) != 1 || !strings.Contains(mails[0].Data, "MAREDUC20") || !strings.Contains(mails[0].Data, "kit-") || !strings.Contains(mails[0].Data, "text/csv") {
		t.Fatalf("kit mail: %+v", mails)
	}
	if r := e.gate(t, c, "affiliation.kit_sent"); r.Outcome != campaigns.Pass {
		t.Errorf("kit gate after the kit: %+v", r)
	}
	expectFallback("scheduled")

	e.clk.Set(time.Date(2026, 12, 10, 7, 0, 0, 0, time.UTC))
	if err := e.cs.GoLive(ctx, c.ID, 1, "worker"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.cs.Get(ctx, c.ID); got.Status != campaigns.Live {
		t.Fatalf("not live: %s %s", got.Status, got.StatusReason)
	}
	if err := e.cs.RunMoves(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	expectLanding("live")
	if msg, _ := e.ch.Launch(ctx, c); !strings.HasPrefix(msg, "already switched") {
		t.Errorf("a second launch: %s", msg)
	}
	e.clk.Add(3 * time.Second) // past the redirector's memory
	if _, err := e.cs.Pause(ctx, c.ID, "ana", "stock issue"); err != nil {
		t.Fatal(err)
	}
	e.cs.RunMoves(ctx, c.ID)
	expectFallback("paused")
	if _, err := e.cs.Resume(ctx, c.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	e.cs.RunMoves(ctx, c.ID)
	e.clk.Add(3 * time.Second)
	expectLanding("resumed")
	e.clk.Set(time.Date(2026, 12, 20, 19, 0, 1, 0, time.UTC))
	got, _ := e.cs.Get(ctx, c.ID)
	if err := e.cs.End(ctx, c.ID, got.ScheduleVersion); err != nil {
		t.Fatal(err)
	}
	e.cs.RunMoves(ctx, c.ID)
	expectFallback("ended")
	plan, _ := e.s.PlanOf(ctx, c.ID)
	if plan.LinksLive || !strings.Contains(plan.SwitchNote, "fallback") {
		t.Errorf("plan after the end: %+v", plan)
	}
}
