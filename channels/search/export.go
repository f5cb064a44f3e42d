package search

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/money"
)

// Export is the ads files of one lifecycle move: the campaign enabled
// (launch, resume) or paused (halt), for each ad tool.
type Export struct {
	ID         uint64         `gorm:"primaryKey" json:"id"`
	CampaignID uint64         `json:"campaign_id"`
	Move       campaigns.Move `json:"move"`
	Status     string         `json:"status"` // enabled | paused
	Google     string         `json:"-"`
	Microsoft  string         `json:"-"`
	CreatedAt  time.Time      `json:"created_at"`
}

// TableName of Export.
func (Export) TableName() string { return "sea_exports" }

// GoogleHeader is the header of the Google Ads Editor CSV: the column
// names of Editor's "CSV file columns" reference (Campaign, Campaign
// Type, Campaign Status, Budget, Budget type, Start Date, End Date, Ad
// Group, Max CPC, Keyword, Criterion Type, Ad type, Final URL,
// Headline 1–15, Description 1–4, Path 1, Path 2). Editor matches them
// case- and space-insensitively; an empty cell means "no change".
var GoogleHeader = func() []string {
	h := []string{"Campaign", "Campaign Type", "Campaign Status", "Budget", "Budget type", "Start Date", "End Date",
		"Ad Group", "Max CPC", "Keyword", "Criterion Type", "Ad type", "Final URL"}
	for i := 1; i <= MaxHeadlines; i++ {
		h = append(h, fmt.Sprintf("Headline %d", i))
	}
	for i := 1; i <= MaxDescriptions; i++ {
		h = append(h, fmt.Sprintf("Description %d", i))
	}
	return append(h, "Path 1", "Path 2")
}()

// MicrosoftHeader is the header of the Microsoft Advertising bulk CSV
// (format version 6.0), each column as the Bulk File Schema names it
// (learn.microsoft.com/advertising/bulk-service: the Campaign, Ad Group,
// Keyword and Responsive Search Ad records): a Type column names each
// row's record; parents are named by the Campaign and Ad Group columns;
// the ad's Headline and Description columns (singular, as the Responsive
// Search Ad record names them) hold JSON lists of {"text": …}.
var MicrosoftHeader = []string{"Type", "Status", "Id", "Parent Id", "Campaign", "Ad Group", "Client Id", "Modified Time", "Name",
	"Budget", "Budget Type", "Campaign Type", "Start Date", "End Date", "Cpc Bid", "Keyword", "Match Type", "Bid",
	"Final Url", "Headline", "Description", "Path 1", "Path 2"}

// DailyBudget is the channel budget divided by the campaign's days (a
// started day counts), in minor units, rounded down.
func DailyBudget(c *campaigns.Campaign) int64 {
	days := int64(math.Ceil(c.EndsAt.Sub(c.StartsAt).Hours() / 24))
	if days < 1 {
		days = 1
	}
	return c.Budgets[campaigns.SEO] / days
}

// FinalURL is the landing page with UTM and the click id placeholder
// kept verbatim ({gclid} for Google, {msclkid} for Microsoft): the ad
// tool fills it at the click.
func FinalURL(landingURL string, c *campaigns.Campaign, source string) string {
	q := url.Values{}
	q.Set("utm_source", source)
	q.Set("utm_medium", "cpc")
	q.Set("utm_campaign", fmt.Sprintf("rampe-%d", c.ID))
	clid := "gclid={gclid}"
	if source == "bing" {
		clid = "msclkid={msclkid}"
	}
	sep := "?"
	if u, err := url.Parse(landingURL); err == nil && u.RawQuery != "" {
		sep = "&"
	}
	return landingURL + sep + q.Encode() + "&" + clid
}

// campaignName is the campaign's name in the ad tools, with its id so
// that two campaigns of one name stay apart.
func campaignName(c *campaigns.Campaign) string { return fmt.Sprintf("%s (Rampe #%d)", c.Name, c.ID) }

