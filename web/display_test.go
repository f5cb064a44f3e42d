package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image/color"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/display"
)

func (a *testApp) displayCampaign(t *testing.T) *campaigns.Campaign {
	t.Helper()
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Hour)
	c, err := a.Campaigns.Create(context.Background(), campaigns.Input{Name: "Bannières", Channels: []string{"display"}, TimeZone: "Europe/Paris",
		StartsAt: start.Format(time.RFC3339), EndsAt: start.Add(24 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"display": 100},
		Forecast: map[string]map[string]float64{"display": {"impressions": 1000, "ctr": 0.01}}}, "test@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// uploadCreative posts a creative as the page's form does.
func uploadCreative(t *testing.T, b *browser, path, filename string, data []byte, fields map[string]string) response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", b.csrf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", filename)
	fw.Write(data)
	w.Close()
	req, _ := http.NewRequest("POST", b.a.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if b.acceptLanguage != "" {
		req.Header.Set("Accept-Language", b.acceptLanguage)
	}
	return b.a.do(b.client, req)
}

var (
	sale  = color.RGBA{200, 0, 0, 255}
	plain = color.RGBA{255, 255, 255, 255}
)

// A creative is uploaded on the Display tab; wrong files are refused with
// a 422 naming the file, a 20 MB body with a 413 before it is read.
func TestCreativeUploadsAreChecked(t *testing.T) {
	a := newTestApp(t)
	c := a.displayCampaign(t)
	b := a.browser(accounts.Marketer)
	path := fmt.Sprintf("/campaigns/%d/display", c.ID)
	if res := b.get(path); res.Status != 200 || !strings.Contains(res.Body, "Upload a creative") {
		t.Fatalf("display tab: %d %s", res.Status, res.Body)
	}
	good := display.Banner(display.Size{W: 300, H: 250}, sale, plain, "-50 %")
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="300" height="250"><script>alert(1)</script></svg>`)
	for _, tc := range []struct {
		name, file string
		data       []byte
		alt, want  string
	}{
		{"wrong size", "a.png", display.Banner(display.Size{W: 300, H: 251}, sale, plain, "x"), "x", "300×251 px; accepted sizes are the IAB units"},
		{"PHP named .png", "shell.png", []byte("<?php echo shell_exec($_GET['c']); ?>"), "x", "not an image Rampe takes"},
		{"SVG with script", "banner.svg", svg, "x", "SVG is refused"},
		{"no alt", "a.png", good, "", "Alt text: required"},
	} {
		res := uploadCreative(t, b, path+"/creatives", tc.file, tc.data, map[string]string{"alt": tc.alt})
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.want) {
			t.Errorf("%s: %d, want 422 with %q in:\n%.400s", tc.name, res.Status, tc.want, res.Body)
		}
	}
	// 20 MB: refused on its Content-Length, before the body is read.
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s/creatives HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n%s",
		path, b.cookieHeader(), 20<<20, bytes.Repeat([]byte("x"), 64<<10))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	big, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(big.Body)
	if big.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(msg, []byte("request body too large (the limit is 2 MiB)")) {
		t.Errorf("20 MB upload: %d %s", big.StatusCode, msg)
	}
	if crs, _ := a.Display.Creatives(context.Background(), &c.ID); len(crs) != 0 {
		t.Fatalf("refused uploads stored %d creatives", len(crs))
	}
	res := uploadCreative(t, b, path+"/creatives", "sale.png", good, map[string]string{"alt": "Soldes", "rotation_weight": "3"})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("good upload: %d %s", res.Status, res.Body)
	}
	page := b.get(path)
	if !strings.Contains(page.Body, `width="300" height="250" alt="Soldes"`) || !strings.Contains(page.Body, "weight 3") {
		t.Errorf("the tab does not show the creative at its size:\n%s", page.Body)
	}
	// A viewer sees the tab but may not upload.
	v := a.browser(accounts.Viewer)
	v.get(path)
	if res := uploadCreative(t, v, path+"/creatives", "sale.png", good, map[string]string{"alt": "x"}); res.Status != http.StatusForbidden {
		t.Errorf("viewer upload: %d", res.Status)
	}
}

// The placement's tag serves the house creative, the campaign's while it
// is live, the house one again once halted; headers make it short-lived
// and private; unknown placements are 404; the images are served.
func TestAdTagFollowsTheCampaign(t *testing.T) {
	a := newTestApp(t)
	c := a.displayCampaign(t)
	b := a.browser(accounts.Marketer)
	res := b.post("/placements", url.Values{"key": {"home-top"}, "name": {"Home, top"}, "site": {"shop.example"}, "size": {"728x90"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("placement: %d %s", res.Status, res.Body)
	}
	if res := b.post("/placements", url.Values{"key": {"Home top"}, "name": {"x"}, "size": {"728x90"}}); res.Status != 422 || !strings.Contains(res.Body, "Key: ") {
		t.Errorf("bad key: %d", res.Status)
	}
	b.get("/placements")
	res = uploadCreative(t, b, "/placements/house", "house.png", display.Banner(display.Size{W: 728, H: 90}, plain, sale, "house"),
		map[string]string{"alt": "Our shop", "click_url": "https://shop.example/"})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("house: %d %s", res.Status, res.Body)
	}
	ps, _ := a.Display.Placements(context.Background())
	path := fmt.Sprintf("/campaigns/%d/display", c.ID)
	b.get(path)
	if res := b.post(path, url.Values{"placement": {fmt.Sprint(ps[0].ID)}, "freq_cap": {"0"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("targets: %d %s", res.Status, res.Body)
	}
	uploadCreative(t, b, path+"/creatives", "sale.png", display.Banner(display.Size{W: 728, H: 90}, sale, plain, "sale"), map[string]string{"alt": "Soldes"})
	get := func(p, ua string) response {
		req, _ := http.NewRequest("GET", a.URL+p, nil)
		req.Header.Set("User-Agent", ua)
		return a.do(http.DefaultClient, req)
	}
	const chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
	house, _ := a.Display.Creatives(context.Background(), nil)
	camp, _ := a.Display.Creatives(context.Background(), &c.ID)
	js := get("/d/home-top.js?cb=1", chrome)
	if js.Status != 200 || js.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || js.Header.Get("Cache-Control") != "private, max-age=1" ||
		!strings.Contains(js.Body, house[0].File()) || !strings.Contains(js.Body, "https://shop.example/") {
		t.Fatalf("house tag: %d %v %s", js.Status, js.Header, js.Body)
	}
	ch := display.Channel{Service: a.Display}
	ch.Launch(context.Background(), c)
	for _, form := range []string{".js", ".html"} {
		r := get("/d/home-top"+form, chrome)
		if !strings.Contains(r.Body, camp[0].File()) || !strings.Contains(r.Body, "/r/") {
			t.Errorf("live %s: %s", form, r.Body)
		}
	}
	frame := get("/d/home-top.html", chrome)
	if frame.Header.Get("Content-Security-Policy") == "" || frame.Header.Get("X-Frame-Options") != "" {
		t.Errorf("the iframe variant must be frameable with a strict policy: %v", frame.Header)
	}
	// The click goes through the redirector to the landing page with UTM.
	tok := strings.Split(strings.Split(get("/d/home-top.html", chrome).Body, "/r/")[1], `"`)[0]
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", a.URL+"/r/"+tok, nil)
	if r := a.do(noFollow, req); r.Status != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "http://127.0.0.1/l/soldes?utm_") {
		t.Errorf("click: %d %s", r.Status, r.Header.Get("Location"))
	}
	img := get("/d/i/"+camp[0].File(), chrome)
	if img.Status != 200 || img.Header.Get("Content-Type") != "image/png" || !strings.Contains(img.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("image: %d %v", img.Status, img.Header)
	}
	ch.Halt(context.Background(), c, "paused")
	if r := get("/d/home-top.js", chrome); !strings.Contains(r.Body, house[0].File()) {
		t.Errorf("halted: %s", r.Body)
	}
	for _, p := range []string{"/d/nope.js", "/d/nope.html", "/d/i/" + strings.Repeat("0", 32) + ".png", "/d/a%2Fb.js", "/d/home-top.css", "/d/HOME.js"} {
		if r := get(p, chrome); r.Status != 404 {
			t.Errorf("%s: %d", p, r.Status)
		}
	}
	// HEAD is not an impression; the rest are written when Run stops.
	req, _ = http.NewRequest("HEAD", a.URL+"/d/home-top.js", nil)
	a.do(http.DefaultClient, req)
	if err := a.Display.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.Display.TotalImpressions(context.Background()); n != 6 {
		t.Errorf("impressions written: %d, want 6", n)
	}
	api := a.api("GET", fmt.Sprintf("/api/v1/campaigns/%d/display", c.ID), accounts.Viewer, "")
	if api.Status != 200 || !strings.Contains(api.Body, `"impressions":4`) || !strings.Contains(api.Body, `"live":false`) {
		t.Errorf("API: %d %s", api.Status, api.Body)
	}
	if r := a.api("POST", "/api/v1/placements", accounts.Marketer, `{"key":"side","name":"Side","size":"301x250"}`); r.Status != 422 || !strings.Contains(r.Body, `"field":"size"`) {
		t.Errorf("API placement: %d %s", r.Status, r.Body)
	}
}

