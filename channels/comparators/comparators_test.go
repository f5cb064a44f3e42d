package comparators

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
)

// Each move asks the feeds domain for a generation of every linked feed,
// through the real queue.
func TestMovesRegenerateLinkedFeeds(t *testing.T) {
	ctx := context.Background()
	conn := testenv.Redis(t)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	ch := Channel{Feeds: &feeds.Jobs{Tasks: queue.NewClient(conn)}, Clock: clock.NewFixed(now)}
	c := &campaigns.Campaign{ID: 7, FeedIDs: []uint64{3, 4}}
	if d, err := ch.Launch(ctx, c); err != nil || d != "2 feeds regenerating" {
		t.Fatalf("launch: %q %v", d, err)
	}
	if d, err := ch.Halt(ctx, c, "paused"); err != nil || d != "2 feeds regenerating" {
		t.Fatalf("halt: %q %v", d, err)
	}
	if d, err := ch.Launch(ctx, &campaigns.Campaign{ID: 8}); err != nil || d != "no feed linked" {
		t.Fatalf("no feed: %q %v", d, err)
	}
	ins := asynq.NewInspectorFromRedisClient(conn.Redis)
	pending, err := ins.ListPendingTasks("default")
	if err != nil {
		t.Fatal(err)
	}
	scheduled, err := ins.ListScheduledTasks("default")
	if err != nil {
		t.Fatal(err)
	}
	tasks := append(pending, scheduled...)
	var got []string
	for _, ti := range tasks {
		if ti.Type == feeds.TypeGenerate {
			got = append(got, ti.ID)
		}
	}
	if len(got) != 4 {
		t.Fatalf("generations queued: %v", got)
	}
	for _, want := range []string{"feed:3:campaign live (campaign 7)", "feed:4:campaign halted (campaign 7)"} {
		if !strings.Contains(strings.Join(got, " "), want) {
			t.Errorf("missing %q in %v", want, got)
		}
	}
}
