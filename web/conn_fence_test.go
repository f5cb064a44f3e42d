package web

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The fence around the landing fast path (web/conn.go): it must still
// send a page in one writev on a real connection, it is proven on one
// fasthttp version, and it can be turned off.

// spyListener hands out the fast path's connections and remembers them.
type spyListener struct {
	listener
	conns chan *conn
}

func (l spyListener) Accept() (net.Conn, error) {
	c, err := l.listener.Accept()
	if pc, ok := c.(*conn); ok {
		l.conns <- pc
	}
	return c, err
}

// readResponse reads one response off a keep-alive connection, whole.
func readResponse(t *testing.T, r *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(r, &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestFastPathSendsAPageInOneWritev(t *testing.T) {
	a := newTestApp(t)
	a.seedPage(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	spy := spyListener{listener{ln}, make(chan *conn, 1)}
	go a.app.Listener(spy)
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	var c *conn
	select {
	case c = <-spy.conns:
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not accept the connection")
	}
	r := bufio.NewReader(client)
	for i := 1; i <= 2; i++ { // two pages on one keep-alive connection
		io.WriteString(client, "GET /l/soldes HTTP/1.1\r\nHost: shop.example\r\n\r\n")
		resp, body := readResponse(t, r, "GET")
		if resp.StatusCode != 200 || !strings.Contains(body, "<strong>Vite</strong>") {
			t.Fatalf("page %d: %d %.200q", i, resp.StatusCode, body)
		}
		if got := c.writevs.Load(); got != int64(i) {
			t.Fatalf("page %d: %d writevs so far, want %d: the fast path no longer sends a page with its headers (see Serve's list of what it relies on)", i, got, i)
		}
		if got := c.writes.Load(); got != 0 {
			t.Fatalf("page %d: %d plain writes besides the writev: a page left in pieces", i, got)
		}
	}
	// A HEAD has no body to attach: it goes through fasthttp's buffer.
	io.WriteString(client, "HEAD /l/soldes HTTP/1.1\r\nHost: shop.example\r\n\r\n")
	if resp, _ := readResponse(t, r, "HEAD"); resp.StatusCode != 200 {
		t.Fatalf("HEAD: %d", resp.StatusCode)
	}
	if c.writevs.Load() != 2 || c.writes.Load() != 1 {
		t.Fatalf("HEAD: writevs %d, writes %d; want 2 and 1", c.writevs.Load(), c.writes.Load())
	}
}

func TestLandingThroughRouterWhenTheFastPathIsOff(t *testing.T) {
	fast := newTestApp(t)
	fast.seedPage(t)
	want := fast.get("/l/soldes")
	a := newTestApp(t, func(d *Deps) { d.LandingThroughRouter = true })
	a.seedPage(t)
	got := a.get("/l/soldes")
	if got.Status != 200 || got.Body != want.Body {
		t.Fatalf("through the router: %d, body equal to the fast path's: %v", got.Status, got.Body == want.Body)
	}
	for _, h := range []string{"Content-Security-Policy", "ETag", "Cache-Control", "Referrer-Policy", "Content-Type"} {
		if got.Header.Get(h) != want.Header.Get(h) {
			t.Errorf("%s: %q through the router, %q on the fast path", h, got.Header.Get(h), want.Header.Get(h))
		}
	}
	if xfo := got.Header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("a landing page through the router says X-Frame-Options %q: the landing CSP decides who frames it", xfo)
	}
	if r := a.get("/l/soldes", "If-None-Match", want.Header.Get("ETag")); r.Status != 304 {
		t.Errorf("If-None-Match through the router: %d, want 304", r.Status)
	}
	for _, path := range []string{"/l/nope", "/l/a/b"} {
		if r := a.get(path); r.Status != 404 || !strings.Contains(r.Body, "<html") {
			t.Errorf("%s through the router: %d %.80q, want the landing 404 page", path, r.Status, r.Body)
		}
	}
	for _, app := range []*testApp{fast, a} {
		if r := app.request("POST", "/l/soldes"); r.Status != 405 && r.Status != 403 {
			t.Errorf("POST /l/soldes: %d, want 405 (or the CSRF refusal)", r.Status)
		}
	}
}

// TestFastPathIsProvenOnThisFasthttp fails when go.mod moves fasthttp off
// the version the fast path was proven on: run
// TestFastPathSendsAPageInOneWritev and bench/landing on the new one, then
// change provenFasthttp.
func TestFastPathIsProvenOnThisFasthttp(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/valyala/fasthttp\s+(\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod does not require github.com/valyala/fasthttp")
	}
	if v := string(m[1]); v != provenFasthttp {
		t.Fatalf("fasthttp is %s in go.mod; the landing fast path (web/conn.go) was proven on %s: prove it again and update provenFasthttp, or set http.fast_landing=false", v, provenFasthttp)
	}
}
