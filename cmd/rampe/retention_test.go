package main

import (
	"context"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/config"
	"github.com/rampe/rampe/platform/testenv"
)

// TestRetentionRulesRunOnTheRealSchema: every domain's rule is valid SQL
// on the migrated schema of both engines, and a feed's current run stays
// however old while an older one goes.
func TestRetentionRulesRunOnTheRealSchema(t *testing.T) {
	g := testenv.DB(t, migrations...)
	cfg := &config.Config{Retention: map[string]time.Duration{}}
	for _, k := range config.RetentionKinds {
		cfg.Retention[k] = 24 * time.Hour
	}
	old := time.Now().UTC().Add(-48 * time.Hour)
	must := func(sql string, args ...any) {
		t.Helper()
		if err := g.Exec(sql, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	must("INSERT INTO feeds (id, name, format, token, country, language, currency, created_at, updated_at) VALUES (1, 'f', 'google', 't', 'FR', 'fr', 'EUR', ?, ?)", old, old)
	for id := 1; id <= 2; id++ {
		must("INSERT INTO feed_runs (id, feed_id, reason, status, started_at, finished_at) VALUES (?, 1, 'test', 'done', ?, ?)", id, old, old)
		must("INSERT INTO feed_prices (run_id, sku, price) VALUES (?, 'A', 100)", id)
	}
	must("UPDATE feeds SET last_run_id = 2")
	p := retentionPruner(&stack{db: g, cfg: cfg})
	n, err := p.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n["feed_runs"] != 1 {
		t.Fatalf("pruned %v, want the one old feed run that is not current", n)
	}
	var left []int64
	g.Raw("SELECT run_id FROM feed_prices").Scan(&left)
	if len(left) != 1 || left[0] != 2 {
		t.Fatalf("feed price lines left for runs %v, want the current run's only", left)
	}
}
