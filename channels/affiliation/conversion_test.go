package affiliation

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/clicks"
)

// planned is a campaign with two partners (8 % with a 30-day window, and
// 5.00 per order with a 7-day window), each with a code.
func planned(t *testing.T, e *env) (*campaigns.Campaign, *Partner, *Partner) {
	t.Helper()
	ctx := context.Background()
	c := e.campaign(t)
	a, err := e.s.CreatePartner(ctx, good())
	if err != nil {
		t.Fatal(err)
	}
	in := good()
	in.Name, in.Commission, in.CookieDays, in.Overrides = "Cashback World", "5.00", "7", "Mode=10%"
	b, err := e.s.CreatePartner(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for code, p := range map[string]*Partner{"REDUC": a, "CASHBACK": b} {
		if _, err := e.s.SetMember(ctx, c, MemberInput{PartnerID: p.ID, Code: code, PromotionID: c.PromotionIDs[0]}, "ana"); err != nil {
			t.Fatal(err)
		}
	}
	return c, a, b
}

// click follows a partner's link at instant at and returns the click id.
func (e *env) click(t *testing.T, c *campaigns.Campaign, p *Partner, at time.Time, ua string) string {
	t.Helper()
	e.clk.Set(at)
	links, _ := e.s.PartnerLinks(context.Background(), c.ID, p.ID)
	dest, _, err := e.clicks.FollowFrom(context.Background(), e.clicks.Token(links[0].ID, 0), clicks.Visitor{IP: "198.51.100.4", UserAgent: ua})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.clicks.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dest)
	return u.Query().Get(ClickParam)
}

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"

func TestAttributionRule(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c, a, b := planned(t, e)
	day := func(d int) time.Time { return time.Date(2026, 12, d, 12, 0, 0, 0, time.UTC) }
	clickA := e.click(t, c, a, day(10), firefox)
	clickB := e.click(t, c, b, day(12), firefox)
	bot := e.click(t, c, b, day(13), "Googlebot/2.1 (+http://www.google.com/bot.html)")
	late := e.click(t, c, a, day(20), firefox)
	cases := []struct {
		name    string
		ids     []string
		code    string
		at      time.Time
		partner uint64
		by      string
	}{
		{"two partners' clicks: the last one wins", []string{clickA, clickB}, "", day(14), b.ID, "click"},
		{"the order of the ids does not matter", []string{clickB, clickA}, "", day(14), b.ID, "click"},
		{"a bot's click does not count", []string{clickA, bot}, "", day(14), a.ID, "click"},
		{"a click after the order does not count", []string{clickA, late}, "", day(15), a.ID, "click"},
		{"click after code: the click wins", []string{clickA}, "CASHBACK", day(14), a.ID, "click"},
		{"an expired window (7 days) falls back to the code", []string{clickB}, "reduc", day(20), a.ID, "code"},
		{"an expired window without a code: nobody", []string{clickB}, "", day(20), 0, ""},
		{"code without a click", nil, "CASHBACK", day(14), b.ID, "code"},
		{"the 30-day window still holds", []string{clickA}, "", day(10).Add(30 * 24 * time.Hour), a.ID, "click"},
		{"one second past it does not", []string{clickA}, "", day(10).Add(30*24*time.Hour + time.Second), 0, ""},
		{"an unknown code and click: nobody", []string{strings.Repeat("ab", 16)}, "NOPE", day(14), 0, ""},
	}
	for _, tc := range cases {
		got, err := e.s.Attribute(ctx, tc.ids, tc.code, tc.at)
		if err != nil || got.PartnerID != tc.partner || got.By != tc.by || (got.PartnerID != 0 && got.CampaignID != c.ID) {
			t.Errorf("%s: %+v %v", tc.name, got, err)
		}
	}
}

