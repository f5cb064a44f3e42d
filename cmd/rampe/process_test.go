package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
)

var binary string

// TestMain builds the real binary once; these tests run it as a process.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rampe-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "rampe")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running rampe process whose log lines can be awaited.
type proc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	seen  chan struct{}
	done  chan struct{}
}

func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &proc{cmd: cmd, seen: make(chan struct{}, 1000), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			select {
			case p.seen <- struct{}{}:
			default:
			}
		}
	}()
	go func() { cmd.Wait(); pw.Close(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("output of %v:\n%s", args, p.output())
		}
	})
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

func (p *proc) waitFor(t *testing.T, substr string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for !strings.Contains(p.output(), substr) {
		select {
		case <-p.seen:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%q not logged within %s", substr, within)
		}
	}
}

// redisURL is the shared Redis of the test: the real one when configured,
// else a miniredis that the test and the worker process both reach over TCP.
func redisURL(t *testing.T) string {
	if u := testenv.RedisURL(); u != "" {
		testenv.Redis(t) // flushes it
		return u
	}
	m := miniredis.RunT(t)
	return "redis://" + m.Addr()
}

func TestWorkerKilledDuringGoLiveGoesLiveExactlyOnce(t *testing.T) {
	dsn := testenv.DSN(t)
	rurl := redisURL(t)
	env := []string{"RAMPE_DATABASE_DSN=" + dsn, "RAMPE_REDIS_URL=" + rurl, "RAMPE_CAMPAIGNS_RECONCILE_INTERVAL=500ms", "RAMPE_LOG_LEVEL=info"}

	// Migrate with the binary, then plan the campaign through the domain API.
	mig := exec.Command(binary, "migrate")
	mig.Env = append(os.Environ(), env...)
	if out, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	g := testenv.Open(t, dsn)
	conn, err := queue.Connect(context.Background(), rurl)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cs := campaigns.NewService(g, queue.NewClient(conn), clock.System{})
	// The worker checks the landing gates too: give the campaign a published page.
	lm := landing.New(g, &catalog.Store{DB: g}, cs, cs.Gates, nil, "http://127.0.0.1", "Europe/Paris", cs.Clock)
	page, err := lm.Pages.Create(context.Background(), landing.PageInput{Slug: "crash", Title: "Crash test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lm.Pages.Publish(context.Background(), page.ID, "test"); err != nil {
		t.Fatal(err)
	}
	// …and a passing load check of it, so the capacity gate holds.
	v, _ := lm.Pages.Versions(context.Background(), page.ID)
	fin := time.Now().UTC()
	if err := g.Create(&loadcheck.Check{PageID: page.ID, PageVersionID: v[0].ID, URL: "http://127.0.0.1/l/crash", TargetRate: 1000, Steps: loadcheck.DefaultSteps,
		StepSeconds: 1, Thresholds: loadcheck.DefaultThresholds, Status: loadcheck.Passed, SustainedRate: 1000, CreatedAt: fin, FinishedAt: &fin}).Error; err != nil {
		t.Fatal(err)
	}
	in := campaigns.Input{LandingPageID: &page.ID, Name: "Crash test", Channels: []string{"seo"}, StartsAt: time.Now().Add(2 * time.Second).Format(time.RFC3339Nano),
		EndsAt: time.Now().Add(48 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"seo": 100},
		Forecast: map[string]map[string]float64{"seo": {"sessions_per_day": 100}}}
	c, err := cs.Create(context.Background(), in, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Schedule(context.Background(), c.ID, "test"); err != nil {
		t.Fatal(err)
	}

	// The first worker evaluates the gates and is killed before it commits.
	w1 := start(t, append(env, "RAMPE_JOBS_GOLIVE_HOLD=30s"), "worker")
	w1.waitFor(t, "go-live gates evaluated", 20*time.Second)
	if err := w1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-w1.done
	got, _ := cs.Get(context.Background(), c.ID)
	if got.Status != campaigns.Scheduled {
		t.Fatalf("status after the kill: %s", got.Status)
	}

	// A new worker finds the go-live overdue and finishes it.
	w2 := start(t, env, "worker")
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if got, _ = cs.Get(context.Background(), c.ID); got.Status == campaigns.Live {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got.Status != campaigns.Live {
		t.Fatalf("not live after the restart: %s (%s)", got.Status, got.StatusReason)
	}
	// More reconciler rounds must not add a second transition.
	time.Sleep(1500 * time.Millisecond)
	var n int64
	g.Model(&campaigns.Transition{}).Where("campaign_id = ? AND to_status = ?", c.ID, campaigns.Live).Count(&n)
	if n != 1 {
		t.Fatalf("%d live transitions, want exactly 1", n)
	}
	// SIGTERM stops the worker cleanly.
	w2.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w2.done:
		if code := w2.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("worker exit code %d after SIGTERM", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop on SIGTERM")
	}
}

func run(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

func TestCLI(t *testing.T) {
	dsn := testenv.DSN(t)
	env := []string{"RAMPE_DATABASE_DSN=" + dsn}
	cases := []struct {
		args    []string
		env     []string
		ok      bool
		contain string
	}{
		{[]string{"version"}, nil, true, "rampe "},
		{[]string{"migrate"}, nil, true, "migration(s) applied"},
		{[]string{"migrate", "--status"}, nil, true, "0 pending"},
		{[]string{"config", "print"}, []string{"RAMPE_SECURITY_SECRET_KEY=" + strings.Repeat("s", 40)}, true, "security.secret_key"},
		{[]string{"serve"}, []string{"RAMPE_HTTP_ADDR=127.0.0.1:70000"}, false, "http.addr"},
		{[]string{"serve"}, []string{"RAMPE_CAMPAIGNS_DEFAULT_TIME_ZONE=Mars/Base"}, false, "campaigns.default_time_zone"},
		{[]string{"worker"}, nil, false, "redis.url"},
		{[]string{"serve", "--no-worker"}, nil, false, "redis.url"},
		{[]string{"user", "create", "--email", "ops@shop.example", "--role", "admin"}, nil, true, "password: "},
		{[]string{"user", "create", "--email", "ops@shop.example"}, nil, false, "already exists"},
		{[]string{"user", "create", "--email", "x@shop.example", "--role", "god"}, nil, false, "--role"},
		{[]string{"user", "token", "--email", "ops@shop.example"}, nil, true, "rmp_"},
		{[]string{"user", "token", "--email", "ghost@shop.example"}, nil, false, "no user"},
	}
	for _, tc := range cases {
		out, err := run(t, append(append([]string{}, env...), tc.env...), tc.args...)
		if (err == nil) != tc.ok || !strings.Contains(out, tc.contain) {
			t.Errorf("rampe %v: err=%v, output %q; want ok=%v containing %q", tc.args, err, out, tc.ok, tc.contain)
		}
		if strings.Contains(out, strings.Repeat("s", 40)) {
			t.Errorf("rampe %v printed the secret key", tc.args)
		}
	}
}
