package web

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/platform/i18n"
)

// outboxPage is how many messages the Outbox shows at once.
const outboxPage = 50

func (s *Server) outboxOn(c *fiber.Ctx) error {
	if s.Outbox == nil {
		return fiber.NewError(fiber.StatusNotFound, "there is no Outbox: e-mail goes to the SMTP server of smtp.url")
	}
	return c.Next()
}

func (s *Server) showOutbox(c *fiber.Ctx) error {
	var before uint64
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "before: not a message id: "+v)
		}
		before = n
	}
	list, total, err := s.Outbox.List(c.UserContext(), before, outboxPage)
	if err != nil {
		return err
	}
	next := ""
	if len(list) == outboxPage {
		next = fmt.Sprintf("/outbox?before=%d", list[len(list)-1].ID)
	}
	return s.render(c, "outbox", pageData{Title: i18n.M("Outbox"), Nav: "outbox", Data: map[string]any{"Messages": list, "Total": total, "Next": next, "Paged": before > 0}})
}

func (s *Server) showOutboxMessage(c *fiber.Ctx) error {
	id, _ := parseID(c)
	m, err := s.Outbox.Get(c.UserContext(), id)
	if errors.Is(err, email.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "the Outbox holds no message with this id (it keeps the latest 5,000)")
	}
	if err != nil {
		return err
	}
	return s.render(c, "outbox_message", pageData{Title: m.Subject, Nav: "outbox", Data: map[string]any{"M": m, "R": email.Read(m)}})
}
