package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

func TestSeedAudience(t *testing.T) {
	g := testenv.DB(t, db.Migrations, audience.Migrations)
	st := &stack{audience: &audience.Service{DB: g}}
	ctx := context.Background()
	var out bytes.Buffer
	start := time.Now()
	if err := seedAudience(ctx, st, &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %v: %s", time.Since(start), out.String())
	lists, _ := st.audience.Lists(ctx)
	if len(lists) != 2 {
		t.Fatalf("lists %+v", lists)
	}
	var news audience.List
	for _, l := range lists {
		if l.Name == "Newsletter" {
			news = l
		}
	}
	cnt, err := st.audience.Count(ctx, audience.Spec{ListID: news.ID})
	if err != nil || cnt.Total() != 5000 || cnt.Mailable < 4000 || cnt.Excluded[audience.Unsubscribed] == 0 || cnt.Excluded[audience.Bounced] == 0 || cnt.Excluded[audience.Pending] == 0 {
		t.Fatalf("counts %+v %v", cnt, err)
	}
	sup, _ := st.audience.CountSuppressions(ctx)
	if sup[audience.Unsubscribed] != cnt.Excluded[audience.Unsubscribed] || sup[audience.Bounced] != cnt.Excluded[audience.Bounced] {
		t.Fatalf("suppressions %v vs %+v", sup, cnt)
	}
	segs, _ := st.audience.Segments(ctx)
	if len(segs) != 1 || segs[0].Name != "Gold members" {
		t.Fatalf("segments %+v", segs)
	}
	// Twice adds nothing.
	if err := seedAudience(ctx, st, &out); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.audience.Count(ctx, audience.Spec{}); again.Total() != 5000 {
		t.Fatalf("second seed: %+v", again)
	}
}
