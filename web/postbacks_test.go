package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/queue"
)

// The postback log: per partner or conversion, its status, attempts,
// last error and next attempt, in the API and on the partner's page.
func TestPostbackLog(t *testing.T) {
	ctx := context.Background()
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer down.Close()
	aff.Outbound = &loadcheck.Policy{AllowedHosts: []string{strings.TrimPrefix(down.URL, "http://")}}
	aff.Postbacks = (&affiliation.Jobs{Service: aff, Tasks: queue.NewClient(a.conn)}).EnqueuePostback
	res := a.api("POST", "/api/v1/partners", accounts.Marketer, `{"name":"Réseau","email":"pb@network.example","commission":"10 %","postback_url":"`+down.URL+`/pb?oid={order_id}"}`)
	if res.Status != 201 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	pid := int(res.json(t)["id"].(float64))
	c, err := a.Campaigns.Create(ctx, campaigns.Input{Name: "Noël", Channels: []string{"affiliation"}, TimeZone: "Europe/Paris", StartsAt: future(3), EndsAt: future(10),
		Currency: "EUR", Budgets: map[string]int64{"affiliation": 1000}, Forecast: map[string]map[string]float64{"affiliation": {"impressions": 1000, "ctr": 0.01}}}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aff.SetMember(ctx, c, affiliation.MemberInput{PartnerID: uint64(pid)}, "ana"); err != nil {
		t.Fatal(err)
	}
	// Follow the partner's link for a click id, then report the order.
	plan := a.api("GET", fmt.Sprintf("/api/v1/campaigns/%d/affiliation", c.ID), accounts.Viewer, "").json(t)
	tracked := plan["partners"].([]any)[0].(map[string]any)["links"].([]any)[0].(map[string]any)["url"].(string)
	req, _ := http.NewRequest("GET", a.URL+tracked[strings.Index(tracked, "/r/"):], nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")
	r := a.do(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, req)
	loc := r.Header.Get("Location")
	cid := loc[strings.Index(loc, affiliation.ClickParam+"=")+len(affiliation.ClickParam)+1:][:32]
	res = a.api("POST", "/api/v1/conversions", accounts.Marketer, `{"order_id":"CMD-9","amount":10000,"currency":"EUR","click_id":"`+cid+`"}`)
	if res.Status != http.StatusCreated || !strings.Contains(res.Body, `"attributed_by":"click"`) {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	list := a.api("GET", fmt.Sprintf("/api/v1/postbacks?partner=%d", pid), accounts.Viewer, "").json(t)["postbacks"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["status"] != "queued" || list[0].(map[string]any)["order_id"] != "CMD-9" {
		t.Fatalf("%v", list)
	}
	id := uint64(list[0].(map[string]any)["id"].(float64))
	if err := aff.DeliverPostback(ctx, id, false); err == nil {
		t.Fatal("a 503 counted as delivered")
	}
	got := a.api("GET", fmt.Sprintf("/api/v1/postbacks?partner=%d&status=queued", pid), accounts.Viewer, "").json(t)["postbacks"].([]any)[0].(map[string]any)
	if got["attempts"].(float64) != 1 || got["last_error"] != "the partner answered 503" || got["response_code"].(float64) != 503 || got["next_attempt_at"] == nil || got["partner"] != "Réseau" {
		t.Fatalf("%v", got)
	}
	if l := a.api("GET", "/api/v1/postbacks?status=done", accounts.Viewer, "").json(t)["postbacks"].([]any); len(l) != 0 {
		t.Errorf("done: %v", l)
	}
	for q, field := range map[string]string{"status=lost": "status", "partner=x": "partner", "limit=0": "limit"} {
		if r := a.api("GET", "/api/v1/postbacks?"+q, accounts.Viewer, ""); r.Status != 400 || !strings.Contains(r.Body, `"field":"`+field+`"`) {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	// The partner's page, in French.
	b := a.browser(accounts.Viewer)
	b.acceptLanguage = "fr"
	pr := b.get(fmt.Sprintf("/partners/%d", pid))
	page := pr.Body
	if pr.Status != 200 {
		t.Fatalf("%d %s", pr.Status, page)
	}
	for _, want := range []string{"Postbacks", "<code>CMD-9</code>", "en file", "le partenaire a répondu 503 (HTTP 503)", "Prochaine tentative"} {
		if !strings.Contains(page, want) {
			t.Errorf("the partner page lacks %q", want)
		}
	}
}
