package audience

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/clock"
)

var linkRE = regexp.MustCompile(`https://shop\.example/subscribe/confirm/(\S+)`)

func TestDoubleOptIn(t *testing.T) {
	s, out := newService(t)
	clk := clock.NewFixed(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	s.Clock = clk
	ctx := context.Background()
	l, _ := s.CreateList(ctx, ListInput{Name: "Newsletter"})
	if !l.DoubleOptIn || len(l.Token) < 20 {
		t.Fatalf("list %+v", l)
	}
	sub, err := s.Subscribe(ctx, l.Token, SubscribeInput{Email: "Zoé@Exämple.fr", Name: "Zoé", IP: "192.0.2.7"})
	if err == nil || !strings.Contains(err.Error(), "email") {
		t.Fatalf("non-ASCII local part: %v", err)
	}
	sub, err = s.Subscribe(ctx, l.Token, SubscribeInput{Email: "Zoe@Exämple.fr", Name: "Zoé", IP: "192.0.2.7"})
	if err != nil || !sub.Pending || sub.Contact.Status != Pending {
		t.Fatalf("subscribe: %+v %v", sub, err)
	}
	if page, _ := s.Mailable(ctx, Spec{ListID: l.ID}, 0, 10); len(page) != 0 {
		t.Fatal("a pending contact is mailable")
	}
	msgs := out.all()
	if len(msgs) != 1 || msgs[0].To != "Zoe@xn--exmple-cua.fr" || !strings.Contains(msgs[0].Subject, "Newsletter") {
		t.Fatalf("sent %+v", msgs)
	}
	m := linkRE.FindStringSubmatch(msgs[0].Text)
	if m == nil {
		t.Fatalf("no link in %q", msgs[0].Text)
	}
	token := m[1]
	// Forged and altered tokens.
	for _, bad := range []string{"", "x", token[:len(token)-2] + "AA", strings.ToUpper(token), s.ConfirmToken(sub.Contact.ID, l.ID+1, clk.Now().Add(time.Hour)),
		(&Service{Secret: []byte("another secret")}).ConfirmToken(sub.Contact.ID, l.ID, clk.Now().Add(time.Hour))} {
		if _, _, err := s.Confirm(ctx, bad, "192.0.2.9"); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	c, got, err := s.Confirm(ctx, token, "198.51.100.4")
	if err != nil || c.Status != Confirmed || got.ID != l.ID {
		t.Fatalf("confirm: %+v %v", c, err)
	}
	h, _ := s.History(ctx, c.ID)
	if len(h) != 2 || h[0].Source != "confirm" || h[0].IP != "198.51.100.4" || h[1].Source != "subscribe" || h[1].IP != "192.0.2.7" {
		t.Fatalf("history %+v", h)
	}
	if page, _ := s.Mailable(ctx, Spec{ListID: l.ID}, 0, 10); len(page) != 1 {
		t.Fatal("a confirmed contact is not mailable")
	}
	// Twice is harmless; expired is refused.
	if _, _, err := s.Confirm(ctx, token, "198.51.100.4"); err != nil {
		t.Fatal(err)
	}
	clk.Add(8 * 24 * time.Hour)
	if _, _, err := s.Confirm(ctx, token, "198.51.100.4"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired: %v", err)
	}
	// Unsubscribed after: the old link does nothing.
	clk.Add(-8 * 24 * time.Hour)
	s.Suppress(ctx, c.Email, Unsubscribed, "unsubscribe", "")
	if _, _, err := s.Confirm(ctx, token, "198.51.100.4"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("suppressed: %v", err)
	}
}

func TestSubscribeWithoutDoubleOptInHoneypotAndRateLimit(t *testing.T) {
	s, out := newService(t)
	s.Limits = Limits{PerIP: 3, PerList: 5, Window: time.Minute}
	ctx := context.Background()
	no := false
	l, _ := s.CreateList(ctx, ListInput{Name: "Flash sales", DoubleOptIn: &no})
	if _, err := s.Subscribe(ctx, "no-such-token", SubscribeInput{Email: "a@shop.example", IP: "192.0.2.1"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown list: %v", err)
	}
	if _, err := s.Subscribe(ctx, l.Token, SubscribeInput{Email: "bot@shop.example", Honeypot: "http://spam.example", IP: "192.0.2.1"}); !errors.Is(err, ErrBot) {
		t.Fatalf("honeypot: %v", err)
	}
	if _, err := s.ByEmail(ctx, "bot@shop.example"); !errors.Is(err, ErrNotFound) {
		t.Fatal("a bot's address was stored")
	}
	if _, err := s.Subscribe(ctx, l.Token, SubscribeInput{Email: "eve@shop.example", Name: "Eve\r\nBcc: x@evil.example", IP: "192.0.2.1"}); field(err) != "name" {
		t.Fatalf("CRLF name: %v", err)
	}
	sub, err := s.Subscribe(ctx, l.Token, SubscribeInput{Email: "ann@shop.example", IP: "192.0.2.1"})
	if err != nil || sub.Pending || sub.Contact.Status != OptedIn || len(out.all()) != 0 {
		t.Fatalf("no double opt-in: %+v %v", sub, err)
	}
	for i, want := range []error{nil, nil, ErrRateLimited} { // 3 per address (the first one counted above)
		_, err := s.Subscribe(ctx, l.Token, SubscribeInput{Email: "x" + string(rune('a'+i)) + "@shop.example", IP: "192.0.2.1"})
		if i < 1 && err != nil || i == 2 && !errors.Is(err, want) {
			t.Fatalf("subscription %d from one address: %v", i, err)
		}
	}
	// Per list: other addresses are limited too once the list had 5.
	var last error
	for _, ip := range []string{"192.0.2.2", "192.0.2.3", "192.0.2.4"} {
		_, last = s.Subscribe(ctx, l.Token, SubscribeInput{Email: "p" + ip + "@shop.example", IP: ip})
	}
	if !errors.Is(last, ErrRateLimited) {
		t.Fatalf("list limit: %v", last)
	}
}
