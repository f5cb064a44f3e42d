package web

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/landing"
)

// tcpPair is a server-side conn and the client end of one loopback
// connection.
func tcpPair(t *testing.T) (*conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := listener{ln}.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return server.(*conn), client
}

func TestConnSendsAPageBodyRightAfterItsWholeHeader(t *testing.T) {
	c, client := tcpPair(t)
	header := []byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
	earlier := []byte("HTTP/1.1 304 Not Modified\r\n\r\n")

	// Only part of the header: the body waits.
	c.body, c.header = []byte("PAGE"), header
	if _, err := c.Write(header[:10]); err != nil {
		t.Fatal(err)
	}
	if c.body == nil {
		t.Fatal("the body left after part of its header")
	}
	// An earlier response and the whole header: the body follows at once.
	if _, err := c.Write(append(append([]byte{}, earlier...), header[10:]...)); err != nil {
		t.Fatal(err)
	}
	if c.body == nil {
		t.Fatal("the body left after a write ending with the rest of its header")
	}
	// The same header block, but a page went through fasthttp's buffer
	// before (a HEAD of the same page ends just like it): the body waits
	// for a write that follows the buffer's.
	c.rawPage = true
	if _, err := c.Write(header); err != nil {
		t.Fatal(err)
	}
	if c.body == nil || c.rawPage {
		t.Fatalf("after a buffered page, a write ending like the header took the body (or the mark stayed: %v)", c.rawPage)
	}
	if _, err := c.Write(append(append([]byte{}, earlier...), header...)); err != nil {
		t.Fatal(err)
	}
	if c.body != nil || c.vec[1] != nil {
		t.Fatal("the body did not leave with its header, or is still referenced")
	}
	want := string(header[:10]) + string(earlier) + string(header[10:]) + string(header) + string(earlier) + string(header) + "PAGE"
	got := make([]byte, len(want))
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil || string(got) != want {
		t.Fatalf("peer read %q (%v), want %q", got, err, want)
	}
}

func TestDeadlinesMoveOnlyWhenTheyMust(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		cur, next time.Time
		keep      bool
	}{
		{time.Time{}, t0, false},                               // first deadline
		{t0, time.Time{}, false},                               // cleared
		{t0, t0.Add(999 * time.Millisecond), true},             // a little later: fires at most 1 s early
		{t0, t0.Add(time.Second), false},                       // a second later
		{t0, t0.Add(-time.Millisecond), false},                 // earlier, however little
		{t0, t0.Add(-time.Hour), false},                        // in the past: interrupts a read
		{t0.Add(time.Minute), t0.Add(time.Minute), true},       // the same
		{t0, t0.Add(30 * time.Minute), false},                  // an upload's long timeout
		{t0.Add(30 * time.Minute), t0.Add(time.Minute), false}, // back to the usual one
	}
	for _, tc := range cases {
		if got := keep(tc.cur, tc.next); got != tc.keep {
			t.Errorf("keep(%v, %v) = %v, want %v", tc.cur, tc.next, got, tc.keep)
		}
	}
}

func TestConnDeadlinesStillTimeOut(t *testing.T) {
	c, _ := tcpPair(t)
	c.SetReadDeadline(time.Now().Add(time.Hour))
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)) // earlier: applied
	c.SetReadDeadline(time.Now().Add(60 * time.Millisecond)) // 10 ms later: kept
	_, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("read with a passed deadline: %v", err)
	}
}

// Requests sent all at once (HTTP/1.1 pipelining) are answered in order,
// each page whole, whatever fasthttp's write buffer holds when a page's
// headers go out: small and large pages (fasthttp flushes the headers of a
// body stream over 8 KiB itself), 304s piling up in the buffer, HEAD, gzip,
// a 404 and a UI redirect in between.
func TestPipelinedRequestsGetWholePagesInOrder(t *testing.T) {
	a := newTestApp(t)
	a.seedPage(t)
	ctx := context.Background()
	long := strings.Repeat("Des chaises pour tout le bureau, livrées en 48 h. ", 400)
	p, err := a.Landing.Pages.Create(ctx, landing.PageInput{Slug: "grande", Title: "Grande", ProductSKUs: "W-1", Body: long})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Landing.Pages.Publish(ctx, p.ID, "test"); err != nil {
		t.Fatal(err)
	}
	small, large := a.get("/l/soldes"), a.get("/l/grande")
	if len(small.Body) > 8<<10 || len(large.Body) < 16<<10 {
		t.Fatalf("pages of %d and %d bytes: want one under 8 KiB and one over 16 KiB", len(small.Body), len(large.Body))
	}
	etag := small.Header.Get("ETag")
	gz := a.get("/l/grande", "Accept-Encoding", "gzip")

	type want struct {
		req    string
		status int
		body   string
	}
	var reqs []want
	add := func(req string, status int, body string) { reqs = append(reqs, want{req, status, body}) }
	for i := 0; i < 60; i++ {
		add("GET /l/soldes HTTP/1.1\r\nHost: x\r\nIf-None-Match: "+etag+"\r\n\r\n", 304, "")
		if i%7 == 0 {
			add("GET /l/grande HTTP/1.1\r\nHost: x\r\n\r\n", 200, large.Body)
			add("HEAD /l/grande HTTP/1.1\r\nHost: x\r\n\r\n", 200, "")
			add("GET /l/soldes?utm_source=mail HTTP/1.1\r\nHost: x\r\n\r\n", 200, small.Body)
		}
		if i%11 == 0 {
			add("GET /l/grande HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", 200, gz.Body)
			add("GET /l/absente HTTP/1.1\r\nHost: x\r\n\r\n", 404, "")
			add("GET /campaigns HTTP/1.1\r\nHost: x\r\n\r\n", 302, "")
		}
	}
	// Runs of sign-in pages (written by fiber; their CSRF token differs
	// each time, not their length) of every length up to 40 before a page:
	// fasthttp's 32 KiB buffer fills and is flushed in the middle of a
	// response, so some page's headers are cut in two by a flush.
	for m := 1; m <= 40; m++ {
		for range m {
			add("GET /login HTTP/1.1\r\nHost: x\r\n\r\n", 200, "")
		}
		add("GET /l/soldes HTTP/1.1\r\nHost: x\r\n\r\n", 200, small.Body)
	}
	var batch bytes.Buffer
	for _, r := range reqs {
		batch.WriteString(r.req)
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	go c.Write(batch.Bytes())
	br := bufio.NewReader(c)
	for i, r := range reqs {
		method := strings.Fields(r.req)[0]
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("response %d of %d (%q): %v", i+1, len(reqs), r.req, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != r.status {
			t.Fatalf("response %d (%q): %d %v, want %d", i+1, r.req, resp.StatusCode, err, r.status)
		}
		if r.body != "" && string(body) != r.body {
			t.Fatalf("response %d (%q): %d bytes differ from the page's %d", i+1, r.req, len(body), len(r.body))
		}
		if method == "HEAD" && (len(body) != 0 || resp.ContentLength != int64(len(large.Body))) {
			t.Fatalf("HEAD: %d bytes, Content-Length %d", len(body), resp.ContentLength)
		}
	}
	if n := br.Buffered(); n != 0 {
		t.Fatalf("%d bytes after the last response", n)
	}
}
