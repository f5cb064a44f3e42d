package web

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/search"
	"github.com/rampe/rampe/platform/validation"
)

// The search channel's API: a campaign's settings (evergreen), ad groups
// with keywords, responsive search ads, the ads exports of its moves, and
// its landing page's latest SEO audit.

func (s *Server) apiSearchOn(c *fiber.Ctx) error {
	if s.Search == nil {
		return apiFail(c, fiber.StatusNotFound, "not_found", "the search channel is not connected", "")
	}
	return c.Next()
}

// apiSearchFail answers a search error: 422 naming the fields, 404, or
// the error as it is.
func apiSearchFail(c *fiber.Ctx, err error, what string) error {
	var ve validation.Errors
	switch {
	case errors.As(err, &ve) && len(ve) > 0:
		return apiInvalid(c, ve)
	case errors.Is(err, search.ErrNotFound):
		return apiFail(c, fiber.StatusNotFound, "not_found", "no such "+what+" in this campaign", "id")
	}
	return err
}

// apiSearchCampaign is apiCampaign for a campaign on the SEO / SEA channel.
func (s *Server) apiSearchCampaign(c *fiber.Ctx) (*campaigns.Campaign, error) {
	camp, err := s.apiCampaign(c)
	if camp == nil {
		return nil, err
	}
	if !camp.Has(campaigns.SEO) {
		return nil, apiFail(c, fiber.StatusUnprocessableEntity, "invalid", "the campaign is not on the SEO / SEA channel", "channels")
	}
	return camp, nil
}

func paramID(c *fiber.Ctx, name string) uint64 {
	id, _ := strconv.ParseUint(c.Params(name), 10, 64)
	return id
}

func (s *Server) apiGetSearch(c *fiber.Ctx) error {
	camp, err := s.apiSearchCampaign(c)
	if camp == nil {
		return err
	}
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
	out := fiber.Map{"evergreen": set.Evergreen, "ad_groups": groups, "exports": exports}
	if camp.LandingPageID != nil {
		if out["audit"], err = s.Search.LatestAudit(ctx, *camp.LandingPageID); err != nil {
			return err
		}
	}
	return c.JSON(out)
}

func (s *Server) apiPutSearchSettings(c *fiber.Ctx) error {
	camp, err := s.apiSearchCampaign(c)
	if camp == nil {
		return err
	}
	var in struct {
		Evergreen *bool `json:"evergreen"`
	}
	if err := json.Unmarshal(c.Body(), &in); err != nil || in.Evergreen == nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", `the body must be {"evergreen": true|false}`, "evergreen")
	}
	if err := s.Search.SaveSettings(c.UserContext(), search.Settings{CampaignID: camp.ID, Evergreen: *in.Evergreen}); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"evergreen": *in.Evergreen})
}

func (s *Server) apiSaveAdGroup(c *fiber.Ctx) error {
	camp, err := s.apiSearchCampaign(c)
	if camp == nil {
		return err
	}
	var in search.AdGroupInput
	if err := json.Unmarshal(c.Body(), &in); err != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "the body is not a JSON ad group: "+err.Error(), "")
	}
	g, err := s.Search.SaveAdGroup(c.UserContext(), camp.ID, camp.Currency, paramID(c, "gid"), in)
	if err != nil {
		return apiSearchFail(c, err, "ad group")
	}
	status := fiber.StatusOK
	if c.Params("gid") == "" {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(g)
}

func (s *Server) apiDeleteAdGroup(c *fiber.Ctx) error {
	camp, err := s.apiSearchCampaign(c)
	if camp == nil {
		return err
	}
	if err := s.Search.DeleteAdGroup(c.UserContext(), camp.ID, paramID(c, "gid")); err != nil {
		return apiSearchFail(c, err, "ad group")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// adPrices are the landing page's prices at the campaign's start (nil
// without a landing page: placeholders then count as a wide price).
func (s *Server) adPrices(c *fiber.Ctx, camp *campaigns.Campaign) (search.Prices, error) {
	o, err := s.Landing.Offer(c.UserContext(), camp, camp.StartsAt)
	if err != nil || o == nil {
		return nil, err
	}
	return search.PricesOf(o), nil
}

func (s *Server) apiSaveAd(c *fiber.Ctx) error {
	camp, err := s.apiSearchCampaign(c)
	if camp == nil {
		return err
	}
	var in search.AdInput
	if err := json.Unmarshal(c.Body(), &in); err != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "the body is not a JSON ad: "+err.Error(), "")
	}
	prices, err := s.adPrices(c, camp)
	if err != nil {
		return err
	}
	a, err := s.Search.SaveAd(c.UserContext(), camp.ID, paramID(c, "gid"), paramID(c, "aid"), in, prices)
	if err != nil {
		return apiSearchFail(c, err, "ad group or ad")
	}
	status := fiber.StatusOK
	if c.Params("aid") == "" {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(a)
}

func (s *Server) apiDeleteAd(c *fiber.Ctx) error {
	camp, err := s.apiSearchCampaign(c)
	if camp == nil {
		return err
	}
	if err := s.Search.DeleteAd(c.UserContext(), camp.ID, paramID(c, "aid")); err != nil {
		return apiSearchFail(c, err, "ad")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// sendExport sends one file of an export, for the API and the UI alike.
func (s *Server) sendExport(c *fiber.Ctx, camp *campaigns.Campaign) error {
	ex, err := s.Search.GetExport(c.UserContext(), camp.ID, paramID(c, "eid"))
	if errors.Is(err, search.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "no such export in this campaign")
	}
	if err != nil {
		return err
	}
	tool := c.Params("tool")
	body := ex.Google
	if tool == "microsoft" {
		body = ex.Microsoft
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+ex.FileName(tool)+`"`)
	return c.SendString(body)
}

func (s *Server) apiGetExport(c *fiber.Ctx) error {
	camp, err := s.apiSearchCampaign(c)
	if camp == nil {
		return err
	}
	return s.sendExport(c, camp)
}
