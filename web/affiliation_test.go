package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/channels"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/clock"
)

type testCatalogLinks struct{ cat *catalog.Store }

func (c testCatalogLinks) ProductLink(ctx context.Context, sku string) (string, error) {
	p, err := c.cat.BySKU(ctx, sku)
	if err != nil {
		return "", err
	}
	return p.Link, nil
}

// withAffiliation connects the affiliation channel as cmd/rampe does.
func withAffiliation(out **affiliation.Service) func(*Deps) {
	return func(d *Deps) {
		s := &affiliation.Service{DB: d.DB, Campaigns: d.Campaigns, Links: d.Clicks, Offers: d.Landing, Promotions: d.Promotions, Products: testCatalogLinks{d.Catalog},
			Outbound: &loadcheck.Policy{AnyPublicHost: true}, BaseURL: d.BaseURL, ShopURL: "https://shop.example/", DefaultTimeZone: "Europe/Paris",
			PixelKey: affiliation.PixelKey(d.Secret), ReturnWindow: 30 * 24 * time.Hour, Clock: clock.System{}}
		d.Clicks.Routes = map[campaigns.Channel]clicks.Router{campaigns.Affiliation: s.Route}
		d.Promotions.PartnerCodes = s
		d.Affiliation = s
		if err := channels.Register(d.Campaigns, &affiliation.Channel{Service: s, Notice: 48 * time.Hour}); err != nil {
			panic(err)
		}
		*out = s
	}
}

