// Package retention prunes the rows that grow forever — feed runs and
// their issues and prices, load checks, the audit log, click and delivery
// events, import reports — once they are older than the retention of
// their kind. Each domain declares its own rules (the tables are its
// own); a worker runs Pruner.Run, and every worker may: a prune is a
// DELETE of old rows, in small batches, that two workers can run side by
// side.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/clock"
)

// Kinds of data, each with its own retention (config retention.KIND_days).
const (
	FeedRuns   = "feed_runs"   // feed generations, with their issues and price lines
	LoadChecks = "load_checks" // finished load checks and their results
	Audit      = "audit"       // campaign transitions, channel moves, resolved alerts, consent changes
	Events     = "events"      // clicks, alert deliveries, the outbox's messages
	Imports    = "imports"     // catalog and contact imports and their row reports
)

// Rule says which rows of a table a kind's retention prunes.
type Rule struct {
	Kind  string
	Table string
	// At is the column whose time ages a row; a row whose At is NULL
	// (not finished) is never pruned.
	At string
	// Keep, when set, is an SQL condition on rows that stay whatever
	// their age (the current run of a feed, a page's last passing check).
	Keep string
	// NoID says the table has no id column: batches name their rows by
	// the engine's physical row id (ctid, rowid).
	NoID bool
	// Batch is how many rows one DELETE takes (default 1000): rows whose
	// deletion cascades to many others take small batches.
	Batch int
}

// Pruner deletes what each kind's retention no longer keeps.
type Pruner struct {
	DB    *gorm.DB
	Rules []Rule
	// Keep is each kind's retention; a kind missing or 0 is kept forever.
	Keep  map[string]time.Duration
	Clock clock.Clock
}

func (p *Pruner) now() time.Time { return clock.Or(p.Clock).Now() }

// Prune deletes every row older than its kind's retention, and returns
// how many went per table.
func (p *Pruner) Prune(ctx context.Context) (map[string]int64, error) {
	now := p.now()
	out := map[string]int64{}
	for _, r := range p.Rules {
		keep := p.Keep[r.Kind]
		if keep <= 0 {
			continue
		}
		n, err := p.prune(ctx, r, now.Add(-keep))
		out[r.Table] += n
		if err != nil {
			return out, fmt.Errorf("retention: prune %s (%s): %w", r.Table, r.Kind, err)
		}
	}
	return out, nil
}

// rowKey is how a batch names its rows: the id column, or the physical
// row id where a table has none.
func (p *Pruner) rowKey(r Rule) string {
	switch {
	case !r.NoID:
		return "id"
	case p.DB.Dialector.Name() == "postgres":
		return "ctid"
	}
	return "rowid"
}

func (p *Pruner) prune(ctx context.Context, r Rule, before time.Time) (int64, error) {
	key := p.rowKey(r)
	batch := r.Batch
	if batch <= 0 {
		batch = 1000
	}
	where := r.At + " < ?"
	if r.Keep != "" {
		where += " AND NOT (" + r.Keep + ")"
	}
	// One statement per batch, short enough to hold no lock for long.
	sql := fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s LIMIT %d)", r.Table, key, key, r.Table, where, batch)
	var total int64
	for ctx.Err() == nil {
		res := p.DB.WithContext(ctx).Exec(sql, before)
		if res.Error != nil {
			return total, res.Error
		}
		total += res.RowsAffected
		if res.RowsAffected < int64(batch) {
			break
		}
	}
	return total, ctx.Err()
}

// Run prunes now and then every interval until ctx ends, logging what
// went.
func (p *Pruner) Run(ctx context.Context, every time.Duration) {
	for {
		n, err := p.Prune(ctx)
		if err != nil && ctx.Err() == nil {
			slog.Error("retention: prune", "err", err)
		} else if s := summary(n); s != "" {
			slog.Info("retention: pruned", "rows", s)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// summary is "table=n, …" of the tables that lost rows.
func summary(n map[string]int64) string {
	var parts []string
	for t, c := range n {
		if c > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", t, c))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