// writeGoogle writes the Google Ads Editor CSV.
func writeGoogle(c *campaigns.Campaign, groups []AdGroup, prices Prices, landingURL string, enabled bool) (string, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	row := func(set map[string]string) {
		r := make([]string, len(GoogleHeader))
		for i, h := range GoogleHeader {
			r[i] = set[h]
		}
		w.Write(r)
	}
	w.Write(GoogleHeader)
	status := "Paused"
	if enabled {
		status = "Enabled"
	}
	name, cur := campaignName(c), c.Currency
	loc := c.Location()
	row(map[string]string{"Campaign": name, "Campaign Type": "Search", "Campaign Status": status, "Budget": money.Plain(DailyBudget(c), cur),
		"Budget type": "Daily", "Start Date": c.StartsAt.In(loc).Format("2006-01-02"), "End Date": c.EndsAt.In(loc).Format("2006-01-02")})
	final := FinalURL(landingURL, c, "google")
	for _, g := range groups {
		row(map[string]string{"Campaign": name, "Ad Group": g.Name, "Max CPC": money.Plain(g.MaxCPC, cur)})
		for _, k := range g.Keywords {
			cpc := ""
			if k.MaxCPC > 0 {
				cpc = money.Plain(k.MaxCPC, cur)
			}
			row(map[string]string{"Campaign": name, "Ad Group": g.Name, "Keyword": k.Text, "Criterion Type": matchLabel(k.Match), "Max CPC": cpc})
		}
		for _, a := range g.Ads {
			set := map[string]string{"Campaign": name, "Ad Group": g.Name, "Ad type": "Responsive search ad", "Final URL": final,
				"Path 1": a.Path1, "Path 2": a.Path2}
			for i, h := range a.Headlines {
				t, err := Fill(h, prices)
				if err != nil {
					return "", err
				}
				set[fmt.Sprintf("Headline %d", i+1)] = t
			}
			for i, d := range a.Descriptions {
				t, err := Fill(d, prices)
				if err != nil {
					return "", err
				}
				set[fmt.Sprintf("Description %d", i+1)] = t
			}
			row(set)
		}
	}
	w.Flush()
	return buf.String(), w.Error()
}

func matchLabel(m MatchType) string {
	switch m {
	case Exact:
		return "Exact"
	case Phrase:
		return "Phrase"
	}
	return "Broad"
}

type textAsset struct {
	Text string `json:"text"`
}

func assets(texts []string, prices Prices) (string, error) {
	list := make([]textAsset, len(texts))
	for i, t := range texts {
		f, err := Fill(t, prices)
		if err != nil {
			return "", err
		}
		list[i] = textAsset{f}
	}
	b, err := json.Marshal(list)
	return string(b), err
}

// writeMicrosoft writes the Microsoft Advertising bulk CSV.
func writeMicrosoft(c *campaigns.Campaign, groups []AdGroup, prices Prices, landingURL string, enabled bool) (string, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	row := func(set map[string]string) {
		r := make([]string, len(MicrosoftHeader))
		for i, h := range MicrosoftHeader {
			r[i] = set[h]
		}
		w.Write(r)
	}
	w.Write(MicrosoftHeader)
	row(map[string]string{"Type": "Format Version", "Name": "6.0"})
	status := "Paused"
	if enabled {
		status = "Active"
	}
	name, cur, loc := campaignName(c), c.Currency, c.Location()
	row(map[string]string{"Type": "Campaign", "Status": status, "Campaign": name, "Budget": money.Plain(DailyBudget(c), cur),
		"Budget Type": "DailyBudgetStandard", "Campaign Type": "Search"})
	final := FinalURL(landingURL, c, "bing")
	start, end := c.StartsAt.In(loc).Format("1/2/2006"), c.EndsAt.In(loc).Format("1/2/2006")
	for _, g := range groups {
		row(map[string]string{"Type": "Ad Group", "Status": status, "Campaign": name, "Ad Group": g.Name, "Start Date": start, "End Date": end,
			"Cpc Bid": money.Plain(g.MaxCPC, cur)})
		for _, k := range g.Keywords {
			bid := money.Plain(g.MaxCPC, cur)
			if k.MaxCPC > 0 {
				bid = money.Plain(k.MaxCPC, cur)
			}
			row(map[string]string{"Type": "Keyword", "Status": "Active", "Campaign": name, "Ad Group": g.Name, "Keyword": k.Text,
				"Match Type": matchLabel(k.Match), "Bid": bid})
		}
		for _, a := range g.Ads {
			hs, err := assets(a.Headlines, prices)
			if err != nil {
				return "", err
			}
			ds, err := assets(a.Descriptions, prices)
			if err != nil {
				return "", err
			}
			row(map[string]string{"Type": "Responsive Search Ad", "Status": "Active", "Campaign": name, "Ad Group": g.Name,
				"Final Url": final, "Headline": hs, "Description": ds, "Path 1": a.Path1, "Path 2": a.Path2})
		}
	}
	w.Flush()
	return buf.String(), w.Error()
}

