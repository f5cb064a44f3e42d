package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/platform/i18n"
)

// loadChecksPage is how many checks the load checks page lists at once.
const loadChecksPage = 50

// showLoadChecks lists every load check, newest first, with its verdict and
// its campaign, one page at a time (?after=ID: the checks older than ID).
func (s *Server) showLoadChecks(c *fiber.Ctx) error {
	pg, ferr := parsePaging(c, loadChecksPage)
	if ferr != nil {
		return badInput(ferr)
	}
	ctx := c.UserContext()
	page, err := s.LoadChecks.Store.List(ctx, pg.After, cmpOr(pg.Limit, loadChecksPage))
	if err != nil {
		return err
	}
	names := map[uint64]string{}
	for _, chk := range page.Checks {
		if chk.CampaignID == nil {
			continue
		}
		if _, ok := names[*chk.CampaignID]; !ok {
			if camp, err := s.Campaigns.Get(ctx, *chk.CampaignID); err == nil {
				names[*chk.CampaignID] = camp.Name
			}
		}
	}
	next := ""
	if page.NextAfter != 0 {
		next = "/loadchecks?after=" + strconv.FormatUint(page.NextAfter, 10)
	}
	return s.render(c, "loadchecks", pageData{Title: i18n.M("Load checks"), Nav: "loadchecks", Data: map[string]any{
		"Checks": page.Checks, "Names": names, "Next": next, "Paged": pg.After != 0}})
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
