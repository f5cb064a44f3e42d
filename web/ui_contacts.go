package web

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// contactQuery reads the contact list's filters, shared by UI and API.
func contactQuery(c *fiber.Ctx) (audience.Query, *validation.FieldError) {
	q := audience.Query{Search: c.Query("q"), Status: c.Query("status")}
	if q.Status != "" && !contains(audience.Statuses, q.Status) {
		return q, &validation.FieldError{Field: "status", Msg: "unknown status " + strconv.Quote(q.Status)}
	}
	if l := c.Query("list"); l != "" {
		id, err := strconv.ParseUint(l, 10, 63)
		if err != nil {
			return q, &validation.FieldError{Field: "list", Msg: "want a list id, got " + strconv.Quote(l)}
		}
		q.ListID = id
	}
	pg, ferr := parsePaging(c, 500)
	if ferr != nil {
		return q, &validation.FieldError{Field: ferr.Field, Msg: ferr.Msg}
	}
	q.After, q.Limit = pg.After, pg.Limit
	return q, nil
}

func (s *Server) showContacts(c *fiber.Ctx) error {
	q, ferr := contactQuery(c)
	if ferr != nil {
		return badInput(ferr)
	}
	ctx := c.UserContext()
	rows, more, err := s.Audience.List(ctx, q)
	if err != nil {
		return err
	}
	counts, err := s.Audience.CountBy(ctx, q)
	if err != nil {
		return err
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	lists, err := s.Audience.Lists(ctx)
	if err != nil {
		return err
	}
	kept := url.Values{}
	if q.Search != "" {
		kept.Set("q", q.Search)
	}
	if q.ListID != 0 {
		kept.Set("list", strconv.FormatUint(q.ListID, 10))
	}
	filter := queryPart(kept)
	next := ""
	if more {
		next = fmt.Sprintf("/contacts?%s&status=%s&after=%d", filter, url.QueryEscape(q.Status), rows[len(rows)-1].ID)
	}
	return s.render(c, "contacts", pageData{Title: i18n.M("Contacts"), Nav: "contacts", Data: map[string]any{
		"Rows": rows, "Q": q, "Counts": counts, "Total": total, "Statuses": audience.Statuses, "Lists": lists,
		"Filter": filter, "Next": next, "Paged": q.After > 0, "Tab": "contacts"}})
}

// contactForm reads a contact from a form; attributes are "name = value"
// lines.
func contactForm(c *fiber.Ctx) (audience.Input, validation.Errors) {
	in := audience.Input{Email: c.FormValue("email"), Name: c.FormValue("name"), Locale: c.FormValue("locale"),
		Country: c.FormValue("country"), TimeZone: c.FormValue("time_zone"), Status: c.FormValue("status"), Attributes: map[string]string{}}
	for i, line := range strings.Split(c.FormValue("attributes"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return in, validation.Errors{{Field: "attributes", Msg: fmt.Sprintf("line %d: want name = value", i+1)}}
		}
		in.Attributes[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return in, nil
}

func attrsText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, m[k])
	}
	return b.String()
}

func (s *Server) showNewContact(c *fiber.Ctx) error {
	return s.renderNewContact(c, fiber.StatusOK, audience.Input{}, validation.Errors{})
}

func (s *Server) renderNewContact(c *fiber.Ctx, code int, in audience.Input, ve validation.Errors) error {
	lists, err := s.Audience.Lists(c.UserContext())
	if err != nil {
		return err
	}
	return s.renderStatus(c, code, "contact_form", pageData{Title: i18n.M("New contact"), Nav: "contacts", Data: map[string]any{
		"Form": in, "Attrs": c.FormValue("attributes"), "Errors": ve, "Statuses": audience.Statuses, "Lists": lists}})
}

func (s *Server) actor(c *fiber.Ctx, source string) audience.Actor {
	return audience.Actor{Source: source, IP: c.IP(), Note: "by " + currentUser(c).Email}
}

func (s *Server) createContact(c *fiber.Ctx) error {
	in, ve := contactForm(c)
	var ct *audience.Contact
	var err error
	list, _ := strconv.ParseUint(c.FormValue("list"), 10, 63)
	if list != 0 {
		if _, err := s.Audience.GetList(c.UserContext(), list); errors.Is(err, audience.ErrNotFound) {
			ve = append(ve, validation.FieldError{Field: "list", Msg: "no such list"})
		} else if err != nil {
			return err
		}
	}
	if ve == nil {
		ct, err = s.Audience.Create(c.UserContext(), in, s.actor(c, "ui"))
		ve = formErrors(err)
	}
	if ve != nil {
		return s.renderNewContact(c, fiber.StatusUnprocessableEntity, in, ve)
	}
	if err != nil {
		return err
	}
	if list != 0 {
		if err := s.Audience.AddMember(c.UserContext(), list, ct.ID); err != nil {
			return err
		}
	}
	s.flash(c, true, i18n.M("Contact %s added.", ct.Email))
	return c.Redirect(fmt.Sprintf("/contacts/%d", ct.ID), fiber.StatusSeeOther)
}

