package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gorm.io/gorm"
)

// cli runs the rampe binary on the bench's database.
type cli struct {
	bin, dir string
	env      []string
}

func (c *cli) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(c.bin, args...)
	cmd.Env, cmd.Dir = c.env, c.dir
	return cmd
}

func (c *cli) run(args ...string) string {
	var out, errb bytes.Buffer
	cmd := c.cmd(args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		must(fmt.Errorf("rampe %s: %w: %s", strings.Join(args, " "), err, errb.String()))
	}
	return out.String()
}

type feedFigures struct{ with, without, rss float64 }

// measureFeeds runs `rampe feed generate` reps times without the promotions
// (drafts) and with them, alternating, the last with them: the medians of
// wall time, and the highest peak RSS with promotions.
func measureFeeds(ctx context.Context, g *gorm.DB, c *cli, reps int) feedFigures {
	var with, without, rss []float64
	for i := range 2 * reps {
		promo := i%2 == 1
		status := map[bool]string{true: "published", false: "draft"}[promo]
		must(g.WithContext(ctx).Exec("UPDATE promotions SET status = ?", status).Error)
		cmd := c.cmd("feed", "generate", "bench")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, io.Discard
		t := time.Now()
		must(cmd.Run())
		secs := time.Since(t).Seconds()
		mib := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
		if promo {
			with, rss = append(with, secs), append(rss, mib)
		} else {
			without = append(without, secs)
		}
		line := ""
		if m := regexp.MustCompile(`\d+ items written[^\n]*`).FindString(out.String()); m != "" {
			line = m
		}
		logf("feed generation %d (promotions %s): %.2f s, %.0f MiB: %s", i/2+1, status, secs, mib, line)
	}
	w, wlo, whi := stats(with)
	n, nlo, nhi := stats(without)
	_, _, r := stats(rss)
	logf("feed generation: with promotions median %.2f s (%.2f–%.2f), without %.2f s (%.2f–%.2f), peak RSS %.0f MiB", w, wlo, whi, n, nlo, nhi, r)
	return feedFigures{with: w, without: n, rss: r}
}

type server struct {
	cmd *exec.Cmd
	log *os.File
}

