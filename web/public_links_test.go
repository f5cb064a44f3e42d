package web

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/landing"
)

// partnerLinkApp is a test app with a partner on an affiliation campaign;
// it returns the path of the partner's tracked link.
func partnerLinkApp(t *testing.T, opts ...func(*Deps)) (*testApp, string) {
	t.Helper()
	ctx := context.Background()
	var aff *affiliation.Service
	a := newTestApp(t, append([]func(*Deps){withAffiliation(&aff)}, opts...)...)
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
	pid := int(a.api("POST", "/api/v1/partners", accounts.Marketer, `{"name":"Ma Reduc","email":"team@mareduc.example","commission":"10 %"}`).json(t)["id"].(float64))
	path := fmt.Sprintf("/api/v1/campaigns/%d/affiliation", c.ID)
	if res := a.api("POST", path+"/partners", accounts.Marketer, fmt.Sprintf(`{"partner_id":%d}`, pid)); res.Status != 200 {
		t.Fatalf("add partner: %d %s", res.Status, res.Body)
	}
	tracked := a.api("GET", path, accounts.Viewer, "").json(t)["partners"].([]any)[0].(map[string]any)["links"].([]any)[0].(map[string]any)["url"].(string)
	return a, tracked[strings.Index(tracked, "/r/"):]
}

var clickIDRE = regexp.MustCompile(`[0-9a-f]{32}`)

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"

// follow sends one request to a tracked link, without following the
// redirect; headers are name, value pairs.
func (a *testApp) follow(method, path string, headers ...string) response {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return a.do(noFollow, req)
}