// Export writes the ads files of a move: enabled at launch and resume,
// paused at halt, prices filled from the landing page at the campaign's
// start. A campaign without ad groups has nothing to export (nil). The
// same move run twice (a retry) writes no second export.
func (ch *Channel) Export(ctx context.Context, c *campaigns.Campaign, m campaigns.Move) (*Export, error) {
	groups, err := ch.AdGroups(ctx, c.ID)
	if err != nil || len(groups) == 0 {
		return nil, err
	}
	enabled := m != campaigns.MoveHalt
	offer, err := ch.Offers.Offer(ctx, c, c.StartsAt)
	if err != nil && enabled {
		return nil, fmt.Errorf("search: price the ads of campaign %d: %w", c.ID, err)
	}
	if offer == nil && enabled {
		return nil, fmt.Errorf("search: campaign %d has no landing page for its ads", c.ID)
	}
	ex := &Export{CampaignID: c.ID, Move: m, Status: "paused", CreatedAt: ch.now()}
	if enabled {
		ex.Status = "enabled"
	}
	landingURL, prices := "", Prices{}
	if offer != nil {
		landingURL, prices = offer.LandingURL, PricesOf(offer)
	}
	if err := ch.write(ex, c, groups, prices, landingURL, enabled); err != nil {
		if enabled {
			return nil, fmt.Errorf("search: export campaign %d: %w", c.ID, err)
		}
		// The file that pauses must always exist, even when the page no
		// longer shows an ad's product: the campaign and ad group rows,
		// paused, without the ads.
		bare := make([]AdGroup, len(groups))
		for i, g := range groups {
			bare[i] = AdGroup{Name: g.Name, MaxCPC: g.MaxCPC}
		}
		if err := ch.write(ex, c, bare, prices, landingURL, false); err != nil {
			return nil, fmt.Errorf("search: export campaign %d: %w", c.ID, err)
		}
	}
	var last Export
	err = ch.DB.WithContext(ctx).Where("campaign_id = ?", c.ID).Order("id DESC").Take(&last).Error
	if err == nil && last.Move == m && last.Google == ex.Google && last.Microsoft == ex.Microsoft {
		return &last, nil
	}
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	return ex, ch.DB.WithContext(ctx).Create(ex).Error
}

func (ch *Channel) write(ex *Export, c *campaigns.Campaign, groups []AdGroup, prices Prices, landingURL string, enabled bool) (err error) {
	if ex.Google, err = writeGoogle(c, groups, prices, landingURL, enabled); err != nil {
		return err
	}
	ex.Microsoft, err = writeMicrosoft(c, groups, prices, landingURL, enabled)
	return err
}

// Exports lists a campaign's exports, newest first.
func (ch *Channel) Exports(ctx context.Context, campaignID uint64) ([]Export, error) {
	var out []Export
	return out, ch.DB.WithContext(ctx).Select("id", "campaign_id", "move", "status", "created_at").
		Where("campaign_id = ?", campaignID).Order("id DESC").Find(&out).Error
}

// GetExport loads one export of a campaign with its files.
func (ch *Channel) GetExport(ctx context.Context, campaignID, id uint64) (*Export, error) {
	var e Export
	err := ch.DB.WithContext(ctx).Take(&e, "id = ? AND campaign_id = ?", id, campaignID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &e, err
}

// FileName is a download name for one of an export's files.
func (e *Export) FileName(tool string) string {
	return "rampe-" + strconv.FormatUint(e.CampaignID, 10) + "-" + e.CreatedAt.UTC().Format("20060102T150405") + "-" + e.Status + "-" + tool + ".csv"
}
