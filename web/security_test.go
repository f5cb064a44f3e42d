package web

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/feeds"
)

func TestSafeNextKeepsRedirectsOnThisSite(t *testing.T) {
	for _, tc := range []struct{ next, want string }{
		{"/campaigns/3", "/campaigns/3"},
		{"/products?q=robe&brand=Ac%C3%A9", "/products?q=robe&brand=Ac%C3%A9"},
		{"/products/Été", "/products/%C3%89t%C3%A9"},
		{"", "/campaigns"},
		{"campaigns", "/campaigns"},
		{"//evil.example/", "/campaigns"},
		{"/\t/evil.example/", "/campaigns"},
		{"/\n/evil.example/", "/campaigns"},
		{"/\r\nSet-Cookie: rampe_session=attacker", "/campaigns"},
		{"/\\evil.example", "/campaigns"},
		{"\\/evil.example", "/campaigns"},
		{"/ /evil.example", "/campaigns"},
		{"/\x00x", "/campaigns"},
		{"/\x7fx", "/campaigns"},
		{"https://evil.example/", "/campaigns"},
		{"http:/evil.example", "/campaigns"},
		{"javascript:alert(1)", "/campaigns"},
		{"/" + strings.Repeat("a", 3000), "/campaigns"},
	} {
		if got := safeNext(tc.next); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.next, got, tc.want)
		}
	}
}