// The fast path of /r/ (fastLinks) answers as followLink does through the
// router: status, body, every header (the click id aside, which is new
// each time), for a partner link with and without a previous click, HEAD,
// a forged token, a query string, a trailing slash and another method;
// and the clicks it records are the router's.
func TestTrackedLinkFastPathAnswersAsTheRouter(t *testing.T) {
	fast, path := partnerLinkApp(t)
	slow, slowPath := partnerLinkApp(t, func(d *Deps) { d.LandingThroughRouter = true })
	if path != slowPath {
		t.Fatalf("the two apps' links differ: %s %s", path, slowPath)
	}
	old := strings.Repeat("ab", 16)
	cases := []struct {
		method, path string
		headers      []string
	}{
		{"GET", path, []string{"User-Agent", firefox}},
		{"GET", path, []string{"User-Agent", firefox, "Cookie", "rampe_click=" + old}},
		{"HEAD", path, []string{"User-Agent", firefox}},
		{"GET", path, nil},
		{"GET", "/r/AQ.AAAAAAAAAAAAAAAA", nil},
		{"GET", path + "x", nil},
		{"GET", path + "?subid=42", []string{"User-Agent", firefox}},
		{"GET", path + "/", []string{"User-Agent", firefox}},
		{"GET", "/r/", nil},
		{"POST", path, nil},
	}
	for _, c := range cases {
		want := slow.follow(c.method, c.path, c.headers...)
		got := fast.follow(c.method, c.path, c.headers...)
		name := c.method + " " + c.path + " " + strings.Join(c.headers, " ")
		if got.Status != want.Status {
			t.Errorf("%s: %d, through the router %d", name, got.Status, want.Status)
		}
		if c.method == "POST" { // both through the router: a CSRF refusal, its token random
			continue
		}
		if got.Body != want.Body {
			t.Errorf("%s: %q, through the router %q", name, got.Body, want.Body)
		}
		for k := range mergeKeys(got.Header, want.Header) {
			if k == "Date" {
				continue
			}
			g, w := clickIDRE.ReplaceAllString(strings.Join(got.Header[k], "\n"), "ID"), clickIDRE.ReplaceAllString(strings.Join(want.Header[k], "\n"), "ID")
			g, w = strings.ReplaceAll(g, "ID.ab", "ID.old"), strings.ReplaceAll(w, "ID.ab", "ID.old")
			if g != w {
				t.Errorf("%s: %s %q, through the router %q", name, k, g, w)
			}
		}
	}
	r := fast.follow("GET", path, "User-Agent", firefox, "Cookie", "rampe_click="+old)
	id := clickIDRE.FindString(r.Header.Get("Location"))
	if ck := r.Header.Get("Set-Cookie"); !strings.HasPrefix(ck, "rampe_click="+id+"."+old+";") {
		t.Errorf("the cookie keeps the new click id first, then the old one: %q (new %s)", ck, id)
	}
	var many []string
	for i := 0; i < 11; i++ {
		many = append(many, fmt.Sprintf("%032x", i))
	}
	r = fast.follow("GET", path, "User-Agent", firefox, "Cookie", "rampe_click="+many[0]+".junk."+strings.Join(many[1:], "."))
	id = clickIDRE.FindString(r.Header.Get("Location"))
	if ck := r.Header.Get("Set-Cookie"); !strings.HasPrefix(ck, "rampe_click="+id+"."+strings.Join(many[:9], ".")+";") {
		t.Errorf("the cookie keeps the new click id and the first nine valid old ones: %q", ck)
	}
	for _, a := range []*testApp{fast, slow} {
		if err := a.Clicks.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	count := func(a *testApp) map[string]int64 {
		var rows []struct {
			UAClass string
			N       int64
		}
		a.Clicks.DB.Model(&clicks.Click{}).Select("ua_class, COUNT(*) AS n").Group("ua_class").Scan(&rows)
		out := map[string]int64{}
		for _, r := range rows {
			out[r.UAClass] = r.N
		}
		return out
	}
	f, s := count(fast), count(slow)
	f["desktop"] -= 2 // the last two requests, sent to the fast path only
	if fmt.Sprint(f) != fmt.Sprint(s) || s["desktop"] != 5 || s[clicks.BotClass] != 1 {
		t.Errorf("clicks by class: fast path %v, router %v", f, s)
	}
}

func mergeKeys(a, b http.Header) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// Behind trusted proxies, the fast path hashes the forwarded address, as
// the router does (fiber's c.IP()); from anyone else, the connection's.
func TestTrackedLinkFastPathTrustsProxiesAsFiberDoes(t *testing.T) {
	proxied := func(d *Deps) { d.TrustedProxies = []string{"127.0.0.1"} }
	fast, path := partnerLinkApp(t, proxied)
	slow, _ := partnerLinkApp(t, proxied, func(d *Deps) { d.LandingThroughRouter = true })
	direct, _ := partnerLinkApp(t)
	hashes := map[string]string{}
	for name, a := range map[string]*testApp{"fast": fast, "router": slow, "direct": direct} {
		if r := a.follow("GET", path, "User-Agent", firefox, "X-Forwarded-For", "203.0.113.9"); r.Status != 302 {
			t.Fatalf("%s: %d", name, r.Status)
		}
		if err := a.Clicks.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var c clicks.Click
		if err := a.Clicks.DB.Take(&c).Error; err != nil {
			t.Fatal(err)
		}
		hashes[name] = c.IPHash
	}
	if hashes["fast"] != hashes["router"] || hashes["fast"] == hashes["direct"] || len(hashes["fast"]) != 32 {
		t.Errorf("IP hashes: %v", hashes)
	}
}

// What fastLinks answers itself and what it passes on to the router.
func TestFastLinksAnswersBeforeTheRouter(t *testing.T) {
	a, path := partnerLinkApp(t)
	s := &Server{Deps: Deps{Clicks: a.Clicks}}
	for _, c := range []struct {
		method, uri string
		body        string
		passed      bool
	}{
		{"GET", path, "", false}, {"HEAD", path, "", false}, {"GET", "/r/AQ.AAAAAAAAAAAAAAAA", "", false},
		{"GET", path + "?subid=1", "", true}, {"GET", path + "/", "", true}, {"POST", path, "", true}, {"GET", path, "x=1", true},
		{"GET", "/r/", "", true}, {"GET", "/r/a%2Fb", "", true}, {"GET", "/l/soldes", "", true}, {"GET", "/r/" + strings.Repeat("A", 65), "", true},
	} {
		raw := c.method + " " + c.uri + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
		if c.body != "" {
			raw = fmt.Sprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n%s", c.method, c.uri, len(c.body), c.body)
		}
		var ctx fasthttp.RequestCtx
		if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(raw))); err != nil { // as the server reads it
			t.Fatal(err)
		}
		passed := false
		s.fastLinks(func(*fasthttp.RequestCtx) { passed = true })(&ctx)
		if passed != c.passed {
			t.Errorf("%s %s (body %q): passed on to the router %v, want %v", c.method, c.uri, c.body, passed, c.passed)
		}
		if !passed && ctx.Response.StatusCode() != 302 && ctx.Response.StatusCode() != 404 {
			t.Errorf("%s %s: %d", c.method, c.uri, ctx.Response.StatusCode())
		}
	}
}
