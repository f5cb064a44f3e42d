package web

import (
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// notFoundPlain is the answer to a public URL naming nothing: it says
// nothing more (an unknown list, a forged or expired confirmation link).
func notFoundPlain(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusNotFound).SendString("not found")
}

func (s *Server) showSubscribe(c *fiber.Ctx) error {
	l, err := s.Audience.ListByToken(c.UserContext(), c.Params("token"))
	if errors.Is(err, audience.ErrNotFound) {
		return notFoundPlain(c)
	}
	if err != nil {
		return err
	}
	return s.render(c, "subscribe", pageData{Title: i18n.M("Subscribe to %s", l.Name), Data: map[string]any{
		"List": l, "Honeypot": honeypotField, "Errors": validation.Errors{}}})
}

// subscribe takes the public form, from Rampe's page or a form pasted on
// the merchant's site. A bot (honeypot filled) and a suppressed address
// get the answer a person would, so the page tells nobody who is
// suppressed.
func (s *Server) subscribe(c *fiber.Ctx) error {
	token := c.Params("token")
	in := audience.SubscribeInput{Email: c.FormValue("email"), Name: c.FormValue("name"), Honeypot: c.FormValue(honeypotField), IP: c.IP()}
	sub, err := s.Audience.Subscribe(c.UserContext(), token, in)
	var ve validation.Errors
	switch {
	case errors.Is(err, audience.ErrNotFound):
		return notFoundPlain(c)
	case errors.As(err, &ve):
		l, lerr := s.Audience.ListByToken(c.UserContext(), token)
		if lerr != nil {
			return lerr
		}
		return s.renderStatus(c, fiber.StatusUnprocessableEntity, "subscribe", pageData{Title: i18n.M("Subscribe to %s", l.Name), Data: map[string]any{
			"List": l, "Honeypot": honeypotField, "Errors": ve, "Email": in.Email, "Name": in.Name}})
	case errors.Is(err, audience.ErrRateLimited):
		c.Set(fiber.HeaderRetryAfter, "600")
		return fiber.NewError(fiber.StatusTooManyRequests, "Too many subscriptions from here just now; please try again in a few minutes.")
	case errors.Is(err, audience.ErrBot), errors.Is(err, audience.ErrSuppressed):
		slog.Info("web: subscription ignored", "reason", err)
		return s.render(c, "subscribe_done", pageData{Title: i18n.M("Thank you"), Data: map[string]any{"Pending": true}})
	case err != nil:
		return err
	}
	return s.render(c, "subscribe_done", pageData{Title: i18n.M("Thank you"), Data: map[string]any{"Pending": sub.Pending, "List": sub.List}})
}

// showConfirm shows the confirmation button: a GET changes nothing, as
// mail scanners open every link of a message.
func (s *Server) showConfirm(c *fiber.Ctx) error {
	if _, _, err := s.Audience.CheckToken(c.Params("token")); err != nil {
		return notFoundPlain(c)
	}
	return s.render(c, "subscribe_done", pageData{Title: i18n.M("Confirm your subscription"), Data: map[string]any{"Confirm": true, "Token": c.Params("token")}})
}

func (s *Server) confirmSubscription(c *fiber.Ctx) error {
	_, l, err := s.Audience.Confirm(c.UserContext(), c.Params("token"), c.IP())
	if errors.Is(err, audience.ErrInvalidToken) {
		return notFoundPlain(c)
	}
	if err != nil {
		return err
	}
	return s.render(c, "subscribe_done", pageData{Title: i18n.M("Subscription confirmed"), Data: map[string]any{"Confirmed": true, "List": l}})
}
