package web

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/landing"
)

// 1,200 promotions, more than the 500 the list once stopped at, over few
// start instants (ties are broken by id): the API and the UI page through
// every one, once each, with the true total; the campaign form offers them
// all.
func TestPromotionsPageThroughEveryOne(t *testing.T) {
	a := newTestApp(t)
	const n = 1200
	list := make([]landing.Promotion, n)
	start := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour)
	for i := range list {
		s := start.Add(time.Duration(i%7) * time.Hour)
		list[i] = landing.Promotion{Name: fmt.Sprintf("Promo %04d", i), Kind: landing.PercentOff, Value: 1000, Currency: "EUR", Scope: landing.ScopeAll,
			TimeZone: "Europe/Paris", StartsAt: s, EndsAt: s.Add(48 * time.Hour), Status: landing.StatusDraft, ChangedAt: s, CreatedAt: s, UpdatedAt: s}
	}
	if err := a.Landing.Promotions.DB.CreateInBatches(list, 100).Error; err != nil {
		t.Fatal(err)
	}
	seen := map[float64]bool{}
	path, pages := "/api/v1/promotions?limit=500", 0
	for path != "" {
		r := a.api("GET", path, accounts.Viewer, "")
		m := r.json(t)
		got, _ := m["promotions"].([]any)
		if pages++; r.Status != 200 || m["total"] != float64(n) || len(got) != min(500, n-len(seen)) {
			t.Fatalf("%s: %d, %d promotions, total %v", path, r.Status, len(got), m["total"])
		}
		for _, p := range got {
			id := p.(map[string]any)["id"].(float64)
			if seen[id] {
				t.Fatalf("promotion %v listed twice", id)
			}
			seen[id] = true
		}
		path = ""
		if next, ok := m["next_after"].(float64); ok {
			path = fmt.Sprintf("/api/v1/promotions?limit=500&after=%d", int64(next))
		}
	}
	if len(seen) != n || pages != 3 {
		t.Fatalf("paged through %d promotions in %d pages, want %d in 3", len(seen), pages, n)
	}
	if r := a.api("GET", "/api/v1/promotions?after=999999", accounts.Viewer, ""); r.Status != http.StatusBadRequest {
		t.Fatalf("after naming no promotion: %d", r.Status)
	}
	b := a.browser(accounts.Viewer)
	rowRE, nextRE := regexp.MustCompile(`href="/promotions/(\d+)"`), regexp.MustCompile(`href="(/promotions\?after=\d+)" rel="next"`)
	uiSeen := map[string]bool{}
	for path := "/promotions"; path != ""; {
		page := b.get(path)
		for _, m := range rowRE.FindAllStringSubmatch(page.Body, -1) {
			uiSeen[m[1]] = true
		}
		path = ""
		if m := nextRE.FindStringSubmatch(page.Body); m != nil {
			path = m[1]
		}
	}
	if len(uiSeen) != n {
		t.Fatalf("the UI listed %d promotions, want %d", len(uiSeen), n)
	}
	all, err := a.Landing.Promotions.All(t.Context())
	if err != nil || len(all) != n {
		t.Fatalf("All: %d %v", len(all), err)
	}
}
