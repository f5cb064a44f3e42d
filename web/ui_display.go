package web

import (
	"errors"
	"fmt"
	"github.com/rampe/rampe/platform/i18n"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/display"
)

// The display channel's pages: a campaign's Display tab (creatives with
// their previews, targeted placements, tags, impressions and clicks) and
// the Placements page (slots, their tags, the house creatives).

func (s *Server) displayOn(c *fiber.Ctx) error {
	if s.Display == nil {
		return fiber.NewError(fiber.StatusNotFound, "the display channel is not connected")
	}
	return c.Next()
}

// displayCampaign loads the campaign of the URL, which must be on the
// display channel.
func (s *Server) displayCampaign(c *fiber.Ctx) (*campaigns.Campaign, error) {
	camp, err := s.loadCampaign(c)
	if err != nil {
		return nil, err
	}
	if !camp.Has(campaigns.Display) {
		return nil, fiber.NewError(fiber.StatusNotFound, "this campaign is not on the display channel: add the channel on its edit page first")
	}
	return camp, nil
}

// tagView is a placement with the snippets that show it.
type tagView struct {
	display.Placement
	Script, Frame string
	Targeted      bool
}

func (s *Server) tagViews(ps []display.Placement, targeted []uint64) []tagView {
	on := map[uint64]bool{}
	for _, id := range targeted {
		on[id] = true
	}
	out := make([]tagView, len(ps))
	for i, p := range ps {
		out[i] = tagView{Placement: p, Targeted: on[p.ID],
			Script: fmt.Sprintf(`<script src="%s/d/%s.js"></script>`, s.BaseURL, p.Key),
			Frame: fmt.Sprintf(`<iframe src="%s/d/%s.html" width="%d" height="%d" style="border:0" scrolling="no" title="%s"></iframe>`,
				s.BaseURL, p.Key, p.Width, p.Height, strings.ReplaceAll(p.Name, `"`, "&quot;"))}
	}
	return out
}

func (s *Server) showDisplay(c *fiber.Ctx) error {
	camp, err := s.displayCampaign(c)
	if err != nil {
		return err
	}
	return s.displayPage(c, fiber.StatusOK, camp, nil)
}

func (s *Server) displayPage(c *fiber.Ctx, code int, camp *campaigns.Campaign, formErr error) error {
	ctx := c.UserContext()
	stats, err := s.Display.Stats(ctx, camp.ID)
	if err != nil {
		return err
	}
	ps, err := s.Display.Placements(ctx)
	if err != nil {
		return err
	}
	st, err := s.Display.Settings(ctx, camp.ID)
	if err != nil {
		return err
	}
	live, err := s.Display.Live(ctx, camp.ID)
	if err != nil {
		return err
	}
	var total display.CreativeStats
	for _, cs := range stats {
		total.Impressions += cs.Impressions
		total.Bots += cs.Bots
		total.Clicks += cs.Clicks
	}
	data := map[string]any{"Campaign": camp, "Creatives": stats, "Total": total, "Placements": s.tagViews(ps, st.Placements),
		"FreqCap": st.FreqCap, "Live": live, "Sizes": display.IABSizes, "MaxKB": s.Display.MaxKB()}
	data["Errs"] = labelledErrors{formErr}
	if formErr != nil {
		data["Err"] = labelledErrors{formErr}
		var fe *display.FieldError
		if errors.As(formErr, &fe) {
			data["ErrField"] = fe.Field
		}
	}
	return s.renderStatus(c, code, "display", pageData{Title: i18n.M("Display — %s", camp.Name), Nav: "campaigns", Data: data})
}

// creativeForm reads an upload form: the file and its fields. The body
// is at most 2 MiB (limitBody refused more before it was read).
func creativeForm(c *fiber.Ctx) (display.CreativeInput, error) {
	in := display.CreativeInput{Name: c.FormValue("name"), Alt: c.FormValue("alt"), ClickURL: c.FormValue("click_url")}
	if v := strings.TrimSpace(c.FormValue("rotation_weight")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return in, &display.FieldError{Field: "rotation_weight", Msg: i18n.M("%q is not a whole number", v)}
		}
		in.Rotation = n
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return in, &display.FieldError{Field: "file", Msg: i18n.M("choose an image file (PNG, JPEG, GIF or WebP)")}
	}
	f, err := fh.Open()
	if err != nil {
		return in, err
	}
	defer f.Close()
	in.Filename = fh.Filename
	in.Data, err = io.ReadAll(io.LimitReader(f, maxBody))
	return in, err
}

func (s *Server) uploadCreative(c *fiber.Ctx) error {
	camp, err := s.displayCampaign(c)
	if err != nil {
		return err
	}
	in, err := creativeForm(c)
	if err == nil {
		_, err = s.Display.AddCreative(c.UserContext(), camp, in, currentUser(c).Email)
	}
	if err != nil {
		if !isFieldError(err) {
			return err
		}
		return s.displayPage(c, fiber.StatusUnprocessableEntity, camp, err)
	}
	s.flash(c, true, i18n.M("Creative added."))
	return c.Redirect(fmt.Sprintf("/campaigns/%d/display", camp.ID), fiber.StatusSeeOther)
}

