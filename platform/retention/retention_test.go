package retention

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

var testMigrations = []db.Migration{{ID: "2026120230_retention_test", SQL: `
CREATE TABLE runs (id {{id}}, finished_at {{ts}}, current BOOLEAN NOT NULL DEFAULT FALSE);
CREATE TABLE run_lines (run_id {{bigint}} NOT NULL REFERENCES runs(id) ON DELETE CASCADE, n {{bigint}} NOT NULL);
CREATE TABLE hits (link {{bigint}} NOT NULL, at {{ts}} NOT NULL)`}}

func count(t *testing.T, p *Pruner, sql string) int64 {
	t.Helper()
	var n int64
	if err := p.DB.Raw(sql).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPruneKeepsWhatItMustAndTakesTheRestInBatches(t *testing.T) {
	g := testenv.DB(t, testMigrations)
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	old, recent := now.Add(-100*24*time.Hour), now.Add(-time.Hour)
	for i, r := range []struct {
		at      *time.Time
		current bool
	}{{&old, false}, {&old, false}, {&old, true}, {&recent, false}, {nil, false}} {
		if err := g.Exec("INSERT INTO runs (id, finished_at, current) VALUES (?, ?, ?)", i+1, r.at, r.current).Error; err != nil {
			t.Fatal(err)
		}
		for n := 0; n < 3; n++ {
			g.Exec("INSERT INTO run_lines (run_id, n) VALUES (?, ?)", i+1, n)
		}
	}
	for i := 0; i < 25; i++ { // a table with no id: batches by the physical row id
		g.Exec("INSERT INTO hits (link, at) VALUES (?, ?)", i, old)
	}
	g.Exec("INSERT INTO hits (link, at) VALUES (99, ?)", recent)

	p := &Pruner{DB: g, Clock: clock.NewFixed(now),
		Rules: []Rule{
			{Kind: FeedRuns, Table: "runs", At: "finished_at", Keep: "current", Batch: 1},
			{Kind: Events, Table: "hits", At: "at", NoID: true, Batch: 10},
			{Kind: Audit, Table: "hits", At: "at", NoID: true}, // kept forever: no retention for audit
		},
		Keep: map[string]time.Duration{FeedRuns: 90 * 24 * time.Hour, Events: 30 * 24 * time.Hour}}
	n, err := p.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n["runs"] != 2 || n["hits"] != 25 {
		t.Fatalf("pruned %v, want runs=2 hits=25", n)
	}
	var ids []int64
	g.Raw("SELECT id FROM runs ORDER BY id").Scan(&ids)
	if len(ids) != 3 || ids[0] != 3 || ids[1] != 4 || ids[2] != 5 {
		t.Fatalf("runs left %v, want the current one (3), the recent one (4) and the unfinished one (5)", ids)
	}
	if c := count(t, p, "SELECT COUNT(*) FROM run_lines"); c != 9 {
		t.Errorf("%d run lines left, want the 9 of the runs that stay (the others cascade)", c)
	}
	if c := count(t, p, "SELECT COUNT(*) FROM hits"); c != 1 {
		t.Errorf("%d hits left, want the recent one", c)
	}
	// Nothing more to prune: a second round takes nothing.
	if n, err := p.Prune(context.Background()); err != nil || n["runs"] != 0 || n["hits"] != 0 {
		t.Fatalf("second prune: %v %v", n, err)
	}
}

func TestPruneNamesTheTableThatFailed(t *testing.T) {
	g := testenv.DB(t, testMigrations)
	p := &Pruner{DB: g, Rules: []Rule{{Kind: Events, Table: "hits", At: "no_such_column", NoID: true}},
		Keep: map[string]time.Duration{Events: time.Hour}}
	if _, err := p.Prune(context.Background()); err == nil || !strings.Contains(err.Error(), "hits") {
		t.Fatalf("want an error naming the table, got %v", err)
	}
}
