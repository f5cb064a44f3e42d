package affiliation

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/clicks"
)

// otherNode is a second web node of e's deployment: its own redirector
// (its own click buffer, flushed by its own loop) and affiliation service,
// on the same database.
func otherNode(t *testing.T, e *env) *clicks.Service {
	t.Helper()
	cl := &clicks.Service{DB: e.s.DB, Secret: []byte("0123456789abcdef0123456789abcdef"), Clock: e.clk}
	s := &Service{DB: e.s.DB, Campaigns: e.cs, Outbound: policy(), Links: cl, Offers: e.m.Server, Promotions: e.m.Promotions, Products: catalogLinks{e.cat},
		BaseURL: e.s.BaseURL, ShopURL: e.s.ShopURL, DefaultTimeZone: "Europe/Paris", Clock: e.clk}
	cl.Routes = map[campaigns.Channel]clicks.Router{campaigns.Affiliation: s.Route}
	ctx, stop := context.WithCancel(context.Background())
	go cl.Run(ctx)
	t.Cleanup(func() { stop(); cl.Wait() })
	return cl
}

// clickOn follows partner p's link on node cl, leaving the click in that
// node's buffer, and returns its click id.
func clickOn(t *testing.T, e *env, cl *clicks.Service, c *campaigns.Campaign, p *Partner, ua string) string {
	t.Helper()
	links, _ := e.s.PartnerLinks(context.Background(), c.ID, p.ID)
	dest, _, err := cl.FollowFrom(context.Background(), cl.Token(links[0].ID, 0), clicks.Visitor{IP: "198.51.100.4", UserAgent: ua})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dest)
	return u.Query().Get(ClickParam)
}

// An order placed a moment after a click made on another node is
// attributed as if that node had written its clicks at once: the last
// click wins though it is still in the other node's buffer when the
// conversion arrives, a bot's click there still does not count, and an id
// of a click that never reaches the database is given up on.
func TestAttributionWaitsForClicksOfOtherNodes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c, a, b := planned(t, e)
	nodeB := otherNode(t, e)
	at := time.Date(2026, 12, 11, 9, 0, 0, 0, time.UTC)
	clickA := e.click(t, c, a, at.Add(-time.Minute), firefox) // on this node, written
	e.clk.Set(at)
	clickB := clickOn(t, e, nodeB, c, b, firefox) // on node B, in its buffer
	conv, created, err := e.s.RecordConversion(ctx, ConversionInput{OrderID: "CMD-2001", Amount: 10000, Currency: "EUR", ClickIDs: []string{clickA, clickB}}, "api")
	if err != nil || !created || conv.PartnerID != b.ID || conv.AttributedBy != "click" || conv.ClickID != clickB {
		t.Fatalf("the last click, made on node B: %+v %v", conv, err)
	}
	e.clk.Set(at.Add(time.Minute))
	bot := clickOn(t, e, nodeB, c, b, "Googlebot/2.1 (+http://www.google.com/bot.html)")
	conv, _, err = e.s.RecordConversion(ctx, ConversionInput{OrderID: "CMD-2002", Amount: 10000, Currency: "EUR", ClickIDs: []string{clickA, bot}}, "api")
	if err != nil || conv.PartnerID != a.ID || conv.ClickID != clickA {
		t.Fatalf("a bot's click on node B: %+v %v", conv, err)
	}
	never := fmt.Sprintf("%012x%020x", at.Add(time.Minute).UnixMilli(), 1) // looks fresh, was never made
	conv, _, err = e.s.RecordConversion(ctx, ConversionInput{OrderID: "CMD-2003", Amount: 10000, Currency: "EUR", ClickID: never, Code: "REDUC"}, "api")
	if err != nil || conv.PartnerID != a.ID || conv.AttributedBy != "code" {
		t.Fatalf("a click id that never appears, and a code: %+v %v", conv, err)
	}
}

// Which missing ids attribution waits for, and how long: only ids made
// by Rampe (their time first) within clicks.Settle, not the ids found,
// not ids from the future beyond clicks.Skew.
func TestUnsettledWaitsOnlyForFreshMissingIDs(t *testing.T) {
	now := time.Date(2026, 12, 11, 9, 0, 0, 0, time.UTC)
	id := func(made time.Time) string { return fmt.Sprintf("%012x%020x", made.UnixMilli(), 7) }
	fresh, old := id(now.Add(-time.Second)), id(now.Add(-clicks.Settle-time.Millisecond))
	for _, tc := range []struct {
		name  string
		ids   []string
		found []string
		want  time.Duration
	}{
		{"a fresh missing id", []string{fresh}, nil, clicks.Settle - time.Second},
		{"found", []string{fresh}, []string{fresh}, 0},
		{"older than Settle", []string{old}, nil, 0},
		{"not Rampe's", []string{"not-a-click-id"}, nil, 0},
		{"the longest wait of several", []string{old, id(now), fresh}, nil, clicks.Settle},
		{"from a clock a little ahead", []string{id(now.Add(clicks.Skew))}, nil, clicks.Settle + clicks.Skew},
		{"from far in the future (an old random id)", []string{id(now.Add(time.Hour))}, nil, 0},
	} {
		var found []clicks.Click
		for _, f := range tc.found {
			found = append(found, clicks.Click{ClickID: f})
		}
		if got := unsettled(tc.ids, found, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
