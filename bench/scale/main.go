// Command scale measures Rampe at a large merchant's size (issue #20): it
// seeds a catalog (1,000,000 products by default), 50 published promotions
// (30 by brand, 20 by SKU lists of 100 to 1,000), one Google feed, one
// landing page and 5,000 scheduled campaigns over 60 days (half on
// comparators linking the feed and three promotions, 2,000 linking the
// page) on SQLite or PostgreSQL, then measures with a real `rampe serve`:
// the median of -reps answers of each page and API (after one warm-up),
// publishing the page 2,000 campaigns link until every re-check is stored,
// `rampe feed generate` with and without the promotions (wall time and
// peak RSS), and the server's idle CPU. Counts the server shows are checked
// against the database. It prints one line of figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/db"
)

type options struct {
	engine, pg, bin         string
	products, campaigns     int
	reps, feedReps, pubReps int
	port                    int
	idle                    time.Duration
	pages                   string
	publishTimeout          time.Duration
	feedsOnly               bool
}

func main() {
	var o options
	flag.StringVar(&o.engine, "engine", "sqlite", "sqlite or postgres")
	flag.StringVar(&o.pg, "postgres", "postgres://postgres@127.0.0.1:5432/scale2?sslmode=disable", "PostgreSQL DSN (a fresh schema is made and dropped)")
	flag.StringVar(&o.bin, "rampe", "", "the rampe binary (required)")
	flag.IntVar(&o.products, "products", 1000000, "products")
	flag.IntVar(&o.campaigns, "campaigns", 5000, "campaigns")
	flag.IntVar(&o.reps, "reps", 5, "answers per page (the median counts)")
	flag.IntVar(&o.feedReps, "feed-reps", 5, "feed generations with and without promotions")
	flag.IntVar(&o.pubReps, "publish-reps", 3, "publishes of the page")
	flag.IntVar(&o.port, "port", 19480, "port of the server")
	flag.DurationVar(&o.idle, "idle", 60*time.Second, "how long idle CPU is measured")
	flag.StringVar(&o.pages, "pages", "", "measure only the pages whose name matches this regexp (profiling)")
	flag.DurationVar(&o.publishTimeout, "publish-timeout", 3*time.Minute, "longest a publish is waited for")
	flag.BoolVar(&o.feedsOnly, "feeds-only", false, "seed, measure the feed generations, then stop and keep the database (its DSN printed) for profiling `rampe feed generate bench`")
	flag.Parse()
	if o.bin == "" {
		must(fmt.Errorf("-rampe is required"))
	}
	run(context.Background(), o)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "scale: "+format+"\n", args...)
}

// openEngine makes an empty database: a SQLite file in dir, or a schema of
// its own in PostgreSQL.
func openEngine(o options, dir string) (dsn string, cleanup func()) {
	if o.engine == "sqlite" {
		return filepath.Join(dir, "rampe.db"), func() {}
	}
	admin, err := db.Open(o.pg)
	must(err)
	schema := fmt.Sprintf("bench_scale_%d", time.Now().UnixNano())
	must(admin.Exec("CREATE SCHEMA " + schema).Error)
	u, err := url.Parse(o.pg)
	must(err)
	qs := u.Query()
	qs.Set("search_path", schema)
	u.RawQuery = qs.Encode()
	return u.String(), func() {
		admin.Exec("SET client_min_messages = warning")
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close(admin)
	}
}

