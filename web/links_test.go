package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
)

// A marketer tracks a link from the campaign page; a visitor follows it
// to the landing page; the click counts on the page and in the API; forged
// tokens get a 404 that says nothing.
func TestTrackedLinksRedirectAndCount(t *testing.T) {
	a := newTestApp(t)
	a.seedPage(t)
	b := a.browser(accounts.Marketer)
	res := a.api("POST", "/api/v1/campaigns", accounts.Marketer, campaignBody("Soldes", "2026-12-24T08:00", "2026-12-31T20:00"))
	id := int(res.json(t)["id"].(float64))
	page := b.get(fmt.Sprintf("/campaigns/%d", id))
	if !strings.Contains(page.Body, "No tracked link yet") || !strings.Contains(page.Body, "Track this link") {
		t.Fatalf("campaign page: %.3000s", page.Body)
	}
	dest := "http://127.0.0.1/l/soldes?utm_source=newsletter&utm_medium=email"
	if r := b.post(fmt.Sprintf("/campaigns/%d/links", id), url.Values{"channel": {"email"}, "url": {dest}, "label": {"hero"}}); r.Status != 303 {
		t.Fatalf("track: %d", r.Status)
	}
	if r := b.post(fmt.Sprintf("/campaigns/%d/links", id), url.Values{"channel": {"display"}, "url": {dest}, "label": {"banner d'été"}}); r.Status != 303 {
		t.Fatalf("track on a channel the campaign lacks: %d", r.Status)
	} else if pg := b.get(r.Header.Get("Location")); !strings.Contains(pg.Body, "not on the Display channel") ||
		!strings.Contains(pg.Body, `value="banner d&#39;été"`) || !strings.Contains(pg.Body, "utm_source=newsletter&amp;utm_medium=email") {
		t.Errorf("the refusal is not shown with the form as sent: %.6000s", pg.Body)
	}
	list := a.api("GET", fmt.Sprintf("/api/v1/campaigns/%d/links", id), accounts.Viewer, "").json(t)["links"].([]any)
	if len(list) != 1 {
		t.Fatalf("links: %v", list)
	}
	tracked := list[0].(map[string]any)["tracked_url"].(string)
	path := strings.TrimPrefix(tracked, "http://127.0.0.1")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i := 0; i < 4; i++ {
		req, _ := http.NewRequest("GET", a.URL+path, nil)
		if i < 3 { // the fourth is Go's own user agent: a robot, stored and left out of the counts
			req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")
		}
		r := a.do(noFollow, req)
		if r.Status != 302 || r.Header.Get("Location") != dest {
			t.Fatalf("follow: %d %v", r.Status, r.Header)
		}
	}
	for _, forged := range []string{"/r/abc", "/r/" + strings.Repeat("A", 30), path + "x", "/r/AQ.AAAAAAAAAAAAAAAA"} {
		req, _ := http.NewRequest("GET", a.URL+forged, nil)
		if r := a.do(noFollow, req); r.Status != 404 || r.Body != "not found" {
			t.Errorf("%s: %d %q", forged, r.Status, r.Body)
		}
	}
	if err := a.Clicks.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := a.api("GET", fmt.Sprintf("/api/v1/campaigns/%d/links", id), accounts.Viewer, "").json(t)["links"].([]any)[0].(map[string]any)
	if got["clicks"].(float64) != 3 {
		t.Fatalf("clicks: %v", got)
	}
	if r := a.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/links", id), accounts.Marketer, `{"channel":"email","url":"ftp://x"}`); r.Status != 422 || !strings.Contains(r.Body, `"field":"url"`) {
		t.Errorf("bad url: %d %s", r.Status, r.Body)
	}
	if r := a.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/links", id), accounts.Viewer, `{"channel":"email","url":"https://x.example"}`); r.Status != 403 {
		t.Errorf("viewer: %d", r.Status)
	}
}

// An unknown campaign's links answer 404 naming the id, in both verbs.
func TestTrackedLinksOfAnUnknownCampaign(t *testing.T) {
	a := newTestApp(t)
	for _, r := range []response{
		a.api("GET", "/api/v1/campaigns/999/links", accounts.Viewer, ""),
		a.api("POST", "/api/v1/campaigns/999/links", accounts.Marketer, `{"channel":"email","url":"https://x.example"}`),
	} {
		if r.Status != 404 || !strings.Contains(r.Body, `"field":"id"`) {
			t.Errorf("unknown campaign: %d %s", r.Status, r.Body)
		}
	}
}
