package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/mailer/mailertest"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
)

// hook is a real HTTP server standing for a Slack-compatible webhook.
type hook struct {
	mu     sync.Mutex
	bodies []map[string]any
	status int
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.status != 0 {
		w.WriteHeader(h.status)
		fmt.Fprint(w, "invalid_token")
		return
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	h.bodies = append(h.bodies, m)
	fmt.Fprint(w, "ok")
}

func (h *hook) got() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.bodies...)
}

type fixture struct {
	svc   *Service
	cs    *campaigns.Service
	ana   *accounts.User
	smtp  *mailertest.Server
	hook  *hook
	url   string
	clock *clock.Fixed
	camp  *campaigns.Campaign
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	g := testenv.DB(t, db.Migrations, accounts.Migrations, campaigns.Migrations, Migrations)
	clk := clock.NewFixed(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	cs := campaigns.NewService(g, queue.NewClient(testenv.Redis(t)), clk)
	acc := &accounts.Store{DB: g}
	ana, err := acc.CreateUser(ctx, "ana@shop.example", "Ana", accounts.Marketer, "long-enough-password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.CreateUser(ctx, "bob@shop.example", "Bob", accounts.Viewer, "long-enough-password"); err != nil {
		t.Fatal(err)
	}
	srv := mailertest.Start(t)
	cfg, _ := mailer.ParseURL(fmt.Sprintf("smtp://127.0.0.1:%d?tls=none", srv.Port))
	cfg.From = "rampe@shop.example"
	h := &hook{}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	svc := &Service{DB: g, Alerts: cs, Users: AccountUsers{acc}, Send: NetSender{Mailer: mailer.New(cfg), HTTP: NewHTTPClient()},
		BaseURL: "https://rampe.shop.example", EmailReady: true, HTTPHosts: []string{"127.0.0.1"}, Clock: clk}
	in := campaigns.Input{Name: "Soldes d'hiver", Channels: []string{"seo"}, TimeZone: "Europe/Paris", StartsAt: "2026-12-01T08:00", EndsAt: "2026-12-10T20:00",
		Currency: "EUR", Budgets: map[string]int64{"seo": 100}, Forecast: map[string]map[string]float64{"seo": {"sessions_per_day": 100}}}
	c, err := cs.Create(ctx, in, "ana@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, cs: cs, ana: ana, smtp: srv, hook: h, url: hs.URL, clock: clk, camp: c}
}

func (f *fixture) raise(t *testing.T, kind, msg string) {
	t.Helper()
	if err := f.cs.DB.Create(&campaigns.Alert{CampaignID: f.camp.ID, Kind: kind, Message: msg, CreatedAt: f.clock.Now()}).Error; err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) tick(t *testing.T) {
	t.Helper()
	if _, err := f.svc.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Deliver(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Alerts reach the users who asked, by e-mail and webhook, once per
// campaign and cause until the text changes; the others get nothing.
func TestAlertsReachPeopleOncePerCause(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	f.raise(t, "blocked", "an alert from before Rampe sent any")
	if err := f.svc.SavePref(ctx, Pref{UserID: f.ana.ID, Email: true, WebhookURL: f.url + "/hooks/T000/B000"}); err != nil {
		t.Fatal(err)
	}
	f.tick(t) // the first collection starts from the newest alert: no history mailed
	if len(f.smtp.Mails()) != 0 {
		t.Fatalf("history mailed: %+v", f.smtp.Mails())
	}
	for i := 0; i < 3; i++ {
		f.raise(t, "blocked", "Soldes d'hiver did not go live: landing.published fail")
	}
	f.tick(t)
	mails := f.smtp.Mails()
	if len(mails) != 1 || mails[0].To[0] != "ana@shop.example" || !strings.Contains(mails[0].Data, "landing.published fail") ||
		!strings.Contains(mails[0].Data, fmt.Sprintf("https://rampe.shop.example/campaigns/%d", f.camp.ID)) {
		t.Fatalf("want one e-mail to ana, got %+v", mails)
	}
	hooks := f.hook.got()
	if len(hooks) != 1 || !strings.Contains(hooks[0]["text"].(string), "landing.published fail") {
		t.Fatalf("want one webhook with a text field, got %+v", hooks)
	}
	// The cause changes: told again.
	f.raise(t, "blocked", "Soldes d'hiver did not go live: landing.load_checked fail")
	f.tick(t)
	if len(f.smtp.Mails()) != 2 || len(f.hook.got()) != 2 {
		t.Fatalf("a new cause: %d mails, %d hooks", len(f.smtp.Mails()), len(f.hook.got()))
	}
}

// A webhook that fails is retried with back-off, says why, and fails for
// good after its attempts; two workers collecting at once send once.
func TestFailedDeliveriesRetryThenFail(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	f.tick(t)
	f.hook.mu.Lock()
	f.hook.status = 404
	f.hook.mu.Unlock()
	if err := f.svc.SavePref(ctx, Pref{UserID: f.ana.ID, WebhookURL: f.url + "/gone"}); err != nil {
		t.Fatal(err)
	}
	f.raise(t, "recheck-24h", "Soldes d'hiver starts in 24h and is not ready")
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); f.svc.Collect(ctx) }()
	}
	wg.Wait()
	var n int64
	f.svc.DB.Model(&Delivery{}).Count(&n)
	if n != 1 {
		t.Fatalf("two collections made %d deliveries", n)
	}
	for i := 0; i < maxAttempts; i++ {
		if _, _, err := f.svc.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(f.clock.Now().Add(2 * time.Hour))
	}
	list, _ := f.svc.Deliveries(ctx, f.ana.ID, 10)
	if len(list) != 1 || list[0].Status != Failed || list[0].Attempts != maxAttempts || !strings.Contains(list[0].Error, "404") {
		t.Fatalf("deliveries: %+v", list)
	}
}

func TestWebhookURLsAreChecked(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	for _, bad := range []string{"ftp://x.example/", "http://internal.example/hook", "not a url", "https://user:pw@x.example/"} {
		err := f.svc.SavePref(ctx, Pref{UserID: f.ana.ID, WebhookURL: bad})
		if fe, ok := err.(*FieldError); !ok || fe.Field != "webhook_url" {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if err := f.svc.SavePref(ctx, Pref{UserID: f.ana.ID, WebhookURL: "https://hooks.slack.example/services/T/B/X"}); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.svc.Pref(ctx, f.ana.ID); p.WebhookURL != "https://hooks.slack.example/services/T/B/X" {
		t.Fatalf("saved: %+v", p)
	}
	if backoff(1) != 30*time.Second || backoff(3) != 2*time.Minute || backoff(20) != time.Hour {
		t.Errorf("backoff: %v %v %v", backoff(1), backoff(3), backoff(20))
	}
}

// TestAlertMailSpeaksItsReadersLanguage: the e-mail of an alert is written
// in each recipient's language; the webhook keeps the English.
func TestAlertMailSpeaksItsReadersLanguage(t *testing.T) {
	s := &Service{BaseURL: "http://rampe.test", EmailReady: true, Clock: clock.System{}}
	msg := i18n.M("%s ended without going live", "Soldes")
	a := campaigns.Alert{ID: 7, CampaignID: 3, Kind: "ended-unlaunched", Message: msg.String(), MessageTexts: i18n.Render(msg), CreatedAt: time.Now().UTC()}
	rs := []Recipient{{ID: 1, Email: "fr@shop.example", Lang: "fr"}, {ID: 2, Email: "en@shop.example"}}
	prefs := map[uint64]Pref{1: {Email: true, WebhookURL: "https://hooks.example/x"}, 2: {Email: true}}
	out := s.deliveriesFor(a, rs, prefs)
	if len(out) != 3 {
		t.Fatalf("%d deliveries", len(out))
	}
	for _, d := range out {
		switch {
		case d.Channel == "email" && d.UserID == 1:
			if d.Subject != "[Rampe] Soldes s'est terminée sans avoir été en ligne" || !strings.Contains(d.Body, "Levée le ") {
				t.Errorf("French mail: %q %q", d.Subject, d.Body)
			}
		case d.Channel == "email":
			if d.Subject != "[Rampe] Soldes ended without going live" || !strings.Contains(d.Body, "Raised at ") {
				t.Errorf("English mail: %q %q", d.Subject, d.Body)
			}
		default:
			if !strings.Contains(d.Body, "ended without going live") {
				t.Errorf("webhook: %q", d.Body)
			}
		}
	}
}
