package campaigns

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func TestEmailVisitsDecayAndSumToClicks(t *testing.T) {
	in := validInput()
	in.StartsAt, in.EndsAt = "2026-11-27T08:00", "2026-11-30T08:00"
	c, err := Build(in, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// 200,000 × 0.25 × 0.1 = 5,000 clicks, half-life 2 h.
	var total float64
	first := c.VisitsInHour(Email, c.StartsAt)
	for h := c.StartsAt; h.Before(c.EndsAt); h = h.Add(time.Hour) {
		total += c.VisitsInHour(Email, h)
	}
	if !near(total, 5000, 0.001) {
		t.Fatalf("e-mail visits over the window = %.1f, want 5000", total)
	}
	if second := c.VisitsInHour(Email, c.StartsAt.Add(time.Hour)); !near(first, 5000*(1-math.Pow(0.5, 0.5)), 0.001) || !near(second/first, math.Pow(0.5, 0.5), 0.001) {
		t.Fatalf("decay: first hour %.1f, second %.1f", first, second)
	}
	if v := c.VisitsInHour(Email, c.StartsAt.Add(-time.Hour)); v != 0 {
		t.Fatalf("visits before the start: %v", v)
	}
}

func TestDailyChannelsFollowLocalHours(t *testing.T) {
	in := validInput()
	in.Channels, in.Budgets = []string{"seo"}, map[string]int64{"seo": 1}
	in.Forecast = map[string]map[string]float64{"seo": {"sessions_per_day": 24000, "pages_per_visit": 5}}
	in.StartsAt, in.EndsAt = "2026-11-27T00:00", "2026-11-28T00:00"
	c, err := Build(in, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	busiest, quiet := c.StartsAt, c.StartsAt
	for h := c.StartsAt; h.Before(c.EndsAt); h = h.Add(time.Hour) {
		v := c.VisitsInHour(SEO, h)
		total += v
		if v > c.VisitsInHour(SEO, busiest) {
			busiest = h
		}
		if v < c.VisitsInHour(SEO, quiet) {
			quiet = h
		}
	}
	if !near(total, 24000, 0.001) {
		t.Fatalf("a day brings %.1f sessions, want 24000", total)
	}
	if h := busiest.In(c.Location()).Hour(); h != 21 {
		t.Fatalf("busiest local hour %d, want 21", h)
	}
	if h := quiet.In(c.Location()).Hour(); h != 3 && h != 4 {
		t.Fatalf("quietest local hour %d", h)
	}
	// rps = visits × pages / 3600 × peak-minute factor.
	if want := c.VisitsInHour(SEO, busiest) * 5 / 3600 * PeakMinuteFactor; !near(c.RequestsPerSecond(busiest), want, 1e-9) {
		t.Fatalf("rps %.3f, want %.3f", c.RequestsPerSecond(busiest), want)
	}
}

func TestOverlappingCampaignsAddUp(t *testing.T) {
	mk := func(name, start, end string) Campaign {
		in := validInput()
		in.Name, in.StartsAt, in.EndsAt = name, start, end
		c, err := Build(in, "Europe/Paris")
		if err != nil {
			t.Fatal(err)
		}
		return *c
	}
	a := mk("A", "2026-11-27T08:00", "2026-11-29T08:00")
	b := mk("B", "2026-11-28T08:00", "2026-11-30T08:00")
	curve := Curve([]Campaign{a, b}, a.StartsAt, 72)
	at := b.StartsAt
	for _, p := range curve {
		if p.Start.Equal(at) {
			if !near(p.RPS, a.RequestsPerSecond(at)+b.RequestsPerSecond(at), 1e-9) || len(p.Parts) != 2 || p.Parts[0].Campaign.Name != "B" {
				t.Fatalf("hour %v: %.2f rps, parts %+v", at, p.RPS, p.Parts)
			}
		}
	}
	peak := Peak(curve)
	if !peak.Start.Equal(at) {
		t.Fatalf("the combined peak is at %v, want B's send at %v", peak.Start, at)
	}
	if own := a.PeakOf(); own.RPS >= peak.RPS {
		t.Fatalf("A's own peak %.1f must be below the combined %.1f", own.RPS, peak.RPS)
	}
}

func TestPeakHourShareShapesTheCurve(t *testing.T) {
	flat := shaped(1.0 / 24)
	for _, v := range flat {
		if !near(v, 1.0/24, 1e-9) {
			t.Fatalf("flat curve: %v", flat)
		}
	}
	def := shaped(diurnal[21])
	for i := range def {
		if !near(def[i], diurnal[i], 1e-9) {
			t.Fatal("the default share must give the typical day")
		}
	}
	peaky := shaped(0.15)
	var sum, top float64
	for _, v := range peaky {
		sum += v
		top = max(top, v)
		if v < 0 {
			t.Fatal("negative share")
		}
	}
	if !near(sum, 1, 1e-9) || top < 0.14 {
		t.Fatalf("peaky curve: sum %.3f top %.3f", sum, top)
	}
	in := validInput()
	in.Forecast["seo"]["peak_hour_share"] = 0.15
	c, err := Build(in, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := Build(validInput(), "Europe/Paris")
	h := time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC) // 21:00 in Paris, the busiest hour
	if c.VisitsInHour(SEO, h) <= base.VisitsInHour(SEO, h) {
		t.Fatal("a peakier curve must bring more visits at the busiest hour")
	}
}

func TestCurveShapesEachCampaignsCurveOnce(t *testing.T) {
	var list []Campaign
	for i := range 40 {
		in := validInput()
		in.Forecast["seo"]["peak_hour_share"] = 0.06 + float64(i%20)/1000 // 20 shapes, each twice
		c, err := Build(in, "Europe/Paris")
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, *c)
	}
	before := shapings.Load()
	curve := Curve(list, list[0].StartsAt, 96)
	if n := shapings.Load() - before; n != 20 {
		t.Fatalf("%d curves shaped for 40 campaigns of 20 shapes over 96 hours, want 20", n)
	}
	for _, p := range curve {
		var want float64
		for i := range list {
			want += list[i].RequestsPerSecond(p.Start)
		}
		if !near(p.RPS, want, 1e-9) {
			t.Fatalf("hour %v: %.6f req/s, campaign by campaign %.6f", p.Start, p.RPS, want)
		}
	}
}

func TestCurveNamesTheLargestPartsAndCountsThemAll(t *testing.T) {
	var list []Campaign
	for i := range 25 {
		in := validInput()
		in.Name = fmt.Sprintf("N%02d", i)
		in.Forecast["email"]["audience"] = float64(1000 * (i + 1))
		c, err := Build(in, "Europe/Paris")
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, *c)
	}
	peak := Peak(Curve(list, list[0].StartsAt, 24))
	if peak.Campaigns != 25 || len(peak.Parts) != MaxParts || peak.Others() != 25-MaxParts {
		t.Fatalf("peak of %d campaigns names %d", peak.Campaigns, len(peak.Parts))
	}
	for i, p := range peak.Parts {
		if want := fmt.Sprintf("N%02d", 24-i); p.Campaign.Name != want {
			t.Fatalf("part %d is %s, want %s (largest first)", i, p.Campaign.Name, want)
		}
	}
}
