package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hibiken/asynq"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/clock"
)

const demoAdmin = "admin@rampe.demo"

// seedDemo adds an admin and campaigns over every channel and state, with
// dates around today so the product looks alive. Running it twice adds
// nothing the second time.
func seedDemo(ctx context.Context, st *stack, out io.Writer) error {
	_, err := st.accounts.ByEmail(ctx, demoAdmin)
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		pw := accounts.RandomPassword()
		if _, err := st.accounts.CreateUser(ctx, demoAdmin, "Demo admin", accounts.Admin, pw); err != nil {
			return err
		}
		fmt.Fprintf(out, "\n  Demo admin created — sign in with\n    e-mail:   %s\n    password: %s\n  (shown once; add users with `rampe user create`)\n\n", demoAdmin, pw)
	case err != nil:
		return err
	default:
		fmt.Fprintf(out, "Demo admin %s exists (its password was printed at first start).\n", demoAdmin)
	}
	if err := seedAudience(ctx, st, out); err != nil {
		return err
	}
	var n int64
	if err := st.db.WithContext(ctx).Model(&campaigns.Campaign{}).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	loc, _ := clock.Location(st.cfg.DefaultTimeZone)
	now := st.now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	window := func(days, hour int) time.Time { return day.AddDate(0, 0, days).Add(time.Duration(hour) * time.Hour) }
	refs, err := seedCatalog(ctx, st, window)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Demo catalog, promotions and landing pages added: %s/l/demo\n", st.cfg.PublicBaseURL)
	if err := seedCampaigns(ctx, st.campaigns, refs, window); err != nil {
		return err
	}
	if err := seedDisplayDemo(ctx, st, out); err != nil {
		return err
	}
	if err := seedEmailDemo(ctx, st, refs, window); err != nil {
		return err
	}
	if err := seedSearchDemo(ctx, st); err != nil {
		return err
	}
	if err := seedAffiliationDemo(ctx, st, refs); err != nil {
		return err
	}
	return markDemoChecks(ctx, st)
}

// demoChecksKey is the settings row that says the demo's load checks are
// still to run: `rampe demo` and `serve --demo` write it, and the first
// node that serves HTTP (and so can be load-checked) claims it and runs
// them — once in the whole deployment, however many nodes start.
const demoChecksKey = "demo.load_checks"

func markDemoChecks(ctx context.Context, st *stack) error {
	if st.noDemoChecks {
		return nil
	}
	return st.db.WithContext(ctx).Exec("INSERT INTO settings (key, value, updated_at) VALUES (?, 'pending', ?) ON CONFLICT (key) DO NOTHING",
		demoChecksKey, st.now()).Error
}

// claimDemoChecks tells whether this node is the one to run the demo's
// load checks (their marker was pending, and is now taken).
func claimDemoChecks(ctx context.Context, st *stack) bool {
	res := st.db.WithContext(ctx).Exec("UPDATE settings SET value = 'started', updated_at = ? WHERE key = ? AND value = 'pending'",
		st.now(), demoChecksKey)
	return res.Error == nil && res.RowsAffected == 1
}

// runDemoChecks runs two real load checks of /l/demo once the server
// listens: first one with a p99 threshold no server meets, so the history
// shows a failure and its reason, then one at the rate the demo campaigns
// need (it passes on any machine and, being the latest verdict on the page,
// puts them live).
func runDemoChecks(ctx context.Context, st *stack, out io.Writer) {
	page, err := st.pages.BySlug(ctx, "demo")
	if err != nil {
		return
	}
	linked, err := st.campaigns.Linked(ctx, page.ID, 0)
	if err != nil || len(linked) == 0 {
		return
	}
	// One check covers every campaign on /l/demo: it targets the largest need.
	rate := 0.0
	for i := range linked {
		if need, err := st.loadcheck.Needed(ctx, &linked[i]); err == nil {
			rate = max(rate, need.Needed)
		}
	}
	strict := loadcheck.DefaultThresholds
	strict.MaxP99Ms = 0.05
	if chk, err := st.loadcheck.Start(ctx, loadcheck.Plan{CampaignID: linked[0].ID, Rate: 20, Thresholds: &strict, By: demoAdmin + " (demo: a p99 of 0.05 ms is out of reach)"}); err != nil {
		fmt.Fprintf(out, "demo load check not started: %v\n", err)
	} else if !waitFinished(ctx, st, chk.ID) {
		return
	}
	chk, err := st.loadcheck.Start(ctx, loadcheck.Plan{CampaignID: linked[0].ID, Rate: rate, By: demoAdmin})
	if err != nil {
		fmt.Fprintf(out, "demo load check not started: %v\n", err)
		return
	}
	// Once it has passed, the blocked demo campaigns go live; one is then
	// paused so every state shows.
	if !waitFinished(ctx, st, chk.ID) {
		return
	}
	// The passing check re-checks the linked campaigns right after it is
	// recorded: wait for the one to pause to be live before pausing it.
	for _, c := range linked {
		if c.Name != "Back-to-work office chairs" {
			continue
		}
		for range 30 {
			got, err := st.campaigns.Get(ctx, c.ID)
			if err != nil {
				return
			}
			if got.Status == campaigns.Live {
				if _, err := st.campaigns.Pause(ctx, c.ID, demoAdmin, "paused: supplier delay on two best sellers"); err != nil {
					fmt.Fprintf(out, "demo: pause %s: %v\n", c.Name, err)
				}
				break
			}
			time.Sleep(time.Second)
		}
	}
}

