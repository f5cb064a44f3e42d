package web

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
)

type failingActor struct{ err error }

func (f failingActor) Move(context.Context, *campaigns.Campaign, campaigns.Move, string) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	return "3 links switched", nil
}

// The campaign page says what each channel did outside Rampe: done, failed
// and retrying with the error, or not connected.
func TestUICampaignPageShowsChannelMoves(t *testing.T) {
	a := newTestApp(t)
	p := a.seedPage(t)
	ctx := context.Background()
	a.Campaigns.Actors[campaigns.SEO] = failingActor{err: errors.New("ad platform answered 503")}
	a.Campaigns.Actors[campaigns.Affiliation] = failingActor{}
	in := campaigns.Input{Name: "Live one", Channels: []string{"seo", "affiliation", "display"}, StartsAt: time.Now().Add(-time.Hour).Format(time.RFC3339),
		EndsAt: time.Now().Add(48 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"seo": 1, "affiliation": 1, "display": 1},
		Forecast:      map[string]map[string]float64{"seo": {"sessions_per_day": 1}, "affiliation": {"impressions": 10, "ctr": 0.01}, "display": {"impressions": 10, "ctr": 0.01}},
		LandingPageID: &p.ID}
	c, err := a.Campaigns.Create(ctx, in, "test")
	if err != nil {
		t.Fatal(err)
	}
	c, _ = a.Campaigns.Schedule(ctx, c.ID, "test")
	a.Campaigns.GoLive(ctx, c.ID, c.ScheduleVersion, "test")
	if got, _ := a.Campaigns.Get(ctx, c.ID); got.Status != campaigns.Live {
		t.Fatalf("setup: campaign %s (%s)", got.Status, got.StatusReason)
	}
	b := a.browser(accounts.Marketer)
	page := b.get(fmt.Sprintf("/campaigns/%d", c.ID))
	if strings.Count(page.Body, "launch pending") != 3 {
		t.Fatalf("before the job ran: %.4000s", page.Body)
	}
	a.Campaigns.RunMoves(ctx, c.ID)
	page = b.get(fmt.Sprintf("/campaigns/%d", c.ID))
	for _, want := range []string{"launch failed, retrying (1 attempt)", "ad platform answered 503", "launched</strong> at", "3 links switched", "not connected</strong>", "not connected yet"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("campaign page lacks %q", want)
		}
	}
	// The API says the same.
	js := a.api("GET", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), accounts.Viewer, "").json(t)
	states, _ := js["channel_states"].([]any)
	if len(states) != 3 || states[1].(map[string]any)["status"] != "retrying" || !strings.Contains(fmt.Sprint(states), "3 links switched") {
		t.Errorf("API channel_states: %v", js["channel_states"])
	}
	// Pausing from the UI halts the channels.
	if r := b.post(fmt.Sprintf("/campaigns/%d/pause", c.ID), url.Values{}); r.Status != 303 {
		t.Fatalf("pause: %d", r.Status)
	}
	a.Campaigns.RunMoves(ctx, c.ID)
	page = b.get(fmt.Sprintf("/campaigns/%d", c.ID))
	if !strings.Contains(page.Body, "halt failed, retrying") || strings.Count(page.Body, "halted</strong>") != 1 {
		t.Errorf("after pause: %.6000s", page.Body)
	}
}
