package loadcheck

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
)

// The need and the gate add up every overlapping campaign, however many:
// 1,200 identical newsletters (more than the 1,000 a list used to stop at)
// need 1,200 times one's peak; cancelled and ended ones count for nothing.
func TestNeedAddsEveryOverlappingCampaign(t *testing.T) {
	e := newEnv(t, "http://127.0.0.1")
	ctx := context.Background()
	page, _ := e.pages.Create(ctx, landing.PageInput{Slug: "bf", Title: "BF"})
	v1, _ := e.pages.Publish(ctx, page.ID, "test")
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	one, err := campaigns.Build(campaigns.Input{Name: "Newsletter", Channels: []string{"email"}, StartsAt: start.Format(time.RFC3339),
		EndsAt: start.Add(24 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"email": 1}, LandingPageID: &page.ID,
		Forecast: map[string]map[string]float64{"email": {"audience": 1000, "open_rate": 0.5, "click_rate": 0.5}}}, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	const n = 1200
	list := make([]campaigns.Campaign, n+300)
	for i := range list {
		c := *one
		c.Name, c.Status, c.ScheduleVersion, c.CreatedAt, c.UpdatedAt = fmt.Sprintf("Newsletter %04d", i), campaigns.Scheduled, 1, time.Now(), time.Now()
		if i >= n {
			c.Status = []campaigns.Status{campaigns.Cancelled, campaigns.Ended}[i%2]
		}
		list[i] = c
	}
	if err := e.camps.DB.CreateInBatches(list, 100).Error; err != nil {
		t.Fatal(err)
	}
	own := one.PeakOf().RPS
	need, err := e.svc.Needed(ctx, &list[0])
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(need.Peak.RPS-n*own) > 1e-9*n*own || need.Peak.Campaigns != n || math.Abs(need.Needed-1.5*n*own) > 1e-9*n*own {
		t.Fatalf("peak %.3f req/s of %d campaigns, need %.3f; want %d × %.5f = %.3f", need.Peak.RPS, need.Peak.Campaigns, need.Needed, n, own, n*own)
	}
	// A check that covers 1,100 of them is not enough for 1,200.
	fin := time.Now().UTC()
	rate := 1100 * own * 1.5
	e.svc.Store.DB.Create(&Check{PageID: page.ID, PageVersionID: v1.ID, URL: "x", TargetRate: rate, Steps: DefaultSteps, StepSeconds: 1,
		Thresholds: DefaultThresholds, Status: Passed, SustainedRate: rate, CreatedAt: fin, FinishedAt: &fin})
	reg := &campaigns.Registry{}
	RegisterGate(reg, e.svc)
	c, err := e.camps.Get(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	r := reg.Evaluate(ctx, c, time.Now()).Results[0]
	if r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "and 1,195 more") || r.Measured["peak_campaigns"] != n {
		t.Fatalf("gate with 1,200 campaigns and capacity for 1,100: %+v", r)
	}
}
