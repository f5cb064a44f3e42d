package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/rampe/rampe/accounts"
)

// A marketer chooses a webhook, is refused a bad one with the field named,
// sends a test and sees it delivered to a real endpoint.
func TestUINotificationPreferencesAndTest(t *testing.T) {
	a := newTestApp(t)
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	b := a.browser(accounts.Marketer)
	page := b.get("/settings/notifications")
	if page.Status != 200 || !strings.Contains(page.Body, "no SMTP server is configured") {
		t.Fatalf("page: %d %.2000s", page.Status, page.Body)
	}
	if r := b.post("/settings/notifications/test", url.Values{}); r.Status != 422 || !strings.Contains(r.Body, "choose e-mail") {
		t.Fatalf("test with nothing chosen: %d", r.Status)
	}
	r := b.post("/settings/notifications", url.Values{"webhook_url": {"http://10.0.0.1/hook"}})
	if r.Status != 422 || !strings.Contains(r.Body, "use https") || !strings.Contains(r.Body, "http://10.0.0.1/hook") {
		t.Fatalf("plain http to a host not listed: %d %.3000s", r.Status, r.Body)
	}
	if r := b.post("/settings/notifications", url.Values{"webhook_url": {hook.URL + "/T0/B0"}}); r.Status != 303 {
		t.Fatalf("save: %d %.2000s", r.Status, r.Body)
	}
	b.get("/settings/notifications")
	if r := b.post("/settings/notifications/test", url.Values{}); r.Status != 303 {
		t.Fatalf("test: %d", r.Status)
	}
	if _, _, err := a.Notify.Deliver(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.Contains(got[0], `"text":"Rampe alert: Test from Rampe`) {
		t.Fatalf("webhook got %v", got)
	}
	if page := b.get("/settings/notifications"); !strings.Contains(page.Body, "o-pass\">sent") {
		t.Errorf("the page does not show the sent test: %.3000s", page.Body)
	}
}
