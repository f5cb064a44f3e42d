package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/display"
)

// The display channel's API: placements with their tags, and a
// campaign's creatives, targets and cap.

type placementJSON struct {
	display.Placement
	Size   string `json:"size"`
	Script string `json:"script_tag"`
	Frame  string `json:"iframe_tag"`
}

func placementsJSON(views []tagView) []placementJSON {
	out := make([]placementJSON, len(views))
	for i, v := range views {
		out[i] = placementJSON{Placement: v.Placement, Size: v.Size().Key(), Script: v.Script, Frame: v.Frame}
	}
	return out
}

func apiDisplayError(c *fiber.Ctx, err error) error {
	var fe *display.FieldError
	if errors.As(err, &fe) {
		return apiFail(c, fiber.StatusUnprocessableEntity, "invalid", fe.Error(), fe.Field)
	}
	if errors.Is(err, display.ErrNotFound) {
		return apiFail(c, fiber.StatusNotFound, "not_found", "no such placement or creative", "")
	}
	return err
}

func (s *Server) apiListPlacements(c *fiber.Ctx) error {
	ps, err := s.Display.Placements(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"placements": placementsJSON(s.tagViews(ps, nil))})
}

func (s *Server) apiCreatePlacement(c *fiber.Ctx) error {
	var in display.PlacementInput
	if err := c.BodyParser(&in); err != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "the body is not a JSON placement: "+err.Error(), "")
	}
	p, err := s.Display.AddPlacement(c.UserContext(), in)
	if err != nil {
		return apiDisplayError(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(placementsJSON(s.tagViews([]display.Placement{*p}, nil))[0])
}

// apiDisplayCampaign is the campaign of the URL, on the display channel.
func (s *Server) apiDisplayCampaign(c *fiber.Ctx) (*campaigns.Campaign, error) {
	camp, err := s.apiCampaign(c)
	if camp == nil {
		return nil, err
	}
	if !camp.Has(campaigns.Display) {
		return nil, apiFail(c, fiber.StatusNotFound, "not_found", "this campaign is not on the display channel", "")
	}
	return camp, nil
}

func (s *Server) apiGetDisplay(c *fiber.Ctx) error {
	camp, err := s.apiDisplayCampaign(c)
	if camp == nil {
		return err
	}
	ctx := c.UserContext()
	st, err := s.Display.Settings(ctx, camp.ID)
	if err != nil {
		return err
	}
	live, err := s.Display.Live(ctx, camp.ID)
	if err != nil {
		return err
	}
	stats, err := s.Display.Stats(ctx, camp.ID)
	if err != nil {
		return err
	}
	if stats == nil {
		stats = []display.CreativeStats{}
	}
	if st.Placements == nil {
		st.Placements = []uint64{}
	}
	return c.JSON(fiber.Map{"live": live, "placements": st.Placements, "freq_cap": st.FreqCap, "creatives": stats})
}

func (s *Server) apiPutDisplay(c *fiber.Ctx) error {
	camp, err := s.apiDisplayCampaign(c)
	if camp == nil {
		return err
	}
	var st display.Settings
	if err := c.BodyParser(&st); err != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "the body is not JSON {placements, freq_cap}: "+err.Error(), "")
	}
	if err := s.Display.SetSettings(c.UserContext(), camp.ID, st); err != nil {
		return apiDisplayError(c, err)
	}
	return s.apiGetDisplay(c)
}

// apiAddCreative takes a multipart form: file, alt, name, click_url,
// rotation_weight.
func (s *Server) apiAddCreative(c *fiber.Ctx) error {
	camp, err := s.apiDisplayCampaign(c)
	if camp == nil {
		return err
	}
	in, err := creativeForm(c)
	if err != nil {
		return apiDisplayError(c, err)
	}
	cr, err := s.Display.AddCreative(c.UserContext(), camp, in, currentUser(c).Email)
	if err != nil {
		return apiDisplayError(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(cr)
}
