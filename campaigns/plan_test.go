package campaigns

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/i18n"
)

// planEqual compares the cached curve with one added up afresh from every
// open campaign.
func planEqual(t *testing.T, s *Service, from time.Time, hours int, what string) []HourPoint {
	t.Helper()
	ctx := context.Background()
	got, err := s.PlanCurve(ctx, from, hours)
	if err != nil {
		t.Fatal(err)
	}
	b := NewCurve(from, hours)
	if err := s.Each(ctx, Filter{Statuses: OpenStatuses}, func(list []Campaign) error {
		for i := range list {
			b.Add(&list[i])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := b.Points()
	if len(got) != len(want) {
		t.Fatalf("%s: %d hours, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Start.Equal(w.Start) || !near(g.RPS, w.RPS, 1e-9) || g.Campaigns != w.Campaigns || len(g.Parts) != len(w.Parts) {
			t.Fatalf("%s: hour %d (%s): %.4f req/s of %d campaigns (%d named), want %.4f of %d (%d named)", what, i, w.Start,
				g.RPS, g.Campaigns, len(g.Parts), w.RPS, w.Campaigns, len(w.Parts))
		}
		for j := range w.Parts {
			if g.Parts[j].Campaign.ID != w.Parts[j].Campaign.ID {
				t.Fatalf("%s: hour %d part %d is campaign %d, want %d", what, i, j, g.Parts[j].Campaign.ID, w.Parts[j].Campaign.ID)
			}
		}
	}
	return got
}

// The plan's curve is what adding up every open campaign gives, over
// spans that cross its week-long pieces; it is computed once per plan
// version, and any change to the plan (a campaign created, edited,
// cancelled, deleted, or changed in SQL by another process) is seen at once.
func TestPlanCurveIsCachedPerPlanVersion(t *testing.T) {
	s, _, _ := newService(t, t0)
	ctx := context.Background()
	base := mustBuild(t, validInput()).StartsAt
	insertMany(t, s, 300, func(i int, c *Campaign) {
		c.StartsAt = base.Add(time.Duration(i%40) * 13 * time.Hour)
		c.EndsAt = c.StartsAt.Add(time.Duration(20+i%50) * time.Hour)
		c.Status = []Status{Draft, Scheduled, Live, Cancelled, Ended}[i%5]
	})
	from, hours := base.Add(-30*time.Hour), 40*24
	planEqual(t, s, from, hours, "first")
	built := s.PlanBuilds()
	if built == 0 {
		t.Fatal("no piece of the curve was computed")
	}
	planEqual(t, s, from.Add(5*time.Hour), 100, "a span inside the first")
	if n := s.PlanBuilds(); n != built {
		t.Fatalf("the same plan computed %d pieces again", n-built)
	}

	// A campaign created through the service.
	in := validInput()
	in.Forecast["email"]["audience"] = 5e6
	c, err := s.Create(ctx, in, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	before := planEqual(t, s, from, hours, "after a create")
	if s.PlanBuilds() == built {
		t.Fatal("a new campaign did not change the cached curve")
	}
	// Edited.
	in.Forecast["email"]["audience"] = 9e6
	if _, err := s.Update(ctx, c.ID, in, "ana@example.com"); err != nil {
		t.Fatal(err)
	}
	after := planEqual(t, s, from, hours, "after an edit")
	if Peak(after).RPS <= Peak(before).RPS {
		t.Fatalf("peak %.1f after raising the audience, %.1f before", Peak(after).RPS, Peak(before).RPS)
	}
	// Cancelled: its traffic leaves the curve.
	if _, err := s.Cancel(ctx, c.ID, "ana@example.com", "test"); err != nil {
		t.Fatal(err)
	}
	planEqual(t, s, from, hours, "after a cancel")
	// Changed in SQL by another process: the trigger bumps the version.
	v, _ := s.PlanVersion(ctx)
	if err := s.DB.Exec("UPDATE campaigns SET status = ? WHERE status = ?", Cancelled, Live).Error; err != nil {
		t.Fatal(err)
	}
	if w, _ := s.PlanVersion(ctx); w == v {
		t.Fatal("an UPDATE of statuses in SQL left the plan version as it was")
	}
	planEqual(t, s, from, hours, "after an UPDATE in SQL")
	// The readiness cache is not the plan: writing it keeps the curve.
	v, _ = s.PlanVersion(ctx)
	if err := s.DB.Exec("UPDATE campaigns SET readiness = NULL, status_reason = 'x'").Error; err != nil {
		t.Fatal(err)
	}
	if w, _ := s.PlanVersion(ctx); w != v {
		t.Fatal("writing readiness changed the plan version")
	}
	// Deleted.
	var one Campaign
	s.DB.Where("status = ?", Draft).First(&one)
	if err := s.Delete(ctx, one.ID); err != nil {
		t.Fatal(err)
	}
	planEqual(t, s, from, hours, "after a delete")
}

// A re-check of linked campaigns is one round: what its gates read through
// Shared is read once for all of them (concurrent evaluations wait for the
// first read), every campaign's readiness is stored, and the next round
// (after the next change) reads afresh.
func TestRecheckLinkedSharesReadsWithinARound(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t, t0)
	var reads, published atomic.Int64
	published.Store(1)
	s.Gates.Register(GateFunc{GateName: "test.page", Fn: func(ctx context.Context, c *Campaign, _ time.Time) Result {
		v, err := Shared(ctx, fmt.Sprintf("test.page:%d", *c.LandingPageID), func() (int64, error) {
			reads.Add(1)
			time.Sleep(5 * time.Millisecond) // others wait for this read
			return published.Load(), nil
		})
		if err != nil || v == 0 {
			return Result{Outcome: Fail, Message: "not published"}
		}
		return Result{Outcome: Pass, Message: fmt.Sprintf("version %d", v)}
	}})
	page := uint64(9)
	in := validInput()
	in.LandingPageID = &page
	const n = 40
	for i := range n {
		in.Name = fmt.Sprintf("Sale %02d", i)
		c, err := s.Create(ctx, in, "ana")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Schedule(ctx, c.ID, "ana"); err != nil {
			t.Fatal(err)
		}
	}
	check := func(round int64, want string) {
		t.Helper()
		if err := s.RecheckLinked(ctx, Link{PageID: page}, i18n.M("%s", "page changed")); err != nil {
			t.Fatal(err)
		}
		if got := reads.Load(); got != round {
			t.Fatalf("after round %d the page was read %d times", round, got)
		}
		var list []Campaign
		s.DB.Where("landing_page_id = ?", page).Find(&list)
		for _, c := range list {
			if c.Readiness == nil || !strings.Contains(c.Readiness.Summary().String()+fmt.Sprint(c.Readiness.Results), want) {
				t.Fatalf("round %d: campaign %s readiness %+v lacks %q", round, c.Name, c.Readiness, want)
			}
		}
	}
	check(1, "version 1")
	published.Store(2)
	check(2, "version 2")
	// Outside a round nothing is shared.
	c, _ := s.Get(ctx, 1)
	s.Gates.Evaluate(ctx, c, t0)
	s.Gates.Evaluate(ctx, c, t0)
	if got := reads.Load(); got != 4 {
		t.Fatalf("two evaluations outside a round read %d times, want 2 more than 2", got)
	}
}