// A WebP (made once with Debian's cwebp, channels/display/testdata) of an
// IAB size is accepted, its type and size read from the file, and served
// under /d/i/ as image/webp with its bytes.
func TestWebPCreativeIsAcceptedAndServed(t *testing.T) {
	webp, err := os.ReadFile("../channels/display/testdata/creative-300x250.webp")
	if err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t)
	c := a.displayCampaign(t)
	b := a.browser(accounts.Marketer)
	path := fmt.Sprintf("/campaigns/%d/display", c.ID)
	b.get(path)
	// Named .png: the type is read from the content, not the name.
	if res := uploadCreative(t, b, path+"/creatives", "banner.png", webp, map[string]string{"alt": "Soldes WebP"}); res.Status != http.StatusSeeOther {
		t.Fatalf("WebP upload: %d %.600s", res.Status, res.Body)
	}
	crs, _ := a.Display.Creatives(context.Background(), &c.ID)
	if len(crs) != 1 || crs[0].MIME != "image/webp" || crs[0].Width != 300 || crs[0].Height != 250 || crs[0].Size != len(webp) || !strings.HasSuffix(crs[0].File(), ".webp") {
		t.Fatalf("%+v", crs)
	}
	if page := b.get(path).Body; !strings.Contains(page, `width="300" height="250" alt="Soldes WebP"`) {
		t.Errorf("the tab does not show the WebP at its size")
	}
	res, err := http.Get(a.URL + "/d/i/" + crs[0].File())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/webp" || !bytes.Equal(body, webp) || res.ContentLength != int64(len(webp)) {
		t.Fatalf("served %d %q, %d bytes (length %d), want %d", res.StatusCode, res.Header.Get("Content-Type"), len(body), res.ContentLength, len(webp))
	}
}
