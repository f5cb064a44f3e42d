package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// msgDuplicated is the flash after a campaign was duplicated (one place,
// for translation).
var msgDuplicated = i18n.Key("Duplicated as a draft: check its name and dates, then save.")

// duplicateCampaign copies a campaign's plan into a new draft and opens its
// form.
func (s *Server) duplicateCampaign(c *fiber.Ctx) error {
	id, _ := parseID(c)
	cp, err := s.Campaigns.DuplicateIn(c.UserContext(), id, currentUser(c).Email, s.lang(c))
	if errors.Is(err, campaigns.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "there is no campaign with this id")
	}
	if err != nil {
		return err
	}
	s.flash(c, true, msgDuplicated)
	return c.Redirect(fmt.Sprintf("/campaigns/%d/edit", cp.ID), fiber.StatusSeeOther)
}

// apiDuplicateCampaign answers 201 with the new draft.
func (s *Server) apiDuplicateCampaign(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "id must be a positive integer", "id")
	}
	cp, err := s.Campaigns.Duplicate(c.UserContext(), id, currentUser(c).Email)
	if err != nil {
		return apiDomainError(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(toJSON(cp))
}
