// Package nodes makes the processes of one deployment agree on the settings
// that must be the same everywhere. Each serving process records its values
// in the database (table node_settings) and keeps them fresh; a process
// starting compares its own with those of the live others and refuses to
// start, or warns, naming the key, depending on the key. What the keys are
// and their policies is the caller's business (cmd/rampe).
package nodes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/lease"
)

// Policy says what a difference on a key does at start.
type Policy int

const (
	// Warn logs the difference and starts.
	Warn Policy = iota
	// Refuse stops the start.
	Refuse
)

// Setting is one value that must match across nodes.
type Setting struct {
	Key    string
	Value  string
	Policy Policy
}

// Fingerprint stands for a secret value: the same secret gives the same
// fingerprint, which tells nothing of it.
func Fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	h := sha256.Sum256([]byte("rampe node settings\x00" + secret))
	return "sha256:" + hex.EncodeToString(h[:8])
}

// Mismatch is a key whose value differs from another live node's.
type Mismatch struct {
	Key, Here, There, Node string
	Policy                 Policy
	Seen                   time.Duration // how long ago the other node was seen
}

func (m *Mismatch) Error() string {
	what := "must be the same on every node: stop the others to change it (README, Scale-out)"
	if m.Policy == Warn {
		what = "should be the same on every node (README, Scale-out)"
	}
	return fmt.Sprintf("%s is %q here but %q on node %s (seen %s ago): %s", m.Key, m.Here, m.There, m.Node, m.Seen.Round(time.Second), what)
}

// Registry records this node's settings and compares them.
type Registry struct {
	DB    *gorm.DB
	Node  string // unique per process: host, role, pid
	Clock clock.Clock
	// Beat is how often the node's rows are refreshed (1 min when 0);
	// a node not seen for three beats is gone.
	Beat time.Duration
	// Gone, when set, tells a node known to have stopped (a process of
	// this host that no longer runs, killed without its clean stop): Join
	// forgets its rows at once rather than after three beats.
	Gone func(node string) bool

	recorded []Setting // what Join recorded: Run writes it again if it went
}

type row struct {
	Node   string `gorm:"primaryKey"`
	Key    string `gorm:"primaryKey"`
	Value  string
	SeenAt time.Time
}

func (row) TableName() string { return "node_settings" }

func (r *Registry) beat() time.Duration {
	if r.Beat > 0 {
		return r.Beat
	}
	return time.Minute
}

func (r *Registry) now() time.Time { return clock.Or(r.Clock).Now() }

// Join records settings as this node's (when record is set: a serving
// process) and compares them with the other nodes seen within three beats.
// A difference on a Refuse key is returned as a *Mismatch, and the node's
// rows are removed; differences on Warn keys are logged and returned.
// Recording before comparing makes two nodes starting at once with
// different values both see the other.
func (r *Registry) Join(ctx context.Context, settings []Setting, record bool) ([]*Mismatch, error) {
	now := r.now()
	g := r.DB.WithContext(ctx)
	if err := g.Where("seen_at < ?", now.Add(-3*r.beat())).Delete(&row{}).Error; err != nil {
		return nil, fmt.Errorf("nodes: forget stopped nodes: %w", err)
	}
	if r.Gone != nil {
		var names []string
		if err := g.Model(&row{}).Where("node <> ?", r.Node).Distinct().Pluck("node", &names).Error; err != nil {
			return nil, fmt.Errorf("nodes: read the other nodes: %w", err)
		}
		for _, n := range names {
			if r.Gone(n) {
				if err := g.Where("node = ?", n).Delete(&row{}).Error; err != nil {
					return nil, fmt.Errorf("nodes: forget stopped node %s: %w", n, err)
				}
			}
		}
	}
	if record {
		if err := r.record(ctx, settings, now); err != nil {
			return nil, err
		}
		r.recorded = settings
	}
	var others []row
	if err := g.Where("node <> ?", r.Node).Order("seen_at DESC, node").Find(&others).Error; err != nil {
		return nil, fmt.Errorf("nodes: read the other nodes' settings: %w", err)
	}
	var warns []*Mismatch
	sorted := append([]Setting(nil), settings...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Policy > sorted[j].Policy })
	for _, s := range sorted { // Refuse keys first; others newest first
		for _, o := range others {
			if o.Key != s.Key || o.Value == s.Value {
				continue
			}
			m := &Mismatch{Key: s.Key, Here: s.Value, There: o.Value, Node: o.Node, Policy: s.Policy, Seen: now.Sub(o.SeenAt)}
			if s.Policy == Refuse {
				if record {
					r.Leave(context.WithoutCancel(ctx))
				}
				return nil, m
			}
			slog.Warn("nodes: "+m.Error(), "key", m.Key, "node", m.Node)
			warns = append(warns, m)
			break
		}
	}
	return warns, nil
}

func (r *Registry) record(ctx context.Context, settings []Setting, now time.Time) error {
	return r.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("node = ?", r.Node).Delete(&row{}).Error; err != nil {
			return err
		}
		rows := make([]row, 0, len(settings))
		for _, s := range settings {
			rows = append(rows, row{Node: r.Node, Key: s.Key, Value: s.Value, SeenAt: now})
		}
		if len(rows) == 0 {
			return nil
		}
		if err := tx.Create(&rows).Error; err != nil {
			return fmt.Errorf("nodes: record this node's settings: %w", err)
		}
		return nil
	})
}

// Run refreshes the node's rows every beat until ctx ends.
func (r *Registry) Run(ctx context.Context) {
	lease.Every(ctx, r.beat(), func(ctx context.Context) {
		now := r.now()
		res := r.DB.WithContext(ctx).Model(&row{}).Where("node = ?", r.Node).Update("seen_at", now)
		err := res.Error
		if err == nil && res.RowsAffected == 0 && len(r.recorded) > 0 {
			// Another node forgot this one (a database outage longer than
			// three beats, a clock ahead): it records itself again rather
			// than drop out of every later comparison.
			err = r.record(ctx, r.recorded, now)
		}
		if err != nil && ctx.Err() == nil {
			slog.Warn("nodes: refresh this node's settings", "err", err)
		}
	})
}

// Leave removes the node's rows (a clean stop).
func (r *Registry) Leave(ctx context.Context) {
	if err := r.DB.WithContext(ctx).Where("node = ?", r.Node).Delete(&row{}).Error; err != nil {
		slog.Warn("nodes: remove this node's settings", "err", err)
	}
}

// Migrations of the node_settings table.
var Migrations = []db.Migration{
	{ID: "2026120342_node_settings", SQL: `CREATE TABLE node_settings (node VARCHAR(200) NOT NULL, key VARCHAR(100) NOT NULL, value TEXT NOT NULL,
  seen_at {{ts}} NOT NULL, PRIMARY KEY (node, key))`},
}
