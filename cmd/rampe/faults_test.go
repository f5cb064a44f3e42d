package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/testenv"
)

// A deployment of several nodes under faults (issue #17 §5): two
// `serve --no-worker` web nodes and two `worker`s share one database and
// one Redis. Two hundred campaigns are scheduled through the web nodes'
// API at four instants; meanwhile the worker holding an instant's go-live
// batch is SIGKILLed (and restarted), a web node is SIGKILLed (and
// restarted), Redis is flushed once, and two load checks are asked for at
// once, one on each web node. Then: exactly one live transition per ready
// campaign, the unready ones blocked with their reason, go-lives after the
// flush late by seconds, load checks one after the other and none left
// running, every public page and feed answering on both web nodes, and a
// page published on one node served by the other within a second.
func TestSeveralNodesUnderFaults(t *testing.T) {
	dsn := testenv.DSN(t)
	rurl := redisURL(t)
	dir := t.TempDir()
	ports := [2]string{freeTCPPort(t), freeTCPPort(t)}
	base := "http://127.0.0.1:" + ports[0]
	env := []string{"RAMPE_DATABASE_DSN=" + dsn, "RAMPE_REDIS_URL=" + rurl, "RAMPE_PUBLIC_BASE_URL=" + base,
		"RAMPE_FEEDS_DIR=" + filepath.Join(dir, "seed"), "RAMPE_LOADCHECK_STEP_DURATION=1s",
		"RAMPE_CAMPAIGNS_RECONCILE_INTERVAL=5s", "RAMPE_LOG_LEVEL=info"}
	env = append(env, sharedStorageEnv(t)...)
	seed := exec.Command(binary, "demo", "--no-load-checks")
	seed.Env, seed.Dir = append(os.Environ(), env...), dir
	if out, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("rampe demo: %v\n%s", err, out)
	}
	g := testenv.Open(t, dsn)
	ctx := context.Background()

	// Each process has a directory of its own: only the bucket is shared.
	own := func(name string) string { return "RAMPE_FEEDS_DIR=" + filepath.Join(dir, name) }
	webEnv := func(i int) []string {
		return append(env[:len(env):len(env)], "RAMPE_HTTP_ADDR=127.0.0.1:"+ports[i], own(fmt.Sprint("web", i)))
	}
	startWeb := func(i int) *proc {
		p := start(t, webEnv(i), "serve", "--no-worker")
		p.waitFor(t, "Rampe is listening on", 30*time.Second)
		return p
	}
	// Every go-live pauses 1.5 s between its gates and its commit, so that
	// the worker holding a batch can be killed inside it.
	workerEnv := func(i int) []string {
		return append(env[:len(env):len(env)], "RAMPE_JOBS_GOLIVE_HOLD=1500ms", own(fmt.Sprint("worker", i)))
	}
	webs := [2]*proc{startWeb(0), startWeb(1)}
	workers := []*proc{start(t, workerEnv(0), "worker"), start(t, workerEnv(1), "worker")}

	var admin accounts.User
	if err := g.Where("email = ?", "admin@rampe.demo").First(&admin).Error; err != nil {
		t.Fatal(err)
	}
	secret, _, err := (&accounts.Store{DB: g}).NewAPIToken(ctx, admin.ID, "faults")
	if err != nil {
		t.Fatal(err)
	}
	nodes := [2]*node{{t: t, url: base, token: secret}, {t: t, url: "http://127.0.0.1:" + ports[1], token: secret}}

	// What the demo seeded: its page, its promotion, its feeds; a draft page
	// makes some campaigns unready on purpose.
	demoPage := nodes[1].id("GET", "/api/v1/pages", nil, "pages", "slug", "demo")
	promo := nodes[0].id("GET", "/api/v1/promotions", nil, "promotions", "name", "Autumn clearance: -15 EUR on sport")
	var feedIDs []uint64
	g.Raw("SELECT id FROM feeds ORDER BY id").Scan(&feedIDs)
	draft := nodes[1].created("POST", "/api/v1/pages", map[string]any{"slug": "draft", "title": "Not yet", "lang": "fr"})

	plan := func(name string, page uint64, start time.Time) map[string]any {
		return map[string]any{"name": name, "channels": []string{"comparators"}, "time_zone": "Europe/Paris",
			"starts_at": start.Format(time.RFC3339Nano), "ends_at": start.Add(24 * time.Hour).Format(time.RFC3339),
			"currency": "EUR", "budgets": map[string]int64{"comparators": 10000},
			"forecast":        map[string]map[string]float64{"comparators": {"daily_clicks": 20, "uplift": 1}},
			"landing_page_id": page, "promotion_ids": []uint64{promo}, "feed_ids": feedIDs}
	}

	// Two load checks of the demo page asked for at once, one per web node:
	// they must run one after the other. Their pass is the capacity gate's
	// evidence for every campaign below.
	t0 := time.Now()
	var checkCampaigns [2]uint64
	for i := range checkCampaigns {
		checkCampaigns[i] = nodes[i].created("POST", "/api/v1/campaigns", plan(fmt.Sprintf("Load check %d", i), demoPage, t0.Add(time.Hour)))
	}
	var checks [2]uint64
	done := make(chan int, 2)
	for i := range checks {
		go func() {
			var out struct{ ID uint64 }
			nodes[i].do("POST", fmt.Sprintf("/api/v1/campaigns/%d/loadchecks", checkCampaigns[i]), map[string]any{"rate": 30,
				// The machine running the test may be busy: latency is not what is tested here.
				"thresholds": map[string]any{"max_error_ratio": 0.01, "max_p95_ms": 10000, "max_p99_ms": 20000}}, http.StatusAccepted, &out)
			checks[i] = out.ID
			done <- i
		}()
	}
	<-done
	<-done
	waitUntil(t, 90*time.Second, "both load checks finished", func() bool {
		var n int64
		g.Model(&loadcheck.Check{}).Where("id IN ? AND finished_at IS NOT NULL", checks[:]).Count(&n)
		return n == 2
	})
	var ran []loadcheck.Check
	g.Where("id IN ?", checks[:]).Order("started_at").Find(&ran)
	for _, c := range ran {
		if c.Status != loadcheck.Passed {
			t.Fatalf("load check %d: %s (%s)", c.ID, c.Status, c.Reason)
		}
	}
	if !ran[0].FinishedAt.Before(*ran[1].StartedAt) && !ran[0].FinishedAt.Equal(*ran[1].StartedAt) {
		t.Fatalf("load checks overlapped: #%d ran %s–%s, #%d started %s", ran[0].ID, ran[0].StartedAt, ran[0].FinishedAt, ran[1].ID, ran[1].StartedAt)
	}

	// 200 campaigns at four instants, 50 each, alternately through either
	// node; every tenth links the draft page and must stay blocked.
	first := time.Now().Add(20 * time.Second).Truncate(time.Second)
	instants := []time.Time{first, first.Add(15 * time.Second), first.Add(30 * time.Second), first.Add(45 * time.Second)}
	type planned struct {
		id      uint64
		instant int
		ready   bool
	}
	var all []planned
	for k := 0; k < 200; k++ {
		page, ready := demoPage, k%10 != 9
		if !ready {
			page = draft
		}
		n := nodes[k%2]
		id := n.created("POST", "/api/v1/campaigns", plan(fmt.Sprintf("Faults %03d", k), page, instants[k/50]))
		n.do("POST", fmt.Sprintf("/api/v1/campaigns/%d/schedule", id), nil, http.StatusOK, nil)
		all = append(all, planned{id, k / 50, ready})
	}
	if time.Now().After(first.Add(-2 * time.Second)) {
		t.Fatalf("planning took too long: the first instant is %s away", time.Until(first))
	}

	// Instant 2: the worker that holds its batch is killed inside it, then
	// started again.
	killed := waitBatchHolder(t, workers, instants[1])
	if err := workers[killed].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-workers[killed].done
	workers[killed] = start(t, workerEnv(killed), "worker")
	// A web node dies too, and comes back.
	webs[0].cmd.Process.Signal(syscall.SIGKILL)
	<-webs[0].done
	webs[0] = startWeb(0)
	// Redis loses everything once, 8 s before instant 3.
	time.Sleep(time.Until(instants[2].Add(-8 * time.Second)))
	flushRedis(t, rurl)

	// Wait for the last instant's go-lives, then judge.
	want := 0
	for _, p := range all {
		if p.ready {
			want++
		}
	}
	waitUntil(t, time.Until(instants[3])+60*time.Second, "every ready campaign live", func() bool {
		var n int64
		g.Model(&campaigns.Campaign{}).Where("name LIKE 'Faults %' AND status = ?", campaigns.Live).Count(&n)
		return int(n) == want
	})
	time.Sleep(3 * time.Second) // a late duplicate would show now
	latest := make([]time.Duration, len(instants))
	defer func() { t.Logf("latest go-live after each instant (hold 1.5 s included): %v", latest) }()
	for _, p := range all {
		var c campaigns.Campaign
		g.First(&c, p.id)
		var lives []campaigns.Transition
		g.Where("campaign_id = ? AND to_status = ?", p.id, campaigns.Live).Find(&lives)
		if len(lives) > 0 {
			latest[p.instant] = max(latest[p.instant], lives[0].At.Sub(instants[p.instant]).Round(time.Millisecond))
		}
		switch {
		case p.ready && (c.Status != campaigns.Live || len(lives) != 1):
			t.Errorf("campaign %d (instant %d): %s with %d live transitions, want live once (%s)", p.id, p.instant, c.Status, len(lives), c.StatusReason)
		case !p.ready && (c.Status != campaigns.Blocked || len(lives) != 0 || !strings.Contains(c.StatusReason, "landing.published")):
			t.Errorf("campaign %d (draft page): %s, %d live transitions, reason %q; want blocked by landing.published", p.id, c.Status, len(lives), c.StatusReason)
		case p.ready && p.instant != 1:
			// Instants 1, 3 (after the flush) and 4: on time but for the 3 s hold.
			if late := lives[0].At.Sub(instants[p.instant]); late > 10*time.Second {
				t.Errorf("campaign %d live %s after instant %d", p.id, late, p.instant+1)
			}
		case p.ready:
			if late := lives[0].At.Sub(instants[1]); late > 45*time.Second {
				t.Errorf("campaign %d of the killed batch live %s late", p.id, late)
			}
		}
	}
	var running int64
	g.Model(&loadcheck.Check{}).Where("finished_at IS NULL").Count(&running)
	if running != 0 {
		t.Errorf("%d load checks left unfinished", running)
	}

	// Every public page and feed answers on both web nodes.
	var feeds struct {
		Feeds []struct{ URL string } `json:"feeds"`
	}
	nodes[0].do("GET", "/api/v1/feeds", nil, http.StatusOK, &feeds)
	for _, n := range nodes {
		paths := []string{"/l/demo"}
		for _, f := range feeds.Feeds {
			paths = append(paths, strings.TrimPrefix(f.URL, base))
		}
		for _, p := range paths {
			if code, body := get(t, n.url+p); code != http.StatusOK || len(body) < 200 {
				t.Errorf("%s%s: %d, %d bytes", n.url, p, code, len(body))
			}
		}
	}
	// …out of the bucket: no process wrote a feed file of its own.
	for _, pattern := range []string{"web*/*", "worker*/*"} {
		if files, _ := filepath.Glob(filepath.Join(dir, pattern)); len(files) > 0 {
			t.Errorf("feed files outside the bucket: %v", files)
		}
	}
	// A page published on node 2 is served by node 1 within a second.
	if code, _ := get(t, nodes[0].url+"/l/draft"); code != http.StatusNotFound {
		t.Fatalf("/l/draft before its publish: %d", code)
	}
	nodes[1].do("POST", fmt.Sprintf("/api/v1/pages/%d/publish", draft), nil, http.StatusOK, nil)
	published := time.Now()
	waitUntil(t, 5*time.Second, "node 1 serving the page node 2 published", func() bool {
		code, _ := get(t, nodes[0].url+"/l/draft")
		return code == http.StatusOK
	})
	if d := time.Since(published); d > time.Second {
		t.Errorf("node 1 served the page %s after node 2 published it, want within 1 s", d)
	}
}

