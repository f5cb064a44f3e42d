package mailer

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rampe/rampe/platform/mailer/mailertest"
)

func TestParseURLNamesWhatIsWrong(t *testing.T) {
	c, err := ParseURL("smtp://ana:s3cret@mail.shop.example:2525?tls=none")
	if err != nil || c.Host != "mail.shop.example" || c.Port != 2525 || c.Username != "ana" || c.Password != "s3cret" || c.TLS != "none" {
		t.Fatalf("%+v %v", c, err)
	}
	if c, _ := ParseURL("smtp://mail.shop.example"); c.Port != 587 || c.TLS != "starttls" {
		t.Fatalf("defaults: %+v", c)
	}
	if c, _ := ParseURL("smtp://mail.shop.example?tls=tls"); c.Port != 465 {
		t.Fatalf("implicit TLS: %+v", c)
	}
	for raw, want := range map[string]string{"http://x": "smtp://", "smtp://x?tls=maybe": `tls="maybe"`, "smtp://x:0": `port "0"`} {
		if _, err := ParseURL(raw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

// A real SMTP server receives the message; a CR LF in the subject adds no
// header; a refused recipient is an error naming the server.
func TestSendThroughARealSMTPServer(t *testing.T) {
	srv := mailertest.Start(t)
	cfg, err := ParseURL(fmt.Sprintf("smtp://127.0.0.1:%d?tls=none", srv.Port))
	if err != nil {
		t.Fatal(err)
	}
	cfg.From = "Rampe <rampe@shop.example>"
	m := New(cfg)
	err = m.Send(context.Background(), Message{To: "ana@shop.example", Subject: "Soldes d'été\r\nBcc: evil@example.com", Text: "La campagne est bloquée."})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Mails()
	if len(got) != 1 || got[0].To[0] != "ana@shop.example" || got[0].From != "rampe@shop.example" {
		t.Fatalf("received: %+v", got)
	}
	if strings.Contains(got[0].Data, "\r\nBcc:") || !strings.Contains(got[0].Data, "Subject:") {
		t.Fatalf("header injected: %s", got[0].Data)
	}
	srv.Refuse("nobody")
	if err := m.Send(context.Background(), Message{To: "nobody@shop.example", Subject: "x", Text: "x"}); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("refused recipient: %v", err)
	}
}
