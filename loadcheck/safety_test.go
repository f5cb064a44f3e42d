package loadcheck

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counter is a real HTTP server on 127.0.0.1 that counts what reaches it.
// /l/moved redirects to the Location in to; /l/hop redirects to /l/x.
type counter struct {
	URL  string
	Port string
	n    atomic.Int64
	mu   sync.Mutex
	seen []string // X-Vegeta-Attack of each request, in arrival order
	to   string
}

func newCounter(t *testing.T) *counter {
	t.Helper()
	c := &counter{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		c.mu.Lock()
		c.seen = append(c.seen, r.Header.Get("X-Vegeta-Attack"))
		c.mu.Unlock()
		switch r.URL.Path {
		case "/l/moved":
			http.Redirect(w, r, c.to, http.StatusFound)
		case "/l/hop":
			http.Redirect(w, r, "/l/x", http.StatusMovedPermanently)
		default:
			w.Write([]byte("<html>landing page</html>"))
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c.URL = "http://" + ln.Addr().String()
	_, c.Port, _ = net.SplitHostPort(ln.Addr().String())
	return c
}

func (e *env) row(t *testing.T, url string, rate float64, steps []float64, secs int) *Check {
	t.Helper()
	c := &Check{PageID: 1, PageVersionID: 1, URL: url, TargetRate: rate, Steps: steps, StepSeconds: secs,
		Thresholds: DefaultThresholds, Status: Queued, CreatedAt: time.Now().UTC()}
	if err := e.svc.Store.DB.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) run(t *testing.T, id uint64) *Check {
	t.Helper()
	if err := e.svc.Run(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// A step under 0.5 req/s once ran with no limit at all: ConstantPacer{Freq: 0}
// is vegeta's "as fast as possible".
func TestSlowStepSendsAtItsRate(t *testing.T) {
	srv := newCounter(t)
	e := newEnv(t, srv.URL)
	c := e.row(t, srv.URL+"/l/x", 0.475, []float64{1}, 4)
	got := e.run(t, c.ID)
	// 0.475 req/s for 4 s is about 2 requests; vegeta sends the first after
	// one interval (2.1 s) and the second at 4.2 s.
	if n := srv.n.Load(); n < 1 || n > 3 {
		t.Fatalf("a 0.475 req/s step of 4 s sent %d requests (status %s, %q)", n, got.Status, got.Reason)
	}
}

func TestNonPositiveRatesAreRefused(t *testing.T) {
	p := Policy{AllowedHosts: []string{"127.0.0.1"}, MaxRate: 1000, MaxDuration: time.Minute}
	for _, c := range []*Check{
		{TargetRate: 10, Steps: []float64{0, 1}, StepSeconds: 1},
		{TargetRate: 10, Steps: []float64{-0.5, 1}, StepSeconds: 1},
		{TargetRate: math.NaN(), Steps: DefaultSteps, StepSeconds: 1},
		{TargetRate: math.Inf(1), Steps: DefaultSteps, StepSeconds: 1},
	} {
		var re *RefusedError
		if err := p.CheckPlan(c); !errors.As(err, &re) || !strings.Contains(re.Why, "rate") {
			t.Errorf("rate %v × %v: %v, want a refusal naming the rate", c.TargetRate, c.Steps, err)
		}
	}
	// A check that reached the runner anyway (an old row, a bug) sends nothing.
	srv := newCounter(t)
	e := newEnv(t, srv.URL)
	c := e.row(t, srv.URL+"/l/x", 0, []float64{1}, 2)
	got := e.run(t, c.ID)
	if n := srv.n.Load(); n != 0 || got.Status != Failed || !strings.Contains(got.Reason, "rate 0") {
		t.Fatalf("a rate of 0 sent %d requests; status %s, reason %q", n, got.Status, got.Reason)
	}
}

func TestPortsAreAllowListedToo(t *testing.T) {
	p := Policy{AllowedHosts: []string{"127.0.0.1", "shop.example:8443"}, MaxRate: 1000, MaxDuration: time.Minute,
		Resolve: func(context.Context, string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		}}
	for _, u := range []string{"http://127.0.0.1:22/", "http://127.0.0.1:5432/", "http://127.0.0.1:6379/"} {
		var re *RefusedError
		if err := p.CheckTarget(context.Background(), u); !errors.As(err, &re) || !strings.Contains(re.Why, "port") {
			t.Errorf("%s: %v, want a refusal naming the port", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1/l/x", "https://shop.example:8443/l/x"} {
		if err := p.CheckTarget(context.Background(), u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	// public.base_url's host: its scheme and port only, and the refusal
	// names the port and what is allowed.
	p = Policy{BaseURL: "http://127.0.0.1:8080", AllowedHosts: []string{"127.0.0.1:9090"}}
	for u, want := range map[string]string{
		"http://127.0.0.1:22/":    "port 22 of 127.0.0.1 is not allowed: 127.0.0.1 allows only http://127.0.0.1:8080 (public.base_url), 127.0.0.1:9090",
		"https://127.0.0.1:8080/": "https on port 8080 of 127.0.0.1 is not allowed",
		"http://127.0.0.1/":       "port 80 of 127.0.0.1",
	} {
		var re *RefusedError
		if err := p.CheckTarget(context.Background(), u); !errors.As(err, &re) || !strings.Contains(re.Why, want) || !strings.Contains(re.Why, "loadcheck.allowed_hosts") {
			t.Errorf("%s: %v, want %q", u, err, want)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080/l/x", "http://127.0.0.1:9090/x", "https://127.0.0.1:9090/x"} {
		if err := p.CheckTarget(context.Background(), u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
}

func TestRedirectsFollowTheAllowList(t *testing.T) {
	srv := newCounter(t)
	srv.to = "http://evil.example/"
	e := newEnv(t, srv.URL)
	c := e.row(t, srv.URL+"/l/moved", 10, []float64{1}, 1)
	got := e.run(t, c.ID)
	want := "redirect to http://evil.example/ not followed (not allow-listed"
	b, _ := json.Marshal(got.Results)
	if got.Status != Failed || !strings.Contains(got.Reason, want) || !strings.Contains(string(b), want) {
		t.Fatalf("status %s, reason %q, results %s", got.Status, got.Reason, b)
	}
	// A redirect to an allowed URL is followed.
	c = e.row(t, srv.URL+"/l/hop", 10, []float64{1}, 1)
	if got = e.run(t, c.ID); got.Status != Passed {
		t.Fatalf("a redirect within the allow-list: %s %q", got.Status, got.Reason)
	}
}

// The target's address was checked once, when the check started; vegeta then
// dialled whatever DNS answered.
func TestEveryDialIsChecked(t *testing.T) {
	srv := newCounter(t)
	e := newEnv(t, srv.URL)
	var lookups atomic.Int32
	e.svc.Policy.AllowedHosts = []string{".shop.test:" + srv.Port}
	e.svc.Policy.Resolve = func(_ context.Context, host string) ([]netip.Addr, error) {
		if lookups.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil // when the check starts
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil // rebound
	}
	target := "http://www.shop.test:" + srv.Port + "/l/x"
	if err := e.svc.Policy.CheckTarget(context.Background(), target); err != nil {
		t.Fatal(err)
	}
	got := e.run(t, e.row(t, target, 10, []float64{1}, 1).ID)
	if n := srv.n.Load(); n != 0 || !strings.Contains(got.Reason, "127.0.0.1") || !strings.Contains(got.Reason, "private or loopback") {
		t.Fatalf("a rebound name reached 127.0.0.1 %d times; %s %q", n, got.Status, got.Reason)
	}

	// A check row naming a host that is not (or no longer) allow-listed:
	// localhost maps to 127.0.0.1 and is not on the list.
	e.svc.Policy.Resolve = nil
	got = e.run(t, e.row(t, "http://localhost:"+srv.Port+"/l/x", 10, []float64{1}, 1).ID)
	if n := srv.n.Load(); n != 0 || !strings.Contains(got.Reason, "localhost") {
		t.Fatalf("a host off the list was dialled %d times; %s %q", n, got.Status, got.Reason)
	}
}
