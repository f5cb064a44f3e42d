// Command golive measures how late campaigns go live: N campaigns scheduled
// for the same instant, each with its gates evaluated and its transition
// written by a real asynq worker with Rampe's default settings (workers
// polling Redis every second, the go-live batch due ahead). It prints
// p50/p99/max lateness of the live transition after starts_at, and, as the
// reference measured in the same run, the lateness of bare asynq tasks
// scheduled for one instant (asynq defaults, and 50 ms check intervals).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/config"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/queue"
)

func main() {
	n := flag.Int("n", 1000, "campaigns scheduled for the same instant")
	engine := flag.String("engine", "sqlite", "sqlite, postgres or asynq (bare asynq reference)")
	pg := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL DSN (a fresh schema is created)")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/9", "Redis URL (the database is flushed)")
	interval := flag.Duration("interval", 0, "asynq reference only: check intervals (0 = asynq defaults)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: benchLogLevel()})))

	ctx := context.Background()
	conn, err := queue.Connect(ctx, *redisURL)
	must(err)
	must(conn.Redis.FlushDB(ctx).Err())
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		must(err)
		must(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	var late []time.Duration
	if *engine == "asynq" {
		late = bareAsynq(ctx, conn, *n, *interval)
	} else {
		late = rampe(ctx, conn, *engine, *pg, *n)
	}
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	q := func(p float64) float64 { return float64(late[int(p*float64(len(late)-1))].Microseconds()) / 1000 }
	defer fmt.Printf("%s n=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", *engine, len(late), q(0.5), q(0.99), q(1))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "golive:", err)
		os.Exit(1)
	}
}

func openEngine(ctx context.Context, engine, pg string) (dsn string, cleanup func()) {
	switch engine {
	case "sqlite":
		dir, err := os.MkdirTemp("", "rampe-bench-golive")
		must(err)
		return filepath.Join(dir, "rampe.db"), func() { os.RemoveAll(dir) }
	case "postgres":
		admin, err := db.Open(pg)
		must(err)
		schema := fmt.Sprintf("bench_golive_%d", time.Now().UnixNano())
		must(admin.Exec("CREATE SCHEMA " + schema).Error)
		u, err := url.Parse(pg)
		must(err)
		qs := u.Query()
		qs.Set("search_path", schema)
		u.RawQuery = qs.Encode()
		return u.String(), func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE"); db.Close(admin) }
	}
	must(fmt.Errorf("unknown engine %q", engine))
	return "", nil
}

func rampe(ctx context.Context, conn *queue.Conn, engine, pg string, n int) []time.Duration {
	cfg, err := config.Load("") // the default settings
	must(err)
	dsn, cleanup := openEngine(ctx, engine, pg)
	defer cleanup()
	g, err := db.Open(dsn)
	must(err)
	defer db.Close(g)
	_, err = db.Migrate(ctx, g, db.Migrations, campaigns.Migrations)
	must(err)
	tasks := queue.NewClient(conn)
	cs := campaigns.NewService(g, tasks, clock.System{})
	cs.Lead = queue.Ahead(cfg.JobsPollInterval, cfg.JobsDelayedInterval)

	// Plan n drafts, then schedule them all for one instant a few seconds
	// after the scheduling is done.
	in := campaigns.Input{Name: "bench", Channels: []string{"email", "seo"}, StartsAt: "2099-01-01T00:00", EndsAt: "2099-01-02T00:00",
		Budgets:  map[string]int64{"email": 1000, "seo": 1000},
		Forecast: map[string]map[string]float64{"email": {"audience": 1000, "open_rate": 0.2, "click_rate": 0.1}, "seo": {"sessions_per_day": 100}}}
	ids := make([]uint64, n)
	for i := range ids {
		c, err := cs.Create(ctx, in, "bench")
		must(err)
		ids[i] = c.ID
	}
	startPlan := time.Now()
	must(parallel(ids, func(id uint64) error { return nil }))
	// The start leaves room for the lead, so that the go-live batch goes
	// the way it does in production: scheduled, due Lead ahead, then held.
	start := time.Now().Add(time.Duration(n)*6*time.Millisecond + cs.Lead + 3*time.Second).Truncate(time.Second).Add(time.Second)
	must(g.Model(&campaigns.Campaign{}).Where("1 = 1").Updates(map[string]any{"starts_at": start.UTC(), "ends_at": start.Add(48 * time.Hour).UTC()}).Error)
	must(parallel(ids, func(id uint64) error { _, err := cs.Schedule(ctx, id, "bench"); return err }))
	if time.Now().After(start) {
		must(fmt.Errorf("scheduling %d campaigns took %s, past the start", n, time.Since(startPlan)))
	}
	fmt.Fprintf(os.Stderr, "golive: %d campaigns scheduled for %s on %s\n", n, start.Format(time.RFC3339), engine)

	srv := queue.NewServer(conn, queue.ServerConfig{Concurrency: cfg.JobsConcurrency, PollInterval: cfg.JobsPollInterval, DelayedInterval: cfg.JobsDelayedInterval, ShutdownTimeout: cfg.JobsShutdownTimeout})
	mux := queue.NewMux()
	cs.Register(mux)
	must(srv.Start(mux))
	defer srv.Shutdown()

	deadline := time.Now().Add(time.Until(start) + 2*time.Minute)
	for time.Now().Before(deadline) {
		var live int64
		must(g.Model(&campaigns.Campaign{}).Where("status = ?", campaigns.Live).Count(&live).Error)
		if int(live) == n {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var rows []campaigns.Transition
	must(g.Where("to_status = ?", campaigns.Live).Find(&rows).Error)
	if len(rows) != n {
		must(fmt.Errorf("%d of %d campaigns went live", len(rows), n))
	}
	late := make([]time.Duration, len(rows))
	for i, r := range rows {
		late[i] = r.At.Sub(start)
	}
	return late
}

func parallel(ids []uint64, f func(uint64) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	sem := make(chan struct{}, 8)
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(id); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// bareAsynq schedules n no-op tasks for one whole second and records when
// each handler runs.
func bareAsynq(ctx context.Context, conn *queue.Conn, n int, interval time.Duration) []time.Duration {
	client := asynq.NewClientFromRedisClient(conn.Redis)
	start := time.Now().Add(3 * time.Second).Truncate(time.Second).Add(time.Second)
	for i := 0; i < n; i++ {
		_, err := client.EnqueueContext(ctx, asynq.NewTask("bench:noop", nil), asynq.ProcessAt(start), asynq.Queue("critical"))
		must(err)
	}
	var mu sync.Mutex
	var late []time.Duration
	done := make(chan struct{})
	srv := asynq.NewServerFromRedisClient(conn.Redis.(*redis.Client), asynq.Config{Concurrency: 20, Queues: queue.Weights,
		TaskCheckInterval: interval, DelayedTaskCheckInterval: interval, LogLevel: asynq.ErrorLevel})
	must(srv.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		mu.Lock()
		defer mu.Unlock()
		late = append(late, time.Since(start))
		if len(late) == n {
			close(done)
		}
		return nil
	})))
	defer srv.Shutdown()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		must(fmt.Errorf("only %d of %d tasks ran", len(late), n))
	}
	return late
}

// benchLogLevel is warn, or info with GOLIVE_VERBOSE=1 (the batch logs
// where its time went).
func benchLogLevel() slog.Level {
	if os.Getenv("GOLIVE_VERBOSE") != "" {
		return slog.LevelInfo
	}
	return slog.LevelWarn
}