// The sign-in answer's Location comes from the form's next field: a CR LF
// in it must not add a header, a tab must not lead off-site.
func TestSignInRedirectCannotInjectHeadersOrLeaveTheSite(t *testing.T) {
	a := newTestApp(t)
	for _, next := range []string{"/\r\nSet-Cookie: rampe_session=attacker", "/\t/evil.example/", "/%0d%0aX-Evil:%201"} {
		b := a.browser("")
		res := b.post("/login", url.Values{"email": {"admin@shop.example"}, "password": {testPassword}, "next": {next}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("next=%q: sign-in answered %d", next, res.Status)
		}
		loc := res.Header.Get("Location")
		if loc != "/campaigns" && !strings.HasPrefix(loc, "/%") {
			t.Errorf("next=%q: Location %q", next, loc)
		}
		if strings.ContainsAny(loc, "\r\n\t") || res.Header.Get("X-Evil") != "" {
			t.Errorf("next=%q: header injected: %v", next, res.Header)
		}
		for _, c := range res.Header.Values("Set-Cookie") {
			if strings.Contains(c, "attacker") {
				t.Errorf("next=%q: cookie injected: %s", next, c)
			}
		}
	}
	// The query string form of the sign-in page carries next into the form.
	b := a.browser("")
	res := b.get("/login?next=" + url.QueryEscape("/\t/evil.example/"))
	if strings.Contains(res.Body, "evil.example") {
		t.Errorf("the sign-in form kept an off-site next: %s", res.Body)
	}
}

// rawExchange sends head, then body chunks (at most limit bytes) until the
// server answers or stops reading; it returns the response, what was
// written of the body and whether the server then closed the connection.
func rawExchange(t *testing.T, a *testApp, head string, chunk []byte, chunked bool, limit int64) (res *http.Response, written int64, closed bool) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	answered := make(chan struct{})
	var body []byte
	go func() {
		defer close(answered)
		br := bufio.NewReader(conn)
		r, err := http.ReadResponse(br, nil)
		if err != nil {
			return
		}
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		res = r
		// After the answer, a closed connection reads EOF at once.
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err = br.ReadByte()
		closed = errors.Is(err, io.EOF) || isReset(err)
	}()
	for written < limit {
		select {
		case <-answered:
			return res, written, closed
		default:
		}
		b := chunk
		if chunked {
			b = []byte(fmt.Sprintf("%x\r\n%s\r\n", len(chunk), chunk))
		}
		if _, err := conn.Write(b); err != nil {
			break
		}
		written += int64(len(chunk))
	}
	<-answered
	return res, written, closed
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// cookieHeader is the Cookie header of a signed-in browser.
func (b *browser) cookieHeader() string {
	u, _ := url.Parse(b.a.URL)
	var parts []string
	for _, c := range b.client.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// An upload is refused before its body is read when the sender may not
// upload: nothing of a 600 MB body reaches a temporary file, and the
// connection is closed rather than read to its end.
func TestUploadsAreRefusedBeforeTheirBodyIsRead(t *testing.T) {
	a := newTestApp(t)
	marketer := a.browser(accounts.Marketer)
	marketer.get("/products/import")
	viewer := a.browser(accounts.Viewer)
	viewer.get("/products")
	tmp, err := os.MkdirTemp("", "rampe-upload-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	t.Setenv("TMPDIR", tmp)

	const boundary = "XyZ"
	filePart := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n"
	csrfPart := func(tok string) string {
		return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n" + tok + "\r\n"
	}
	chunk := bytes.Repeat([]byte("sku,title,price\n"), 4096) // 64 KiB
	const claimed = 600 << 20
	const limit = 256 << 20 // what the test writes at most
	head := func(cookies, extra string, length int64, first string) string {
		h := "POST /products/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=" + boundary + "\r\n"
		if cookies != "" {
			h += "Cookie: " + cookies + "\r\n"
		}
		if length >= 0 {
			h += fmt.Sprintf("Content-Length: %d\r\n", length)
		} else {
			h += "Transfer-Encoding: chunked\r\n"
		}
		h += extra + "\r\n"
		if length < 0 {
			return h + fmt.Sprintf("%x\r\n%s\r\n", len(first), first)
		}
		return h + first
	}
	for _, tc := range []struct {
		name    string
		head    string
		chunked bool
		status  int
	}{
		{"anonymous, 600 MB", head("", "", claimed, filePart), false, http.StatusForbidden},
		{"anonymous with a CSRF cookie of its own", head("rampe_csrf=abc", "", claimed, csrfPart("forged")+filePart), false, http.StatusForbidden},
		{"anonymous, chunked", head("", "", -1, filePart), true, http.StatusForbidden},
		{"viewer", head(viewer.cookieHeader(), "X-CSRF-Token: "+viewer.csrf+"\r\n", claimed, filePart), false, http.StatusForbidden},
		{"marketer without the token first", head(marketer.cookieHeader(), "", claimed, filePart), false, http.StatusForbidden},
		{"marketer, forged header", head(marketer.cookieHeader(), "X-CSRF-Token: forged\r\n", claimed, filePart), false, http.StatusForbidden},
		{"marketer, 1.1 GB declared", head(marketer.cookieHeader(), "", 1100<<20, csrfPart(marketer.csrf)+filePart), false, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, written, closed := rawExchange(t, a, tc.head, chunk, tc.chunked, limit)
			if res == nil {
				t.Fatalf("no answer after %d MiB", written>>20)
			}
			if res.StatusCode != tc.status && !(tc.status == http.StatusForbidden && res.StatusCode == http.StatusFound) {
				t.Errorf("status %d, want %d", res.StatusCode, tc.status)
			}
			if written > 32<<20 {
				t.Errorf("the server read %d MiB before answering", written>>20)
			}
			if !closed {
				t.Errorf("the connection stayed open with the body unread")
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("temporary files written: %v", left)
			}
		})
	}
}

// A marketer's upload is capped as it is read, whatever its headers said.
func TestUploadOverTheLimitIsRefusedAsItIsRead(t *testing.T) {
	a := newTestApp(t)
	defer func(n int64) { maxUploadFile = n }(maxUploadFile)
	maxUploadFile = 1 << 20
	b := a.browser(accounts.Marketer)
	b.get("/products/import")
	const boundary = "XyZ"
	first := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n" + b.csrf + "\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\nsku,title,price\n"
	head := "POST /products/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=" + boundary +
		"\r\nCookie: " + b.cookieHeader() + "\r\nTransfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n", len(first), first)
	res, written, _ := rawExchange(t, a, head, bytes.Repeat([]byte("A-1,Chaise,10\n"), 4096), true, 64<<20)
	if res == nil || res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("answer %v after %d MiB", res, written>>20)
	}
	if body, _ := io.ReadAll(res.Body); !strings.Contains(string(body), "1 MiB") {
		t.Errorf("the refusal does not say the limit: %s", body)
	}
	if imports, _ := a.Catalog.Imports(context.Background(), 10); len(imports) != 0 {
		t.Errorf("an import started: %+v", imports)
	}
	// The page's own form still works: token first, then the file.
	if r := uploadCatalog(t, b, "ok.csv", "sku,title,price\nA-1,Chaise,10\n", false); r.Status != http.StatusSeeOther {
		t.Fatalf("a small upload: %d %s", r.Status, r.Body)
	}
}