func startServer(c *cli, port int) *server {
	f, err := os.Create(filepath.Join(c.dir, "serve.log"))
	must(err)
	cmd := c.cmd("serve")
	cmd.Stdout, cmd.Stderr = f, f
	must(cmd.Start())
	s := &server{cmd: cmd, log: f}
	for i := 0; ; i++ {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
		if err == nil {
			res.Body.Close()
			return s
		}
		if i > 600 {
			s.stop()
			must(fmt.Errorf("the server did not answer in 60 s: %w (see %s)", err, f.Name()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
	}
	s.log.Close()
}

// cpuTicks is the server's user + system CPU in clock ticks.
func (s *server) cpuTicks() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	must(err)
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}

// idleCPU is the share of a core the server used over d, in %.
func (s *server) idleCPU(d time.Duration) float64 {
	a := s.cpuTicks()
	time.Sleep(d)
	pct := float64(s.cpuTicks()-a) / 100 / d.Seconds() * 100 // USER_HZ is 100
	logf("idle CPU over %s: %.2f %% of a core", d, pct)
	return pct
}

// client speaks to the server as a signed-in admin (UI) and with a token (API).
type client struct {
	base, token, csrf string
	http              *http.Client
}

func newClient(base, token string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{base: base, token: token, http: &http.Client{Jar: jar, Timeout: 5 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (c *client) do(method, path string, body io.Reader, api bool) (int, string) {
	req, err := http.NewRequest(method, c.base+path, body)
	must(err)
	if api {
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/json")
	} else if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.http.Do(req)
	must(err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(err)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return res.StatusCode, string(b)
}

func (c *client) login(email, password string) {
	c.do("GET", "/login", nil, false)
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {c.csrf}}
	if code, body := c.do("POST", "/login", strings.NewReader(form.Encode()), false); code != http.StatusSeeOther {
		must(fmt.Errorf("sign-in: %d %.300s", code, body))
	}
}

func (c *client) json(path string) map[string]any {
	code, body := c.do("GET", path, nil, true)
	if code != 200 {
		must(fmt.Errorf("GET %s: %d %.300s", path, code, body))
	}
	var m map[string]any
	must(json.Unmarshal([]byte(body), &m))
	return m
}

type pageFigure struct {
	name           string
	median, lo, hi float64
}

// measurePages asks each page reps times after a warm-up.
func measurePages(c *client, s seeded, reps int, only string) []pageFigure {
	list := []struct {
		name, path string
		api        bool
	}{
		{"campaigns_ui", "/campaigns", false},
		{"campaigns_api", "/api/v1/campaigns", true},
		{"campaign_ui", fmt.Sprintf("/campaigns/%d", s.comparators), false},
		{"campaign_api", fmt.Sprintf("/api/v1/campaigns/%d", s.comparators), true},
		{"readiness", fmt.Sprintf("/api/v1/campaigns/%d/readiness", s.comparators), true},
		{"calendar_ui", "/calendar", false},
		{"capacity_ui", "/capacity", false},
		{"products_ui", "/products", false},
		{"products_search_ui", "/products?q=" + rareWord, false},
		{"products_brand_ui", "/products?brand=Brand7", false},
		// A word in every title with a brand of 20,000 products, and with
		// a brand that has none (the filter drives the search).
		{"products_word_brand_ui", "/products?q=produit&brand=Brand7", false},
		{"products_word_nobrand_ui", "/products?q=produit&brand=Nobody", false},
		{"products_search_api", "/api/v1/products?q=" + rareWord, true},
		{"promotions_ui", "/promotions", false},
		{"promotion_ui", fmt.Sprintf("/promotions/%d", s.brandPromo), false},
		{"promotions_api", "/api/v1/promotions", true},
	}
	var out []pageFigure
	keep := regexp.MustCompile(only)
	for _, p := range list {
		if !keep.MatchString(p.name) {
			continue
		}
		var ms []float64
		first := 0.0
		for i := range reps + 1 {
			t := time.Now()
			code, body := c.do("GET", p.path, nil, p.api)
			d := float64(time.Since(t).Microseconds()) / 1000
			if code != 200 {
				must(fmt.Errorf("GET %s: %d %.300s", p.path, code, body))
			}
			if i > 0 { // the first is a warm-up
				ms = append(ms, d)
			} else {
				first = d
			}
		}
		med, lo, hi := stats(ms)
		logf("%-20s %8.1f ms (%.1f–%.1f; first %.1f)  %s", p.name, med, lo, hi, first, p.path)
		out = append(out, pageFigure{p.name, med, lo, hi})
	}
	return out
}

// measurePublish publishes the page reps times through the API, each time
// until every campaign linking it has its readiness stored again (the
// bench clears them first), or until timeout: the median in seconds, and
// how many re-checks the last publish saw done of how many.
func measurePublish(ctx context.Context, g *gorm.DB, c *client, pageID uint64, reps int, timeout time.Duration) (med float64, done string, complete bool) {
	linked := count(g, "SELECT COUNT(*) FROM campaigns WHERE landing_page_id = ?", pageID)
	var secs []float64
	done = "0/0"
	for i := range reps {
		must(g.WithContext(ctx).Exec("UPDATE campaigns SET readiness = NULL WHERE landing_page_id = ?", pageID).Error)
		t := time.Now()
		if code, body := c.do("POST", fmt.Sprintf("/api/v1/pages/%d/publish", pageID), strings.NewReader("{}"), true); code != 200 && code != 201 {
			must(fmt.Errorf("publish: %d %.300s", code, body))
		}
		left := linked
		for left > 0 && time.Since(t) < timeout {
			time.Sleep(50 * time.Millisecond)
			left = count(g, "SELECT COUNT(*) FROM campaigns WHERE landing_page_id = ? AND readiness IS NULL", pageID)
		}
		secs = append(secs, time.Since(t).Seconds())
		done = fmt.Sprintf("%d/%d", linked-left, linked)
		logf("publish %d: %s campaigns re-checked in %.2f s", i+1, done, secs[len(secs)-1])
		if left > 0 {
			return secs[len(secs)-1], done, false // a re-check still runs: the next publish would measure both
		}
	}
	if len(secs) == 0 {
		return 0, done, false
	}
	med, lo, hi := stats(secs)
	logf("publish: median %.2f s (%.2f–%.2f)", med, lo, hi)
	return med, done, true
}

// checkCounts compares what the server shows with the database: "ok", or
// what differs.
func checkCounts(ctx context.Context, g *gorm.DB, c *client, o options) string {
	var bad []string
	check := func(what string, got, want int64) {
		if got != want {
			bad = append(bad, fmt.Sprintf("%s:%d/%d", what, got, want))
		}
		logf("count %-28s server %d, database %d", what, got, want)
	}
	campaignsN := count(g, "SELECT COUNT(*) FROM campaigns")
	check("api_campaigns_total", int64(c.json("/api/v1/campaigns")["total"].(float64)), campaignsN)
	seen, path := int64(0), "/api/v1/campaigns?limit=500"
	for path != "" {
		m := c.json(path)
		seen += int64(len(m["campaigns"].([]any)))
		path = ""
		if next, ok := m["next_after"].(float64); ok {
			path = fmt.Sprintf("/api/v1/campaigns?limit=500&after=%d", int64(next))
		}
	}
	check("api_campaigns_paged", seen, campaignsN)
	check("api_promotions_total", int64(c.json("/api/v1/promotions")["total"].(float64)), count(g, "SELECT COUNT(*) FROM promotions"))
	productsN := count(g, "SELECT COUNT(*) FROM products")
	_, body := c.do("GET", "/products", nil, false)
	shown := int64(-1)
	if m := regexp.MustCompile(`([\d,]+) in the catalog`).FindStringSubmatch(body); m != nil {
		shown, _ = strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
	}
	check("products_page_total", shown, productsN)
	check("feed_items_read", count(g, "SELECT items_read FROM feed_runs WHERE status = 'done' ORDER BY id DESC LIMIT 1"), productsN)
	check("products_search_api", int64(len(c.json("/api/v1/products?q=" + rareWord + "&limit=500")["products"].([]any))),
		count(g, "SELECT COUNT(*) FROM products WHERE LOWER(title) LIKE ?", "%"+rareWord+"%"))
	r := c.json(fmt.Sprintf("/api/v1/campaigns/%d/readiness", o.comparatorsID(g)))
	logf("readiness of a comparators campaign: %.400v", r)
	if len(bad) == 0 {
		return "ok"
	}
	return strings.Join(bad, ",")
}

func (o options) comparatorsID(g *gorm.DB) int64 {
	return count(g, "SELECT MAX(campaign_id) FROM campaign_feeds")
}