// waitFinished waits up to 10 minutes for a check to end; false when it
// cannot tell (shutting down, database gone).
func waitFinished(ctx context.Context, st *stack, id uint64) bool {
	for range 600 {
		time.Sleep(time.Second)
		c, err := st.loadcheck.Store.Get(ctx, id)
		if err != nil || ctx.Err() != nil {
			return false
		}
		if c.FinishedAt != nil {
			return true
		}
	}
	return true
}
func full(budget int64) (map[string]int64, map[string]map[string]float64) {
	b := map[string]int64{}
	for _, ch := range campaigns.AllChannels {
		b[string(ch)] = budget
	}
	return b, map[string]map[string]float64{
		"email":       {"audience": 180000, "open_rate": 0.24, "click_rate": 0.12},
		"comparators": {"daily_clicks": 9000, "uplift": 2.5},
		"affiliation": {"impressions": 400000, "ctr": 0.012},
		"display":     {"impressions": 1500000, "ctr": 0.004},
		"seo":         {"sessions_per_day": 25000},
	}
}

func pick(all map[string]int64, fc map[string]map[string]float64, chs ...string) (map[string]int64, map[string]map[string]float64) {
	b, f := map[string]int64{}, map[string]map[string]float64{}
	for _, ch := range chs {
		b[ch], f[ch] = all[ch], fc[ch]
	}
	return b, f
}

func seedCampaigns(ctx context.Context, cs *campaigns.Service, refs *demoRefs, window func(days, hour int) time.Time) error {
	at := func(days, hour int) string { return window(days, hour).Format("2006-01-02T15:04") }
	day := window(0, 0)
	allB, allF := full(500000)
	const actor = demoAdmin

	type plan struct {
		name, desc string
		chs        []string
		from, to   [2]int
		then       func(c *campaigns.Campaign) error
		noForecast bool
		page       string
		promos     []string
	}
	schedule := func(c *campaigns.Campaign) error { _, err := cs.Schedule(ctx, c.ID, actor); return err }
	goLive := func(c *campaigns.Campaign) error {
		c, err := cs.Schedule(ctx, c.ID, actor)
		if err != nil {
			return err
		}
		return cs.GoLive(ctx, c.ID, c.ScheduleVersion, "worker")
	}
	plans := []plan{
		{name: "Black Friday — everything -30 %", desc: "The biggest day of the year, on every channel.",
			chs: []string{"affiliation", "seo", "email", "display", "comparators"}, from: [2]int{5, 0}, to: [2]int{8, 23}, then: schedule,
			page: "black-friday", promos: []string{"bf"}},
		{name: "Cyber Monday e-mail blast", chs: []string{"email"}, from: [2]int{8, 7}, to: [2]int{9, 23}, then: schedule, page: "black-friday", promos: []string{"bf"}},
		{name: "Autumn clearance", desc: "End of season stock on comparators and SEA.", chs: []string{"comparators", "seo"}, from: [2]int{-2, 9}, to: [2]int{3, 23}, then: goLive,
			page: "demo", promos: []string{"autumn"}},
		{name: "Sneakers flash sale", desc: "Blocked on purpose: its display forecast was never filled in.", chs: []string{"display", "affiliation"}, from: [2]int{0, 0}, to: [2]int{2, 23}, then: goLive, noForecast: true},
		{name: "Back-to-work office chairs", chs: []string{"display", "affiliation"}, from: [2]int{-5, 8}, to: [2]int{4, 20}, page: "demo", then: schedule},
		{name: "Christmas gift guide", desc: "Draft: its landing page is still being written.", chs: []string{"email", "seo", "display"}, from: [2]int{12, 6}, to: [2]int{32, 23}, page: "christmas"},
		{name: "Winter sales preview", chs: []string{"email", "comparators"}, from: [2]int{45, 8}, to: [2]int{60, 20}, then: func(c *campaigns.Campaign) error {
			_, err := cs.Cancel(ctx, c.ID, actor, "cancelled: merged into the winter sales plan")
			return err
		}},
	}
	for _, p := range plans {
		b, f := pick(allB, allF, p.chs...)
		if p.noForecast {
			delete(f, "display")
		}
		in := campaigns.Input{Name: p.name, Description: p.desc, Channels: p.chs, TimeZone: cs.DefaultTimeZone,
			StartsAt: at(p.from[0], p.from[1]), EndsAt: at(p.to[0], p.to[1]), Currency: "EUR", Budgets: b, Forecast: f}
		if id, ok := refs.pages[p.page]; ok {
			in.LandingPageID = &id
		}
		for _, k := range p.promos {
			in.PromotionIDs = append(in.PromotionIDs, refs.promos[k])
		}
		for _, ch := range p.chs {
			if ch == "comparators" {
				in.FeedIDs = refs.feeds
			}
		}
		c, err := cs.Create(ctx, in, actor)
		if err != nil {
			return fmt.Errorf("demo: %s: %w", p.name, err)
		}
		if p.then != nil {
			if err := p.then(c); err != nil {
				return fmt.Errorf("demo: %s: %w", p.name, err)
			}
		}
	}
	return seedEnded(ctx, cs, refs, day)
}

