package web

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/platform/i18n"
)

// trackedURL is the public address of a link's token.
func (s *Server) trackedURL(token string) string { return s.BaseURL + "/r/" + token }

type linkJSON struct {
	ID         uint64            `json:"id"`
	Channel    campaigns.Channel `json:"channel"`
	Label      string            `json:"label"`
	URL        string            `json:"url"`
	TrackedURL string            `json:"tracked_url"`
	Clicks     int64             `json:"clicks"`
	Unique     int64             `json:"unique_recipients"`
}

func (s *Server) linksJSON(list []clicks.LinkStats) []linkJSON {
	out := make([]linkJSON, len(list))
	for i, l := range list {
		out[i] = linkJSON{ID: l.ID, Channel: l.Channel, Label: l.Label, URL: l.URL, TrackedURL: s.trackedURL(l.Token), Clicks: l.Clicks, Unique: l.Unique}
	}
	return out
}

func (s *Server) apiListLinks(c *fiber.Ctx) error {
	camp, err := s.apiCampaign(c)
	if camp == nil {
		return err
	}
	list, err := s.Clicks.Stats(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	return c.JSON(map[string]any{"links": s.linksJSON(list)})
}

func (s *Server) apiCreateLink(c *fiber.Ctx) error {
	camp, err := s.apiCampaign(c)
	if camp == nil {
		return err
	}
	var in struct{ Channel, URL, Label string }
	if err := c.BodyParser(&in); err != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "the body is not JSON of {channel, url, label}: "+err.Error(), "")
	}
	l, err := s.Clicks.Link(c.UserContext(), camp, campaigns.Channel(in.Channel), in.URL, in.Label, currentUser(c).Email)
	var fe *clicks.FieldError
	if errors.As(err, &fe) {
		return apiFail(c, fiber.StatusUnprocessableEntity, "invalid", fe.Msg, fe.Field)
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(linkJSON{ID: l.ID, Channel: l.Channel, Label: l.Label, URL: l.URL, TrackedURL: s.trackedURL(s.Clicks.Token(l.ID, 0))})
}

// apiCampaign loads the campaign of the path. When it cannot, it has
// answered already (400 or 404 naming the id): the campaign is nil and
// the handler returns err as it is.
func (s *Server) apiCampaign(c *fiber.Ctx) (*campaigns.Campaign, error) {
	id, ok := parseID(c)
	if !ok {
		return nil, apiFail(c, fiber.StatusBadRequest, "bad_request", "id must be a positive integer", "id")
	}
	camp, err := s.Campaigns.Get(c.UserContext(), id)
	if err != nil {
		return nil, apiDomainError(c, err)
	}
	return camp, nil
}

// createLink is the campaign page's "Track a link" form.
func (s *Server) createLink(c *fiber.Ctx) error {
	camp, err := s.loadCampaign(c)
	if err != nil {
		return err
	}
	_, err = s.Clicks.Link(c.UserContext(), camp, campaigns.Channel(c.FormValue("channel")), c.FormValue("url"), c.FormValue("label"), currentUser(c).Email)
	var fe *clicks.FieldError
	if errors.As(err, &fe) {
		// The form comes back filled as it was sent, with the reason.
		s.flash(c, false, i18n.M("Tracked link not made: %s", fe.Field+": "+s.tr(c, fe)))
		back := url.Values{"link_channel": {c.FormValue("channel")}, "link_url": {c.FormValue("url")}, "link_label": {c.FormValue("label")}}
		return c.Redirect(fmt.Sprintf("/campaigns/%d?%s#links", camp.ID, back.Encode()), fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Tracked link ready: give its address to the channel; clicks show here."))
	return c.Redirect(fmt.Sprintf("/campaigns/%d#links", camp.ID), fiber.StatusSeeOther)
}
