package web

import (
	"context"
	"fmt"
	"html"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
)

// manyCampaigns stores n e-mail campaigns of one window starting at start,
// in one batch insert; every third is scheduled, the others drafts.
func (a *testApp) manyCampaigns(n int, start time.Time) *campaigns.Campaign {
	a.t.Helper()
	one, err := campaigns.Build(campaigns.Input{Name: "Newsletter", Channels: []string{"email"}, TimeZone: "Europe/Paris",
		StartsAt: start.Format(time.RFC3339), EndsAt: start.Add(24 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"email": 1},
		Forecast: map[string]map[string]float64{"email": {"audience": 1000, "open_rate": 0.5, "click_rate": 0.5}}}, "Europe/Paris")
	if err != nil {
		a.t.Fatal(err)
	}
	list := make([]campaigns.Campaign, n)
	for i := range list {
		c := *one
		c.Name, c.Status, c.CreatedAt, c.UpdatedAt = fmt.Sprintf("Newsletter %04d", i), campaigns.Draft, time.Now(), time.Now()
		if i%3 == 0 {
			c.Status, c.ScheduleVersion = campaigns.Scheduled, 1
		}
		list[i] = c
	}
	if err := a.Campaigns.DB.CreateInBatches(list, 100).Error; err != nil {
		a.t.Fatal(err)
	}
	return one
}

// 1,200 campaigns: more than the 1,000 lists used to stop at, and than any page.
const manyN = 1200

var (
	nextRE     = regexp.MustCompile(`<a class="button" href="([^"]+)" rel="next">Next (\d+) →</a>`)
	campaignRE = regexp.MustCompile(`href="/campaigns/(\d+)" class="strong"`)
)

func TestUICampaignsPageShowsTheTrueCountAndPagesThroughAll(t *testing.T) {
	a := newTestApp(t)
	a.manyCampaigns(manyN, time.Now().Add(48*time.Hour).Truncate(time.Hour))
	b := a.browser(accounts.Viewer)
	for _, tc := range []struct{ path, tab string }{{"/campaigns", "All <span>1,200</span>"}, {"/campaigns?status=scheduled&channel=email", "Scheduled <span>400</span>"}} {
		want := map[string]int{"/campaigns": manyN, "/campaigns?status=scheduled&channel=email": manyN / 3}[tc.path]
		seen := map[string]bool{}
		path, pages := tc.path, 0
		for path != "" {
			page := b.get(path)
			pages++
			shown := campaignRE.FindAllStringSubmatch(page.Body, -1)
			head := fmt.Sprintf("Campaigns %s–%s of %s, by start", thousands(len(seen)+1), thousands(len(seen)+len(shown)), thousands(want))
			if page.Status != 200 || !strings.Contains(page.Body, tc.tab) || !strings.Contains(page.Body, head) || len(shown) != min(campaigns.PageSize, want-len(seen)) {
				t.Fatalf("%s: %d, %d campaigns, want %q and %q: %.4000s", path, page.Status, len(shown), tc.tab, head, page.Body)
			}
			for _, m := range shown {
				seen[m[1]] = true
			}
			path = ""
			if m := nextRE.FindStringSubmatch(page.Body); m != nil {
				path = html.UnescapeString(m[1])
				if m[2] != fmt.Sprint(min(campaigns.PageSize, want-len(seen))) {
					t.Fatalf("next link says %s, %d campaigns left", m[2], want-len(seen))
				}
			}
		}
		if len(seen) != want || pages != (want+campaigns.PageSize-1)/campaigns.PageSize {
			t.Fatalf("%s: paged through %d campaigns in %d pages, want %d", tc.path, len(seen), pages, want)
		}
	}
	for _, q := range []string{"after=-1", "after=x", "after=18446744073709551615", "after=9223372036854775807", "limit=0", "limit=101"} {
		if r := b.get("/campaigns?" + q); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, strings.SplitN(q, "=", 2)[0]+":") {
			t.Fatalf("/campaigns?%s: %d %.300s", q, r.Status, r.Body)
		}
	}
}

