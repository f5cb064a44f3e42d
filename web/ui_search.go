package web

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/search"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// The campaign's search tab: its landing page's SEO audit and sitemap
// setting, its ad groups with keywords and responsive search ads (live
// length counters in app.js), and the ads exports of its moves.

// searchCampaign loads the campaign of the URL, which must be on the
// SEO / SEA channel.
func (s *Server) searchCampaign(c *fiber.Ctx) (*campaigns.Campaign, error) {
	camp, err := s.loadCampaign(c)
	if err != nil {
		return nil, err
	}
	if !camp.Has(campaigns.SEO) {
		return nil, fiber.NewError(fiber.StatusNotFound, "this campaign is not on the SEO / SEA channel: add the channel on its edit page first")
	}
	return camp, nil
}

// searchForm is a refused form, shown again as typed with its errors.
type searchForm struct {
	Key    string // "group-new", "group-3", "ad-new-3", "ad-7"
	Values map[string]string
	Errs   validation.Errors
}

// Is tells whether the refused form is the one of key.
func (f *searchForm) Is(key string) bool { return f != nil && f.Key == key }

// Val is a value as typed.
func (f *searchForm) Val(field string) string {
	if f == nil {
		return ""
	}
	return f.Values[field]
}

// ErrFor is the message of a field of the form of key, in the reader's
// language (nil if none); a field names its lines too ("headline" covers
// "headline 3"), each then named by its label.
func (f *searchForm) ErrFor(key, field string) any {
	if !f.Is(key) {
		return nil
	}
	var out []any
	for _, e := range f.Errs {
		switch {
		case e.Field == field:
			out = append(out, e)
		case strings.HasPrefix(e.Field, field):
			out = append(out, labelledIssue{e.Field, e})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return i18n.Join{Parts: out, Sep: "; "}
}

func (s *Server) showSearch(c *fiber.Ctx) error {
	camp, err := s.searchCampaign(c)
	if err != nil {
		return err
	}
	return s.searchPage(c, fiber.StatusOK, camp, nil)
}

// adView is an ad with its texts as they will read, and their widths.
type adView struct {
	search.Ad
	Lines []adLine
}

type adLine struct {
	Kind, Text string
	Width, Max int
}

func (s *Server) searchPage(c *fiber.Ctx, code int, camp *campaigns.Campaign, form *searchForm) error {
	ctx := c.UserContext()
	set, err := s.Search.Settings(ctx, camp.ID)
	if err != nil {
		return err
	}
	groups, err := s.Search.AdGroups(ctx, camp.ID)
	if err != nil {
		return err
	}
	exports, err := s.Search.Exports(ctx, camp.ID)
	if err != nil {
		return err
	}
	prices, err := s.adPrices(c, camp)
	if err != nil {
		return err
	}
	views := map[uint64][]adView{}
	for _, g := range groups {
		for _, a := range g.Ads {
			v := adView{Ad: a}
			for _, h := range a.Headlines {
				f, _ := search.Fill(h, prices)
				v.Lines = append(v.Lines, adLine{"headline", f, search.Width(f), search.HeadlineMax})
			}
			for _, d := range a.Descriptions {
				f, _ := search.Fill(d, prices)
				v.Lines = append(v.Lines, adLine{"description", f, search.Width(f), search.DescriptionMax})
			}
			views[g.ID] = append(views[g.ID], v)
		}
	}
	data := map[string]any{"Campaign": camp, "Evergreen": set.Evergreen, "Groups": groups, "Ads": views, "Exports": exports,
		"Form": form, "Prices": prices, "Currency": camp.Currency}
	if camp.LandingPageID != nil {
		if p, err := s.Pages.Get(ctx, *camp.LandingPageID); err == nil {
			data["Page"] = p
			if data["Audit"], err = s.Search.LatestAudit(ctx, p.ID); err != nil {
				return err
			}
		}
	}
	if form != nil {
		data["Err"] = labelledErrors{form.Errs}
	}
	return s.renderStatus(c, code, "search", pageData{Title: i18n.M("Search — %s", camp.Name), Nav: "campaigns", Data: data})
}

func (s *Server) searchBack(c *fiber.Ctx, camp *campaigns.Campaign, msg i18n.Message, anchor string) error {
	s.flash(c, true, msg)
	return c.Redirect(fmt.Sprintf("/campaigns/%d/search%s", camp.ID, anchor), fiber.StatusSeeOther)
}

func (s *Server) saveSearchSettings(c *fiber.Ctx) error {
	camp, err := s.searchCampaign(c)
	if err != nil {
		return err
	}
	ev := c.FormValue("evergreen") == "on"
	if err := s.Search.SaveSettings(c.UserContext(), search.Settings{CampaignID: camp.ID, Evergreen: ev}); err != nil {
		return err
	}
	msg := i18n.M("The page leaves the sitemap when the campaign ends.")
	if ev {
		msg = i18n.M("The page stays in the sitemap after the campaign ends (evergreen).")
	}
	return s.searchBack(c, camp, msg, "#seo")
}

func (s *Server) auditSearchPage(c *fiber.Ctx) error {
	camp, err := s.searchCampaign(c)
	if err != nil {
		return err
	}
	if camp.LandingPageID == nil {
		return s.searchPage(c, fiber.StatusUnprocessableEntity, camp, &searchForm{Key: "audit", Errs: validation.Errors{validation.Fieldf("landing page", "the campaign has none to audit")}})
	}
	running := camp.Status == campaigns.Live || camp.Status == campaigns.Scheduled
	_, err = s.Search.AuditPage(c.UserContext(), *camp.LandingPageID, running)
	if errors.Is(err, search.ErrNotFound) {
		return s.searchPage(c, fiber.StatusUnprocessableEntity, camp, &searchForm{Key: "audit", Errs: validation.Errors{validation.Fieldf("landing page", "is not published: publish it first")}})
	}
	if err != nil {
		return err
	}
	return s.searchBack(c, camp, i18n.M("The landing page was audited."), "#seo")
}

func (s *Server) saveAdGroup(c *fiber.Ctx) error {
	camp, err := s.searchCampaign(c)
	if err != nil {
		return err
	}
	in := search.AdGroupInput{Name: c.FormValue("name"), MaxCPC: c.FormValue("max_cpc"), Keywords: c.FormValue("keywords")}
	gid := paramID(c, "gid")
	g, err := s.Search.SaveAdGroup(c.UserContext(), camp.ID, camp.Currency, gid, in)
	var ve validation.Errors
	if errors.As(err, &ve) {
		key := "group-new"
		if gid != 0 {
			key = fmt.Sprintf("group-%d", gid)
		}
		return s.searchPage(c, fiber.StatusUnprocessableEntity, camp, &searchForm{Key: key, Errs: ve,
			Values: map[string]string{"name": in.Name, "max_cpc": in.MaxCPC, "keywords": in.Keywords}})
	}
	if err != nil {
		return err
	}
	return s.searchBack(c, camp, i18n.M("Ad group %q saved with %d keywords.", g.Name, len(g.Keywords)), fmt.Sprintf("#group-%d", g.ID))
}

func (s *Server) deleteAdGroup(c *fiber.Ctx) error {
	camp, err := s.searchCampaign(c)
	if err != nil {
		return err
	}
	if err := s.Search.DeleteAdGroup(c.UserContext(), camp.ID, paramID(c, "gid")); errors.Is(err, search.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "no such ad group in this campaign")
	} else if err != nil {
		return err
	}
	return s.searchBack(c, camp, i18n.M("Ad group deleted with its ads."), "#sea")
}

func (s *Server) saveAd(c *fiber.Ctx) error {
	camp, err := s.searchCampaign(c)
	if err != nil {
		return err
	}
	in := search.AdInput{Headlines: c.FormValue("headlines"), Descriptions: c.FormValue("descriptions"), Path1: c.FormValue("path1"), Path2: c.FormValue("path2")}
	prices, err := s.adPrices(c, camp)
	if err != nil {
		return err
	}
	gid, aid := paramID(c, "gid"), paramID(c, "aid")
	_, err = s.Search.SaveAd(c.UserContext(), camp.ID, gid, aid, in, prices)
	var ve validation.Errors
	switch {
	case errors.As(err, &ve):
		key := fmt.Sprintf("ad-new-%d", gid)
		if aid != 0 {
			key = fmt.Sprintf("ad-%d", aid)
		}
		return s.searchPage(c, fiber.StatusUnprocessableEntity, camp, &searchForm{Key: key, Errs: ve,
			Values: map[string]string{"headlines": in.Headlines, "descriptions": in.Descriptions, "path1": in.Path1, "path2": in.Path2}})
	case errors.Is(err, search.ErrNotFound):
		return fiber.NewError(fiber.StatusNotFound, "no such ad group or ad in this campaign")
	case err != nil:
		return err
	}
	return s.searchBack(c, camp, i18n.M("Ad saved."), fmt.Sprintf("#group-%d", gid))
}

func (s *Server) deleteAd(c *fiber.Ctx) error {
	camp, err := s.searchCampaign(c)
	if err != nil {
		return err
	}
	if err := s.Search.DeleteAd(c.UserContext(), camp.ID, paramID(c, "aid")); errors.Is(err, search.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "no such ad in this campaign")
	} else if err != nil {
		return err
	}
	return s.searchBack(c, camp, i18n.M("Ad deleted."), "#sea")
}

func (s *Server) downloadExport(c *fiber.Ctx) error {
	camp, err := s.searchCampaign(c)
	if err != nil {
		return err
	}
	return s.sendExport(c, camp)
}

// pageAudit is the page editor's view of a page's latest SEO audit (nil
// when the search channel is not connected or the page was never audited).
func (s *Server) pageAudit(c *fiber.Ctx, p *landing.Page) *search.Audit {
	if s.Search == nil || p == nil || p.ID == 0 {
		return nil
	}
	a, _ := s.Search.LatestAudit(c.UserContext(), p.ID)
	return a
}