// formErrors turns the audience's refusals into field errors for a form;
// nil when err is none of them.
func formErrors(err error) validation.Errors {
	var ve validation.Errors
	var se *audience.SuppressedError
	switch {
	case errors.As(err, &ve):
		return ve
	case errors.As(err, &se):
		return validation.Errors{{Field: "status", Msg: se.Error()}}
	}
	return nil
}

func (s *Server) loadContact(c *fiber.Ctx) (*audience.Contact, error) {
	return loadByID(c, s.Audience.Get, audience.ErrNotFound, "no contact with this id")
}

func (s *Server) contactPage(c *fiber.Ctx, ct *audience.Contact, form audience.Input, attrs string, ve validation.Errors) (pageData, error) {
	ctx := c.UserContext()
	history, err := s.Audience.History(ctx, ct.ID)
	if err != nil {
		return pageData{}, err
	}
	member, err := s.Audience.ListsOf(ctx, ct.ID)
	if err != nil {
		return pageData{}, err
	}
	lists, err := s.Audience.Lists(ctx)
	if err != nil {
		return pageData{}, err
	}
	suppressed, err := s.Audience.IsSuppressed(ctx, ct.Email)
	if err != nil {
		return pageData{}, err
	}
	if ve == nil {
		ve = validation.Errors{}
	}
	var sends []email.ContactSend
	if s.Email != nil {
		if sends, err = s.Email.SendsTo(ctx, ct.ID, 50); err != nil {
			return pageData{}, err
		}
	}
	return pageData{Title: ct.Email, Nav: "contacts", Data: map[string]any{"Contact": ct, "History": history, "Member": member, "Lists": lists,
		"Suppressed": suppressed, "Form": form, "Attrs": attrs, "Errors": ve, "Statuses": audience.Statuses, "Reasons": audience.SuppressReasons,
		"Sends": sends}}, nil
}

func (s *Server) showContact(c *fiber.Ctx) error {
	ct, err := s.loadContact(c)
	if err != nil {
		return err
	}
	form := audience.Input{Email: ct.Email, Name: ct.Name, Locale: ct.Locale, Country: ct.Country, TimeZone: ct.TimeZone}
	d, err := s.contactPage(c, ct, form, attrsText(ct.Attrs), nil)
	if err != nil {
		return err
	}
	return s.render(c, "contact", d)
}

func (s *Server) updateContact(c *fiber.Ctx) error {
	ct, err := s.loadContact(c)
	if err != nil {
		return err
	}
	in, ve := contactForm(c)
	in.Status = ""
	if ve == nil {
		_, err = s.Audience.Update(c.UserContext(), ct.ID, in, s.actor(c, "ui"))
		ve = formErrors(err)
	}
	if ve != nil {
		d, err := s.contactPage(c, ct, in, c.FormValue("attributes"), ve)
		if err != nil {
			return err
		}
		return s.renderStatus(c, fiber.StatusUnprocessableEntity, "contact", d)
	}
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Contact saved."))
	return c.Redirect(fmt.Sprintf("/contacts/%d", ct.ID), fiber.StatusSeeOther)
}

// setContactStatus changes a consent status by hand; unsubscribed,
// bounced and complained suppress the address for good.
func (s *Server) setContactStatus(c *fiber.Ctx) error {
	ct, err := s.loadContact(c)
	if err != nil {
		return err
	}
	st := c.FormValue("status")
	_, err = s.Audience.SetStatus(c.UserContext(), ct.ID, st, s.actor(c, "ui"))
	if ve := formErrors(err); ve != nil {
		s.flash(c, false, ve[0].Msg)
	} else if err != nil {
		return err
	} else {
		s.flash(c, true, i18n.M("Status set to %s.", st))
	}
	return c.Redirect(fmt.Sprintf("/contacts/%d", ct.ID), fiber.StatusSeeOther)
}

func (s *Server) deleteContact(c *fiber.Ctx) error {
	ct, err := s.loadContact(c)
	if err != nil {
		return err
	}
	if err := s.Audience.Delete(c.UserContext(), ct.ID); err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Contact %s deleted (a suppressed address stays suppressed).", ct.Email))
	return c.Redirect("/contacts", fiber.StatusSeeOther)
}

func (s *Server) contactMembership(c *fiber.Ctx) error {
	ct, err := s.loadContact(c)
	if err != nil {
		return err
	}
	lid, err := strconv.ParseUint(c.FormValue("list"), 10, 63)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "list: choose a list")
	}
	if _, err := s.Audience.GetList(c.UserContext(), lid); errors.Is(err, audience.ErrNotFound) {
		return fiber.NewError(fiber.StatusBadRequest, "list: no list with this id")
	}
	if c.FormValue("remove") != "" {
		err = s.Audience.RemoveMember(c.UserContext(), lid, ct.ID)
	} else {
		err = s.Audience.AddMember(c.UserContext(), lid, ct.ID)
	}
	if err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/contacts/%d", ct.ID), fiber.StatusSeeOther)
}
