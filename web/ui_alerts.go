package web

import (
	"errors"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// campaignAlerts is how many alerts a campaign's page shows, newest first;
// it links to the alerts page for the others.
const campaignAlerts = 20

// showAlerts shows one page of alerts (campaigns.PageSize), newest first,
// open ones only unless ?all=1, of one campaign with ?campaign=ID; it tells
// how many there are and links to the next page.
func (s *Server) showAlerts(c *fiber.Ctx) error {
	f := campaigns.AlertFilter{OpenOnly: c.Query("all") == ""}
	if v := c.Query("campaign"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return fiber.NewError(fiber.StatusBadRequest, "campaign: want a campaign id, got "+strconv.Quote(v))
		}
		f.CampaignID = uint64(id)
	}
	pg, ferr := parsePaging(c, campaigns.PageSize)
	if ferr != nil {
		return badInput(ferr)
	}
	ctx := c.UserContext()
	page, err := s.Campaigns.Alerts(ctx, f, pg.After, pg.Limit)
	if errors.As(err, &ferr) {
		return badInput(ferr)
	}
	if err != nil {
		return err
	}
	names, zones := map[uint64]string{}, map[uint64]string{}
	for _, a := range page.Alerts {
		if _, ok := names[a.CampaignID]; !ok {
			if camp, err := s.Campaigns.Get(ctx, a.CampaignID); err == nil {
				names[a.CampaignID], zones[a.CampaignID] = camp.Name, camp.TimeZone
			}
		}
	}
	q := url.Values{}
	if !f.OpenOnly {
		q.Set("all", "1")
	}
	if f.CampaignID != 0 {
		q.Set("campaign", strconv.FormatUint(f.CampaignID, 10))
	}
	first := "/alerts?" + q.Encode()
	next := ""
	if page.NextAfter != 0 {
		q.Set("after", strconv.FormatUint(page.NextAfter, 10))
		next = "/alerts?" + q.Encode()
	}
	return s.render(c, "alerts", pageData{Title: i18n.M("Alerts"), Nav: "alerts", Data: map[string]any{"List": page.Alerts, "Names": names, "Zones": zones,
		"All": !f.OpenOnly, "Total": page.Total, "Next": next, "First": first, "Paged": pg.After != 0, "CampaignID": f.CampaignID}})
}