// A request answered before its body was read must not leave that body to
// be read as the next request on the connection.
func TestEarlyAnswerClosesTheConnection(t *testing.T) {
	a := newTestApp(t)
	smuggled := "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
	// fasthttp reads the first 8 KiB of a body before any handler runs.
	head := fmt.Sprintf("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", 3<<20) +
		strings.Repeat("a", 8<<10) + smuggled
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, head)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", res.StatusCode)
	}
	if next, err := http.ReadResponse(br, nil); err == nil {
		t.Fatalf("the unread body was served as a request: %d", next.StatusCode)
	}
}

// Odd methods must not break /metrics: labels are copies, not views of a
// reused buffer, and unknown methods count as OTHER.
func TestMetricsSurviveOddMethodsAndAreFenced(t *testing.T) {
	a := newTestApp(t)
	addr := strings.TrimPrefix(a.URL, "http://")
	// One keep-alive connection: fasthttp reuses its request buffer, where
	// a label that was not copied would change under the next request.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for _, m := range []string{"POST", "DELETE", "GET", "PUT", "PATCH", "OPTIONS", "POSX", "GETT", "PO", "QWERTYUIOP", "HEAD", "GET", "POST"} {
		for _, path := range []string{"/healthz", "/campaigns", "/nope", "/l/x"} {
			fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", m, path)
			res, err := http.ReadResponse(br, &http.Request{Method: m})
			if err != nil {
				conn.Close()
				if conn, err = net.Dial("tcp", addr); err != nil {
					t.Fatal(err)
				}
				br = bufio.NewReader(conn)
				continue
			}
			io.Copy(io.Discard, res.Body)
		}
	}
	conn.Close()
	res := a.get("/metrics")
	if res.Status != 200 {
		t.Fatalf("/metrics after odd methods: %d %.300s", res.Status, res.Body)
	}
	lines := grepLines(res.Body, "rampe_http_requests_total{")
	for _, l := range strings.Split(lines, "\n") {
		m := l[strings.Index(l, `method="`)+8:]
		m = m[:strings.IndexByte(m, '"')]
		if methodLabel(m) != m {
			t.Errorf("odd method label %q in %s", m, l)
		}
	}
	if !strings.Contains(lines, `method="DELETE",route="/healthz"`) && !strings.Contains(lines, `method="DELETE"`) {
		t.Errorf("DELETE not counted: %s", lines)
	}

	// With a token, /metrics demands it.
	b := newTestApp(t, func(d *Deps) { d.MetricsToken = "a-long-metrics-token" })
	if r := b.get("/metrics"); r.Status != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.Status)
	}
	if r := b.get("/metrics", "Authorization", "Bearer wrong"); r.Status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", r.Status)
	}
	if r := b.get("/metrics", "Authorization", "Bearer a-long-metrics-token"); r.Status != 200 {
		t.Errorf("right token: %d", r.Status)
	}
	// Without a token, only this machine, and not through a proxy.
	if r := a.get("/metrics", "X-Forwarded-For", "203.0.113.9"); r.Status != http.StatusForbidden {
		t.Errorf("relayed by a proxy: %d", r.Status)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = "203.0.113.9:4000"
	MetricsHandler("", false).ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "metrics.token") {
		t.Errorf("remote client: %d %s", rec.Code, rec.Body.String())
	}
	// metrics.addr serves them elsewhere: the web address has none.
	c := newTestApp(t, func(d *Deps) { d.MetricsElsewhere = true })
	if r := c.get("/metrics"); r.Status != http.StatusNotFound {
		t.Errorf("metrics.addr set: /metrics on the web address answered %d", r.Status)
	}
}