// node is one web node's API, signed in by an API token.
type node struct {
	t     *testing.T
	url   string
	token string
}

func (n *node) do(method, path string, body any, want int, out any) {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, n.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+n.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		n.t.Fatalf("%s %s%s: %d %s", method, n.url, path, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			n.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// created posts and returns the id of what was created.
func (n *node) created(method, path string, body any) uint64 {
	n.t.Helper()
	var out map[string]any
	n.do(method, path, body, http.StatusCreated, &out)
	return findID(n.t, out)
}

// id finds, in the list under key, the id of the item whose field is value.
func (n *node) id(method, path string, body any, key, field, value string) uint64 {
	n.t.Helper()
	var out map[string]any
	n.do(method, path, body, http.StatusOK, &out)
	list, _ := out[key].([]any)
	for _, it := range list {
		m, _ := it.(map[string]any)
		if inner, ok := m[strings.TrimSuffix(key, "s")].(map[string]any); ok {
			m = inner
		}
		if fmt.Sprint(m[field]) == value {
			return findID(n.t, m)
		}
	}
	n.t.Fatalf("%s %s: no %s with %s %q", method, path, key, field, value)
	return 0
}

// findID reads "id" of an object, or of the one object it wraps.
func findID(t *testing.T, m map[string]any) uint64 {
	t.Helper()
	if v, ok := m["id"].(float64); ok {
		return uint64(v)
	}
	for _, v := range m {
		if inner, ok := v.(map[string]any); ok {
			if id, ok := inner["id"].(float64); ok {
				return uint64(id)
			}
		}
	}
	t.Fatalf("no id in %v", m)
	return 0
}

// waitBatchHolder returns the index of the worker that logs the go-live
// gates of instant at's batch (ten campaigns or more at once), watching
// from a second before the instant.
func waitBatchHolder(t *testing.T, workers []*proc, at time.Time) int {
	t.Helper()
	time.Sleep(time.Until(at.Add(-time.Second)))
	batch := regexp.MustCompile(`go-live gates evaluated" campaigns=[1-9][0-9]`)
	seen := make([]int, len(workers))
	for i, w := range workers {
		seen[i] = len(batch.FindAllString(w.output(), -1))
	}
	for deadline := at.Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for i, w := range workers {
			if len(batch.FindAllString(w.output(), -1)) > seen[i] {
				return i
			}
		}
	}
	t.Fatalf("no worker evaluated the batch of %s", at)
	return -1
}

func flushRedis(t *testing.T, rawURL string) {
	t.Helper()
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	// FLUSHDB, not FLUSHALL: the test's own database only.
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func waitUntil(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeTCPPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// sharedStorageEnv puts the nodes' feeds and uploads in one new bucket of
// the tests' S3 server: the only storage they share.
func sharedStorageEnv(t *testing.T) []string {
	return []string{"RAMPE_FEEDS_STORAGE_URL=" + testenv.S3(t).URL()}
}
