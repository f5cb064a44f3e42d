package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
)

func (a *testApp) seedPage(t *testing.T) *landing.Page {
	t.Helper()
	ctx := context.Background()
	csv := "sku,title,price,brand,link\nW-1,Chaise,120.00,Nordik,https://shop.example/w1\nW-2,Table,80.00,Nordik,https://shop.example/w2\n"
	if _, err := a.Catalog.Import(ctx, strings.NewReader(csv), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	p, err := a.Landing.Pages.Create(ctx, landing.PageInput{Slug: "soldes", Title: "Soldes", ProductSKUs: "W-1, W-2", Body: "**Vite**"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Landing.Pages.Publish(ctx, p.ID, "test"); err != nil {
		t.Fatal(err)
	}
	return p
}

func (a *testApp) get(path string, headers ...string) response {
	a.t.Helper()
	return a.request("GET", path, headers...)
}

func (a *testApp) request(method, path string, headers ...string) response {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	return a.do(&http.Client{Transport: tr}, req)
}

func TestPublicPageServing(t *testing.T) {
	a := newTestApp(t)
	a.seedPage(t)
	plain := a.get("/l/soldes")
	if plain.Status != 200 || !strings.Contains(plain.Body, "120,00\u00a0€") || !strings.Contains(plain.Body, "<strong>Vite</strong>") {
		t.Fatalf("page: %d %.300s", plain.Status, plain.Body)
	}
	h := plain.Header
	if h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("ETag") == "" || h.Get("Vary") != "Accept-Encoding" ||
		!strings.HasPrefix(h.Get("Cache-Control"), "public, max-age=") || h.Get("Last-Modified") == "" {
		t.Fatalf("headers: %v", h)
	}
	gz := a.get("/l/soldes", "Accept-Encoding", "gzip")
	zr, err := gzip.NewReader(strings.NewReader(gz.Body))
	if err != nil || gz.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %v %v", err, gz.Header)
	}
	unz, _ := io.ReadAll(zr)
	br := a.get("/l/soldes", "Accept-Encoding", "gzip, br")
	unbr, _ := io.ReadAll(brotli.NewReader(strings.NewReader(br.Body)))
	if string(unz) != plain.Body || string(unbr) != plain.Body || br.Header.Get("Content-Encoding") != "br" {
		t.Fatal("compressed bodies differ from the page")
	}
	if r := a.get("/l/soldes", "If-None-Match", h.Get("ETag")); r.Status != 304 || r.Body != "" {
		t.Fatalf("If-None-Match: %d", r.Status)
	}
	if r := a.get("/l/soldes", "If-None-Match", `"other", `+h.Get("ETag")); r.Status != 304 {
		t.Fatalf("If-None-Match list: %d", r.Status)
	}
	if r := a.request("HEAD", "/l/soldes"); r.Status != 200 || r.Body != "" || r.Header.Get("ETag") != h.Get("ETag") {
		t.Fatalf("HEAD: %d %q", r.Status, r.Body)
	}
	for _, slug := range []string{"nope", "..%2F..%2Fetc%2Fpasswd", "SOLDES", "%00", "soldes%00", "%C3%A9t%C3%A9", strings.Repeat("a", 300)} {
		if r := a.get("/l/" + slug); r.Status != 404 || !strings.Contains(r.Body, "does not exist") {
			t.Errorf("/l/%s: %d", slug, r.Status)
		}
	}
	// Campaign links carry a query string; the raw URI is read as is. A
	// path that needs decoding or normalising gets the page it names, and
	// HEAD the same status.
	for _, path := range []string{"/l/soldes?utm_source=newsletter&utm_medium=email", "/l/sol%64es", "/l/./soldes", "/l//soldes", "/l/soldes/"} {
		if r := a.get(path); r.Status != 200 || r.Body != plain.Body {
			t.Errorf("GET %s: %d", path, r.Status)
		}
		if r := a.request("HEAD", path); r.Status != 200 || r.Body != "" {
			t.Errorf("HEAD %s: %d %q", path, r.Status, r.Body)
		}
	}
	// Under /l/, what is not a page gets the 404 page, never the UI's
	// sign-in redirect.
	for _, path := range []string{"/l/", "/l/soldes/extra", "/l/%3Cscript%3E", "/l/soldes/%2e%2e/x"} {
		for _, method := range []string{"GET", "HEAD"} {
			if r := a.request(method, path); r.Status != 404 || (method == "GET" && !strings.Contains(r.Body, "does not exist")) {
				t.Errorf("%s %s: %d", method, path, r.Status)
			}
		}
	}
	// GET and HEAD are answered before fiber's router (fastPages) and
	// still counted.
	m := a.get("/metrics")
	for _, want := range []string{`rampe_http_requests_total{method="GET",route="/l/:slug",status="200"}`, `rampe_http_requests_total{method="GET",route="/l/:slug",status="304"}`,
		`rampe_http_requests_total{method="GET",route="/l/:slug",status="404"}`, `rampe_http_requests_total{method="HEAD",route="/l/:slug",status="200"}`, `rampe_http_request_duration_seconds_count{route="/l/:slug"}`} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestLandingSlug(t *testing.T) {
	for uri, want := range map[string]string{
		"/l/demo": "demo", "/l/soldes-2026?utm_source=x&a=/b": "soldes-2026", "/l/a?": "a",
	} {
		if got, ok := landingSlug([]byte(uri)); !ok || string(got) != want {
			t.Errorf("%s: %q %v, want %q", uri, got, ok, want)
		}
	}
	// Left to fiber: nothing to serve, escapes, capitals, dots, nested or
	// doubled slashes, absolute URIs, other paths.
	for _, uri := range []string{"/l/", "/l/?x=1", "/l/sol%64es", "/l/SOLDES", "/l/../etc", "/l/a/b", "/l//a",
		"http://shop.example/l/demo", "/lx/demo", "/l", "/", "", "/l/a\x00", "/l/été"} {
		if got, ok := landingSlug([]byte(uri)); ok {
			t.Errorf("%q: fast path with slug %q", uri, got)
		}
	}
}

func TestPublishReachesOtherNodesThroughRedis(t *testing.T) {
	a := newTestApp(t)
	p := a.seedPage(t)
	// A second web node: same database and Redis, its own memory cache.
	other := landing.New(a.Landing.Pages.DB, a.Catalog, a.Campaigns, &campaigns.Registry{}, a.Landing.Server.Bus, "http://127.0.0.1", "Europe/Paris", a.Landing.Server.Clock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go other.Server.Listen(ctx)
	time.Sleep(100 * time.Millisecond) // let the subscription start
	first, err := other.Server.Get(ctx, "soldes")
	if err != nil || !strings.Contains(string(first.HTML), "Soldes") {
		t.Fatal(err)
	}
	in := landing.PageInput{Slug: "soldes", Title: "Soldes d’hiver", ProductSKUs: "W-1"}
	if _, err := a.Landing.Pages.Update(ctx, p.ID, in); err != nil {
		t.Fatal(err)
	}
	published := time.Now()
	if _, err := a.Landing.Pages.Publish(ctx, p.ID, "test"); err != nil {
		t.Fatal(err)
	}
	for time.Since(published) < time.Second {
		r, err := other.Server.Get(ctx, "soldes")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(r.HTML), "Soldes d’hiver") {
			t.Logf("the other node served the new version %v after publishing", time.Since(published).Round(time.Millisecond))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the other node still serves the old version a second after publishing")
}

func uploadCatalog(t *testing.T, b *browser, name, body string, skip bool) response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", b.csrf)
	if skip {
		w.WriteField("skip_invalid", "on")
	}
	fw, _ := w.CreateFormFile("file", name)
	fw.Write([]byte(body))
	w.Close()
	req, _ := http.NewRequest("POST", b.a.URL+"/products/import", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.a.do(b.client, req)
}

func waitImport(t *testing.T, b *browser, loc string) string {
	t.Helper()
	for i := 0; i < 100; i++ {
		page := b.get(loc + "?fragment=1")
		if !strings.Contains(page.Body, "imp-running") {
			return page.Body
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("import still running")
	return ""
}

func TestUIImportAllOrNothingThenSkip(t *testing.T) {
	a := newTestApp(t)
	a.startImportWorker(t)
	b := a.browser(accounts.Marketer)
	b.get("/products/import")
	bad := "sku;title;price\nU-1;Chaise;10,00\nU-2;Table;dix\nU-3;<script>alert(1)</script>;5\n"
	res := uploadCatalog(t, b, "cat.csv", bad, false)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.Status, res.Body)
	}
	body := waitImport(t, b, res.Header.Get("Location"))
	if !strings.Contains(body, "nothing imported") || !strings.Contains(body, "dix") || !strings.Contains(body, "not a price") {
		t.Fatalf("failed import page: %s", body)
	}
	if n, _ := a.Catalog.Count(context.Background()); n != 0 {
		t.Fatalf("%d products after a refused import", n)
	}
	report := b.get(res.Header.Get("Location") + "/report.csv")
	if !strings.Contains(report.Body, "3,price,dix,") {
		t.Fatalf("report: %s", report.Body)
	}
	res = uploadCatalog(t, b, "cat.csv", bad, true)
	body = waitImport(t, b, res.Header.Get("Location"))
	if !strings.Contains(body, "2 products imported") {
		t.Fatalf("skip-invalid import: %s", body)
	}
	list := b.get("/products?q=" + url.QueryEscape("<script>"))
	if !strings.Contains(list.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(list.Body, "<script>alert(1)") {
		t.Fatal("a hostile product title must be shown escaped")
	}
	if r := b.get("/products?availability=lots"); r.Status != 400 {
		t.Fatalf("bad filter: %d", r.Status)
	}
	v := a.browser(accounts.Viewer)
	v.get("/products")
	if r := uploadCatalog(t, v, "x.csv", "sku,title,price\n", false); r.Status != http.StatusForbidden {
		t.Fatalf("viewer upload: %d", r.Status)
	}
}

func TestUIUnpublishPageOfLiveCampaignAsksThenAlerts(t *testing.T) {
	a := newTestApp(t)
	p := a.seedPage(t)
	ctx := context.Background()
	in := campaigns.Input{Name: "Live one", Channels: []string{"seo"}, StartsAt: time.Now().Add(-time.Hour).Format(time.RFC3339),
		EndsAt: time.Now().Add(48 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"seo": 1},
		Forecast: map[string]map[string]float64{"seo": {"sessions_per_day": 1}}, LandingPageID: &p.ID}
	c, _ := a.Campaigns.Create(ctx, in, "test")
	c, _ = a.Campaigns.Schedule(ctx, c.ID, "test")
	a.Campaigns.GoLive(ctx, c.ID, c.ScheduleVersion, "test")
	if got, _ := a.Campaigns.Get(ctx, c.ID); got.Status != campaigns.Live {
		t.Fatalf("setup: campaign %s (%s)", got.Status, got.StatusReason)
	}
	b := a.browser(accounts.Marketer)
	b.get(fmt.Sprintf("/pages/%d", p.ID))
	res := b.post(fmt.Sprintf("/pages/%d/unpublish", p.ID), url.Values{})
	if res.Status != 200 || !strings.Contains(res.Body, "Unpublish anyway") || !strings.Contains(res.Body, "Live one") {
		t.Fatalf("no confirmation: %d", res.Status)
	}
	if r := a.get("/l/soldes"); r.Status != 200 {
		t.Fatal("asking for confirmation must not unpublish")
	}
	res = b.post(fmt.Sprintf("/pages/%d/unpublish", p.ID), url.Values{"confirm": {"yes"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("confirmed unpublish: %d", res.Status)
	}
	if r := a.get("/l/soldes"); r.Status != 404 {
		t.Fatalf("unpublished page still served: %d", r.Status)
	}
	a.startWorker(t) // the re-check of the page's campaigns is a job
	var ap *campaigns.AlertPage
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ap, _ = a.Campaigns.Alerts(ctx, campaigns.AlertFilter{CampaignID: c.ID, OpenOnly: true}, 0, 0); ap.Total > 0 {
			break
		}
	}
	alerts := ap.Alerts
	if len(alerts) != 1 || !strings.Contains(alerts[0].Message, "landing page /l/soldes changed") || !strings.Contains(alerts[0].Message, "not published") {
		t.Fatalf("alerts: %+v", alerts)
	}
}

func TestUIPromotionAndPageForms(t *testing.T) {
	a := newTestApp(t)
	a.seedPage(t)
	b := a.browser(accounts.Marketer)
	b.get("/promotions/new")
	res := b.post("/promotions", url.Values{"name": {""}, "kind": {"percent"}, "value": {"150"}, "scope": {"brand"}, "scope_value": {""},
		"starts_at": {"2026-12-01T00:00"}, "ends_at": {"2026-11-01T00:00"}, "time_zone": {"Europe/Paris"}})
	if res.Status != 422 {
		t.Fatalf("bad promotion: %d", res.Status)
	}
	for _, want := range []string{"is required", "at most 100", "name the brand", "<b>Ends</b>: must be after the start (Tue 1 Dec 2026, 00:00 CET)",
		"<b>Name</b>: is required"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("promotion form lacks %q", want)
		}
	}
	// The brand is picked from the catalog's brands.
	if form := b.get("/promotions/new"); !strings.Contains(form.Body, `<select name="scope_brand"`) || !strings.Contains(form.Body, "<option >Nordik</option>") {
		t.Fatalf("the brand is not offered from the catalog: %.4000s", form.Body)
	}
	res = b.post("/promotions", url.Values{"name": {"Nordik -10"}, "kind": {"percent"}, "value": {"10"}, "scope": {"brand"}, "scope_brand": {"Nordik"},
		"scope_value": {"SKU-IGNORED"}, "starts_at": {"2026-12-01T00:00"}, "ends_at": {"2026-12-05T00:00"}, "time_zone": {"Europe/Paris"}})
	loc := res.Header.Get("Location")
	if page := b.get(loc); !strings.Contains(page.Body, "Preview: 2 products affected") || !strings.Contains(page.Body, "€108.00") {
		t.Fatalf("preview: %.500s", page.Body)
	}
	if r := b.post(loc+"/publish", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("publish: %d", r.Status)
	}
	b.get("/pages/new")
	res = b.post("/pages", url.Values{"slug": {"../../etc"}, "title": {"x"}, "cta_label_0": {"Go"}, "cta_url_0": {"javascript:alert(1)"}, "product_limit": {"abc"}})
	if res.Status != 422 || !strings.Contains(res.Body, "lower-case letters") || !strings.Contains(res.Body, "is not a whole number") {
		t.Fatalf("bad page form: %d", res.Status)
	}
	res = b.post("/pages", url.Values{"slug": {"soldes"}, "title": {"Taken"}})
	if res.Status != 422 || !strings.Contains(res.Body, "is taken") {
		t.Fatalf("duplicate slug: %d", res.Status)
	}
}

func TestAPIPromotionsAndPages(t *testing.T) {
	a := newTestApp(t)
	a.seedPage(t)
	res := a.api("POST", "/api/v1/promotions", accounts.Marketer, `{"name":"API -10","kind":"percent","value":"10","scope":"brand","scope_value":"Nordik",
		"starts_at":"2026-12-01T00:00","ends_at":"2026-12-05T00:00","time_zone":"Europe/Paris"}`)
	if res.Status != 201 {
		t.Fatalf("create promotion: %d %s", res.Status, res.Body)
	}
	id := int(res.json(t)["id"].(float64))
	res = a.api("GET", fmt.Sprintf("/api/v1/promotions/%d", id), accounts.Viewer, "")
	if m := res.json(t); m["affected_products"].(float64) != 2 || !strings.Contains(res.Body, `"after":10800`) {
		t.Fatalf("preview: %s", res.Body)
	}
	if res = a.api("POST", fmt.Sprintf("/api/v1/promotions/%d/publish", id), accounts.Viewer, ""); res.Status != 403 {
		t.Fatalf("viewer publish: %d", res.Status)
	}
	if res = a.api("POST", fmt.Sprintf("/api/v1/promotions/%d/publish", id), accounts.Marketer, ""); res.Status != 200 || res.json(t)["status"] != "published" {
		t.Fatalf("publish: %d %s", res.Status, res.Body)
	}
	res = a.api("POST", "/api/v1/promotions", accounts.Marketer, `{"name":"","kind":"bogus","value":"x","scope":"all","starts_at":"soon","ends_at":"later"}`)
	if res.Status != 422 || !strings.Contains(res.Body, `"field":"ends_at"`) || !strings.Contains(res.Body, `"field":"kind"`) {
		t.Fatalf("bad promotion: %d %s", res.Status, res.Body)
	}
	res = a.api("POST", "/api/v1/pages", accounts.Marketer, `{"slug":"api-page","title":"API","body":"<script>x</script>\n\n**hi**","product_skus":"W-1"}`)
	if res.Status != 201 {
		t.Fatalf("create page: %d %s", res.Status, res.Body)
	}
	pid := int(res.json(t)["id"].(float64))
	if res = a.api("POST", fmt.Sprintf("/api/v1/pages/%d/publish", pid), accounts.Marketer, ""); res.Status != 200 || res.json(t)["version"].(float64) != 1 {
		t.Fatalf("publish page: %d %s", res.Status, res.Body)
	}
	if r := a.get("/l/api-page"); r.Status != 200 || strings.Contains(r.Body, "<script>x") || !strings.Contains(r.Body, "<strong>hi</strong>") {
		t.Fatalf("public page after API publish: %d", r.Status)
	}
	if res = a.api("GET", "/api/v1/products?brand=Nordik&limit=1", accounts.Viewer, ""); res.json(t)["more"] != true || !strings.Contains(res.Body, `"sku":"W-1"`) {
		t.Fatalf("products: %s", res.Body)
	}
	if res = a.api("POST", fmt.Sprintf("/api/v1/pages/%d/unpublish", pid), accounts.Marketer, ""); res.Status != 204 {
		t.Fatalf("unpublish: %d %s", res.Status, res.Body)
	}
	if res = a.api("GET", "/api/v1/pages/999", accounts.Viewer, ""); res.Status != 404 {
		t.Fatalf("unknown page: %d", res.Status)
	}
}

func TestUILoadCheckStartRefuseAbort(t *testing.T) {
	a := newTestApp(t)
	p := a.seedPage(t)
	ctx := context.Background()
	in := campaigns.Input{Name: "Newsletter", Channels: []string{"email"}, StartsAt: time.Now().Add(24 * time.Hour).Format(time.RFC3339),
		EndsAt: time.Now().Add(48 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"email": 1},
		Forecast: map[string]map[string]float64{"email": {"audience": 100000, "open_rate": 0.3, "click_rate": 0.1}}}
	bare, _ := a.Campaigns.Create(ctx, in, "test")
	in.LandingPageID = &p.ID
	linked, _ := a.Campaigns.Create(ctx, in, "test")
	b := a.browser(accounts.Marketer)
	b.get(fmt.Sprintf("/campaigns/%d", bare.ID))
	res := b.post(fmt.Sprintf("/campaigns/%d/loadcheck", bare.ID), url.Values{})
	if page := b.get(res.Header.Get("Location")); !strings.Contains(page.Body, "Load check refused: the campaign has no landing page") {
		t.Fatalf("no landing page: %.300s", page.Body)
	}
	res = b.post(fmt.Sprintf("/campaigns/%d/loadcheck", linked.ID), url.Values{"rate": {"999999"}})
	if page := b.get(res.Header.Get("Location")); !strings.Contains(page.Body, "loadcheck.max_rate") {
		t.Fatal("a rate over the cap must be refused")
	}
	res = b.post(fmt.Sprintf("/campaigns/%d/loadcheck", linked.ID), url.Values{"rate": {"lots"}})
	if page := b.get(res.Header.Get("Location")); !strings.Contains(page.Body, "is not a positive number") {
		t.Fatal("a bad rate must be named")
	}
	res = b.post(fmt.Sprintf("/campaigns/%d/loadcheck", linked.ID), url.Values{})
	loc := res.Header.Get("Location")
	if !strings.HasPrefix(loc, "/loadchecks/") {
		t.Fatalf("start: %d %s", res.Status, loc)
	}
	page := b.get(loc)
	if !strings.Contains(page.Body, "queued") || !strings.Contains(page.Body, "http://127.0.0.1/l/soldes") {
		t.Fatalf("check page: %.500s", page.Body)
	}
	if r := b.post(loc+"/abort", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("abort: %d", r.Status)
	}
	v := a.browser(accounts.Viewer)
	v.get(loc)
	if r := v.post(loc+"/abort", url.Values{}); r.Status != http.StatusForbidden {
		t.Fatalf("viewer abort: %d", r.Status)
	}
}

func TestLoadCheckFormAndAPI(t *testing.T) {
	a := newTestApp(t)
	p := a.seedPage(t)
	ctx := context.Background()
	in := campaigns.Input{Name: "Soldes", Channels: []string{"seo"}, StartsAt: time.Now().Add(24 * time.Hour).Format(time.RFC3339),
		EndsAt: time.Now().Add(48 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"seo": 1},
		Forecast: map[string]map[string]float64{"seo": {"sessions_per_day": 50000}}, LandingPageID: &p.ID}
	camp, _ := a.Campaigns.Create(ctx, in, "test")
	b := a.browser(accounts.Marketer)
	b.get(fmt.Sprintf("/campaigns/%d", camp.ID))
	res := b.post(fmt.Sprintf("/campaigns/%d/loadcheck", camp.ID), url.Values{"extras": {"http://127.0.0.1/cart lots"}})
	if page := b.get(res.Header.Get("Location")); !strings.Contains(page.Body, "extra URLs line 1") {
		t.Fatal("a bad extra-URL line must be named")
	}
	res = b.post(fmt.Sprintf("/campaigns/%d/loadcheck", camp.ID), url.Values{"extras": {"https://evil.example/ 1"}})
	if page := b.get(res.Header.Get("Location")); !strings.Contains(page.Body, "evil.example is not in loadcheck.allowed_hosts") {
		t.Fatal("a disallowed extra URL must be refused")
	}
	res = b.post(fmt.Sprintf("/campaigns/%d/loadcheck", camp.ID), url.Values{"max_p99_ms": {"250"}, "max_error_pct": {"0.5"}, "extras": {"http://127.0.0.1/cart 0.2"}})
	chk, err := a.LoadChecksStore().Get(ctx, idFrom(res.Header.Get("Location")))
	if err != nil || chk.Thresholds.MaxP99Ms != 250 || chk.Thresholds.MaxErrorRatio != 0.005 || len(chk.Extras) != 1 || chk.Extras[0].Weight != 0.2 {
		t.Fatalf("check: %+v %v", chk, err)
	}

	r := a.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/loadchecks", camp.ID), accounts.Marketer, `{"rate": 50, "thresholds": {"max_error_ratio": 0.01, "max_p95_ms": 100, "max_p99_ms": 200}}`)
	if r.Status != 202 || r.json(t)["status"] != "queued" {
		t.Fatalf("API start: %d %s", r.Status, r.Body)
	}
	id := int(r.json(t)["id"].(float64))
	if r = a.api("GET", fmt.Sprintf("/api/v1/loadchecks/%d", id), accounts.Viewer, ""); r.json(t)["target_rate"].(float64) != 50 {
		t.Fatalf("API get: %s", r.Body)
	}
	if r = a.api("POST", fmt.Sprintf("/api/v1/loadchecks/%d/abort", id), accounts.Marketer, ""); r.Status != 202 {
		t.Fatalf("API abort: %d", r.Status)
	}
	if r = a.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/loadchecks", camp.ID), accounts.Marketer, `{"rate": 1e9}`); r.Status != 422 || !strings.Contains(r.Body, "max_rate") {
		t.Fatalf("API over the cap: %d %s", r.Status, r.Body)
	}
}

func idFrom(loc string) uint64 {
	var id uint64
	fmt.Sscanf(loc[strings.LastIndex(loc, "/")+1:], "%d", &id)
	return id
}
