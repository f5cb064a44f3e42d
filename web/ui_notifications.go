package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/notify"
	"github.com/rampe/rampe/platform/i18n"
)

func (s *Server) showNotifications(c *fiber.Ctx) error {
	p, err := s.Notify.Pref(c.UserContext(), currentUser(c).ID)
	if err != nil {
		return err
	}
	return s.renderNotifications(c, fiber.StatusOK, p, map[string]string{"webhook_url": p.WebhookURL}, nil)
}

func (s *Server) renderNotifications(c *fiber.Ctx, code int, p notify.Pref, form map[string]string, fe *notify.FieldError) error {
	list, err := s.Notify.Deliveries(c.UserContext(), currentUser(c).ID, 20)
	if err != nil {
		return err
	}
	errs := map[string]string{}
	if fe != nil {
		errs[fe.Field] = s.tr(c, fe)
	}
	return s.renderStatus(c, code, "notifications", pageData{Title: i18n.M("Alert notifications"), Nav: "notifications", Data: map[string]any{
		"Pref": p, "Form": form, "Errs": errs, "Deliveries": list, "EmailReady": s.Notify.EmailReady}})
}

func (s *Server) saveNotifications(c *fiber.Ctx) error {
	p := notify.Pref{UserID: currentUser(c).ID, Email: c.FormValue("email") == "on" && s.Notify.EmailReady, WebhookURL: c.FormValue("webhook_url")}
	err := s.Notify.SavePref(c.UserContext(), p)
	var fe *notify.FieldError
	if errors.As(err, &fe) {
		return s.renderNotifications(c, fiber.StatusUnprocessableEntity, p, map[string]string{"webhook_url": p.WebhookURL}, fe)
	}
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Saved: alerts will reach you as chosen."))
	return c.Redirect("/settings/notifications", fiber.StatusSeeOther)
}

func (s *Server) testNotifications(c *fiber.Ctx) error {
	u := currentUser(c)
	n, err := s.Notify.Test(c.UserContext(), notify.Recipient{ID: u.ID, Email: u.Email, Lang: s.lang(c)})
	var fe *notify.FieldError
	if errors.As(err, &fe) {
		p, _ := s.Notify.Pref(c.UserContext(), u.ID)
		return s.renderNotifications(c, fiber.StatusUnprocessableEntity, p, map[string]string{"webhook_url": p.WebhookURL}, &notify.FieldError{Field: "test", Msg: fe.Msg, Message: fe.Message})
	}
	if err != nil {
		return err
	}
	if n == 1 {
		s.flash(c, true, i18n.M("A test message is on its way; its status shows below within seconds."))
	} else {
		s.flash(c, true, i18n.M("Test messages are on their way; their status shows below within seconds."))
	}
	return c.Redirect("/settings/notifications", fiber.StatusSeeOther)
}
