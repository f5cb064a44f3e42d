package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/testenv"
)

// TestNodesCompareSettingsAtStart runs a web node, then a worker with
// another public.base_url (refused, naming the key and the web node), a
// worker with another landing.default_lang (starts, warning), and, once the
// web node stopped cleanly, a worker with the other base URL (starts: no
// live node disagrees). On SQLite, or PostgreSQL with RAMPE_TEST_POSTGRES_DSN.
func TestNodesCompareSettingsAtStart(t *testing.T) {
	dsn, rurl := testenv.DSN(t), redisURL(t)
	addr := freeAddr(t)
	env := []string{"RAMPE_DATABASE_DSN=" + dsn, "RAMPE_REDIS_URL=" + rurl, "RAMPE_LOG_LEVEL=info", "RAMPE_FEEDS_DIR=" + t.TempDir()}
	web := start(t, append(env, "RAMPE_HTTP_ADDR="+addr, "RAMPE_PUBLIC_BASE_URL=http://"+addr), "serve", "--no-worker")
	web.waitFor(t, "listening on", 30*time.Second)

	out, err := run(t, append(env, "RAMPE_PUBLIC_BASE_URL=http://127.0.0.1:1"), "worker")
	if err == nil || !strings.Contains(out, `public.base_url is "http://127.0.0.1:1" here but "http://`+addr+`"`) || !strings.Contains(out, " web "+addr) {
		t.Fatalf("a worker with another public.base_url: err=%v\n%s", err, out)
	}
	out, err = run(t, append(env, "RAMPE_PUBLIC_BASE_URL=http://"+addr, "RAMPE_FEEDS_STORAGE_URL=s3://k:s@127.0.0.1:1/bucket"), "feed", "list")
	if err == nil || !strings.Contains(out, "feeds.storage_url") {
		t.Fatalf("feed list with a bucket that does not answer: err=%v\n%s", err, out)
	}

	w := start(t, append(env, "RAMPE_PUBLIC_BASE_URL=http://"+addr, "RAMPE_LANDING_DEFAULT_LANG=en"), "worker")
	w.waitFor(t, `landing.default_lang is \"en\" here but \"fr\"`, 30*time.Second)
	w.waitFor(t, "Rampe worker running", 30*time.Second)
	w.cmd.Process.Signal(syscall.SIGTERM)
	web.cmd.Process.Signal(syscall.SIGTERM)
	<-w.done
	<-web.done

	// Both left: a node with other values is alone now.
	w2 := start(t, append(env, "RAMPE_PUBLIC_BASE_URL=http://127.0.0.1:1"), "worker")
	w2.waitFor(t, "Rampe worker running", 30*time.Second)
	if strings.Contains(w2.output(), "public.base_url is") {
		t.Fatalf("the worker compared with nodes that stopped:\n%s", w2.output())
	}
}

// TestInProcessRedisIsNotShared: a second `serve` on the same database with
// its own in-process Redis is refused, naming redis.url (each would miss
// the other's tasks); once the first is SIGKILLed (no clean stop, its rows
// stay), a new one starts at once: the dead process of this host is
// forgotten rather than compared for three minutes.
func TestInProcessRedisIsNotShared(t *testing.T) {
	dsn := testenv.DSN(t)
	env := []string{"RAMPE_DATABASE_DSN=" + dsn, "RAMPE_LOG_LEVEL=info", "RAMPE_FEEDS_DIR=" + t.TempDir(), "RAMPE_PUBLIC_BASE_URL=http://127.0.0.1:9"}
	first := start(t, append(env, "RAMPE_HTTP_ADDR="+freeAddr(t)), "serve")
	first.waitFor(t, "listening on", 30*time.Second)

	out, err := run(t, append(env, "RAMPE_HTTP_ADDR="+freeAddr(t)), "serve")
	if err == nil || !strings.Contains(out, "redis.url is \"in-process Redis of ") || !strings.Contains(out, "set redis.url to share one") {
		t.Fatalf("a second node with its own in-process Redis: err=%v\n%s", err, out)
	}

	first.cmd.Process.Kill()
	<-first.done
	again := start(t, append(env, "RAMPE_HTTP_ADDR="+freeAddr(t)), "serve")
	again.waitFor(t, "listening on", 30*time.Second)
	if strings.Contains(again.output(), "redis.url is") {
		t.Fatalf("the restart compared with the killed process:\n%s", again.output())
	}
	again.cmd.Process.Signal(syscall.SIGTERM)
	<-again.done
}