// seedEnded runs a campaign of last month through the real lifecycle on a
// fixed clock: created and scheduled a week before its start, judged by
// every gate at its go-live instant, ended at the end of its window. Its
// history is whatever the gates said then — here, blocked: /l/demo had no
// load check yet — never a claim written by hand. Its tasks go nowhere
// (the clock is past), and the alerts it raised are resolved, as a
// marketer would have done since.
func seedEnded(ctx context.Context, cs *campaigns.Service, refs *demoRefs, day time.Time) error {
	allB, allF := full(300000)
	b, f := pick(allB, allF, "email", "seo")
	start, end := day.AddDate(0, -1, 0).Add(8*time.Hour), day.AddDate(0, -1, 10).Add(20*time.Hour)
	clk := clock.NewFixed(start.AddDate(0, 0, -7))
	past := *cs
	past.Clock, past.Tasks = clk, noTasks{}
	in := campaigns.Input{Name: "Mid-season sales", Description: "Last month's sales, as the worker saw them.", Channels: []string{"email", "seo"},
		StartsAt: start.Format(time.RFC3339), EndsAt: end.Format(time.RFC3339), Currency: "EUR", Budgets: b, Forecast: f}
	if id, ok := refs.pages["demo"]; ok {
		in.LandingPageID = &id
	}
	c, err := past.Create(ctx, in, demoAdmin)
	if err != nil {
		return err
	}
	if c, err = past.Schedule(ctx, c.ID, demoAdmin); err != nil {
		return err
	}
	clk.Set(start)
	if err := past.GoLive(ctx, c.ID, c.ScheduleVersion, "worker"); err != nil {
		return err
	}
	if c, err = past.Get(ctx, c.ID); err != nil {
		return err
	}
	clk.Set(end)
	if err := past.End(ctx, c.ID, c.ScheduleVersion); err != nil {
		return err
	}
	clk.Set(end.Add(14 * time.Hour))
	alerts, err := past.Alerts(ctx, campaigns.AlertFilter{CampaignID: c.ID, OpenOnly: true}, 0, 100)
	if err != nil {
		return err
	}
	for _, a := range alerts.Alerts {
		if err := past.ResolveAlert(ctx, a.ID); err != nil {
			return err
		}
	}
	return nil
}

// noTasks drops the tasks of a campaign run on a past clock: their instants
// are over, and the lifecycle was played to its end in place.
type noTasks struct{}

func (noTasks) Enqueue(context.Context, *asynq.Task, ...asynq.Option) (bool, error) {
	return false, nil
}