func isFieldError(err error) bool {
	var fe *display.FieldError
	return errors.As(err, &fe)
}

func (s *Server) deleteCreative(c *fiber.Ctx) error {
	camp, err := s.displayCampaign(c)
	if err != nil {
		return err
	}
	id, _ := strconv.ParseUint(c.Params("cid"), 10, 64)
	if err := s.Display.DeleteCreative(c.UserContext(), &camp.ID, id); errors.Is(err, display.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "this campaign has no such creative")
	} else if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Creative deleted."))
	return c.Redirect(fmt.Sprintf("/campaigns/%d/display", camp.ID), fiber.StatusSeeOther)
}

func (s *Server) saveDisplaySettings(c *fiber.Ctx) error {
	camp, err := s.displayCampaign(c)
	if err != nil {
		return err
	}
	st, err := settingsForm(c)
	if err == nil {
		err = s.Display.SetSettings(c.UserContext(), camp.ID, st)
	}
	if err != nil {
		if !isFieldError(err) {
			return err
		}
		return s.displayPage(c, fiber.StatusUnprocessableEntity, camp, err)
	}
	s.flash(c, true, i18n.M("Placements and frequency cap saved."))
	return c.Redirect(fmt.Sprintf("/campaigns/%d/display", camp.ID), fiber.StatusSeeOther)
}

func settingsForm(c *fiber.Ctx) (display.Settings, error) {
	var st display.Settings
	args := c.Request().PostArgs()
	for _, v := range args.PeekMulti("placement") {
		id, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return st, &display.FieldError{Field: "placements", Msg: i18n.M("%q is not a placement id", v)}
		}
		st.Placements = append(st.Placements, id)
	}
	if v := strings.TrimSpace(c.FormValue("freq_cap")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return st, &display.FieldError{Field: "freq_cap", Msg: i18n.M("%q is not a whole number", v)}
		}
		st.FreqCap = n
	}
	return st, nil
}

func (s *Server) showPlacements(c *fiber.Ctx) error {
	return s.placementsPage(c, fiber.StatusOK, nil, nil)
}

func (s *Server) placementsPage(c *fiber.Ctx, code int, formErr error, in *display.PlacementInput) error {
	ctx := c.UserContext()
	ps, err := s.Display.Placements(ctx)
	if err != nil {
		return err
	}
	house, err := s.Display.Creatives(ctx, nil)
	if err != nil {
		return err
	}
	if in == nil {
		in = &display.PlacementInput{Size: "300x250"}
	}
	data := map[string]any{"Placements": s.tagViews(ps, nil), "House": house, "Sizes": display.IABSizes, "In": in, "MaxKB": s.Display.MaxKB()}
	data["Errs"] = labelledErrors{formErr}
	if formErr != nil {
		data["Err"] = labelledErrors{formErr}
		var fe *display.FieldError
		if errors.As(formErr, &fe) {
			data["ErrField"] = fe.Field
		}
	}
	return s.renderStatus(c, code, "placements", pageData{Title: i18n.M("Placements"), Nav: "placements", Data: data})
}

func (s *Server) createPlacement(c *fiber.Ctx) error {
	in := display.PlacementInput{Key: c.FormValue("key"), Name: c.FormValue("name"), Site: c.FormValue("site"), Size: c.FormValue("size")}
	if _, err := s.Display.AddPlacement(c.UserContext(), in); err != nil {
		if !isFieldError(err) {
			return err
		}
		return s.placementsPage(c, fiber.StatusUnprocessableEntity, err, &in)
	}
	s.flash(c, true, i18n.M("Placement added: paste its tag where the ad goes."))
	return c.Redirect("/placements", fiber.StatusSeeOther)
}

func (s *Server) deletePlacement(c *fiber.Ctx) error {
	id, _ := strconv.ParseUint(c.Params("id"), 10, 64)
	if err := s.Display.DeletePlacement(c.UserContext(), id); errors.Is(err, display.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "there is no placement with this id")
	} else if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Placement deleted: its tag now answers 404."))
	return c.Redirect("/placements", fiber.StatusSeeOther)
}

func (s *Server) uploadHouseCreative(c *fiber.Ctx) error {
	in, err := creativeForm(c)
	if err == nil {
		_, err = s.Display.AddCreative(c.UserContext(), nil, in, currentUser(c).Email)
	}
	if err != nil {
		if !isFieldError(err) {
			return err
		}
		return s.placementsPage(c, fiber.StatusUnprocessableEntity, err, nil)
	}
	s.flash(c, true, i18n.M("House creative added."))
	return c.Redirect("/placements", fiber.StatusSeeOther)
}

func (s *Server) deleteHouseCreative(c *fiber.Ctx) error {
	id, _ := strconv.ParseUint(c.Params("cid"), 10, 64)
	if err := s.Display.DeleteCreative(c.UserContext(), nil, id); errors.Is(err, display.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "there is no house creative with this id")
	} else if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("House creative deleted."))
	return c.Redirect("/placements", fiber.StatusSeeOther)
}
