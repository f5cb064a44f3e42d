package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/channels/search"
	"github.com/rampe/rampe/platform/config"
)

// The demo's history is written by the lifecycle itself: every go-live in
// it recorded gate answers that all pass, every block recorded the failing
// ones, and the ended campaign of last month has its final readiness.
func TestDemoHistoryComesFromTheLifecycle(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RAMPE_DATABASE_DSN", filepath.Join(dir, "rampe.db"))
	t.Setenv("RAMPE_REDIS_URL", "")
	t.Setenv("RAMPE_FEEDS_DIR", filepath.Join(dir, "feeds"))
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := build(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if err := seedDemo(ctx, st, io.Discard); err != nil {
		t.Fatal(err)
	}
	// Its load checks are left for the first node that serves: one claim
	// wins, and seeding again does not ask for them twice.
	if !claimDemoChecks(ctx, st) {
		t.Fatal("the seeded demo left no load checks for the first node that serves")
	}
	if err := seedDemo(ctx, st, io.Discard); err != nil {
		t.Fatal(err)
	}
	if claimDemoChecks(ctx, st) {
		t.Fatal("a second node (or a second seeding) got the demo's load checks again")
	}
	var hist []campaigns.Transition
	if err := st.db.Order("id").Find(&hist).Error; err != nil {
		t.Fatal(err)
	}
	ended := 0
	for _, tr := range hist {
		switch {
		case tr.ToStatus == campaigns.Live && tr.FromStatus != campaigns.Paused:
			if len(tr.Gates) == 0 {
				t.Errorf("campaign %d went live with no gate answer recorded: %q", tr.CampaignID, tr.Reason)
			}
			for _, g := range tr.Gates {
				if g.Outcome == campaigns.Fail {
					t.Errorf("campaign %d went live with %s failing: %s", tr.CampaignID, g.Gate, g.Message)
				}
			}
		case strings.Contains(tr.Reason, "all gates pass") || strings.Contains(tr.Reason, "all ") && strings.Contains(tr.Reason, "gates pass"):
			t.Errorf("a transition to %s claims every gate passes: %q", tr.ToStatus, tr.Reason)
		case tr.ToStatus == campaigns.Blocked && len(tr.Gates) == 0:
			t.Errorf("campaign %d blocked without its gate answers", tr.CampaignID)
		case tr.ToStatus == campaigns.Ended:
			ended++
		}
	}
	if ended != 1 {
		t.Fatalf("%d ended campaign(s) in the demo, want 1", ended)
	}
	imports, err := st.catalog.Imports(ctx, 10)
	if err != nil || len(imports) != 1 || imports[0].Filename != "demo-catalog.csv" || imports[0].Status != "done" {
		t.Fatalf("the demo's import is not recorded: %v %+v", err, imports)
	}
	// The SEA campaigns have ads within their limits, priced from their
	// landing page; launching one writes its exports and lists its page.
	page, _ := st.campaigns.List(ctx, campaigns.Filter{Channel: campaigns.SEO}, 0, 100)
	withAds := 0
	for i := range page.Campaigns {
		c := &page.Campaigns[i]
		groups, _ := st.search.AdGroups(ctx, c.ID)
		if len(groups) == 0 || len(groups[0].Ads) == 0 {
			continue
		}
		withAds++
		rep := st.campaigns.Gates.Evaluate(ctx, c, time.Now())
		for _, r := range rep.Results {
			if r.Gate == "sea.ads" && r.Outcome != campaigns.Pass {
				t.Errorf("%s: sea.ads %s: %s", c.Name, r.Outcome, r.Message)
			}
		}
		if _, err := st.search.Launch(ctx, c); err != nil {
			t.Fatal(err)
		}
		if ex, _ := st.search.Exports(ctx, c.ID); len(ex) != 1 {
			t.Errorf("%s: %d exports", c.Name, len(ex))
		}
	}
	var xml bytes.Buffer
	if err := (&search.Sitemap{Ch: st.search}).WriteFile(ctx, 1, &xml); err != nil || !strings.Contains(xml.String(), "/l/demo</loc>") || withAds < 2 {
		t.Fatalf("%d campaigns with ads; sitemap %v:\n%s", withAds, err, xml.String())
	}
	// Three partners on the campaigns of the affiliation channel, their
	// clicks (a bot's among them, left out of the counts) and orders.
	ps, err := st.affiliation.Service.Partners(ctx)
	if err != nil || len(ps) != 3 {
		t.Fatalf("demo partners: %v %d", err, len(ps))
	}
	lines, _, err := st.affiliation.Service.LedgerPage(ctx, affiliation.LedgerFilter{}, 0, 100)
	if err != nil || len(lines) < 3 {
		t.Fatalf("demo commissions: %v %+v", err, lines)
	}
	var bots, people int64
	st.db.Table("clicks").Where("partner_id <> 0 AND ua_class = ?", clicks.BotClass).Count(&bots)
	st.db.Table("clicks").Where("partner_id <> 0 AND ua_class <> ?", clicks.BotClass).Count(&people)
	if bots == 0 || people < 30 {
		t.Fatalf("demo clicks: %d bots, %d people", bots, people)
	}
}