func TestAPIPartners(t *testing.T) {
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	body := `{"name":"Ma Reduc","network":"awin","email":"team@mareduc.example","commission":"8 %","cookie_days":"30"}`
	if res := a.api("POST", "/api/v1/partners", accounts.Viewer, body); res.Status != http.StatusForbidden {
		t.Fatalf("a viewer created a partner: %d", res.Status)
	}
	if res := a.api("POST", "/api/v1/partners", "", body); res.Status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", res.Status)
	}
	res := a.api("POST", "/api/v1/partners", accounts.Marketer, body)
	if res.Status != http.StatusCreated || res.json(t)["commission_value"] != float64(800) {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	for _, bad := range []struct{ body, field string }{
		{`{"name":"A\nB","email":"a@b.example","commission":"5%"}`, "name"},
		{`{"name":"SSRF","email":"a@b.example","commission":"5%","postback_url":"http://127.0.0.1:6379/?c={click_id}"}`, "postback_url"},
		{`{"name":"Meta","email":"a@b.example","commission":"5%","postback_url":"http://169.254.169.254/latest/meta-data"}`, "postback_url"},
		{`{"name":"X","email":"a@b.example","commission":"5%","cookie_days":30}`, "cookie_days"},
		{`{"name":"X","email":"a@b.example","commission":"5%","admin":true}`, "admin"},
	} {
		res := a.api("POST", "/api/v1/partners", accounts.Marketer, bad.body)
		if res.Status/100 != 4 || !strings.Contains(res.Body, `"field":"`+bad.field+`"`) {
			t.Errorf("%s: %d %s", bad.body, res.Status, res.Body)
		}
	}
	req, _ := http.NewRequest("POST", a.URL+"/api/v1/partners/import", strings.NewReader("name,email,commission\nGood,g@g.example,3%\nBad,nope,3%\n"))
	req.Header.Set("Authorization", "Bearer "+a.tokens[accounts.Marketer])
	res = a.do(http.DefaultClient, req)
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"line":3`) || !strings.Contains(res.Body, `"column":"email"`) {
		t.Fatalf("import: %d %s", res.Status, res.Body)
	}
	res = a.api("GET", "/api/v1/partners", accounts.Viewer, "")
	if n := len(res.json(t)["partners"].([]any)); n != 1 {
		t.Fatalf("partners after a refused import: %d %s", n, res.Body)
	}
}

// The plan over the API, a partner link over HTTP before go-live, the kit
// download, conversions (idempotent), the pixel (forged and signed) and the
// code check.
func TestAPIAffiliationPlanConversionsAndPixel(t *testing.T) {
	ctx := context.Background()
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	pr, err := a.Landing.Promotions.Create(ctx, landing.PromotionInput{Name: "Noël -10 %", Kind: "percent", Value: "10", Scope: "all", StartsAt: future(1), EndsAt: future(40)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Campaigns.Create(ctx, campaigns.Input{Name: "Noël", Channels: []string{"affiliation"}, TimeZone: "Europe/Paris", StartsAt: future(3), EndsAt: future(10),
		Currency: "EUR", Budgets: map[string]int64{"affiliation": 1000}, Forecast: map[string]map[string]float64{"affiliation": {"impressions": 1000, "ctr": 0.01}},
		PromotionIDs: []uint64{pr.ID}}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	p := a.api("POST", "/api/v1/partners", accounts.Marketer, `{"name":"Ma Reduc","email":"team@mareduc.example","commission":"10 %"}`).json(t)
	pid := int(p["id"].(float64))
	path := fmt.Sprintf("/api/v1/campaigns/%d/affiliation", c.ID)
	res := a.api("POST", path+"/partners", accounts.Marketer, fmt.Sprintf(`{"partner_id":%d,"code":"NOEL-MAREDUC","promotion_id":%d}`, pid, pr.ID))
	if res.Status != 200 || !strings.Contains(res.Body, "NOEL-MAREDUC") {
		t.Fatalf("add partner: %d %s", res.Status, res.Body)
	}
	if res := a.api("PUT", path, accounts.Marketer, `{"fallback_url":"javascript:alert(1)"}`); res.Status != 422 || !strings.Contains(res.Body, "fallback_url") {
		t.Fatalf("hostile fallback: %d %s", res.Status, res.Body)
	}
	plan := a.api("GET", path, accounts.Viewer, "").json(t)
	tracked := plan["partners"].([]any)[0].(map[string]any)["links"].([]any)[0].(map[string]any)["url"].(string)
	tracked = a.URL + tracked[strings.Index(tracked, "/r/"):]
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", tracked, nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")
	r := a.do(noFollow, req)
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.Status != http.StatusFound || loc.Host != "shop.example" || loc.Query().Get("utm_source") != "ma-reduc" {
		t.Fatalf("before go-live: %d %s", r.Status, r.Header.Get("Location"))
	}
	cookie := r.Header.Get("Set-Cookie")
	if !strings.Contains(cookie, "rampe_click="+loc.Query().Get(affiliation.ClickParam)) || !strings.Contains(cookie, "HttpOnly") {
		t.Fatalf("click cookie: %q", cookie)
	}
	kit := a.api("GET", fmt.Sprintf("%s/partners/%d/kit.csv", path, pid), accounts.Viewer, "")
	if kit.Status != 200 || !strings.HasPrefix(kit.Body, "field,label,value") || !strings.Contains(kit.Body, "NOEL-MAREDUC") || !strings.Contains(kit.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("kit: %d %s", kit.Status, kit.Body)
	}
	if res := a.api("GET", "/api/v1/codes/NOEL-MAREDUC", accounts.Viewer, ""); !strings.Contains(res.Body, `"valid":false`) || !strings.Contains(res.Body, "when campaign") {
		t.Fatalf("code before go-live: %s", res.Body)
	}
	order := `{"order_id":"CMD-1","amount":10000,"currency":"EUR","code":"NOEL-MAREDUC"}`
	if res := a.api("POST", "/api/v1/conversions", accounts.Marketer, order); res.Status != http.StatusCreated || !strings.Contains(res.Body, `"attributed_by":"code"`) {
		t.Fatalf("conversion: %d %s", res.Status, res.Body)
	}
	if res := a.api("POST", "/api/v1/conversions", accounts.Marketer, order); res.Status != http.StatusOK {
		t.Fatalf("the same order again: %d %s", res.Status, res.Body)
	}
	if res := a.api("POST", "/api/v1/conversions", accounts.Marketer, `{"order_id":"CMD-2","amount":"12.00","currency":"EUR"}`); res.Status != 400 || !strings.Contains(res.Body, `"field":"amount"`) {
		t.Fatalf("a string amount: %d %s", res.Status, res.Body)
	}
	// The pixel: forged → 403, nothing stored; signed → the click of the cookie wins.
	q := url.Values{"order_id": {"CMD-3"}, "amount": {"5000"}, "currency": {"EUR"}}
	q.Set("sig", affiliation.PixelSignature(aff.PixelKey, affiliation.PixelMessage("CMD-3", 5000, "EUR", "")))
	forged := url.Values{"order_id": {"CMD-3"}, "amount": {"1"}, "currency": {"EUR"}, "sig": q["sig"]}
	req, _ = http.NewRequest("GET", a.URL+"/t/conv.gif?"+forged.Encode(), nil)
	if r := a.do(http.DefaultClient, req); r.Status != http.StatusForbidden || r.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("forged pixel: %d", r.Status)
	}
	req, _ = http.NewRequest("GET", a.URL+"/t/conv.gif?"+q.Encode(), nil)
	req.Header.Set("Cookie", strings.Split(cookie, ";")[0])
	if r := a.do(http.DefaultClient, req); r.Status != 200 || !strings.HasPrefix(r.Body, "GIF89a") {
		t.Fatalf("pixel: %d", r.Status)
	}
	ledger := a.api("GET", "/api/v1/commissions?partner="+fmt.Sprint(pid), accounts.Viewer, "")
	if n := len(ledger.json(t)["commissions"].([]any)); n != 2 || !strings.Contains(ledger.Body, `"commission":1000`) || !strings.Contains(ledger.Body, `"commission":500`) {
		t.Fatalf("ledger: %s", ledger.Body)
	}
	if res := a.api("GET", "/api/v1/commissions?from=yesterday", accounts.Viewer, ""); res.Status != 400 || !strings.Contains(res.Body, `"field":"from"`) {
		t.Fatalf("bad period: %d %s", res.Status, res.Body)
	}
	csv := a.api("GET", "/api/v1/commissions?format=csv&partner="+fmt.Sprint(pid), accounts.Viewer, "")
	if !strings.HasPrefix(csv.Body, "order_id,date,amount,commission,currency,status") || strings.Count(csv.Body, "\n") != 3 {
		t.Fatalf("csv: %s", csv.Body)
	}
	first := ledger.json(t)["commissions"].([]any)[1].(map[string]any)
	res = a.api("POST", fmt.Sprintf("/api/v1/commissions/%d/approve", int(first["conversion_id"].(float64))), accounts.Marketer, "")
	if res.Status != 422 || !strings.Contains(res.Body, "return window") {
		t.Fatalf("approve inside the window: %d %s", res.Status, res.Body)
	}
}

func TestAffiliationUI(t *testing.T) {
	ctx := context.Background()
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	if r := a.browser("").get("/partners"); r.Status != http.StatusFound {
		t.Fatalf("anonymous partners page: %d", r.Status)
	}
	b := a.browser(accounts.Marketer)
	if r := b.get("/partners"); r.Status != 200 || !strings.Contains(r.Body, "Add a partner") || !strings.Contains(r.Body, `id="pixel-key"`) {
		t.Fatalf("partners page: %d", r.Status)
	}
	hostile := `<img src=x onerror=alert(1)> Ma Reduc`
	r := b.post("/partners", url.Values{"name": {hostile}, "network": {"awin"}, "email": {"team@mareduc.example"}, "commission": {"8 %"}, "cookie_days": {"30"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("add partner: %d %s", r.Status, r.Body)
	}
	page := b.get("/partners").Body
	if strings.Contains(page, "<img src=x") || !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt; Ma Reduc") {
		t.Fatal("the partner's name was not escaped")
	}
	r = b.post("/partners", url.Values{"name": {"SSRF"}, "email": {"a@b.example"}, "commission": {"5%"}, "postback_url": {"http://169.254.169.254/latest"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "private or loopback") || !strings.Contains(r.Body, `value="SSRF"`) {
		t.Fatalf("an SSRF postback: %d", r.Status)
	}
	viewer := a.browser(accounts.Viewer)
	viewer.get("/partners")
	if r := viewer.post("/partners", url.Values{"name": {"V"}, "email": {"v@v.example"}, "commission": {"1%"}}); r.Status != http.StatusForbidden {
		t.Fatalf("a viewer added a partner: %d", r.Status)
	}
	ps, _ := aff.Partners(ctx)
	c, err := a.Campaigns.Create(ctx, campaigns.Input{Name: "Noël", Channels: []string{"affiliation"}, TimeZone: "Europe/Paris", StartsAt: future(3), EndsAt: future(10),
		Currency: "EUR", Budgets: map[string]int64{"affiliation": 1000}, Forecast: map[string]map[string]float64{"affiliation": {"impressions": 1000, "ctr": 0.01}}}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	tab := fmt.Sprintf("/campaigns/%d/affiliation", c.ID)
	if r := b.get(fmt.Sprintf("/campaigns/%d", c.ID)); !strings.Contains(r.Body, tab) {
		t.Fatal("the campaign page does not link its affiliation tab")
	}
	if r := b.get(tab); r.Status != 200 || !strings.Contains(r.Body, "No partner takes part yet.") {
		t.Fatalf("tab: %d", r.Status)
	}
	if r := b.post(tab+"/partners", url.Values{"partner_id": {fmt.Sprint(ps[0].ID)}, "code": {"X"}, "promotion_id": {"77"}}); r.Status != 422 || !strings.Contains(r.Body, "Code: a code needs one of the campaign&#39;s promotions, and this campaign has none") {
		t.Fatalf("a code on a campaign without promotion: %d", r.Status)
	}
	if r := b.post(tab+"/partners", url.Values{"partner_id": {fmt.Sprint(ps[0].ID)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("add to the plan: %d %s", r.Status, r.Body)
	}
	body := b.get(tab).Body
	if !strings.Contains(body, "/r/") || !strings.Contains(body, "kit.csv") || !strings.Contains(body, "not sent") {
		t.Fatal("the tab lacks the partner's link, kit or kit status")
	}
	if r := b.get(fmt.Sprintf("%s/partners/%d/kit.json", tab, ps[0].ID)); r.Status != 200 || !strings.Contains(r.Body, `"links"`) {
		t.Fatalf("kit download: %d %s", r.Status, r.Body)
	}
	if _, _, err := aff.RecordConversion(ctx, affiliation.ConversionInput{OrderID: "UI-1", Amount: 1000, Currency: "EUR"}, "api"); err != nil {
		t.Fatal(err)
	}
	if r := b.get("/commissions?from=nope"); r.Status != 200 || !strings.Contains(r.Body, "From: &#34;nope&#34; is not a date") {
		t.Fatalf("a bad filter: %d", r.Status)
	}
	if r := b.get("/commissions"); r.Status != 200 || !strings.Contains(r.Body, "No commission for this filter.") {
		t.Fatalf("ledger: %d", r.Status)
	}
}
