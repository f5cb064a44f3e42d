package web

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/platform/validation"
)

// The e-mail channel's API: a campaign's message and sends, a send's
// progress and report, and the bounce/complaint webhook.

func (s *Server) apiEmailOn(c *fiber.Ctx) error {
	if s.Email == nil {
		return apiFail(c, fiber.StatusNotFound, "not_found", "the e-mail channel is not connected", "")
	}
	return c.Next()
}

// apiEmailFail answers a message or send error: 422 naming the field, or
// the error as it is.
func apiEmailFail(c *fiber.Ctx, err error) error {
	var fe *email.FieldError
	var te *email.TemplateError
	var ve validation.Errors
	switch {
	case errors.As(err, &ve) && len(ve) > 0:
		return apiInvalid(c, ve)
	case errors.As(err, &fe):
		return apiFail(c, fiber.StatusUnprocessableEntity, "invalid", fe.Msg, fe.Field)
	case errors.As(err, &te):
		return apiFail(c, fiber.StatusUnprocessableEntity, "invalid", te.Error(), te.Field)
	case errors.Is(err, email.ErrNotFound):
		return apiFail(c, fiber.StatusNotFound, "not_found", "no such send", "id")
	}
	return err
}

// apiEmailCampaign is apiCampaign for a campaign on the e-mail channel.
func (s *Server) apiEmailCampaign(c *fiber.Ctx) (*campaigns.Campaign, error) {
	camp, err := s.apiCampaign(c)
	if camp == nil {
		return nil, err
	}
	if !camp.Has(campaigns.Email) {
		return nil, apiFail(c, fiber.StatusUnprocessableEntity, "invalid", "the campaign is not on the e-mail channel", "channels")
	}
	return camp, nil
}

func (s *Server) apiGetEmail(c *fiber.Ctx) error {
	camp, err := s.apiEmailCampaign(c)
	if camp == nil {
		return err
	}
	m, err := s.Email.Messages.Get(c.UserContext(), camp.ID)
	if errors.Is(err, email.ErrNotFound) {
		return apiFail(c, fiber.StatusNotFound, "not_found", "the campaign has no e-mail message yet: PUT one", "")
	}
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) apiPutEmail(c *fiber.Ctx) error {
	camp, err := s.apiEmailCampaign(c)
	if camp == nil {
		return err
	}
	var m email.Message
	if err := json.Unmarshal(c.Body(), &m); err != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "the body is not a JSON message: "+err.Error(), "")
	}
	m.ID, m.CampaignID = 0, camp.ID
	if err := s.Email.Messages.Save(c.UserContext(), &m, currentUser(c).Email); err != nil {
		return apiEmailFail(c, err)
	}
	saved, err := s.Email.Messages.Get(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	return c.JSON(saved)
}

// sendJSON is a send with its progress.
type sendJSON struct {
	email.Send
	Progress email.Progress `json:"progress"`
}

func (s *Server) apiListSends(c *fiber.Ctx) error {
	camp, err := s.apiEmailCampaign(c)
	if camp == nil {
		return err
	}
	sends, err := s.Email.Sends(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	out := make([]sendJSON, 0, len(sends))
	for _, sd := range sends {
		p, err := s.Email.Progress(c.UserContext(), sd.ID)
		if err != nil {
			return err
		}
		out = append(out, sendJSON{Send: sd, Progress: p})
	}
	return c.JSON(fiber.Map{"sends": out})
}

func (s *Server) apiAddSend(c *fiber.Ctx) error {
	camp, err := s.apiEmailCampaign(c)
	if camp == nil {
		return err
	}
	var in email.SendInput
	if err := json.Unmarshal(c.Body(), &in); err != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "the body is not a JSON send {label, at, local_time, skip_clicked, subject}: "+err.Error(), "")
	}
	sd, err := s.Email.AddSend(c.UserContext(), camp.ID, in)
	if err != nil {
		return apiEmailFail(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(sd)
}

func (s *Server) apiGetSend(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "id must be a positive integer", "id")
	}
	r, err := s.Email.Report(c.UserContext(), id)
	if err != nil {
		return apiEmailFail(c, err)
	}
	return c.JSON(fiber.Map{"send": r.Send, "progress": r.Progress, "unsubscribed": r.Unsubscribed, "bounced": r.Bounced,
		"rate_per_second": r.Rate, "eta_seconds": int64(r.ETA / time.Second), "failures": r.Failures})
}

func (s *Server) apiSendAction(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "id must be a positive integer", "id")
	}
	ctx := c.UserContext()
	var err error
	switch c.Params("action") {
	case "pause":
		err = s.Email.PauseSend(ctx, id)
	case "resume":
		err = s.Email.ResumeSend(ctx, id)
	case "delete":
		err = s.Email.DeleteSend(ctx, id)
	}
	if err != nil {
		return apiEmailFail(c, err)
	}
	if c.Params("action") == "delete" {
		return c.SendStatus(fiber.StatusNoContent)
	}
	sd, err := s.Email.GetSend(ctx, id)
	if err != nil {
		return apiEmailFail(c, err)
	}
	return c.JSON(sd)
}

// apiEmailEvents takes bounce and complaint events from a mail provider.
func (s *Server) apiEmailEvents(c *fiber.Ctx) error {
	var body struct {
		Events []email.Event `json:"events"`
	}
	if err := json.Unmarshal(c.Body(), &body); err != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", `the body is not {"events": [...]}: `+err.Error(), "events")
	}
	out, err := s.Email.Events(c.UserContext(), body.Events)
	if err != nil {
		return apiEmailFail(c, err)
	}
	return c.JSON(fiber.Map{"results": out})
}
