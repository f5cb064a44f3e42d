package web

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
)

func TestFeedUIGenerateReportAndServe(t *testing.T) {
	a := newTestApp(t)
	a.seedPage(t) // two products, no image: both fail the Google image rule
	ctx := context.Background()
	b := a.browser(accounts.Marketer)
	b.get("/feeds/new")
	res := b.post("/feeds", url.Values{"name": {"Bad Name"}, "format": {"generic"}, "title_template": {"{nope}"}, "cron": {"soon"}})
	if res.Status != 422 {
		t.Fatalf("bad feed: %d", res.Status)
	}
	for _, want := range []string{"lower-case letters", "at least one column", "unknown field {nope}", "not a cron expression"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("feed form lacks %q", want)
		}
	}
	res = b.post("/feeds", url.Values{"name": {"idealo-fr"}, "format": {"idealo_csv"}, "availability": {"in_stock", "out_of_stock"}, "title_template": {"{title}"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	loc := res.Header.Get("Location")
	b.get(loc)
	a.startFeedWorker(t) // the button queues the generation for a worker
	if r := b.post(loc+"/generate", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("generate: %d", r.Status)
	}
	// A worker runs it (and the one the creation queued): the page shows
	// the finished run once both are through.
	var page response
	for i := 0; i < 200; i++ {
		if page = b.get(loc); strings.Contains(page.Body, "identifiers.missing") && strings.Contains(page.Body, "2 written") && !strings.Contains(page.Body, "imp-running") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(page.Body, "identifiers.missing") || !strings.Contains(page.Body, "2 written") {
		t.Fatalf("feed page: %.1500s", page.Body)
	}
	list, _ := a.Feeds.List(ctx)
	f := &list[0]
	if f.LastRunID == nil {
		t.Fatal("the feed was not generated")
	}
	if rep := b.get(loc + "/report.csv"); !strings.Contains(rep.Body, "W-1,warning,identifiers.missing") {
		t.Fatalf("report: %s", rep.Body)
	}
	if p := b.get("/products/W-1"); !strings.Contains(p.Body, "idealo-fr") || !strings.Contains(p.Body, "identifiers.missing") {
		t.Fatalf("product page lacks the feed problem")
	}

	public := fmt.Sprintf("/feeds/%s/%s", f.Token, f.FileName())
	plain := a.get(public)
	if plain.Status != 200 || plain.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(plain.Body, "sku;title;") ||
		plain.Header.Get("ETag") == "" || plain.Header.Get("Last-Modified") == "" {
		t.Fatalf("public feed: %d %v %.100s", plain.Status, plain.Header, plain.Body)
	}
	gz := a.get(public, "Accept-Encoding", "gzip")
	zr, err := gzip.NewReader(strings.NewReader(gz.Body))
	if err != nil || gz.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %v", err)
	}
	if unz, _ := io.ReadAll(zr); string(unz) != plain.Body {
		t.Fatal("gzip body differs")
	}
	if r := a.get(public, "If-None-Match", plain.Header.Get("ETag")); r.Status != 304 {
		t.Fatalf("If-None-Match: %d", r.Status)
	}
	if r := a.get(public, "If-Modified-Since", plain.Header.Get("Last-Modified")); r.Status != 304 {
		t.Fatalf("If-Modified-Since: %d", r.Status)
	}
	if r := a.request("HEAD", public); r.Status != 200 || r.Body != "" || r.Header.Get("Content-Length") != fmt.Sprint(len(plain.Body)) {
		t.Fatalf("HEAD: %d %q %v", r.Status, r.Body, r.Header)
	}
	for _, bad := range []string{"/feeds/" + strings.Repeat("A", 24) + "/" + f.FileName(), "/feeds/" + f.Token + "/other.csv", "/feeds/" + f.Token + "/..%2F..%2Fetc%2Fpasswd"} {
		if r := a.get(bad); r.Status != 404 || strings.Contains(r.Body, "idealo") {
			t.Errorf("%s: %d %q", bad, r.Status, r.Body)
		}
	}
	// Nobody signed in: a token of any other shape is a plain 404 too, not
	// the sign-in page; a feed's id keeps its signed-in pages.
	anon := a.browser("")
	for _, bad := range []string{"/feeds/short/" + f.FileName(), "/feeds/" + strings.Repeat("A", 1000) + "/" + f.FileName(), "/feeds/%00/x.xml",
		"/feeds/" + f.Token + "x/" + f.FileName()} {
		if r := anon.get(bad); r.Status != 404 || strings.Contains(r.Body, "idealo") {
			t.Errorf("anonymous %s: %d %q", bad[:min(len(bad), 60)], r.Status, r.Body)
		}
	}
	if r := anon.get(fmt.Sprintf("/feeds/%d/report.csv", f.ID)); r.Status != http.StatusFound || !strings.Contains(r.Header.Get("Location"), "/login") {
		t.Errorf("anonymous report: %d %v, want the sign-in page", r.Status, r.Header.Get("Location"))
	}
	if r := b.get(fmt.Sprintf("/feeds/%d/report.csv", f.ID)); r.Status != 200 {
		t.Errorf("signed-in report: %d", r.Status)
	}
	b.post(loc+"/rotate", url.Values{})
	if r := a.get(public); r.Status != 404 {
		t.Fatalf("old token after rotation: %d", r.Status)
	}
	// The problems' severity and why each generation ran are words of the
	// reader's language (once no generation runs: the one asked for on
	// creation and the one asked for by the button may be one, and either
	// reason shows).
	b.acceptLanguage = "fr-FR,fr;q=0.9"
	var fr string
	for i := 0; i < 200; i++ {
		if fr = b.get(loc).Body; strings.Contains(fr, "identifiers.missing") && !strings.Contains(fr, "imp-running") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(fr, `o-warn">avertissement</span>`) || !strings.Contains(page.Body, `o-warn">warning</span>`) {
		t.Errorf("the problems' severity is not written in the reader's language")
	}
	if !strings.Contains(fr, "(par ") && !strings.Contains(fr, "(création)") || strings.Contains(fr, "(by ") || strings.Contains(fr, ">created<") {
		t.Errorf("the generations' reasons are not written in the reader's language")
	}
}

func TestAPIFeeds(t *testing.T) {
	a := newTestApp(t)
	a.seedPage(t)
	res := a.api("POST", "/api/v1/feeds", accounts.Marketer, `{"name":"api-feed","format":"google_tsv","title_template":"{brand} {title}","cron":"bad"}`)
	if res.Status != 422 || !strings.Contains(res.Body, `"field":"cron"`) {
		t.Fatalf("bad feed: %d %s", res.Status, res.Body)
	}
	res = a.api("POST", "/api/v1/feeds", accounts.Marketer, `{"name":"api-feed","format":"google_tsv","title_template":"{brand} {title}"}`)
	if res.Status != 201 || !strings.Contains(res.Body, "/feeds/") {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	id := int(res.json(t)["feed"].(map[string]any)["id"].(float64))
	res = a.api("POST", fmt.Sprintf("/api/v1/feeds/%d/generate", id), accounts.Marketer, "")
	if res.Status != 202 || res.json(t)["status_url"] != fmt.Sprintf("/api/v1/feeds/%d", id) {
		t.Fatalf("generate: %d %s", res.Status, res.Body)
	}
	// A worker runs the generation; the feed shows its run once done.
	a.startFeedWorker(t)
	for i := 0; i < 200; i++ {
		if res = a.api("GET", fmt.Sprintf("/api/v1/feeds/%d", id), accounts.Viewer, ""); strings.Contains(res.Body, `"rule":"required.image_link"`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(res.Body, `"rule":"required.image_link"`) {
		t.Fatalf("get after the worker ran the generation: %s", res.Body)
	}
	if res = a.api("POST", "/api/v1/feeds/9999/generate", accounts.Marketer, ""); res.Status != 404 {
		t.Fatalf("generate an unknown feed: %d %s", res.Status, res.Body)
	}
	if res = a.api("POST", fmt.Sprintf("/api/v1/feeds/%d/generate", id), accounts.Viewer, ""); res.Status != 403 {
		t.Fatalf("viewer generate: %d", res.Status)
	}
	if res = a.api("GET", "/api/v1/feeds/9999", accounts.Viewer, ""); res.Status != 404 {
		t.Fatalf("unknown: %d", res.Status)
	}
}

func TestFeedFormPicksBrandsFromTheCatalog(t *testing.T) {
	a := newTestApp(t)
	a.seedPage(t) // brand Nordik
	b := a.browser(accounts.Marketer)
	if form := b.get("/feeds/new"); !strings.Contains(form.Body, `<select name="brands" multiple`) || !strings.Contains(form.Body, "<option >Nordik</option>") {
		t.Fatalf("brands not offered from the catalog: %.3000s", form.Body)
	}
	res := b.post("/feeds", url.Values{"name": {"by-brand"}, "format": {"google_xml"}, "availability": {"in_stock"}, "title_template": {"{title}"},
		"brands": {"Nordik", "Lumen"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	list, _ := a.Feeds.List(context.Background())
	if len(list) != 1 || list[0].Brands != "Nordik\nLumen" {
		t.Fatalf("brands stored: %+v", list)
	}
	if page := b.get(res.Header.Get("Location")); !strings.Contains(page.Body, "<option selected>Nordik</option>") || !strings.Contains(page.Body, "<option selected>Lumen</option>") {
		t.Fatalf("chosen brands, one missing from the catalog, come back chosen: %.4000s", page.Body)
	}
}

// A generation asked for waits for a worker: the page says so and polls
// until the run appears, then follows the run.
func TestFeedPageWaitsForTheQueuedGeneration(t *testing.T) {
	a := newTestApp(t)
	a.seedPage(t)
	b := a.browser(accounts.Marketer)
	b.get("/feeds/new")
	res := b.post("/feeds", url.Values{"name": {"queued-feed"}, "format": {"idealo_csv"}, "availability": {"in_stock", "out_of_stock"}, "title_template": {"{title}"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %.500s", res.Status, res.Body)
	}
	loc := res.Header.Get("Location")
	b.get(loc)
	res = b.post(loc+"/generate", url.Values{})
	next := res.Header.Get("Location")
	if res.Status != http.StatusSeeOther || !strings.Contains(next, "?queued=") {
		t.Fatalf("generate: %d, to %q", res.Status, next)
	}
	page := b.get(next)
	if !strings.Contains(page.Body, "imp-queued") || !strings.Contains(page.Body, "fragment=1&amp;queued=") {
		t.Fatalf("no worker yet: the page does not wait for the run: %.2000s", page.Body)
	}
	a.startFeedWorker(t)
	frag := ""
	for i := 0; i < 200; i++ {
		if frag = b.get(next + "&fragment=1").Body; strings.Contains(frag, "imp-done") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(frag, "imp-done") {
		t.Fatalf("the fragment never showed the finished run: %s", frag)
	}
}
