package clicks

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
)

func setup(t *testing.T) (*Service, *campaigns.Campaign) {
	t.Helper()
	g := testenv.DB(t, db.Migrations, campaigns.Migrations, Migrations)
	cs := campaigns.NewService(g, queue.NewClient(testenv.Redis(t)), clock.System{})
	in := campaigns.Input{Name: "Soldes", Channels: []string{"email", "display"}, TimeZone: "Europe/Paris", StartsAt: "2026-12-01T08:00", EndsAt: "2026-12-10T20:00",
		Currency: "EUR", Budgets: map[string]int64{"email": 1, "display": 1},
		Forecast: map[string]map[string]float64{"email": {"audience": 10, "open_rate": 0.2, "click_rate": 0.1}, "display": {"impressions": 10, "ctr": 0.1}}}
	c, err := cs.Create(context.Background(), in, "ana")
	if err != nil {
		t.Fatal(err)
	}
	return &Service{DB: g, Secret: []byte("0123456789abcdef0123456789abcdef"), Clock: clock.System{}}, c
}

func TestTokensAreSignedAndNameTheirLinkAndRecipient(t *testing.T) {
	ctx := context.Background()
	s, c := setup(t)
	l, err := s.Link(ctx, c, campaigns.Email, "https://shop.example/soldes?utm_source=newsletter", "hero", "ana")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.Link(ctx, c, campaigns.Email, "https://shop.example/soldes?utm_source=newsletter", "", "bob")
	if again.ID != l.ID {
		t.Fatalf("the same destination made two links: %d %d", l.ID, again.ID)
	}
	tok := s.Token(l.ID, 4242)
	if dest, err := s.Follow(ctx, tok); err != nil || dest != "https://shop.example/soldes?utm_source=newsletter" {
		t.Fatalf("follow: %q %v", dest, err)
	}
	other := &Service{DB: s.DB, Secret: []byte("another-secret-another-secret-000"), Clock: s.Clock}
	p, sig, _ := strings.Cut(tok, ".")
	for _, forged := range []string{"", "x", tok + "x", p + "." + strings.Repeat("A", len(sig)), other.Token(l.ID, 4242), s.Token(l.ID+99, 0),
		strings.Repeat("a", 5000), p, "." + sig} {
		if _, err := s.Follow(ctx, forged); !errors.Is(err, ErrNotFound) {
			t.Errorf("forged %.40q: %v", forged, err)
		}
	}
	for _, bad := range []struct{ ch, url, field string }{
		{"seo", "https://shop.example/", "channel"}, {"email", "javascript:alert(1)", "url"}, {"email", "/relative", "url"}} {
		_, err := s.Link(ctx, c, campaigns.Channel(bad.ch), bad.url, "", "ana")
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != bad.field {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// Clicks are written in batches, counted per link, and the last ones are
// written when the redirector stops.
func TestClicksAreFlushedInBatchesAndOnShutdown(t *testing.T) {
	ctx := context.Background()
	s, c := setup(t)
	hero, _ := s.Link(ctx, c, campaigns.Email, "https://shop.example/a", "hero", "ana")
	banner, _ := s.Link(ctx, c, campaigns.Display, "https://shop.example/b", "banner", "ana")
	run, stop := context.WithCancel(ctx)
	ran := make(chan struct{}) // Wait returns at once if Run has not started yet: wait for Run itself
	go func() { defer close(ran); s.Run(run) }()
	for i := 0; i < 2500; i++ {
		if _, err := s.Follow(ctx, s.Token(hero.ID, uint64(i%100+1))); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 7; i++ {
		s.Follow(ctx, s.Token(banner.ID, 0))
	}
	stop()
	<-ran
	stats, err := s.Stats(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]LinkStats{}
	for _, st := range stats {
		got[st.Label] = st
	}
	if got["hero"].Clicks != 2500 || got["hero"].Unique != 100 || got["banner"].Clicks != 7 || got["banner"].Unique != 0 || got["hero"].LastAt == nil {
		t.Fatalf("stats: %+v", stats)
	}
	if got["banner"].Token != s.Token(banner.ID, 0) {
		t.Errorf("token for everyone: %s", got["banner"].Token)
	}
}

// Clicks recorded while Run never started (a server stopped at once) are
// written by Wait.
func TestWaitWithoutRunWritesTheClicks(t *testing.T) {
	ctx := context.Background()
	s, c := setup(t)
	l, _ := s.Link(ctx, c, campaigns.Email, "https://shop.example/a", "hero", "ana")
	for i := 0; i < 3; i++ {
		if _, err := s.Follow(ctx, s.Token(l.ID, 0)); err != nil {
			t.Fatal(err)
		}
	}
	s.Wait()
	stats, err := s.Stats(ctx, c.ID)
	if err != nil || len(stats) != 1 || stats[0].Clicks != 3 {
		t.Fatalf("after Wait without Run: %+v, %v", stats, err)
	}
}

// A batch that cannot be written is kept for the next flush.
func TestAFailedFlushLosesNothing(t *testing.T) {
	ctx := context.Background()
	s, c := setup(t)
	l, _ := s.Link(ctx, c, campaigns.Email, "https://shop.example/a", "", "ana")
	s.Follow(ctx, s.Token(l.ID, 1))
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Flush(canceled); err == nil {
		t.Fatal("a flush with a cancelled context succeeded")
	}
	s.Follow(ctx, s.Token(l.ID, 2))
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var n int64
	s.DB.Model(&Click{}).Count(&n)
	if n != 2 {
		t.Fatalf("clicks written: %d", n)
	}
}