func run(ctx context.Context, o options) {
	dir, err := os.MkdirTemp("", "rampe-bench-scale")
	must(err)
	dsn, cleanup := openEngine(o, dir)
	if o.feedsOnly {
		// The database is kept: a SQLite file with its directory.
		cleanup = func() { logf("kept: RAMPE_DATABASE_DSN=%s (drop the schema, or remove %s, when done)", dsn, dir) }
	} else {
		defer os.RemoveAll(dir)
	}
	defer cleanup()
	env := append(os.Environ(), "RAMPE_DATABASE_DSN="+dsn, "RAMPE_LOG_LEVEL=warn", "RAMPE_FEEDS_DIR="+filepath.Join(dir, "feeds"),
		fmt.Sprintf("RAMPE_HTTP_ADDR=127.0.0.1:%d", o.port))
	cli := &cli{bin: o.bin, env: env, dir: dir}
	cli.run("migrate")
	g, err := db.Open(dsn)
	must(err)
	defer db.Close(g)

	t0 := time.Now()
	seedProducts(ctx, g, o.products)
	logf("%s: %d products seeded in %s", o.engine, o.products, time.Since(t0).Round(time.Millisecond))
	start := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour)
	promos := seedPromotions(ctx, g, o.products, start.Add(-72*time.Hour), start.Add(70*24*time.Hour))
	pageID := seedPage(ctx, g, promos[0])
	cli.run("feed", "create", "bench", "--format", "google_xml", "--title", "{brand} {title}")
	var feedID uint64
	must(g.Table("feeds").Select("id").Where("name = ?", "bench").Row().Scan(&feedID))
	s := seedCampaigns(ctx, g, o.campaigns, start, pageID, feedID, promos)
	cli.run("user", "create", "--email", "bench@shop.example", "--role", "admin", "--password", "bench-password-1")
	token := strings.TrimSpace(cli.run("user", "token", "--email", "bench@shop.example"))
	logf("%s: seeded in %s", o.engine, time.Since(t0).Round(time.Millisecond))

	var out []string
	add := func(k string, v any) { out = append(out, fmt.Sprintf("%s=%v", k, v)) }
	add("engine", o.engine)
	add("products", o.products)
	add("campaigns", o.campaigns)
	feed := measureFeeds(ctx, g, cli, o.feedReps)
	add("feed_nopromo_s", fmt.Sprintf("%.2f", feed.without))
	add("feed_promo_s", fmt.Sprintf("%.2f", feed.with))
	add("feed_ratio", fmt.Sprintf("%.2f", feed.with/feed.without))
	add("feed_rss_mib", fmt.Sprintf("%.0f", feed.rss))
	if o.feedsOnly {
		fmt.Println(strings.Join(out, " "))
		return
	}

	srv := startServer(cli, o.port)
	defer srv.stop()
	c := newClient(fmt.Sprintf("http://127.0.0.1:%d", o.port), token)
	c.login("bench@shop.example", "bench-password-1")
	pages := measurePages(c, s, o.reps, o.pages)
	worst, worstName := 0.0, ""
	for _, p := range pages {
		add(p.name+"_ms", fmt.Sprintf("%.1f", p.median))
		if p.name != "readiness" && p.median > worst {
			worst, worstName = p.median, p.name
		}
	}
	add("worst_page", worstName)
	add("worst_page_ms", fmt.Sprintf("%.1f", worst))
	pub, done, complete := measurePublish(ctx, g, c, pageID, o.pubReps, o.publishTimeout)
	add("publish_s", fmt.Sprintf("%.2f", pub))
	add("publish_rechecked", done)
	time.Sleep(5 * time.Second) // what the publish queued settles
	idle := srv.idleCPU(o.idle)
	add("idle_cpu_pct", fmt.Sprintf("%.2f", idle))
	counts := checkCounts(ctx, g, c, o)
	add("counts", counts)

	readiness := 0.0
	for _, p := range pages {
		if p.name == "readiness" {
			readiness = p.median
		}
	}
	met := worst <= 150 && readiness <= 100 && pub <= 10 && complete && feed.rss <= 128 && feed.with <= 1.5*feed.without && idle <= 2 && counts == "ok"
	add("goal", map[bool]string{true: "met", false: "not_met"}[met])
	fmt.Println(strings.Join(out, " "))
}

// median, min and max of xs (milliseconds or seconds, as given).
func stats(xs []float64) (med, lo, hi float64) {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2], s[0], s[len(s)-1]
}

// count reads one number with SQL.
func count(g *gorm.DB, q string, args ...any) int64 {
	var n int64
	must(g.Raw(q, args...).Row().Scan(&n))
	return n
}
