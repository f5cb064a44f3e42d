package email

import (
	"context"
	"fmt"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/testenv"
)

func startOutbox(t *testing.T) *Outbox {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	o := &Outbox{DB: testenv.DB(t, db.Migrations, campaigns.Migrations, Migrations)}
	if err := o.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return o
}

// go-mail sends through real SMTP to the catch-all; the outbox shows the
// message as its recipient reads it.
func TestOutboxKeepsWhatRampeSends(t *testing.T) {
	ctx := context.Background()
	o := startOutbox(t)
	cfg, err := mailer.ParseURL(fmt.Sprintf("smtp://127.0.0.1:%d?tls=none", o.Port()))
	if err != nil {
		t.Fatal(err)
	}
	cfg.From = "Rampe <rampe@shop.example>"
	body := "Bonjour Ana,\nla campagne « Soldes d'été » est bloquée : landing.published.\n" + strings.Repeat("ligne longue ", 20)
	if err := mailer.New(cfg).Send(ctx, mailer.Message{To: "ana@shop.example", Subject: "Soldes d'été : bloquée", Text: body}); err != nil {
		t.Fatal(err)
	}
	list, total, err := o.List(ctx, 0, 50)
	if err != nil || total != 1 || len(list) != 1 || list[0].Subject != "Soldes d'été : bloquée" || list[0].RcptTo != "ana@shop.example" {
		t.Fatalf("list: %+v %d %v", list, total, err)
	}
	m, err := o.Get(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	r := Read(m)
	if strings.TrimSpace(r.Text) != strings.TrimSpace(body) || !strings.Contains(r.From, "rampe@shop.example") || r.HTML {
		t.Fatalf("read: %+v", r)
	}
	if _, err := o.Get(ctx, 999); err != ErrNotFound {
		t.Fatalf("missing message: %v", err)
	}
}

// Any SMTP client may write; multipart, base64 and hostile HTML are read
// for display, never run (the page escapes them).
func TestOutboxReadsMultipartMessages(t *testing.T) {
	ctx := context.Background()
	o := startOutbox(t)
	raw := "From: shop@shop.example\r\nTo: bob@shop.example\r\nSubject: =?UTF-8?B?w4l0w6k=?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"UHJvbW9zIGQnw6l0w6k=\r\n--XX\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n--XX--\r\n"
	if err := smtp.SendMail(fmt.Sprintf("127.0.0.1:%d", o.Port()), nil, "shop@shop.example", []string{"bob@shop.example"}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	var list []OutboxMessage
	for i := 0; i < 50 && len(list) == 0; i++ {
		list, _, _ = o.List(ctx, 0, 10)
		time.Sleep(10 * time.Millisecond)
	}
	m, _ := o.Get(ctx, list[0].ID)
	r := Read(m)
	if r.Subject != "Été" || r.Text != "Promos d'été" || !r.HTML {
		t.Fatalf("read: %+v", r)
	}
}
