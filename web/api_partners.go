package web

import (
	"bytes"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/platform/validation"
)

// partnerJSON is the API's view of a partner.
type partnerJSON struct {
	ID uint64 `json:"id"`
	affiliation.PartnerInput
	CommissionKind  string `json:"commission_kind"`
	CommissionValue int64  `json:"commission_value"` // basis points (percent) or minor units (fixed)
	CookieDaysN     int    `json:"cookie_window_days"`
}

func toPartnerJSON(p *affiliation.Partner) partnerJSON {
	return partnerJSON{ID: p.ID, PartnerInput: p.Input(), CommissionKind: p.CommissionKind, CommissionValue: p.CommissionValue, CookieDaysN: p.CookieDays}
}

// affiliationOn answers 404 when the affiliation channel is not connected.
func (s *Server) affiliationOn(c *fiber.Ctx) error {
	if s.Affiliation == nil {
		return fiber.NewError(fiber.StatusNotFound, "the affiliation channel is not connected")
	}
	return c.Next()
}

func apiAffiliationError(c *fiber.Ctx, err error) error {
	var ve validation.Errors
	switch {
	case errors.As(err, &ve):
		return apiInvalid(c, ve)
	case errors.Is(err, affiliation.ErrNotFound):
		return apiFail(c, fiber.StatusNotFound, "not_found", "no such partner", "id")
	}
	return apiDomainError(c, err)
}

func (s *Server) apiListPartners(c *fiber.Ctx) error {
	list, err := s.Affiliation.Partners(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]partnerJSON, len(list))
	for i := range list {
		out[i] = toPartnerJSON(&list[i])
	}
	return c.JSON(map[string]any{"partners": out})
}

func (s *Server) apiGetPartner(c *fiber.Ctx) error {
	p, err := loadByID(c, s.Affiliation.Partner, affiliation.ErrNotFound, "no such partner")
	if err != nil {
		return err
	}
	return c.JSON(toPartnerJSON(p))
}

func (s *Server) apiCreatePartner(c *fiber.Ctx) error {
	var in affiliation.PartnerInput
	if decodeStrict(c, &in) != nil {
		return nil
	}
	p, err := s.Affiliation.CreatePartner(c.UserContext(), in)
	if err != nil {
		return apiAffiliationError(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(toPartnerJSON(p))
}

func (s *Server) apiUpdatePartner(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiFail(c, fiber.StatusNotFound, "not_found", "no such partner", "id")
	}
	var in affiliation.PartnerInput
	if decodeStrict(c, &in) != nil {
		return nil
	}
	p, err := s.Affiliation.UpdatePartner(c.UserContext(), id, in)
	if err != nil {
		return apiAffiliationError(c, err)
	}
	return c.JSON(toPartnerJSON(p))
}

// apiImportPartners takes a CSV body: all or nothing, 422 with every bad
// row when one is wrong.
func (s *Server) apiImportPartners(c *fiber.Ctx) error {
	res, err := s.Affiliation.ImportPartners(c.UserContext(), bytes.NewReader(c.Body()))
	if err != nil {
		return err
	}
	if len(res.Errors) > 0 {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(map[string]any{"error": apiErrorBody{Code: "invalid",
			Message: "the file has errors; nothing was imported: " + res.Errors[0].Error()}, "errors": res.Errors})
	}
	return c.JSON(res)
}
