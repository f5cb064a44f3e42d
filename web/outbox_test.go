package web

import (
	"context"
	"fmt"
	"net/smtp"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/platform/mailer"
)

// With no smtp.url, alert e-mails go through the catch-all and a marketer
// reads them on the Outbox page; hostile HTML in a message is shown as
// text, never run.
func TestUIOutboxShowsWhatWasSent(t *testing.T) {
	var box *email.Outbox
	a := newTestApp(t, func(d *Deps) {
		box = &email.Outbox{DB: d.DB}
		d.Outbox = box
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := box.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cfg, _ := mailer.ParseURL(fmt.Sprintf("smtp://127.0.0.1:%d?tls=none", box.Port()))
	cfg.From = "rampe@shop.example"
	if err := mailer.New(cfg).Send(ctx, mailer.Message{To: "ana@shop.example", Subject: "[Rampe] Soldes did not go live", Text: "landing.published fail"}); err != nil {
		t.Fatal(err)
	}
	hostile := "Subject: <img src=x onerror=alert(1)>\r\nContent-Type: text/plain\r\n\r\n<script>alert(1)</script>\r\n"
	if err := smtp.SendMail(fmt.Sprintf("127.0.0.1:%d", box.Port()), nil, "x@evil.example", []string{"ana@shop.example"}, []byte(hostile)); err != nil {
		t.Fatal(err)
	}
	b := a.browser(accounts.Viewer)
	list := b.get("/outbox")
	if list.Status != 200 || !strings.Contains(list.Body, "[Rampe] Soldes did not go live") || !strings.Contains(list.Body, ">Outbox</a>") ||
		strings.Contains(list.Body, "<img src=x") {
		t.Fatalf("outbox: %d %.3000s", list.Status, list.Body)
	}
	msgs, _, _ := box.List(context.Background(), 0, 10)
	for _, m := range msgs {
		page := b.get(fmt.Sprintf("/outbox/%d", m.ID))
		if page.Status != 200 || strings.Contains(page.Body, "<script>alert(1)") {
			t.Fatalf("message %d: %d %.2000s", m.ID, page.Status, page.Body)
		}
	}
	if r := b.get("/outbox/99999"); r.Status != 404 {
		t.Errorf("missing message: %d", r.Status)
	}
	// With smtp.url set there is no Outbox.
	c := newTestApp(t)
	if r := c.browser(accounts.Viewer).get("/outbox"); r.Status != 404 {
		t.Errorf("no catch-all, yet /outbox answered %d", r.Status)
	}
}
