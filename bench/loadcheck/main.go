// Command loadcheck measures how faithfully Rampe's load-check engine holds a
// requested rate: it runs one-step checks at each rate against a URL and
// prints the achieved rate, its deviation and the p99.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
)

func main() {
	target := flag.String("url", "", "URL to attack (127.0.0.1 only)")
	rates := flag.String("rates", "1000,5000,10000", "comma-separated rates")
	seconds := flag.Int("seconds", 10, "duration of each rate")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if !strings.HasPrefix(*target, "http://127.0.0.1:") {
		fmt.Fprintln(os.Stderr, "loadcheck bench: -url must be on http://127.0.0.1")
		os.Exit(2)
	}
	dir, _ := os.MkdirTemp("", "rampe-bench-loadcheck")
	defer os.RemoveAll(dir)
	g, err := db.Open(filepath.Join(dir, "bench.db"))
	if err == nil {
		_, err = db.Migrate(context.Background(), g, db.Migrations, loadcheck.Migrations)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadcheck bench:", err)
		os.Exit(1)
	}
	svc := &loadcheck.Service{Store: &loadcheck.Store{DB: g}, Clock: clock.System{},
		Policy: loadcheck.Policy{BaseURL: *target}} // the target is the base URL: its scheme, host and port are allowed
	for _, r := range strings.Split(*rates, ",") {
		rate, _ := strconv.ParseFloat(r, 64)
		c := &loadcheck.Check{PageID: 1, PageVersionID: 1, URL: *target, TargetRate: rate, Steps: []float64{1}, StepSeconds: *seconds,
			Thresholds: loadcheck.Thresholds{MaxErrorRatio: 1, MaxP95Ms: 1e9, MaxP99Ms: 1e9}, Status: loadcheck.Queued, CreatedAt: time.Now().UTC()}
		g.Create(c)
		if err := svc.Run(context.Background(), c.ID); err != nil {
			fmt.Fprintln(os.Stderr, "loadcheck bench:", err)
			os.Exit(1)
		}
		got, _ := svc.Store.Get(context.Background(), c.ID)
		st := got.Results[0]
		fmt.Printf("rate=%.0f achieved=%.1f deviation_pct=%.2f p99_ms=%.2f errors_pct=%.2f requests=%d\n",
			rate, st.AchievedRate, (st.AchievedRate-rate)/rate*100, st.P99Ms, st.ErrorRatio*100, st.Requests)
	}
}
