package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/mailer/mailertest"
)

// withEmail connects the e-mail channel to a real SMTP server.
func withEmail(t *testing.T, srv *mailertest.Server, out **email.Sender) func(*Deps) {
	return func(d *Deps) {
		cfg, _ := mailer.ParseURL(fmt.Sprintf("smtp://127.0.0.1:%d?tls=none", srv.Port))
		d.Email = &email.Sender{DB: d.DB, Campaigns: d.Campaigns, Messages: &email.Messages{DB: d.DB, Clock: clock.System{}}, Audience: audience.ForEmail{Service: d.Audience},
			Offers: d.Landing, Clicks: d.Clicks, Tasks: d.Campaigns.Tasks, SMTP: cfg, BaseURL: d.BaseURL, Secret: d.Secret, Pool: 2, Clock: clock.System{}}
		*out = d.Email
	}
}

var unsubURL = regexp.MustCompile(`List-Unsubscribe: <([^>]+)>`)
var trackedURL = regexp.MustCompile(`http://127\.0\.0\.1/r/[A-Za-z0-9_.-]+`)

func TestEmailChannelThroughTheAPIAndThePages(t *testing.T) {
	ctx := context.Background()
	srv := mailertest.Start(t)
	var sender *email.Sender
	a := newTestApp(t, withEmail(t, srv, &sender))
	page := a.seedPage(t)
	no := false
	list, err := a.Audience.CreateList(ctx, audience.ListInput{Name: "Newsletter", DoubleOptIn: &no})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []audience.Input{{Email: "ana@example.org", Name: "Ana Martin", Locale: "fr"}, {Email: "bob@example.org", Name: "Bob Stone", Locale: "en"},
		{Email: "cleo@example.org", Name: "Cléo", Locale: "fr"}} {
		c, err := a.Audience.Create(ctx, in, audience.Actor{Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Audience.AddMember(ctx, list.ID, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	camp, err := a.Campaigns.Create(ctx, campaigns.Input{Name: "Soldes d'hiver", Channels: []string{"email"}, StartsAt: time.Now().Add(-time.Hour).Format(time.RFC3339),
		EndsAt: time.Now().Add(48 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"email": 100}, LandingPageID: &page.ID,
		Forecast: map[string]map[string]float64{"email": {"audience": 3, "open_rate": 0.3, "click_rate": 0.1}}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/campaigns/%d/email", camp.ID)

	// Bad input names the field and changes nothing.
	for body, field := range map[string]string{
		`{"from": "news@shop.example", "subject": "Soldes\r\nBcc: all@evil.example", "body": "x"}`: "subject",
		`{"from": "news@shop.example", "subject": "Soldes", "body": "Bonjour\n\n{{.first_name"}`:   "body",
		`{"from": "not an address", "subject": "Soldes", "body": "x"}`:                             "from",
		`{"from": "news@shop.example", "subject": 12, "body": "x"}`:                                "",
	} {
		r := a.api("PUT", path, accounts.Marketer, body)
		if r.Status != 422 && r.Status != 400 || !strings.Contains(r.Body, `"field":"`+field+`"`) && field != "" {
			t.Errorf("%s: %d %s", body, r.Status, r.Body)
		}
	}
	// A 10 MB body is refused before it is read: a 413, or the connection
	// closed while the client still writes.
	big, _ := http.NewRequest("PUT", a.URL+path, strings.NewReader(`{"from": "news@shop.example", "subject": "S", "body": "`+strings.Repeat("x", 10<<20)+`"}`))
	big.Header.Set("Authorization", "Bearer "+a.tokens[accounts.Marketer])
	big.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(big); err == nil {
		res.Body.Close()
		if res.StatusCode != 413 {
			t.Errorf("a 10 MB body: %d", res.StatusCode)
		}
	}
	if r := a.api("GET", path, accounts.Viewer, ""); r.Status != 404 {
		t.Fatalf("a refused message was saved: %d %s", r.Status, r.Body)
	}
	if r := a.api("PUT", path, accounts.Viewer, `{"from": "news@shop.example", "subject": "S", "body": "x"}`); r.Status != 403 {
		t.Fatalf("a viewer wrote a message: %d", r.Status)
	}
	msg := fmt.Sprintf(`{"from": "news@shop.example", "from_name": "Boutique", "subject": "{{.first_name}}, les soldes", "list_id": %d,
		"body": "Bonjour {{or .first_name \"\"}} <script>alert(1)</script>\n\n[Voir]({{.landing_url}})\n\n{{.products}}", "proof_to": "me@shop.example"}`, list.ID)
	if r := a.api("PUT", path, accounts.Marketer, msg); r.Status != 200 {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}

	// The pages: editor, preview, proof.
	b := a.browser(accounts.Marketer)
	if r := b.get(fmt.Sprintf("/campaigns/%d/email", camp.ID)); r.Status != 200 || !strings.Contains(r.Body, "Phone, 375 px") {
		t.Fatalf("editor: %d", r.Status)
	}
	pv := b.get(fmt.Sprintf("/campaigns/%d/email/preview?sample=0", camp.ID))
	if pv.Status != 200 || !strings.Contains(pv.Body, "Bonjour Ana") || strings.Contains(pv.Body, "<script>") || !strings.Contains(pv.Body, "Chaise") ||
		!strings.Contains(pv.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("preview: %d %s", pv.Status, pv.Body)
	}
	if r := b.post(fmt.Sprintf("/campaigns/%d/email/proof", camp.ID), url.Values{"proof_to": {"me@shop.example"}}); r.Status != 303 || len(srv.Mails()) != 1 ||
		!strings.Contains(srv.Mails()[0].Data, "[Proof]") {
		t.Fatalf("proof: %d, %d mails", r.Status, len(srv.Mails()))
	}

	// A wrong send or proof names the field; the send form keeps what was typed.
	r0 := b.post(fmt.Sprintf("/campaigns/%d/sends", camp.ID), url.Values{"label": {"Rappel du soir"}, "local_time": {"25:00"}})
	if r0.Status != 422 || !strings.Contains(r0.Body, "Send not added: Local hour: &#34;25:00&#34;: want HH:MM") || !strings.Contains(r0.Body, `value="Rappel du soir"`) {
		t.Fatalf("a bad send: %d", r0.Status)
	}
	r0 = b.post(fmt.Sprintf("/campaigns/%d/sends", camp.ID), url.Values{"label": {"Trop tard"}, "at": {"2031-01-01T10:00"}})
	if r0.Status != 422 || !strings.Contains(r0.Body, "must fall inside the campaign&#39;s window, ") {
		t.Fatalf("a send after the end: %d", r0.Status)
	}
	if sends, _ := sender.Sends(ctx, camp.ID); len(sends) != 0 {
		t.Fatalf("a refused send was planned: %+v", sends)
	}
	if err := sender.Proof(ctx, camp, &email.Message{CampaignID: camp.ID}, []string{"nope"}); err == nil || err.Error() != `proof_to: "nope" is not an e-mail address` {
		t.Fatalf("a bad proof address: %v", err)
	}

	// Live: the launch mails the list.
	sender.DB.Model(&campaigns.Campaign{}).Where("id = ?", camp.ID).Update("status", campaigns.Live)
	camp.Status = campaigns.Live
	if _, err := sender.Launch(ctx, camp); err != nil {
		t.Fatal(err)
	}
	sends, _ := sender.Sends(ctx, camp.ID)
	if err := sender.Run(ctx, sends[0].ID); err != nil {
		t.Fatal(err)
	}
	mails := srv.Mails()[1:]
	if len(mails) != 3 {
		t.Fatalf("%d mails", len(mails))
	}
	r := a.api("GET", fmt.Sprintf("/api/v1/sends/%d", sends[0].ID), accounts.Viewer, "")
	if r.Status != 200 || !strings.Contains(r.Body, `"sent":3`) {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	var ana string
	for _, m := range mails {
		if m.To[0] == "ana@example.org" {
			ana = m.Data
		}
	}
	// The tracked link lands on the landing page with the UTM.
	link := trackedURL.FindString(strings.ReplaceAll(ana, "=\r\n", ""))
	if link == "" {
		t.Fatalf("no tracked link in %s", ana)
	}
	creq, _ := http.NewRequest("GET", a.URL+strings.TrimPrefix(link, "http://127.0.0.1"), nil)
	res := a.do(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, creq)
	if loc := res.Header.Get("Location"); res.Status != 302 || !strings.Contains(loc, "utm_medium=email") {
		t.Fatalf("click: %d %s", res.Status, loc)
	}
	// The unsubscribe page, and the one-click POST of RFC 8058.
	m := unsubURL.FindStringSubmatch(ana)
	if m == nil {
		t.Fatal("no List-Unsubscribe")
	}
	up := strings.TrimPrefix(m[1], "http://127.0.0.1")
	if r := a.get(up); r.Status != 200 || !strings.Contains(r.Body, "a***@example.org") || !strings.Contains(r.Body, "Me désinscrire") {
		t.Fatalf("unsubscribe page: %d %s", r.Status, r.Body)
	}
	if r := a.get(up[:len(up)-2] + "xx"); r.Status != 404 || strings.Contains(r.Body, "example.org") {
		t.Fatalf("a forged token: %d", r.Status)
	}
	req, _ := http.NewRequest("POST", a.URL+up, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := a.do(http.DefaultClient, req); r.Status != 200 {
		t.Fatalf("one-click: %d %s", r.Status, r.Body)
	}
	if sup, _ := a.Audience.IsSuppressed(ctx, "ana@example.org"); !sup {
		t.Fatal("the one-click POST did not unsubscribe")
	}
	// The provider webhook: a hard bounce suppresses; a wrong event is
	// refused by position, the others apply.
	ev := `{"events": [{"type": "bounce", "bounce_type": "hard", "email": "bob@example.org", "detail": "550 user unknown"}, {"type": "opened", "email": "cleo@example.org"}]}`
	if r := a.api("POST", "/api/v1/email/events", accounts.Marketer, ev); r.Status != 200 || !strings.Contains(r.Body, `"outcome":"suppressed"`) ||
		!strings.Contains(r.Body, `events[1].type`) {
		t.Fatalf("events: %d %s", r.Status, r.Body)
	}
	if sup, _ := a.Audience.IsSuppressed(ctx, "bob@example.org"); !sup {
		t.Fatal("a hard bounce event did not suppress")
	}
	if sup, _ := a.Audience.IsSuppressed(ctx, "cleo@example.org"); sup {
		t.Fatal("a refused event suppressed")
	}
	// The campaign page says where the send stands; the report counts.
	if r := b.get(fmt.Sprintf("/campaigns/%d", camp.ID)); !strings.Contains(r.Body, "Launch: done, 100 % (3 of 3 sent)") {
		t.Fatalf("campaign page lacks the send's state")
	}
	if r := b.get(fmt.Sprintf("/sends/%d", sends[0].ID)); r.Status != 200 || !strings.Contains(r.Body, "Unsubscribed through this send</dt><dd>1") {
		t.Fatalf("report: %d", r.Status)
	}
	// A contact's page lists what was sent to it.
	anaC, _ := a.Audience.ByEmail(ctx, "ana@example.org")
	if r := b.get(fmt.Sprintf("/contacts/%d", anaC.ID)); r.Status != 200 || !strings.Contains(r.Body, "unsubscribed through it") || !strings.Contains(r.Body, "Soldes d&#39;hiver") {
		t.Fatalf("contact page: %d", r.Status)
	}
}
