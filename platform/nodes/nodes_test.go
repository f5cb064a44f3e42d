package nodes

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

func settings(base, lang string) []Setting {
	return []Setting{
		{Key: "public.base_url", Value: base, Policy: Refuse},
		{Key: "security.secret_key", Value: Fingerprint(strings.Repeat("k", 40)), Policy: Refuse},
		{Key: "landing.default_lang", Value: lang, Policy: Warn},
	}
}

// TestNodesCompareAtStart runs on SQLite and on PostgreSQL
// (RAMPE_TEST_POSTGRES_DSN): nodes with the same values start; a refused
// key that differs stops the start naming the key and the other node, and
// leaves no row of the refused node; a warned key starts with a warning; a
// node gone for three beats, or that left, no longer counts.
func TestNodesCompareAtStart(t *testing.T) {
	g := testenv.DB(t, db.Migrations, Migrations)
	ctx := context.Background()
	clk := clock.NewFixed(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	node := func(name string) *Registry { return &Registry{DB: g, Node: name, Clock: clk, Beat: time.Minute} }
	web1, web2, worker := node("web-1"), node("web-2"), node("worker-1")

	if w, err := web1.Join(ctx, settings("https://rampe.shop.example", "fr"), true); err != nil || len(w) != 0 {
		t.Fatalf("first node: %v %v", w, err)
	}
	if w, err := web2.Join(ctx, settings("https://rampe.shop.example", "fr"), true); err != nil || len(w) != 0 {
		t.Fatalf("same values: %v %v", w, err)
	}
	_, err := worker.Join(ctx, settings("http://127.0.0.1:8080", "fr"), true)
	var m *Mismatch
	if !errors.As(err, &m) || m.Key != "public.base_url" || m.There != "https://rampe.shop.example" || m.Here != "http://127.0.0.1:8080" ||
		!strings.Contains(err.Error(), "public.base_url") || !strings.HasPrefix(m.Node, "web-") {
		t.Fatalf("a different base URL: %v", err)
	}
	var n int64
	g.Table("node_settings").Where("node = ?", "worker-1").Count(&n)
	if n != 0 {
		t.Fatalf("the refused node left %d rows", n)
	}
	// A command that only compares (rampe feed generate) records nothing.
	if _, err := node("cli").Join(ctx, settings("http://elsewhere", "fr"), false); !errors.As(err, &m) {
		t.Fatalf("a command comparing only: %v", err)
	}
	g.Table("node_settings").Where("node = ?", "cli").Count(&n)
	if n != 0 {
		t.Fatalf("a command comparing only recorded %d rows", n)
	}
	// A warned key differing starts, with the difference named.
	w, err := worker.Join(ctx, settings("https://rampe.shop.example", "en"), true)
	if err != nil || len(w) != 1 || w[0].Key != "landing.default_lang" || w[0].Here != "en" || w[0].There != "fr" {
		t.Fatalf("a warned key: %v %v", w, err)
	}
	// A refused key is reported before a warned one.
	if _, err := node("web-3").Join(ctx, settings("https://other.example", "de"), true); !errors.As(err, &m) || m.Key != "public.base_url" {
		t.Fatalf("refused and warned together: %v", err)
	}
	// Nodes that left or stopped beating no longer count.
	web1.Leave(ctx)
	clk.Add(2 * time.Minute)
	ctx2, cancel := context.WithCancel(ctx)
	beat := &Registry{DB: g, Node: "web-2", Clock: clk, Beat: 20 * time.Millisecond}
	done := make(chan struct{})
	go func() { beat.Run(ctx2); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var r row
		g.Where("node = ? AND key = ?", "web-2", "public.base_url").Take(&r)
		if r.SeenAt.Equal(clk.Now()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the heartbeat did not refresh web-2's rows")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	clk.Add(2 * time.Minute) // worker-1: 4 min unseen, web-2: 2 min
	if _, err := node("web-4").Join(ctx, settings("https://moved.example", "fr"), false); !errors.As(err, &m) || m.Node != "web-2" {
		t.Fatalf("web-2 is still live: %v", err)
	}
	clk.Add(time.Minute + time.Second)
	if w, err := node("web-4").Join(ctx, settings("https://moved.example", "fr"), true); err != nil || len(w) != 0 {
		t.Fatalf("every other node is gone: %v %v", w, err)
	}
}

// A node whose rows another node forgot (its beats did not reach the
// database for three of them) records itself again at its next beat, so
// that later starts still compare with it.
func TestAForgottenNodeRecordsItselfAgain(t *testing.T) {
	g := testenv.DB(t, db.Migrations, Migrations)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	web := &Registry{DB: g, Node: "web-1", Beat: 20 * time.Millisecond}
	if _, err := web.Join(ctx, settings("https://rampe.shop.example", "fr"), true); err != nil {
		t.Fatal(err)
	}
	g.Where("node = ?", "web-1").Delete(&row{}) // as another node's Join does to a node unseen for three beats
	done := make(chan struct{})
	go func() { web.Run(ctx); close(done) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int64
		g.Model(&row{}).Where("node = ?", "web-1").Count(&n)
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("web-1 has %d rows after its beats, want its 3 settings back", n)
		}
	}
	cancel()
	<-done
	var m *Mismatch
	if _, err := (&Registry{DB: g, Node: "web-2"}).Join(context.Background(), settings("https://elsewhere.example", "fr"), false); !errors.As(err, &m) || m.Node != "web-1" {
		t.Fatalf("a later start compared with nobody: %v", err)
	}
}