func TestConversionsAreIdempotentAndFollowRefunds(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.s.ReturnWindow = 30 * 24 * time.Hour
	var calls atomic.Int32
	var last atomic.Value
	pb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway) // the first call fails: the job retries
			return
		}
		last.Store(r.URL.RawQuery)
	}))
	defer pb.Close()
	host := strings.TrimPrefix(pb.URL, "http://")
	e.s.Outbound = policy(host)
	c, a, b := planned(t, e)
	in := good()
	in.Name, in.PostbackURL = "Network", pb.URL+"/pb?cid={click_id}&oid={order_id}&amt={amount}&com={commission}&st={status}"
	n, err := e.s.CreatePartner(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	e.s.SetMember(ctx, c, MemberInput{PartnerID: n.ID}, "ana")
	var queued []*Conversion
	e.s.Postbacks = func(_ context.Context, c *Conversion) { queued = append(queued, c) }
	clickA := e.click(t, c, a, time.Date(2026, 12, 11, 9, 0, 0, 0, time.UTC), firefox)
	e.clk.Set(time.Date(2026, 12, 11, 10, 0, 0, 0, time.UTC))
	order := ConversionInput{OrderID: "CMD-1001", Amount: 20000, Currency: "eur", ClickID: clickA,
		Items: []Item{{SKU: "MANTEAU-1", ProductType: "Mode > Manteaux", Quantity: 1, Amount: 15000}, {SKU: "LAMPE", ProductType: "Maison", Quantity: 1, Amount: 5000}}}
	conv, created, err := e.s.RecordConversion(ctx, order, "api")
	if err != nil || !created || conv.PartnerID != a.ID || conv.AttributedBy != "click" {
		t.Fatalf("%+v %v %v", conv, created, err)
	}
	again, created, err := e.s.RecordConversion(ctx, order, "api")
	if err != nil || created || again.ID != conv.ID {
		t.Fatalf("the same order twice: %+v %v %v", again, created, err)
	}
	lines, _, _ := e.s.LedgerPage(ctx, LedgerFilter{PartnerID: a.ID}, 0, 10)
	if len(lines) != 1 || lines[0].Amount != 1600 || lines[0].Status != CommissionPending {
		t.Fatalf("8 %% of 200.00: %+v", lines)
	}
	// Cashback World: Mode at 10 % and 5.00 per order for the rest.
	cb, _, _ := e.s.RecordConversion(ctx, ConversionInput{OrderID: "CMD-1002", Amount: 20000, Currency: "EUR", Code: "CASHBACK", Items: order.Items}, "api")
	if lines, _, _ := e.s.LedgerPage(ctx, LedgerFilter{PartnerID: b.ID}, 0, 10); len(lines) != 1 || lines[0].Amount != 1500+500 || cb.AttributedBy != "code" {
		t.Fatalf("override and fixed: %+v", lines)
	}
	if _, err := e.s.Decide(ctx, conv.ID, "approve", "ana", ""); fieldOf(err) != "action" {
		t.Errorf("approved inside the return window: %v", err)
	}
	// A partial refund computes it again; a refund rejects it.
	order.Amount, order.Items = 15000, order.Items[:1]
	if _, _, err := e.s.RecordConversion(ctx, order, "api"); err != nil {
		t.Fatal(err)
	}
	if lines, _, _ := e.s.LedgerPage(ctx, LedgerFilter{PartnerID: a.ID}, 0, 10); lines[0].Amount != 1200 {
		t.Errorf("after a partial refund: %+v", lines)
	}
	order.Status = "refunded"
	e.s.RecordConversion(ctx, order, "api")
	if lines, _, _ := e.s.LedgerPage(ctx, LedgerFilter{PartnerID: a.ID}, 0, 10); lines[0].Status != CommissionRejected {
		t.Errorf("after the refund: %+v", lines)
	}
	if _, err := e.s.Decide(ctx, conv.ID, "pay", "ana", ""); fieldOf(err) != "action" {
		t.Errorf("a rejected commission was paid: %v", err)
	}
	// The return window over: approved, paid; a refund after payment says to claim it back.
	e.clk.Set(time.Date(2027, 1, 11, 10, 0, 1, 0, time.UTC))
	if n, err := e.s.ApproveDue(ctx); err != nil || n != 1 {
		t.Fatalf("approve due: %d %v", n, err)
	}
	if _, err := e.s.Decide(ctx, cb.ID, "pay", "ana", "virement 2027-01"); err != nil {
		t.Fatal(err)
	}
	e.s.RecordConversion(ctx, ConversionInput{OrderID: "CMD-1002", Amount: 20000, Currency: "EUR", Code: "CASHBACK", Status: "cancelled"}, "api")
	if lines, _, _ := e.s.LedgerPage(ctx, LedgerFilter{PartnerID: b.ID}, 0, 10); lines[0].Status != CommissionPaid || !strings.Contains(lines[0].Note, "claim it back") {
		t.Errorf("a refund after payment: %+v", lines)
	}
	var csv strings.Builder
	e.s.ExportLedger(ctx, &csv, LedgerFilter{From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)})
	if !strings.HasPrefix(csv.String(), "order_id,date,amount,commission,currency,status") || !strings.Contains(csv.String(), "CMD-1001,2026-12-11T10:00:00Z,150.00,12.00,EUR,rejected") {
		t.Errorf("export:\n%s", csv.String())
	}
	for _, bad := range []struct {
		in    ConversionInput
		field string
	}{
		{ConversionInput{Amount: 100, Currency: "EUR"}, "order_id"},
		{ConversionInput{OrderID: "X", Amount: -1, Currency: "EUR"}, "amount"},
		{ConversionInput{OrderID: "X", Amount: 1, Currency: "EURO"}, "currency"},
		{ConversionInput{OrderID: "X", Amount: 1, Currency: "EUR", ClickID: "' OR 1=1 --"}, "click_id"},
		{ConversionInput{OrderID: "X", Amount: 1, Currency: "EUR", At: "yesterday"}, "at"},
		{ConversionInput{OrderID: "X", Amount: 1, Currency: "EUR", Status: "lost"}, "status"},
		{ConversionInput{OrderID: "X", Amount: 1, Currency: "EUR", Items: []Item{{Amount: 5}}}, "items"},
		{ConversionInput{OrderID: "CMD-1001", Amount: 1, Currency: "USD"}, "currency"},
	} {
		if _, _, err := e.s.RecordConversion(ctx, bad.in, "api"); fieldOf(err) != bad.field {
			t.Errorf("%+v: %v", bad.in, err)
		}
	}
	// The postback: the allow-listed client, retried until the partner answers 2xx.
	conv3, _, err := e.s.RecordConversion(ctx, ConversionInput{OrderID: "CMD-1003", Amount: 5000, Currency: "EUR", ClickID: e.click(t, c, n, e.clk.Now().Add(-time.Hour), firefox)}, "api")
	if err != nil || conv3.PartnerID != n.ID {
		t.Fatalf("%+v %v", conv3, err)
	}
	j := &Jobs{Service: e.s, Tasks: e.tasks}
	j.EnqueuePostback(ctx, conv3)
	pbs, _ := e.s.PostbacksOf(ctx, conv3.ID)
	if len(pbs) != 1 {
		t.Fatalf("postbacks: %+v", pbs)
	}
	if err := e.s.DeliverPostback(ctx, pbs[0].ID, false); err == nil {
		t.Fatal("a 502 counted as delivered")
	}
	if err := e.s.DeliverPostback(ctx, pbs[0].ID, false); err != nil {
		t.Fatal(err)
	}
	pbs, _ = e.s.PostbacksOf(ctx, conv3.ID)
	q, _ := url.ParseQuery(last.Load().(string))
	if pbs[0].Status != "done" || pbs[0].Attempts != 2 || q.Get("oid") != "CMD-1003" || q.Get("amt") != "50.00" || q.Get("com") != "4.00" || len(q.Get("cid")) != 32 {
		t.Errorf("postback %+v, query %v", pbs[0], q)
	}
	if len(queued) == 0 {
		t.Error("no postback was asked for")
	}
}

func TestForgedPixelsRecordNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.s.PixelKey = PixelKey([]byte("0123456789abcdef0123456789abcdef"))
	planned(t, e)
	in := ConversionInput{OrderID: "CMD-9", Amount: 4200, Currency: "EUR", Code: "REDUC"}
	sig := PixelSignature(e.s.PixelKey, PixelMessage("CMD-9", 4200, "EUR", "REDUC"))
	for _, forged := range []struct {
		in  ConversionInput
		sig string
	}{
		{in, ""}, {in, "00" + sig[2:]}, {in, PixelSignature("another key", PixelMessage("CMD-9", 4200, "EUR", "REDUC"))},
		{ConversionInput{OrderID: "CMD-9", Amount: 1, Currency: "EUR", Code: "REDUC"}, sig}, // an altered amount
		{ConversionInput{OrderID: "CMD-9", Amount: 4200, Currency: "EUR", Code: "CASHBACK"}, sig},
	} {
		if _, err := e.s.RecordPixel(ctx, forged.in, forged.sig); err != ErrForgedPixel {
			t.Errorf("%+v %q: %v", forged.in, forged.sig, err)
		}
	}
	var n int64
	e.s.DB.Model(&Conversion{}).Count(&n)
	if n != 0 {
		t.Fatalf("forged pixels recorded %d conversions", n)
	}
	if c, err := e.s.RecordPixel(ctx, in, strings.ToUpper(sig)); err != nil || c.Source != "pixel" || c.AttributedBy != "code" {
		t.Fatalf("%+v %v", c, err)
	}
}