func grepLines(body, word string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// /readyz answers fixed words: an error text names hosts and users.
func TestReadyzSaysFixedWords(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond})
	defer dead.Close()
	a := newTestApp(t, func(d *Deps) { d.Redis = redisPinger{dead} })
	res := a.get("/readyz")
	if res.Status != http.StatusServiceUnavailable || res.Body != `{"database":"ok","redis":"unreachable"}` {
		t.Fatalf("readyz: %d %s", res.Status, res.Body)
	}
}

type redisPinger struct{ c *redis.Client }

func (p redisPinger) Ping(ctx context.Context) error { return p.c.Ping(ctx).Err() }

// With an https base URL every cookie is Secure and browsers are told to
// use https only; public and preview pages get their own policies.
func TestSecureCookiesHSTSAndPageHeaders(t *testing.T) {
	a := newTestApp(t, func(d *Deps) {
		d.Secure, d.BaseURL = true, "https://shop.example"
		d.FrameAncestors = []string{"https://www.shop.example"}
	})
	p := a.seedPage(t)
	b := a.browser(accounts.Marketer)
	login := b.get("/login")
	checkSecure := func(what string, res response) {
		t.Helper()
		for _, c := range res.Header.Values("Set-Cookie") {
			if !strings.Contains(c, "; secure") || !strings.Contains(strings.ToLower(c), "httponly") {
				t.Errorf("%s: cookie without Secure or HttpOnly: %s", what, c)
			}
		}
		if res.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("%s: no HSTS", what)
		}
	}
	checkSecure("sign-in page", login)
	fresh := a.get("/login") // no cookie yet: the CSRF cookie is set
	if !strings.Contains(strings.Join(fresh.Header.Values("Set-Cookie"), " "), "rampe_csrf=") {
		t.Errorf("no CSRF cookie for a new browser: %v", fresh.Header)
	}
	checkSecure("fresh sign-in page", fresh)
	checkSecure("logout", b.post("/logout", url.Values{}))

	for path, want := range map[string]string{
		"/l/soldes":  "frame-ancestors https://www.shop.example",
		"/l/missing": "frame-ancestors https://www.shop.example",
	} {
		res := a.get(path)
		if !strings.Contains(res.Header.Get("Content-Security-Policy"), want) || res.Header.Get("Referrer-Policy") == "" ||
			res.Header.Get("Strict-Transport-Security") == "" || strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src *") {
			t.Errorf("%s: %v", path, res.Header)
		}
	}
	m := a.browser(accounts.Marketer)
	prev := m.get(fmt.Sprintf("/pages/%d/preview", p.ID))
	if prev.Status != 200 || !strings.Contains(prev.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'") || prev.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("preview: %d %v", prev.Status, prev.Header)
	}
	frag := m.get("/imports/1?fragment=1")
	if !strings.Contains(frag.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || frag.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("fragment: %d %v", frag.Status, frag.Header)
	}
}