func TestAPICampaignsPagesWithNextAfter(t *testing.T) {
	a := newTestApp(t)
	a.manyCampaigns(manyN, time.Now().Add(48*time.Hour).Truncate(time.Hour))
	seen := map[float64]bool{}
	path, pages := "/api/v1/campaigns?limit=500", 0
	for path != "" {
		r := a.api("GET", path, accounts.Viewer, "")
		m := r.json(t)
		list, _ := m["campaigns"].([]any)
		if pages++; r.Status != 200 || m["total"] != float64(manyN) || len(list) != min(500, manyN-len(seen)) {
			t.Fatalf("%s: %d, %d campaigns, total %v", path, r.Status, len(list), m["total"])
		}
		for _, c := range list {
			seen[c.(map[string]any)["id"].(float64)] = true
		}
		path = ""
		if next, ok := m["next_after"].(float64); ok {
			path = fmt.Sprintf("/api/v1/campaigns?limit=500&after=%d", int64(next))
		} else if m["more"] != false {
			t.Fatalf("no next_after but more = %v", m["more"])
		}
	}
	if len(seen) != manyN || pages != 3 {
		t.Fatalf("paged through %d campaigns in %d pages, want %d in 3", len(seen), pages, manyN)
	}
	if m := a.api("GET", "/api/v1/campaigns", accounts.Viewer, "").json(t); len(m["campaigns"].([]any)) != campaigns.PageSize || m["next_after"] == nil {
		t.Fatalf("default page: %d campaigns, next_after %v", len(m["campaigns"].([]any)), m["next_after"])
	}
	for _, q := range []string{"after=-1", "after=abc", "after=1.5", "after=18446744073709551615", "after=9223372036854775808", "after=9223372036854775807",
		"limit=0", "limit=-3", "limit=501", "limit=x", "limit=18446744073709551615"} {
		for _, list := range []string{"campaigns", "products"} {
			if list == "products" && q == "after=9223372036854775807" {
				continue // a product id beyond the last one is just an empty page
			}
			r := a.api("GET", "/api/v1/"+list+"?"+q, accounts.Viewer, "")
			field := strings.SplitN(q, "=", 2)[0]
			if e, _ := r.json(t)["error"].(map[string]any); r.Status != http.StatusBadRequest || e["field"] != field {
				t.Fatalf("%s?%s: %d %s, want 400 naming %s", list, q, r.Status, r.Body, field)
			}
		}
	}
}

func TestUICalendarCountsEveryCampaignOfItsMonth(t *testing.T) {
	a := newTestApp(t)
	start := time.Date(2027, 3, 10, 8, 0, 0, 0, time.UTC)
	a.manyCampaigns(manyN, start)
	page := a.browser(accounts.Viewer).get("/calendar?month=2027-03")
	if page.Status != 200 || !strings.Contains(page.Body, "1,200 campaigns around this month") ||
		strings.Count(page.Body, "1,192 more<") != 2 || strings.Count(page.Body, `class="bar s-`) != 2*8+6 {
		t.Fatalf("calendar: %d %s", page.Status, page.Body)
	}
}

func TestUICapacityAddsEveryCampaign(t *testing.T) {
	a := newTestApp(t)
	one := a.manyCampaigns(manyN, time.Now().Add(48*time.Hour).Truncate(time.Hour))
	peak := fmt.Sprintf("Forecast peak: %.0f requests/s", math.Round(manyN*one.PeakOf().RPS))
	page := a.browser(accounts.Viewer).get("/capacity")
	if page.Status != 200 || !strings.Contains(page.Body, peak) || !strings.Contains(page.Body, "1,200 planned or running campaigns") ||
		!strings.Contains(page.Body, "from 1,200 campaigns") || !strings.Contains(page.Body, "and 1,190 more") {
		t.Fatalf("capacity page, want %q: %d %.3000s", peak, page.Status, page.Body)
	}
}

var alertRE = regexp.MustCompile(`<div class="card alert`)

