package campaigns

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// insertMany stores n copies of the valid campaign in one batch insert,
// named C0000…, each changed by mod (which may be nil).
func insertMany(t *testing.T, s *Service, n int, mod func(i int, c *Campaign)) []Campaign {
	t.Helper()
	base, err := Build(validInput(), "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := s.Clock.Now()
	list := make([]Campaign, n)
	for i := range list {
		c := *base
		c.Name, c.Status, c.CreatedAt, c.UpdatedAt = fmt.Sprintf("C%04d", i), Draft, now, now
		if mod != nil {
			mod(i, &c)
		}
		list[i] = c
	}
	if err := s.DB.CreateInBatches(list, 100).Error; err != nil {
		t.Fatal(err)
	}
	return list
}

// 1,200 campaigns: more than the former cap of 1,000 and than any page.
const many = 1200

func TestListPagesThroughEveryCampaignInStartOrder(t *testing.T) {
	s, _, _ := newService(t, t0)
	ctx := context.Background()
	// Starts repeat (every 7th hour), so the keyset must break ties by id;
	// every third campaign is scheduled, for a filtered listing.
	insertMany(t, s, many, func(i int, c *Campaign) {
		c.StartsAt = c.StartsAt.Add(time.Duration((many-i)%7) * time.Hour)
		if i%3 == 0 {
			c.Status = Scheduled
		}
	})
	for _, tc := range []struct {
		f     Filter
		limit int
		want  int
	}{{Filter{}, MaxPageSize, many}, {Filter{}, 0, many}, {Filter{Status: Scheduled}, 150, many / 3}, {Filter{Statuses: []Status{Draft}, Channel: Email}, 333, many - many/3}} {
		var got []Campaign
		var after uint64
		pages := 0
		for {
			p, err := s.List(ctx, tc.f, after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if max(tc.limit, PageSize) < len(p.Campaigns) || (p.NextAfter != 0) != (len(got)+len(p.Campaigns) < tc.want) {
				t.Fatalf("%+v page %d: %d rows, next %d", tc.f, pages, len(p.Campaigns), p.NextAfter)
			}
			got = append(got, p.Campaigns...)
			if after = p.NextAfter; after == 0 {
				break
			}
			if rest, _ := s.Count(ctx, tc.f, after); int(rest) != tc.want-len(got) {
				t.Fatalf("%+v: %d rows after page %d, want %d", tc.f, rest, pages, tc.want-len(got))
			}
		}
		if total, _ := s.Count(ctx, tc.f, 0); len(got) != tc.want || int(total) != tc.want {
			t.Fatalf("%+v: paged through %d campaigns, count %d, want %d", tc.f, len(got), total, tc.want)
		}
		seen := map[uint64]bool{}
		for i, c := range got {
			if seen[c.ID] || (tc.f.Status != "" && c.Status != tc.f.Status) {
				t.Fatalf("%+v: campaign %d twice or of status %s", tc.f, c.ID, c.Status)
			}
			seen[c.ID] = true
			if i > 0 && !(got[i-1].StartsAt.Before(c.StartsAt) || got[i-1].StartsAt.Equal(c.StartsAt) && got[i-1].ID < c.ID) {
				t.Fatalf("%+v: out of start order at %d", tc.f, i)
			}
		}
	}
	counts, err := s.Counts(ctx, Filter{Status: Draft, Channel: Email})
	if err != nil || counts[Scheduled] != many/3 || counts[Draft] != many-many/3 {
		t.Fatalf("counts %v %v", counts, err)
	}
	var fe *FieldError
	if _, err := s.List(ctx, Filter{}, 1<<40, 0); !errors.As(err, &fe) || fe.Field != "after" {
		t.Fatalf("a page after no campaign: %v", err)
	}
}

func TestEachReadsEveryRowInBatches(t *testing.T) {
	s, _, _ := newService(t, t0)
	insertMany(t, s, many, func(i int, c *Campaign) {
		if i%4 == 0 {
			c.Status = Cancelled
		}
	})
	batches, seen := 0, map[uint64]bool{}
	err := s.Each(context.Background(), Filter{Statuses: OpenStatuses}, func(list []Campaign) error {
		batches++
		for _, c := range list {
			if seen[c.ID] || c.Status == Cancelled || c.Description != "" || c.Forecast == nil {
				t.Fatalf("campaign %d: seen %v, %s", c.ID, seen[c.ID], c.Status)
			}
			seen[c.ID] = true
		}
		return nil
	})
	if err != nil || len(seen) != many*3/4 || batches != 2 {
		t.Fatalf("read %d campaigns in %d batches (%v), want %d in 2", len(seen), batches, err, many*3/4)
	}
	n := 0
	err = s.Each(context.Background(), Filter{}, func(list []Campaign) error { n += len(list); return ErrStop })
	if err != nil || n != streamBatch {
		t.Fatalf("ErrStop: %d rows, %v", n, err)
	}
}

func TestReconcileRecreatesTasksOfEveryOpenCampaign(t *testing.T) {
	s, _, rec := newService(t, t0)
	defer func(n int) { streamBatch = n }(streamBatch)
	streamBatch = 250
	list := insertMany(t, s, many, func(i int, c *Campaign) {
		c.Status, c.ScheduleVersion = Scheduled, 1
		if i%5 == 0 {
			c.Status = Ended
		}
	})
	n, err := s.Reconcile(context.Background())
	if err != nil || n != many*4/5 {
		t.Fatalf("reconciled %d campaigns (%v), want %d", n, err, many*4/5)
	}
	for i := range list {
		c := &list[i]
		if has := rec.has(goLiveID(c)) && rec.has(endID(c)); has != (c.Status == Scheduled) {
			t.Fatalf("campaign %d (%s, #%d): tasks re-created %v", c.ID, c.Status, i, has)
		}
	}
}

func TestGoLiveDuePutsLiveEveryDueCampaignPastOnePass(t *testing.T) {
	s, clk, _ := newService(t, t0)
	defer func(n int) { batchLimit = n }(batchLimit)
	batchLimit = 10
	list := insertMany(t, s, 25, func(i int, c *Campaign) { c.Status, c.ScheduleVersion = Scheduled, 1 })
	clk.Set(list[0].StartsAt)
	went, err := s.GoLiveDue(context.Background())
	if err != nil || went != 25 {
		t.Fatalf("%d went live (%v), want 25", went, err)
	}
	if n, _ := s.Count(context.Background(), Filter{Status: Live}, 0); n != 25 {
		t.Fatalf("%d live campaigns", n)
	}
}

// A round of the reconciler looks only at what is due soon: campaigns far
// ahead cost nothing until they come near (or a full round, or a lost
// Redis), those due, late or re-checked soon get their tasks.
func TestReconcileDueLooksAtWhatComesSoon(t *testing.T) {
	s, _, rec := newService(t, t0)
	list := insertMany(t, s, many, func(i int, c *Campaign) {
		c.Status, c.ScheduleVersion = Scheduled, 1
		c.StartsAt, c.EndsAt = t0.Add(30*24*time.Hour), t0.Add(40*24*time.Hour) // far ahead
		switch i {
		case 0: // starts in 90 s
			c.StartsAt = t0.Add(90 * time.Second)
		case 1: // late: should have gone live a minute ago
			c.StartsAt = t0.Add(-time.Minute)
		case 2: // its 24 h re-check comes within the round
			c.StartsAt = t0.Add(24*time.Hour + time.Minute)
		case 3: // live, ending in a minute
			c.Status, c.StartsAt, c.EndsAt = Live, t0.Add(-time.Hour), t0.Add(time.Minute)
		case 4: // blocked, retrying in two minutes
			at := t0.Add(2 * time.Minute)
			c.Status, c.NextAttemptAt = Blocked, &at
		case 5, 6: // live or paused for an hour, ending in a month: nothing due
			c.Status, c.StartsAt = Live, t0.Add(-time.Hour)
			if i == 6 {
				c.Status = Paused
			}
		}
	})
	n, err := s.ReconcileDue(context.Background(), t0.Add(3*time.Minute))
	if err != nil || n != 5 {
		t.Fatalf("looked at %d campaigns (%v), want the 5 due soon of %d", n, err, many)
	}
	if !rec.has(goLiveID(&list[0])) || !rec.has(goLiveID(&list[1])+":late") || !rec.has(recheckID(&list[2], 24*time.Hour)) ||
		!rec.has(endID(&list[3])) || !rec.has(retryID(&list[4], *list[4].NextAttemptAt)) {
		t.Fatalf("tasks: %v", rec.ids)
	}
	if rec.has(goLiveID(&list[500])) {
		t.Fatal("a campaign a month ahead was reconciled")
	}
	// Only the tasks due soon: not the go-live a day ahead of a campaign
	// whose re-check is due, nor the end, 40 days ahead, of one starting.
	if rec.has(goLiveID(&list[2])) || rec.has(endID(&list[2])) || rec.has(endID(&list[0])) {
		t.Fatalf("a round of what is due enqueued tasks far ahead: %v", rec.ids)
	}
	if n, _ := s.Reconcile(context.Background()); n != many {
		t.Fatalf("a full round looked at %d", n)
	}
	if !rec.has(goLiveID(&list[2])) || !rec.has(endID(&list[0])) || !rec.has(goLiveID(&list[500])) {
		t.Fatal("a full round left tasks out")
	}
}