// Ids above what the databases store answer 400 or 404, never 500.
func TestHugeIdsAreNotFoundNotErrors(t *testing.T) {
	a := newTestApp(t)
	b := a.browser(accounts.Marketer)
	for _, path := range []string{"/api/v1/campaigns/9223372036854775808", "/api/v1/campaigns/18446744073709551616",
		"/api/v1/products?after=18446744073709551615", "/api/v1/promotions/9223372036854775808", "/api/v1/pages/99999999999999999999"} {
		if r := a.api("GET", path, accounts.Viewer, ""); r.Status != 400 && r.Status != 404 {
			t.Errorf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	for _, path := range []string{"/products?after=18446744073709551615", "/campaigns/9223372036854775808", "/pages/new?campaign=9223372036854775808"} {
		if r := b.get(path); r.Status != 400 && r.Status != 404 && r.Status != 200 {
			t.Errorf("%s: %d", path, r.Status)
		}
	}
}

// Wrong passwords lock the account after a few tries, in words, without
// comparing any more passwords; an admin sees the lock and lifts it.
func TestSignInThrottlingAndAdminLift(t *testing.T) {
	a := newTestApp(t)
	b := a.browser("")
	wrong := url.Values{"email": {"marketer@shop.example"}, "password": {"not-the-password"}}
	for i := 1; i <= accounts.AccountFreeFailures; i++ {
		if r := b.post("/login", wrong); r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "Wrong e-mail or password") {
			t.Fatalf("failure %d: %d", i, r.Status)
		}
	}
	r := b.post("/login", wrong)
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "Too many failed sign-ins from this e-mail address") {
		t.Fatalf("the failure that locks: %d %.2000s", r.Status, r.Body)
	}
	// Locked: even the right password is refused, with the wait.
	right := url.Values{"email": {"marketer@shop.example"}, "password": {testPassword}}
	r = b.post("/login", right)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !regexp.MustCompile(`try again in (1 minute|[1-5]?[0-9] seconds)`).MatchString(r.Body) {
		t.Fatalf("locked account, right password: %d %v %.1500s", r.Status, r.Header, r.Body)
	}
	// Another account from the same address is not locked.
	viewer := a.browser(accounts.Viewer)
	// The admin sees the lock and lifts it; the marketer signs in again.
	admin := a.browser(accounts.Admin)
	page := admin.get("/users")
	if !strings.Contains(page.Body, "marketer@shop.example") || !strings.Contains(page.Body, "Lift the lock") {
		t.Fatalf("users page lacks the lock: %.3000s", page.Body)
	}
	viewer.get("/campaigns")
	if r := viewer.post("/users/signin-locks/lift", url.Values{"subject": {"email:marketer@shop.example"}}); r.Status != http.StatusForbidden {
		t.Errorf("a viewer lifted a lock: %d", r.Status)
	}
	if r := admin.post("/users/signin-locks/lift", url.Values{"subject": {"email:marketer@shop.example"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("lift: %d %.500s", r.Status, r.Body)
	}
	if r := b.post("/login", right); r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in after the lift: %d", r.Status)
	}
}

// Reports and downloads that people open in a spreadsheet carry no live
// formula; comparators get the feed as generated.
func TestCSVForPeopleCarryNoFormula(t *testing.T) {
	a := newTestApp(t)
	a.startImportWorker(t)
	ctx := context.Background()
	b := a.browser(accounts.Marketer)
	b.get("/products/import")
	res := uploadCatalog(t, b, "cat.csv", "sku,title,price,link\nF-1,\"=HYPERLINK(\"\"https://evil.example\"\",\"\"x\"\")\",@SUM(A1),https://shop.example/f1\n", false)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d", res.Status)
	}
	waitImport(t, b, res.Header.Get("Location"))
	rep := b.get(res.Header.Get("Location") + "/report.csv")
	if !strings.Contains(rep.Body, ",'@SUM(A1),") || strings.Contains(rep.Body, ",@SUM") {
		t.Errorf("import report: %s", rep.Body)
	}

	csv := "sku,title,price,brand,link,image_link\nF-2,+cmd|' /C calc'!A0,12.00,Nordik,https://shop.example/f2,https://shop.example/f2.jpg\n"
	if _, err := a.Catalog.Import(ctx, strings.NewReader(csv), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	f := &feeds.Feed{Name: "idealo", Format: feeds.IdealoCSV, TitleTemplate: "{title}"}
	if err := a.Feeds.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Feeds.Generate(ctx, f.ID, "test", nil); err != nil {
		t.Fatal(err)
	}
	public := a.get(fmt.Sprintf("/feeds/%s/%s", f.Token, f.FileName()))
	if !strings.Contains(public.Body, ";+cmd|' /C calc'!A0;") {
		t.Errorf("comparators must get the title as it is: %s", public.Body)
	}
	dl := b.get(fmt.Sprintf("/feeds/%d/download", f.ID))
	if dl.Status != 200 || !strings.Contains(dl.Body, ";'+cmd|' /C calc'!A0;") || !strings.HasPrefix(dl.Body, "sku;title;") {
		t.Errorf("download for people: %d %s", dl.Status, dl.Body)
	}
}
