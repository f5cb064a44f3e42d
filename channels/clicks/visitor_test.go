package clicks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
)

func TestUserAgentClasses(t *testing.T) {
	for ua, want := range map[string]string{
		"": BotClass, "curl/8.5.0": BotClass, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": BotClass,
		"facebookexternalhit/1.1": BotClass, "python-requests/2.31": BotClass,
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36":                         "desktop",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1": "mobile",
	} {
		if got := Classify(ua); got != want {
			t.Errorf("%q: %s, want %s", ua, got, want)
		}
	}
}

// No raw IP is kept; one IP hashes the same within a day and differently
// the next day; bots are stored but left out of the counts; each partner
// has its own link to one destination, and a channel's router decides
// where a click goes, with a click id for partner links.
func TestVisitorsPartnersAndRoutes(t *testing.T) {
	ctx := context.Background()
	s, c := setup(t)
	day := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	clk := clock.NewFixed(day)
	s.Clock = clk
	a, err := s.PartnerLink(ctx, c, campaigns.Display, 1, "https://shop.example/l", "a", "ana")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.PartnerLink(ctx, c, campaigns.Display, 2, "https://shop.example/l", "b", "ana")
	if a.ID == b.ID {
		t.Fatal("two partners share a link")
	}
	var gotClickID string
	s.Routes = map[campaigns.Channel]Router{campaigns.Display: func(_ context.Context, l *Link, clickID string) (string, error) {
		gotClickID = clickID
		return "https://shop.example/fallback?p=" + string(rune('0'+l.PartnerID)), nil
	}}
	chrome := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	dest, _, err := s.FollowFrom(ctx, s.Token(a.ID, 0), Visitor{IP: "203.0.113.7", UserAgent: chrome})
	if err != nil || dest != "https://shop.example/fallback?p=1" || len(gotClickID) != 32 {
		t.Fatalf("route: %q %v click id %q", dest, err, gotClickID)
	}
	s.FollowFrom(ctx, s.Token(a.ID, 0), Visitor{IP: "203.0.113.7", UserAgent: chrome})
	s.FollowFrom(ctx, s.Token(a.ID, 0), Visitor{IP: "203.0.113.7", UserAgent: "Googlebot/2.1"})
	clk.Add(24 * time.Hour)
	s.FollowFrom(ctx, s.Token(a.ID, 0), Visitor{IP: "203.0.113.7", UserAgent: chrome})
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var rows []Click
	s.DB.Order("at").Find(&rows)
	if len(rows) != 4 {
		t.Fatalf("%d clicks", len(rows))
	}
	for _, r := range rows {
		if strings.Contains(r.IPHash, "203.0.113") || len(r.IPHash) != 32 || r.PartnerID != 1 || r.ClickID == "" {
			t.Errorf("click %+v", r)
		}
	}
	if rows[0].IPHash != rows[1].IPHash || rows[0].IPHash == rows[3].IPHash || rows[0].ClickID == rows[1].ClickID {
		t.Errorf("hashes of one day differ or of two days match, or click ids repeat: %+v", rows)
	}
	if rows[2].UAClass != BotClass {
		t.Errorf("bot: %+v", rows[2])
	}
	stats, _ := s.Stats(ctx, c.ID)
	for _, st := range stats {
		if st.ID == a.ID && st.Clicks != 3 {
			t.Errorf("the bot was counted: %+v", st)
		}
	}
}
