package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/objstore"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestWebNodeServesTheFeedAWorkerWrote runs a worker and a web node
// (serve --no-worker) that share only the database, Redis and a bucket of
// the test S3 server (each has a feeds.dir of its own, left empty): the
// worker generates a feed asked for through the queue, and the web node
// serves it to a comparator, plain and gzip; a contact file sent to the web
// node is imported by the worker, through the bucket.
func TestWebNodeServesTheFeedAWorkerWrote(t *testing.T) {
	dsn, rurl, loc := testenv.DSN(t), redisURL(t), testenv.S3(t)
	addr := freeAddr(t)
	env := []string{"RAMPE_DATABASE_DSN=" + dsn, "RAMPE_REDIS_URL=" + rurl, "RAMPE_FEEDS_STORAGE_URL=" + loc.URL(),
		"RAMPE_PUBLIC_BASE_URL=http://" + addr, "RAMPE_JOBS_POLL_INTERVAL=100ms", "RAMPE_LOG_LEVEL=info"}
	if out, err := run(t, env, "migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	ctx := context.Background()
	g := testenv.Open(t, dsn)
	cat := &catalog.Store{DB: g}
	body := "sku;title;brand;price;stock;link;image_link;description;gtin\n" +
		"S3-1;Chaise Oslo;Nordik;100.00;4;https://shop.example/1;https://cdn.example/1.jpg;Une chaise.;4006381333931\n" +
		"S3-2;Table Été;Nordik;80.00;2;https://shop.example/2;https://cdn.example/2.jpg;Une table.;\n"
	if _, err := cat.Import(ctx, strings.NewReader(body), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	svc := &feeds.Service{DB: g, Catalog: cat, Promotions: &landing.Promotions{DB: g, Catalog: cat}, Clock: clock.System{}}
	f := &feeds.Feed{Name: "shared", Format: feeds.GoogleTSV}
	if err := svc.Create(ctx, f); err != nil {
		t.Fatal(err)
	}

	workerDir, webDir := t.TempDir(), t.TempDir()
	w := start(t, append(env, "RAMPE_FEEDS_DIR="+workerDir), "worker")
	web := start(t, append(env, "RAMPE_FEEDS_DIR="+webDir, "RAMPE_HTTP_ADDR="+addr), "serve", "--no-worker")
	w.waitFor(t, "uploads in object storage", 30*time.Second)
	web.waitFor(t, "listening on", 30*time.Second)

	conn, err := queue.Connect(ctx, rurl)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	jobs := &feeds.Jobs{Service: svc, Tasks: queue.NewClient(conn)}
	if err := jobs.Request(ctx, f.ID, "test"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := svc.Get(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastRunID != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not generate the feed within 60 s")
		}
		time.Sleep(200 * time.Millisecond)
	}

	url := fmt.Sprintf("http://%s/feeds/%s/%s", addr, f.Token, f.FileName())
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(plain), "S3-1\t") || !strings.Contains(string(plain), "S3-2\t") {
		t.Fatalf("web node: %d %q", res.StatusCode, plain)
	}
	etag := res.Header.Get("ETag")
	// Go's client asks for gzip and unzips it: the same bytes, from the
	// .gz object.
	req, _ := http.NewRequest(http.MethodGet, url+".gz", nil)
	res, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || len(gz) < 20 || gz[0] != 0x1f || gz[1] != 0x8b {
		t.Fatalf("gzip sibling: %d, %d bytes", res.StatusCode, len(gz))
	}
	req, _ = http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("If-None-Match", etag)
	if res, err = http.DefaultTransport.RoundTrip(req); err != nil || res.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional GET with the ETag: %v %v", res.StatusCode, err)
	}
	res.Body.Close()

	for _, dir := range []string{workerDir, webDir} {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("%s holds %d entries: the feed went to a local directory", dir, len(entries))
		}
	}
	b, err := objstore.Open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	if keys, _ := b.Keys(ctx, "feeds/"); len(keys) != 2 {
		t.Fatalf("objects in the bucket: %v, want the file and its gzip sibling", keys)
	}

	// A contact file sent to the web node goes through the bucket to the
	// worker, which imports it.
	if out, err := run(t, env, "user", "create", "--email", "ops@shop.example", "--role", "marketer"); err != nil {
		t.Fatalf("user create: %v %s", err, out)
	}
	out, err := run(t, env, "user", "token", "--email", "ops@shop.example")
	token := regexp.MustCompile(`rmp_\S+`).FindString(out)
	if err != nil || token == "" {
		t.Fatalf("user token: %v %s", err, out)
	}
	id := importContacts(t, "http://"+addr, token, "email,name\nann@shop.example,Ann\nbob@shop.example,Bob\n")
	deadline = time.Now().Add(60 * time.Second)
	for {
		var m map[string]any
		getJSON(t, fmt.Sprintf("http://%s/api/v1/contacts/imports/%v", addr, id), token, &m)
		if m["status"] != "running" {
			if m["status"] != "done" || m["rows_imported"] != float64(2) {
				t.Fatalf("contact import: %v", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not import the contacts within 60 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The worker removes the file once the import is recorded.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		keys, _ := b.Keys(ctx, "uploads/")
		if len(keys) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("uploads left in the bucket: %v", keys)
		}
	}
}

func importContacts(t *testing.T, base, token, body string) any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/contacts/import?filename=c.csv", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("contact import: %d %v %v", res.StatusCode, m, err)
	}
	return m["id"]
}

func getJSON(t *testing.T, url, token string, into any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(into); err != nil {
		t.Fatalf("%s: %d %v", url, res.StatusCode, err)
	}
}

// TestStartRefusesAMissingBucket: a bucket that does not exist stops the
// start with an error naming feeds.storage_url.
func TestStartRefusesAMissingBucket(t *testing.T) {
	loc := testenv.S3(t)
	loc.Bucket = "no-such-bucket-" + strings.ToLower(fmt.Sprint(time.Now().UnixNano()))
	loc.SecretKey = "never-printed-secret" // the test server checks no signature
	out, err := run(t, []string{"RAMPE_DATABASE_DSN=" + testenv.DSN(t), "RAMPE_FEEDS_STORAGE_URL=" + loc.URL()}, "feed", "list")
	if err == nil || !strings.Contains(out, "feeds.storage_url") || !strings.Contains(out, "does not exist") || strings.Contains(out, loc.SecretKey) {
		t.Fatalf("err=%v, output %q", err, out)
	}
}
