package loadcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

type noTasks struct{ n atomic.Int32 }

func (q *noTasks) Enqueue(context.Context, *asynq.Task, ...asynq.Option) (bool, error) {
	q.n.Add(1)
	return true, nil
}

type env struct {
	svc   *Service
	camps *campaigns.Service
	pages *landing.Pages
	tasks *noTasks
}

func newEnv(t *testing.T, base string) *env {
	t.Helper()
	g := testenv.DB(t, db.Migrations, campaigns.Migrations, catalog.Migrations, landing.Migrations, Migrations)
	cs := campaigns.NewService(g, &noTasks{}, clock.System{})
	pages := &landing.Pages{DB: g, Clock: clock.System{}}
	e := &env{camps: cs, pages: pages, tasks: &noTasks{}}
	e.svc = &Service{Store: &Store{DB: g}, Campaigns: cs, Pages: pages, Tasks: e.tasks, BaseURL: base, StepSeconds: 2,
		Validity: 24 * time.Hour, SafetyFactor: 1.5, Clock: clock.System{},
		Policy: Policy{BaseURL: base, MaxRate: 5000, MaxDuration: time.Minute}}
	return e
}

// serve starts a real HTTP server on 127.0.0.1 whose handler degrades above
// limit requests per second (503s), or never when limit is 0.
func serve(t *testing.T, limit int64) string {
	t.Helper()
	var mu sync.Mutex
	var second int64
	var count int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip, deflate, br" || !strings.HasPrefix(r.UserAgent(), "Rampe-LoadCheck/") {
			http.Error(w, "not a browser-like request: "+r.Header.Get("Accept-Encoding")+" / "+r.UserAgent(), http.StatusBadRequest)
			return
		}
		now := time.Now().Unix()
		mu.Lock()
		if now != second {
			second, count = now, 0
		}
		count++
		over := limit > 0 && count > limit
		mu.Unlock()
		if over {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("<html>landing page</html>"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func (e *env) check(t *testing.T, url string, rate float64) *Check {
	t.Helper()
	c := &Check{PageID: 1, PageVersionID: 1, URL: url + "/l/x", TargetRate: rate, Steps: DefaultSteps, StepSeconds: 2,
		Thresholds: DefaultThresholds, Status: Queued, CreatedAt: time.Now().UTC()}
	if err := e.svc.Store.DB.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckFailsAtTheStepWhereTheServerDegrades(t *testing.T) {
	url := serve(t, 150)
	e := newEnv(t, url)
	c := e.check(t, url, 200) // steps: 50, 100, 200, 300 req/s
	if err := e.svc.Run(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Store.Get(context.Background(), c.ID)
	if got.Status != Failed || len(got.Results) != 3 || !strings.Contains(got.Reason, "step 3 of 4 (200 req/s") || !strings.Contains(got.Reason, "error ratio") {
		t.Fatalf("status %s, %d steps, reason %q", got.Status, len(got.Results), got.Reason)
	}
	if !got.Results[0].Held || !got.Results[1].Held || got.Results[2].Held {
		t.Fatalf("held: %+v", got.Results)
	}
	if got.SustainedRate < 90 || got.SustainedRate > 110 {
		t.Fatalf("sustained %.1f, want ≈100 (the last step that held)", got.SustainedRate)
	}
	if h := got.Results[0].Histogram; len(h) != len(histogramBuckets) {
		t.Fatalf("histogram: %+v", h)
	}
}

func TestCheckPassesWhenTheServerHolds(t *testing.T) {
	url := serve(t, 0)
	e := newEnv(t, url)
	c := e.check(t, url, 100)
	if err := e.svc.Run(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Store.Get(context.Background(), c.ID)
	if got.Status != Passed || len(got.Results) != 4 || got.SustainedRate < 140 {
		t.Fatalf("status %s reason %q sustained %.1f", got.Status, got.Reason, got.SustainedRate)
	}
	// Running it again changes nothing.
	if err := e.svc.Run(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
}

func TestAbortStopsACheck(t *testing.T) {
	url := serve(t, 0)
	e := newEnv(t, url)
	c := e.check(t, url, 50)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		e.svc.Store.RequestAbort(context.Background(), c.ID)
	}()
	start := time.Now()
	e.svc.Run(context.Background(), c.ID)
	got, _ := e.svc.Store.Get(context.Background(), c.ID)
	if got.Status != Aborted || time.Since(start) > 5*time.Second {
		t.Fatalf("status %s after %v", got.Status, time.Since(start))
	}
}

func TestRefusals(t *testing.T) {
	p := Policy{AllowedHosts: []string{"127.0.0.1", "shop.example", ".cdn.example"}, MaxRate: 1000, MaxDuration: time.Minute,
		Resolve: func(_ context.Context, h string) ([]netip.Addr, error) {
			if h == "internal.cdn.example" {
				return []netip.Addr{netip.MustParseAddr("10.0.0.5")}, nil
			}
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		}}
	cases := map[string]string{
		"https://evil.example/l/x":            "not in loadcheck.allowed_hosts",
		"http://192.168.1.10/":                "IP address that is not allow-listed",
		"http://[::1]:8080/":                  "IP address that is not allow-listed",
		"https://internal.cdn.example/l/x":    "private or loopback",
		"ftp://shop.example/":                 "not an absolute http(s) URL",
		"https://shop.example.evil.example/x": "not in loadcheck.allowed_hosts",
	}
	for u, want := range cases {
		var re *RefusedError
		if err := p.CheckTarget(context.Background(), u); !errors.As(err, &re) || !strings.Contains(re.Why, want) {
			t.Errorf("%s: %v, want %q", u, err, want)
		}
	}
	for _, ok := range []string{"http://127.0.0.1/l/demo", "https://shop.example/l/x", "https://www.cdn.example/x"} {
		if err := p.CheckTarget(context.Background(), ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	var re *RefusedError
	if err := p.CheckPlan(&Check{TargetRate: 800, Steps: DefaultSteps, StepSeconds: 10}); !errors.As(err, &re) || !strings.Contains(re.Why, "1200 req/s") {
		t.Errorf("rate over the cap: %v", err)
	}
	if err := p.CheckPlan(&Check{TargetRate: 10, Steps: DefaultSteps, StepSeconds: 30}); !errors.As(err, &re) || !strings.Contains(re.Why, "max_duration") {
		t.Errorf("duration over the cap: %v", err)
	}
}

func TestGateFollowsRepublishAndNewCampaigns(t *testing.T) {
	e := newEnv(t, "http://127.0.0.1")
	ctx := context.Background()
	page, _ := e.pages.Create(ctx, landing.PageInput{Slug: "bf", Title: "BF"})
	v1, _ := e.pages.Publish(ctx, page.ID, "test")
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	in := func(name string, audience float64) campaigns.Input {
		return campaigns.Input{Name: name, Channels: []string{"email"}, StartsAt: start.Format(time.RFC3339), EndsAt: start.Add(24 * time.Hour).Format(time.RFC3339),
			Budgets: map[string]int64{"email": 1}, Forecast: map[string]map[string]float64{"email": {"audience": audience, "open_rate": 0.5, "click_rate": 0.5}},
			LandingPageID: &page.ID}
	}
	c, _ := e.camps.Create(ctx, in("Newsletter", 100000), "test") // 25,000 clicks → first hour ≈ 7,322 visits → ≈ 16.3 req/s
	reg := &campaigns.Registry{}
	RegisterGate(reg, e.svc)
	gate := func() campaigns.Result {
		c2, _ := e.camps.Get(ctx, c.ID)
		return reg.Evaluate(ctx, c2, time.Now()).Results[0]
	}
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "no passing load check") {
		t.Fatalf("no check: %+v", r)
	}
	fin := time.Now().UTC()
	e.svc.Store.DB.Create(&Check{PageID: page.ID, PageVersionID: v1.ID, URL: "x", TargetRate: 40, Steps: DefaultSteps, StepSeconds: 1,
		Thresholds: DefaultThresholds, Status: Passed, SustainedRate: 40, CreatedAt: fin, FinishedAt: &fin})
	if r := gate(); r.Outcome != campaigns.Pass || !strings.Contains(r.Message, "sustained 40 req/s ≥ needed 24") {
		t.Fatalf("passing check: %+v", r)
	}
	// A second newsletter at the same hour doubles the peak.
	e.camps.Create(ctx, in("Relance", 100000), "test")
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "sustained 40 req/s < needed 49") || !strings.Contains(r.Message, "Relance") {
		t.Fatalf("new overlapping campaign: %+v", r)
	}
	e.svc.Store.DB.Model(&Check{}).Where("1 = 1").Update("sustained_rate", 100)
	// Republished with new content (republishing the same content keeps
	// the check: TestGateKeepsTheCheckOfIdenticalContent).
	e.pages.Update(ctx, page.ID, landing.PageInput{Slug: "bf", Title: "BF", Hero: "-30 % on everything"})
	e.pages.Publish(ctx, page.ID, "test")
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "republished") {
		t.Fatalf("republished: %+v", r)
	}
}

func TestAFailedCheckSaysWhyByKind(t *testing.T) {
	for _, tc := range []struct {
		code uint16
		err  string
		want string
	}{
		{0, `Get "http://127.0.0.1:1/l/x": dial tcp 127.0.0.1:1: connect: connection refused`, KindRefused},
		{0, `Get "http://x/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, KindTimeout},
		{0, "read tcp 127.0.0.1:5->127.0.0.1:6: read: connection reset by peer", KindReset},
		{0, "dial tcp: lookup nowhere.invalid: no such host", KindDNS},
		{503, "503 Service Unavailable", "HTTP 503"},
		{404, "", "HTTP 404"},
		{200, "", ""},
	} {
		if got := errorKind(tc.code, tc.err); got != tc.want {
			t.Errorf("errorKind(%d, %q) = %q, want %q", tc.code, tc.err, got, tc.want)
		}
	}
	c := &Check{ID: 3, Status: Failed, Results: []StepResult{{Share: 0.25, TargetRate: 5, Held: true, Requests: 5},
		{Share: 0.5, TargetRate: 10, Requests: 10, Kinds: map[string]uint64{KindRefused: 10}, Broken: "error ratio 100.0 % > 1.0 %"}}}
	if got, want := c.Summary().String(), "check #3 failed at 50 % of the target (10 req/s): 100 % connection refused"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	r := StepResult{Requests: 200, Kinds: map[string]uint64{"HTTP 503": 124, KindTimeout: 16, KindReset: 1}}
	if got, want := r.Why().String(), "62 % HTTP 503, 8 % timeout, <1 % connection reset"; got != want {
		t.Errorf("Why = %q, want %q", got, want)
	}
}

func TestRefusedConnectionsAreNamedInTheReason(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nobody listens there any more
	e := newEnv(t, url)
	c := e.check(t, url, 20)
	if err := e.svc.Run(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Store.Get(context.Background(), c.ID)
	if got.Status != Failed || !strings.Contains(got.Reason, "100 % connection refused") || got.Results[0].Kinds[KindRefused] == 0 {
		t.Fatalf("status %s, reason %q, kinds %v", got.Status, got.Reason, got.Results[0].Kinds)
	}
	if want := fmt.Sprintf("check #%d failed at 25 %% of the target (5 req/s): 100 %% connection refused", got.ID); got.Summary().String() != want {
		t.Fatalf("summary %q, want %q", got.Summary(), want)
	}
}

// TestRateIsWrittenAsEachLanguageWritesNumbers: three significant digits
// below 100, whole above, with the language's separators.
func TestRateIsWrittenAsEachLanguageWritesNumbers(t *testing.T) {
	for _, c := range []struct {
		v      float64
		fr, en string
	}{{90.48, "90,5", "90.5"}, {0.475, "0,475", "0.475"}, {150.4, "150", "150"}, {1234.5, "1\u202f234", "1,234"}} {
		if got := Rate(c.v).Text("fr"); strings.NewReplacer("\u00a0", "\u202f").Replace(got) != c.fr {
			t.Errorf("fr %v: %q, want %q", c.v, got, c.fr)
		}
		if got := Rate(c.v).Text("en"); got != c.en {
			t.Errorf("en %v: %q, want %q", c.v, got, c.en)
		}
	}
}
