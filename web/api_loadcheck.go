package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/loadcheck"
)

// apiStartLoadCheck starts a check of a campaign's landing page:
// {"rate": 0 (= the need), "extras": [{"url","weight"}], "thresholds": {…}}.
func (s *Server) apiStartLoadCheck(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "id must be a positive integer", "id")
	}
	var body struct {
		Rate       float64               `json:"rate"`
		Extras     []loadcheck.Extra     `json:"extras"`
		Thresholds *loadcheck.Thresholds `json:"thresholds"`
	}
	if len(c.Body()) > 0 && decodeStrict(c, &body) != nil {
		return nil
	}
	if body.Rate < 0 {
		return apiFail(c, fiber.StatusUnprocessableEntity, "invalid", "rate must not be negative", "rate")
	}
	chk, err := s.LoadChecks.Start(c.UserContext(), loadcheck.Plan{CampaignID: id, Rate: body.Rate, Extras: body.Extras, Thresholds: body.Thresholds, By: currentUser(c).Email})
	var re *loadcheck.RefusedError
	switch {
	case errors.As(err, &re):
		return apiFail(c, fiber.StatusUnprocessableEntity, "refused", re.Why, "")
	case errors.Is(err, campaigns.ErrNotFound):
		return apiFail(c, fiber.StatusNotFound, "not_found", "no campaign with this id", "id")
	case err != nil:
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(chk)
}

func (s *Server) apiGetLoadCheck(c *fiber.Ctx) error {
	id, _ := parseID(c)
	chk, err := s.LoadChecks.Store.Show(c.UserContext(), id)
	if errors.Is(err, loadcheck.ErrNotFound) {
		return apiFail(c, fiber.StatusNotFound, "not_found", "no load check with this id", "id")
	}
	if err != nil {
		return err
	}
	return c.JSON(chk)
}

func (s *Server) apiAbortLoadCheck(c *fiber.Ctx) error {
	id, _ := parseID(c)
	var re *loadcheck.RefusedError
	if err := s.LoadChecks.Store.RequestAbort(c.UserContext(), id); errors.As(err, &re) {
		return apiFail(c, fiber.StatusConflict, "refused", re.Why, "")
	} else if errors.Is(err, loadcheck.ErrNotFound) {
		return apiFail(c, fiber.StatusNotFound, "not_found", "no load check with this id", "id")
	} else if err != nil {
		return err
	}
	// 202 and the check: "aborted" when it was ended at once (queued, or its
	// worker lost), still "running" with abort_requested while its worker
	// stops it (within a second).
	chk, err := s.LoadChecks.Store.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(chk)
}
