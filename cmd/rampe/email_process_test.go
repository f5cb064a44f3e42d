package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/mailer/mailertest"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
)

// A worker SIGKILLed in the middle of a send, then another started, mails
// every remaining recipient; only the messages in flight at the kill (at
// most one per connection) may go twice. Real processes, a real SMTP
// server, the real database and Redis.
func TestWorkerKilledDuringSendMailsEveryoneDuplicatesBounded(t *testing.T) {
	const recipients, pool = 1200, 4
	ctx := context.Background()
	smtp := mailertest.Start(t)
	dsn := testenv.DSN(t)
	rurl := redisURL(t)
	env := []string{"RAMPE_DATABASE_DSN=" + dsn, "RAMPE_REDIS_URL=" + rurl, "RAMPE_CAMPAIGNS_RECONCILE_INTERVAL=500ms", "RAMPE_LOG_LEVEL=info",
		fmt.Sprintf("RAMPE_SMTP_URL=smtp://127.0.0.1:%d?tls=none", smtp.Port), "RAMPE_EMAIL_MAX_RATE=150", fmt.Sprintf("RAMPE_EMAIL_POOL_SIZE=%d", pool),
		"RAMPE_JOBS_POLL_INTERVAL=200ms"}
	mig := exec.Command(binary, "migrate")
	mig.Env = append(os.Environ(), env...)
	if out, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	g := testenv.Open(t, dsn)
	conn, err := queue.Connect(ctx, rurl)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cs := campaigns.NewService(g, queue.NewClient(conn), clock.System{})
	lm := landing.New(g, &catalog.Store{DB: g}, cs, cs.Gates, nil, "http://127.0.0.1", "Europe/Paris", cs.Clock)
	page, err := lm.Pages.Create(ctx, landing.PageInput{Slug: "mail", Title: "Mail test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lm.Pages.Publish(ctx, page.ID, "test"); err != nil {
		t.Fatal(err)
	}
	v, _ := lm.Pages.Versions(ctx, page.ID)
	fin := time.Now().UTC()
	if err := g.Create(&loadcheck.Check{PageID: page.ID, PageVersionID: v[0].ID, URL: "http://127.0.0.1/l/mail", TargetRate: 1000, Steps: loadcheck.DefaultSteps,
		StepSeconds: 1, Thresholds: loadcheck.DefaultThresholds, Status: loadcheck.Passed, SustainedRate: 1000, CreatedAt: fin, FinishedAt: &fin}).Error; err != nil {
		t.Fatal(err)
	}
	aud := &audience.Service{DB: g}
	no := false
	list, err := aud.CreateList(ctx, audience.ListInput{Name: "Crash", DoubleOptIn: &no})
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := range recipients {
		fmt.Fprintf(&csv, "r%d@example.org,Client %d\n", i, i)
	}
	if _, err := aud.Import(ctx, strings.NewReader(csv.String()), audience.ImportOptions{ListID: list.ID}); err != nil {
		t.Fatal(err)
	}
	c, err := cs.Create(ctx, campaigns.Input{LandingPageID: &page.ID, Name: "Crash mail", Channels: []string{"email"},
		StartsAt: time.Now().Add(2 * time.Second).Format(time.RFC3339Nano), EndsAt: time.Now().Add(48 * time.Hour).Format(time.RFC3339),
		Budgets: map[string]int64{"email": 100}, Forecast: map[string]map[string]float64{"email": {"audience": recipients, "open_rate": 0.2, "click_rate": 0.1}}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	msgs := &email.Messages{DB: g, Clock: clock.System{}}
	if err := msgs.Save(ctx, &email.Message{CampaignID: c.ID, FromAddr: "news@shop.example", Subject: "Hello {{.name}}", Format: email.FormatMarkdown,
		Body: "[Shop]({{.landing_url}})", ListID: list.ID}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Schedule(ctx, c.ID, "test"); err != nil {
		t.Fatal(err)
	}

	// The first worker puts the campaign live and starts sending; it is
	// killed a quarter of the way through.
	w1 := start(t, env, "worker")
	deadline := time.Now().Add(60 * time.Second)
	for len(smtp.Mails()) < recipients/4 {
		if time.Now().After(deadline) {
			t.Fatalf("the first worker sent %d messages in 60 s", len(smtp.Mails()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := w1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-w1.done
	atKill := len(smtp.Mails())

	// The second finds the send's runner dead and goes on.
	start(t, env, "worker")
	var sd email.Send
	deadline = time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		g.Where("campaign_id = ?", c.ID).Take(&sd)
		if sd.Status == email.SendDone {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if sd.Status != email.SendDone {
		t.Fatalf("send not done after the restart: %s (%s); %d mails", sd.Status, sd.Error, len(smtp.Mails()))
	}
	got := map[string]int{}
	for _, m := range smtp.Mails() {
		got[m.To[0]]++
	}
	if len(got) != recipients {
		t.Fatalf("%d of %d recipients got the message", len(got), recipients)
	}
	dups := len(smtp.Mails()) - recipients
	if dups > pool {
		t.Fatalf("%d duplicates; at most %d (one per connection) may go twice", dups, pool)
	}
	var sent int64
	g.Model(&email.Delivery{}).Where("send_id = ? AND status = ?", sd.ID, email.DeliverySent).Count(&sent)
	if sent != recipients {
		t.Fatalf("ledger: %d sent", sent)
	}
	t.Logf("killed after %d messages; %d duplicates (bound %d)", atKill, dups, pool)
}
