package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
)

// public.base_url is checked against the server's own /healthz: right,
// another server, nobody; a problem shows on the readiness checklist.
func TestBaseURLCheckTellsWhoAnswers(t *testing.T) {
	status := &BaseURLStatus{}
	a := newTestApp(t, func(d *Deps) { d.BaseURLStatus = status })
	secret := []byte("0123456789abcdef0123456789abcdef")
	if p := CheckBaseURL(context.Background(), a.URL, secret); p != "" {
		t.Fatalf("its own address: %s", p)
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer other.Close()
	if p := CheckBaseURL(context.Background(), other.URL, secret); !strings.Contains(p, "not as this Rampe") {
		t.Fatalf("another server: %q", p)
	}
	p := CheckBaseURL(context.Background(), "http://127.0.0.1:1", secret)
	if !strings.Contains(p, "does not reach this server") {
		t.Fatalf("nobody: %q", p)
	}
	status.Set(p)
	res := a.api("POST", "/api/v1/campaigns", accounts.Marketer, campaignBody("Soldes", "2026-12-24T08:00", "2026-12-31T20:00"))
	id := int(res.json(t)["id"].(float64))
	b := a.browser(accounts.Marketer)
	if r := b.fragment().get(fmt.Sprintf("/campaigns/%d/readiness", id)); !strings.Contains(r.Body, "does not reach this server") {
		t.Fatalf("readiness: %.2000s", r.Body)
	}
	if r := b.get(fmt.Sprintf("/campaigns/%d", id)); !strings.Contains(r.Body, "base-url-problem") {
		t.Fatalf("campaign page lacks the warning")
	}
}