func TestUIAlertsPageThroughEveryAlert(t *testing.T) {
	a := newTestApp(t)
	a.manyCampaigns(3, time.Now().Add(48*time.Hour).Truncate(time.Hour))
	// 250 alerts, 40 of them resolved, many at the same instant.
	at := time.Now().UTC().Truncate(time.Second)
	list := make([]campaigns.Alert, 250)
	for i := range list {
		list[i] = campaigns.Alert{CampaignID: uint64(1 + i%3), Kind: "blocked", Message: fmt.Sprintf("alert %d", i), CreatedAt: at.Add(-time.Duration(i/10) * time.Minute)}
		if i%25 == 0 || i%25 == 1 || i%25 == 2 || i%25 == 3 {
			list[i].ResolvedAt = &at
		}
	}
	if err := a.Campaigns.DB.CreateInBatches(list, 50).Error; err != nil {
		t.Fatal(err)
	}
	b := a.browser(accounts.Viewer)
	for path, want := range map[string]int{"/alerts": 210, "/alerts?all=1": 250, "/alerts?campaign=2&all=1": 83} {
		seen, p := 0, path
		for p != "" {
			page := b.get(p)
			n := len(alertRE.FindAllString(page.Body, -1))
			if page.Status != 200 || n != min(campaigns.PageSize, want-seen) || !strings.Contains(page.Body, fmt.Sprintf("%d %s", want, map[bool]string{true: "in all", false: "open"}[strings.Contains(path, "all=1")])) {
				t.Fatalf("%s: %d, %d alerts shown, want %d of %d: %.2000s", p, page.Status, n, min(campaigns.PageSize, want-seen), want, page.Body)
			}
			seen += n
			p = ""
			if m := regexp.MustCompile(`href="([^"]+)" rel="next">Older →`).FindStringSubmatch(page.Body); m != nil {
				p = html.UnescapeString(m[1])
			}
		}
		if seen != want {
			t.Fatalf("%s: paged through %d alerts, want %d", path, seen, want)
		}
	}
	if page := b.get("/campaigns/2"); !strings.Contains(page.Body, "63 older alerts") {
		t.Fatalf("campaign page: %.3000s", page.Body)
	}
	for _, q := range []string{"after=-1", "after=18446744073709551615", "after=99999", "campaign=x"} {
		if r := b.get("/alerts?" + q); r.Status != http.StatusBadRequest {
			t.Fatalf("/alerts?%s: %d", q, r.Status)
		}
	}
}

// The calendar and the capacity page are computed once per plan version:
// a campaign added, renamed or cancelled — through Rampe or in SQL by
// another process — shows at the next view.
func TestUICalendarAndCapacityFollowThePlan(t *testing.T) {
	a := newTestApp(t)
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	one := a.manyCampaigns(3, start)
	paris, _ := time.LoadLocation("Europe/Paris")
	month := "/calendar?month=" + start.In(paris).Format("2006-01")
	b := a.browser(accounts.Viewer)
	peakOf := func(n int) string {
		return fmt.Sprintf("Forecast peak: %.0f requests/s", math.Round(float64(n)*one.PeakOf().RPS))
	}
	for range 2 {
		if page := b.get(month); !strings.Contains(page.Body, "3 campaigns around this month") {
			t.Fatalf("calendar: %.3000s", page.Body)
		}
		if page := b.get("/capacity"); !strings.Contains(page.Body, peakOf(3)) {
			t.Fatalf("capacity, want %q: %.3000s", peakOf(3), page.Body)
		}
	}
	a.manyCampaigns(1, start)
	if page := b.get(month); !strings.Contains(page.Body, "4 campaigns around this month") {
		t.Fatalf("calendar after an insert: %.3000s", page.Body)
	}
	if page := b.get("/capacity"); !strings.Contains(page.Body, peakOf(4)) {
		t.Fatalf("capacity after an insert, want %q: %.3000s", peakOf(4), page.Body)
	}
	if err := a.Campaigns.DB.Exec("UPDATE campaigns SET name = 'Soldes renommées' WHERE id = 1").Error; err != nil {
		t.Fatal(err)
	}
	if page := b.get(month); !strings.Contains(page.Body, "Soldes renommées") {
		t.Fatalf("calendar after a rename: %.3000s", page.Body)
	}
	if _, err := a.Campaigns.Cancel(context.Background(), 2, "test", "test"); err != nil {
		t.Fatal(err)
	}
	if page := b.get("/capacity"); !strings.Contains(page.Body, peakOf(3)) {
		t.Fatalf("capacity after a cancel, want %q: %.3000s", peakOf(3), page.Body)
	}
}

// A list page asked for a wrong page answers 400 naming the parameter and
// the value, in the reader's language.
func TestListPagesExplainAWrongPageInFrench(t *testing.T) {
	a := newTestApp(t)
	b := a.browser(accounts.Viewer)
	b.acceptLanguage = "fr"
	for path, want := range map[string]string{
		"/products?after=-3":   `after : attendu : l&#39;identifiant de la dernière ligne de la page précédente (un nombre entier de 0 à 9223372036854775807), reçu &#34;-3&#34;`,
		"/campaigns?limit=abc": `limit : attendu : un nombre entier de 1 à`,
		"/loadchecks?after=x1": `after : attendu : l&#39;identifiant`,
	} {
		r := b.get(path)
		if r.Status != 400 || !strings.Contains(r.Body, want) {
			t.Errorf("%s: %d, want %q in the page", path, r.Status, want)
		}
	}
}
