package web

import (
	"context"
	"encoding/json"
	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/channels/display"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/channels/search"
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/notify"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
	"github.com/rampe/rampe/platform/uploads"
)

// testApp is Rampe's web app on a real 127.0.0.1 listener, over a real
// database and Redis.
type testApp struct {
	t         *testing.T
	app       *fiber.App
	feedJobs  *feeds.Jobs
	imports   []interface{ Register(*asynq.ServeMux) }
	uploadDir string // the upload store of the imports
	URL       string
	Accounts  *accounts.Store
	Campaigns *campaigns.Service
	Landing   *landing.Module
	Catalog   *catalog.Store
	Feeds     *feeds.Service
	checks    *loadcheck.Service
	conn      *queue.Conn
	tokens    map[accounts.Role]string
	Notify    *notify.Service
	Clicks    *clicks.Service
	Audience  *audience.Service
	Mail      *mailbox // what the audience sent (confirmations)
	Search    *search.Channel
	Display   *display.Service
}

const testPassword = "correct-horse-battery"

// newTestApp builds the app; opts may change its dependencies first.
func newTestApp(t *testing.T, opts ...func(*Deps)) *testApp {
	t.Helper()
	g := testenv.DB(t, db.Migrations, accounts.Migrations, campaigns.Migrations, catalog.Migrations, landing.Migrations, feeds.Migrations, loadcheck.Migrations, notify.Migrations, clicks.Migrations, email.Migrations, audience.Migrations, search.Migrations, affiliation.Migrations, display.Migrations, uploads.Migrations)
	conn := testenv.Redis(t)
	clk := clock.System{} // one time source, as cmd/rampe wires it
	cs := campaigns.NewService(g, queue.NewClient(conn), clk)
	acc := &accounts.Store{DB: g, Clock: clk}
	cat := &catalog.Store{DB: g, Clock: clk}
	m := landing.New(g, cat, cs, cs.Gates, conn.Redis, "http://127.0.0.1", "Europe/Paris", clk)
	lc := &loadcheck.Service{Store: &loadcheck.Store{DB: g, Clock: clk}, Campaigns: cs, Pages: m.Pages, Tasks: queue.NewClient(conn), BaseURL: "http://127.0.0.1",
		StepSeconds: 1, Validity: 24 * time.Hour, SafetyFactor: 1.5, Clock: clk,
		Policy: loadcheck.Policy{BaseURL: "http://127.0.0.1", MaxRate: 1000, MaxDuration: time.Minute}}
	fs := &feeds.Service{DB: g, Storage: feeds.Dir{Root: t.TempDir()}, Catalog: cat, Promotions: m.Promotions, BaseURL: "http://127.0.0.1", Clock: clk}
	d := Deps{Clock: clk, DB: g, Redis: conn, Accounts: acc, Campaigns: cs, Catalog: cat, Promotions: m.Promotions, Pages: m.Pages, Landing: m.Server,
		Feeds: fs, FeedJobs: &feeds.Jobs{Service: fs, Tasks: queue.NewClient(conn)}, LoadChecks: lc,
		Secret: []byte("0123456789abcdef0123456789abcdef"), BaseURL: "http://127.0.0.1",
		Notify: &notify.Service{DB: g, Alerts: cs, Users: notify.AccountUsers{Store: acc}, Send: notify.NetSender{HTTP: notify.NewHTTPClient()},
			BaseURL: "http://127.0.0.1", HTTPHosts: []string{"127.0.0.1"}, Clock: clk},
		Clicks: &clicks.Service{DB: g, Secret: []byte("0123456789abcdef0123456789abcdef"), Clock: clk}}
	d.Search = &search.Channel{DB: g, Pages: m.Pages, Renderer: m.Server, Offers: m.Server, BaseURL: "http://127.0.0.1",
		Clock: clk, Auditor: &search.Auditor{WeightBudget: 2 << 20, Clock: clk}}
	box := &mailbox{}
	d.Audience = &audience.Service{DB: g, Secret: d.Secret, BaseURL: d.BaseURL, Send: box.send, Clock: clk}
	// Imports of uploads go through the queue to a worker (startImportWorker).
	ups := uploads.Dir{Root: t.TempDir()}
	upJobs := &uploads.Jobs{DB: g, Uploads: ups, Tasks: queue.NewClient(conn)}
	d.CatalogImports = catalog.NewImportJobs(cat, upJobs, func(ctx context.Context) {
		m.Server.Invalidate(ctx, "")
		d.FeedJobs.EnqueueAll(ctx, "catalog import")
	})
	d.ContactImports = audience.NewImportJobs(d.Audience, upJobs)
	d.Display = &display.Service{DB: g, Clicks: d.Clicks, Bus: conn.Redis, BaseURL: d.BaseURL, PollInterval: 20 * time.Millisecond, Clock: clk,
		LandingURL: func(context.Context, *campaigns.Campaign) (string, error) { return "http://127.0.0.1/l/soldes", nil }}
	d.DisplayMaxAge = time.Second
	if err := d.Display.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(&d)
	}
	app, err := New(d)
	notifySvc, clickSvc, aud, sch, disp := d.Notify, d.Clicks, d.Audience, d.Search, d.Display
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go Serve(app, ln, !d.LandingThroughRouter)
	t.Cleanup(func() { app.Shutdown() })
	ta := &testApp{t: t, app: app, feedJobs: d.FeedJobs, imports: []interface{ Register(*asynq.ServeMux) }{upJobs}, uploadDir: ups.Root, Notify: notifySvc, Clicks: clickSvc, URL: "http://" + ln.Addr().String(), Accounts: acc, Campaigns: cs, Landing: m, Catalog: cat, Feeds: fs, checks: lc, conn: conn, tokens: map[accounts.Role]string{}, Audience: aud, Mail: box, Search: sch, Display: disp}
	for _, r := range []accounts.Role{accounts.Admin, accounts.Marketer, accounts.Viewer} {
		u, err := acc.CreateUser(context.Background(), string(r)+"@shop.example", string(r), r, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		secret, _, err := acc.NewAPIToken(context.Background(), u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		ta.tokens[r] = secret
	}
	return ta
}

type response struct {
	Status int
	Body   string
	Header http.Header
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.Status, r.Body)
	}
	return m
}

