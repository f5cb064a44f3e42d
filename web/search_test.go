package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
)

// searchCampaign is a draft campaign on the SEO / SEA channel leading to
// the seeded page.
func (a *testApp) searchCampaign(t *testing.T, pageID uint64) *campaigns.Campaign {
	t.Helper()
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Hour)
	c, err := a.Campaigns.Create(context.Background(), campaigns.Input{Name: "Soldes SEA", Channels: []string{"seo"}, TimeZone: "Europe/Paris",
		StartsAt: start.Format(time.RFC3339), EndsAt: start.Add(72 * time.Hour).Format(time.RFC3339), Currency: "EUR", Budgets: map[string]int64{"seo": 30000},
		Forecast: map[string]map[string]float64{"seo": {"sessions_per_day": 1000}}, LandingPageID: &pageID}, "test@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSitemapAndRobotsArePublic(t *testing.T) {
	a := newTestApp(t)
	p := a.seedPage(t)
	c := a.searchCampaign(t, p.ID)
	if r := a.get("/sitemap.xml"); r.Status != 200 || !strings.Contains(r.Body, "<loc>http://127.0.0.1/sitemaps/1.xml</loc>") || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if r := a.get("/sitemaps/1.xml"); r.Status != 200 || strings.Contains(r.Body, "/l/soldes") {
		t.Fatalf("before launch: %d %s", r.Status, r.Body)
	}
	if _, err := a.Search.Launch(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if r := a.get("/sitemaps/1.xml"); r.Status != 200 || !strings.Contains(r.Body, "<loc>http://127.0.0.1/l/soldes</loc><lastmod>") {
		t.Fatalf("after launch: %d %s", r.Status, r.Body)
	}
	for _, bad := range []string{"/sitemaps/2.xml", "/sitemaps/0.xml", "/sitemaps/x.xml", "/sitemaps/1.txt", "/sitemaps/-1.xml"} {
		if r := a.get(bad); r.Status != 404 {
			t.Errorf("%s: %d", bad, r.Status)
		}
	}
	if r := a.get("/robots.txt"); r.Status != 200 || !strings.Contains(r.Body, "Sitemap: http://127.0.0.1/sitemap.xml") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if r := a.get("/indexnow.txt"); r.Status != 404 {
		t.Fatalf("IndexNow is off by default: %d", r.Status)
	}
}

func TestSearchAPI(t *testing.T) {
	a := newTestApp(t)
	p := a.seedPage(t)
	c := a.searchCampaign(t, p.ID)
	base := fmt.Sprintf("/api/v1/campaigns/%d", c.ID)
	r := a.api("POST", base+"/adgroups", accounts.Marketer, `{"name":"Chaises","max_cpc":"0.50","keywords":"[chaise]\n\"chaise scandinave\" @ 0.80"}`)
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	gid := int(r.json(t)["id"].(float64))
	if r := a.api("POST", base+"/adgroups", accounts.Viewer, `{"name":"x"}`); r.Status != 403 {
		t.Fatalf("viewer: %d", r.Status)
	}
	r = a.api("POST", fmt.Sprintf("%s/adgroups/%d/ads", base, gid), accounts.Marketer,
		`{"headlines":"Chaise à {price:W-1}\nSoldes d'hiver\n`+strings.Repeat("夏", 16)+`","descriptions":"a\nb"}`)
	if r.Status != 422 || r.json(t)["error"].(map[string]any)["field"] != "headline 3" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r = a.api("POST", fmt.Sprintf("%s/adgroups/%d/ads", base, gid), accounts.Marketer,
		`{"headlines":"Chaise à {price:W-1}\nSoldes d'hiver\nLivraison offerte","descriptions":"Des prix doux.\nRetours gratuits.","path1":"soldes"}`)
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if r := a.api("PUT", base+"/search", accounts.Marketer, `{"evergreen":"yes"}`); r.Status != 400 {
		t.Fatalf("%d", r.Status)
	}
	if r := a.api("PUT", base+"/search", accounts.Marketer, `{"evergreen":true}`); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if _, err := a.Search.Launch(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	got := a.api("GET", base+"/search", accounts.Viewer, "").json(t)
	exports := got["exports"].([]any)
	if got["evergreen"] != true || len(got["ad_groups"].([]any)) != 1 || len(exports) != 1 {
		t.Fatalf("%v", got)
	}
	eid := int(exports[0].(map[string]any)["id"].(float64))
	r = a.api("GET", fmt.Sprintf("%s/exports/%d/google.csv", base, eid), accounts.Viewer, "")
	rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if r.Status != 200 || err != nil || rows[0][0] != "Campaign" || !strings.Contains(r.Header.Get("Content-Disposition"), "google.csv") {
		t.Fatalf("%d %v %s", r.Status, err, r.Body)
	}
	if !strings.Contains(r.Body, "Chaise à 120,00\u00a0€") {
		t.Fatalf("the price placeholder was not filled:\n%s", r.Body)
	}
	if r := a.api("GET", fmt.Sprintf("%s/exports/%d/microsoft.csv", base, eid), accounts.Viewer, ""); r.Status != 200 || !strings.HasPrefix(r.Body, "Type,Status") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	other := a.searchCampaign(t, p.ID)
	if r := a.api("GET", fmt.Sprintf("/api/v1/campaigns/%d/exports/%d/google.csv", other.ID, eid), accounts.Viewer, ""); r.Status != http.StatusNotFound {
		t.Fatalf("another campaign's export: %d", r.Status)
	}
	if r := a.api("DELETE", fmt.Sprintf("/api/v1/campaigns/%d/adgroups/%d", other.ID, gid), accounts.Marketer, ""); r.Status != 404 {
		t.Fatalf("another campaign's ad group: %d", r.Status)
	}
	if r := a.api("DELETE", fmt.Sprintf("%s/adgroups/%d", base, gid), accounts.Marketer, ""); r.Status != 204 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}

func TestSearchTab(t *testing.T) {
	a := newTestApp(t)
	p := a.seedPage(t)
	c := a.searchCampaign(t, p.ID)
	b := a.browser(accounts.Marketer)
	tab := fmt.Sprintf("/campaigns/%d/search", c.ID)
	if r := b.get(fmt.Sprintf("/campaigns/%d", c.ID)); !strings.Contains(r.Body, tab) {
		t.Fatalf("the campaign page does not link its search tab")
	}
	r := b.get(tab)
	if r.Status != 200 || !strings.Contains(r.Body, "New ad group") || !strings.Contains(r.Body, "Not audited yet") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// A refused ad group keeps what was typed and names the line.
	r = b.post(tab[:len(tab)-len("/search")]+"/adgroups", url.Values{"name": {"Chaises"}, "max_cpc": {"0.50"}, "keywords": {"[chaise]\n<bad>"}})
	if r.Status != 422 || !strings.Contains(r.Body, "Keywords, line 2") || !strings.Contains(r.Body, "&lt;bad&gt;") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r = b.post(fmt.Sprintf("/campaigns/%d/adgroups", c.ID), url.Values{"name": {"Chaises"}, "max_cpc": {"0.50"}, "keywords": {"[chaise]\n\"chaise scandinave\" @ 0.80"}})
	if r.Status != 303 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	groups, _ := a.Search.AdGroups(context.Background(), c.ID)
	if len(groups) != 1 {
		t.Fatalf("%+v", groups)
	}
	adURL := fmt.Sprintf("/campaigns/%d/adgroups/%d/ads", c.ID, groups[0].ID)
	r = b.post(adURL, url.Values{"headlines": {"Chaise à {price:W-1}\nSoldes\n" + strings.Repeat("夏", 16)}, "descriptions": {"a\nb"}})
	if r.Status != 422 || !strings.Contains(r.Body, "Headline 3") || !strings.Contains(r.Body, strings.Repeat("夏", 16)) {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r = b.post(adURL, url.Values{"headlines": {"Chaise à {price:W-1}\nSoldes d'hiver\n夏のセール"}, "descriptions": {"Des prix doux.\nRetours gratuits."}, "path1": {"soldes"}})
	if r.Status != 303 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r = b.get(tab)
	for _, want := range []string{"Chaise à 120,00\u00a0€", "10/30", `data-line-limit="30"`, "[chaise]", `"chaise scandinave" @ 0.80`, "None yet"} {
		if !strings.Contains(r.Body, want) && !strings.Contains(r.Body, strings.ReplaceAll(want, `"`, "&#34;")) {
			t.Errorf("the tab lacks %q", want)
		}
	}
	if _, err := a.Search.Launch(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	r = b.get(tab)
	if !strings.Contains(r.Body, "Google Ads Editor CSV") || !strings.Contains(r.Body, "enabled") {
		t.Fatalf("no export listed")
	}
	ex, _ := a.Search.Exports(context.Background(), c.ID)
	if r := b.get(fmt.Sprintf("/campaigns/%d/exports/%d/microsoft.csv", c.ID, ex[0].ID)); r.Status != 200 || !strings.HasPrefix(r.Body, "Type,Status,Id") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// The audit, from the tab and in the page editor.
	if r := b.post(tab+"/audit", url.Values{}); r.Status != 303 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if r := b.get(fmt.Sprintf("/pages/%d", p.ID)); !strings.Contains(r.Body, "SEO audit of the published version") || !strings.Contains(r.Body, "Advice") {
		t.Fatalf("the page editor does not show the audit")
	}
	// In French for a French browser.
	req, _ := http.NewRequest("GET", a.URL+tab, nil)
	req.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
	if r := a.do(b.client, req); !strings.Contains(r.Body, "Exports d&#39;annonces") || !strings.Contains(r.Body, "2 mots-clés") || !strings.Contains(r.Body, "Conseils") || !strings.Contains(r.Body, "le titre fait 6 caractères") {
		t.Fatalf("the tab is not in French:\n%s", r.Body)
	}
	// A viewer sees, never writes.
	v := a.browser(accounts.Viewer)
	if r := v.get(tab); r.Status != 200 || strings.Contains(r.Body, "New ad group") {
		t.Fatalf("viewer: %d", r.Status)
	}
	if r := v.post(fmt.Sprintf("/campaigns/%d/adgroups", c.ID), url.Values{"name": {"x"}}); r.Status != 403 {
		t.Fatalf("viewer post: %d", r.Status)
	}
	// A campaign off the channel has no tab.
	if r := b.get(fmt.Sprintf("/campaigns/%d/search", a.createCampaign(t, "mail only"))); r.Status != 404 {
		t.Fatalf("%d", r.Status)
	}
}