// api calls the JSON API with the token of role ("" for none).
// says checks that a page holds every string of want and none of not,
// naming the page in each error (name: its language, its path).
func (r response) says(t *testing.T, name string, want []string, not ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.Body, w) {
			t.Errorf("%s: want %q in the page", name, w)
		}
	}
	for _, n := range not {
		if strings.Contains(r.Body, n) {
			t.Errorf("%s: the page says %q", name, n)
		}
	}
}

func (a *testApp) api(method, path string, role accounts.Role, body string) response {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+a.tokens[role])
	}
	return a.do(http.DefaultClient, req)
}

func (a *testApp) do(client *http.Client, req *http.Request) response {
	a.t.Helper()
	res, err := client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Body: string(b), Header: res.Header}
}

// browser is a signed-in cookie jar that follows the CSRF rules of a page.
type browser struct {
	a      *testApp
	client *http.Client
	csrf   string
	// acceptLanguage is the browser's Accept-Language ("" sends none).
	acceptLanguage string
	// htmx sends HX-Request, as htmx does when it fetches a fragment.
	htmx bool
}

// fragment is the browser as htmx: its requests ask for page fragments.
func (b *browser) fragment() *browser {
	f := *b
	f.htmx = true
	return &f
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (a *testApp) browser(role accounts.Role) *browser {
	a.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{a: a, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.get("/login")
	if role != "" {
		res := b.post("/login", url.Values{"email": {string(role) + "@shop.example"}, "password": {testPassword}})
		if res.Status != http.StatusSeeOther {
			a.t.Fatalf("sign-in as %s: %d %s", role, res.Status, res.Body)
		}
	}
	return b
}

func (b *browser) get(path string) response {
	b.a.t.Helper()
	req, _ := http.NewRequest("GET", b.a.URL+path, nil)
	if b.acceptLanguage != "" {
		req.Header.Set("Accept-Language", b.acceptLanguage)
	}
	if b.htmx {
		req.Header.Set("HX-Request", "true")
	}
	res := b.a.do(b.client, req)
	if m := csrfRE.FindStringSubmatch(res.Body); m != nil {
		b.csrf = m[1]
	}
	return res
}

func (b *browser) post(path string, form url.Values) response {
	b.a.t.Helper()
	if form.Get("_csrf") == "" && b.csrf != "" {
		form.Set("_csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.a.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.acceptLanguage != "" {
		req.Header.Set("Accept-Language", b.acceptLanguage)
	}
	if b.htmx {
		req.Header.Set("HX-Request", "true")
	}
	return b.a.do(b.client, req)
}

// LoadChecksStore is the load-check repository of the app.
func (a *testApp) LoadChecksStore() *loadcheck.Store { return a.checks.Store }

// createCampaign stores a draft e-mail campaign starting in two days and
// returns its id.
func (a *testApp) createCampaign(t *testing.T, name string) uint64 {
	t.Helper()
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Hour)
	c, err := a.Campaigns.Create(context.Background(), campaigns.Input{Name: name, Channels: []string{"email"}, TimeZone: "Europe/Paris",
		StartsAt: start.Format(time.RFC3339), EndsAt: start.Add(24 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"email": 100},
		Forecast: map[string]map[string]float64{"email": {"audience": 1000, "open_rate": 0.5, "click_rate": 0.5}}}, "test@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}
