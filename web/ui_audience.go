package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// honeypotField is the subscription form's trap: hidden from people,
// filled by bots.
const honeypotField = "website"

func (s *Server) subscribeURL(l *audience.List) string {
	return strings.TrimRight(s.BaseURL, "/") + "/subscribe/" + l.Token
}

// subscribeSnippet is the form a merchant pastes on their site.
func (s *Server) subscribeSnippet(l *audience.List) string {
	return fmt.Sprintf(`<form method="post" action="%s">
  <label>E-mail <input type="email" name="email" required maxlength="254"></label>
  <label>Name <input name="name" maxlength="200"></label>
  <input name="%s" tabindex="-1" autocomplete="off" aria-hidden="true" style="position:absolute;left:-5000px">
  <button type="submit">Subscribe</button>
</form>`, s.subscribeURL(l), honeypotField)
}

func (s *Server) showLists(c *fiber.Ctx) error {
	return s.renderLists(c, fiber.StatusOK, "", validation.Errors{})
}

func (s *Server) renderLists(c *fiber.Ctx, code int, name string, ve validation.Errors) error {
	lists, err := s.Audience.Lists(c.UserContext())
	if err != nil {
		return err
	}
	return s.renderStatus(c, code, "lists", pageData{Title: i18n.M("Lists"), Nav: "contacts", Data: map[string]any{
		"Lists": lists, "Name": name, "Errors": ve, "Tab": "lists", "Base": strings.TrimRight(s.BaseURL, "/")}})
}

func (s *Server) createList(c *fiber.Ctx) error {
	doi := c.FormValue("double_opt_in") == "on"
	l, err := s.Audience.CreateList(c.UserContext(), audience.ListInput{Name: c.FormValue("name"), DoubleOptIn: &doi})
	if ve := formErrors(err); ve != nil {
		return s.renderLists(c, fiber.StatusUnprocessableEntity, c.FormValue("name"), ve)
	}
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("List “%s” created.", l.Name))
	return c.Redirect(fmt.Sprintf("/lists/%d", l.ID), fiber.StatusSeeOther)
}

func (s *Server) showList(c *fiber.Ctx) error {
	id, _ := parseID(c)
	ctx := c.UserContext()
	l, err := s.Audience.GetList(ctx, id)
	if errors.Is(err, audience.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "no list with this id")
	}
	if err != nil {
		return err
	}
	counts, err := s.Audience.Count(ctx, audience.Spec{ListID: l.ID})
	if err != nil {
		return err
	}
	return s.render(c, "list", pageData{Title: l.Name, Nav: "contacts", Data: map[string]any{
		"List": l, "Counts": counts, "URL": s.subscribeURL(l), "Snippet": s.subscribeSnippet(l), "Tab": "lists"}})
}

// segmentRow is a segment with its counts.
type segmentRow struct {
	audience.Segment
	ListName string
	Counts   audience.Counts
}

// segmentForm reads a segment with up to five filter rows.
func segmentForm(c *fiber.Ctx) audience.SegmentInput {
	in := audience.SegmentInput{Name: c.FormValue("name")}
	in.ListID, _ = strconv.ParseUint(c.FormValue("list"), 10, 63)
	for i := range 5 {
		f := audience.Filter{Field: c.FormValue(fmt.Sprintf("field%d", i)), Op: c.FormValue(fmt.Sprintf("op%d", i)), Value: c.FormValue(fmt.Sprintf("value%d", i))}
		if strings.TrimSpace(f.Field) != "" {
			in.Filters = append(in.Filters, f)
		}
	}
	return in
}

func (s *Server) showSegments(c *fiber.Ctx) error {
	return s.renderSegments(c, fiber.StatusOK, audience.SegmentInput{}, validation.Errors{})
}

func (s *Server) renderSegments(c *fiber.Ctx, code int, form audience.SegmentInput, ve validation.Errors) error {
	ctx := c.UserContext()
	segs, err := s.Audience.Segments(ctx)
	if err != nil {
		return err
	}
	lists, err := s.Audience.Lists(ctx)
	if err != nil {
		return err
	}
	names := map[uint64]string{}
	for _, l := range lists {
		names[l.ID] = l.Name
	}
	rows := make([]segmentRow, len(segs))
	for i, sg := range segs {
		rows[i] = segmentRow{Segment: sg, ListName: names[sg.ListID]}
		if rows[i].Counts, err = s.Audience.Count(ctx, audience.Spec{SegmentID: sg.ID}); err != nil {
			return err
		}
	}
	for len(form.Filters) < 3 {
		form.Filters = append(form.Filters, audience.Filter{})
	}
	return s.renderStatus(c, code, "segments", pageData{Title: i18n.M("Segments"), Nav: "contacts", Data: map[string]any{
		"Rows": rows, "Lists": lists, "Form": form, "Errors": ve, "Fields": audience.Fields, "Ops": audience.Ops, "Tab": "segments"}})
}

func (s *Server) createSegment(c *fiber.Ctx) error {
	in := segmentForm(c)
	_, err := s.Audience.CreateSegment(c.UserContext(), in)
	if ve := formErrors(err); ve != nil {
		return s.renderSegments(c, fiber.StatusUnprocessableEntity, in, ve)
	}
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Segment “%s” created.", strings.TrimSpace(in.Name)))
	return c.Redirect("/segments", fiber.StatusSeeOther)
}

// previewSegment answers the htmx count preview of the segment form.
func (s *Server) previewSegment(c *fiber.Ctx) error {
	in := segmentForm(c)
	cnt, err := s.Audience.Preview(c.UserContext(), in.ListID, in.Filters)
	c.Set("Content-Type", "text/html; charset=utf-8")
	w := c.Response().BodyWriter()
	if ve := formErrors(err); ve != nil {
		return s.page(c, "segments").ExecuteTemplate(w, "preview", map[string]any{"Error": ve.Error()})
	}
	if err != nil {
		return err
	}
	return s.page(c, "segments").ExecuteTemplate(w, "preview", map[string]any{"Counts": cnt})
}

func (s *Server) deleteSegment(c *fiber.Ctx) error {
	id, _ := parseID(c)
	if err := s.Audience.DeleteSegment(c.UserContext(), id); errors.Is(err, audience.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "no segment with this id")
	} else if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Segment deleted."))
	return c.Redirect("/segments", fiber.StatusSeeOther)
}

func suppressionQuery(c *fiber.Ctx) (audience.SuppressionQuery, *validation.FieldError) {
	q := audience.SuppressionQuery{Search: c.Query("q"), Reason: c.Query("reason"), After: c.Query("after")}
	if q.Reason != "" && !contains(audience.SuppressReasons, q.Reason) {
		return q, &validation.FieldError{Field: "reason", Msg: "unknown reason " + strconv.Quote(q.Reason)}
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return q, &validation.FieldError{Field: "limit", Msg: "want a whole number from 1 to 500, got " + strconv.Quote(l)}
		}
		q.Limit = n
	}
	return q, nil
}

func (s *Server) showSuppressions(c *fiber.Ctx) error {
	return s.renderSuppressions(c, fiber.StatusOK, validation.Errors{})
}

func (s *Server) renderSuppressions(c *fiber.Ctx, code int, ve validation.Errors) error {
	q, ferr := suppressionQuery(c)
	if ferr != nil {
		return badInput(ferr)
	}
	ctx := c.UserContext()
	rows, more, err := s.Audience.Suppressions(ctx, q)
	if err != nil {
		return err
	}
	counts, err := s.Audience.CountSuppressions(ctx)
	if err != nil {
		return err
	}
	next := ""
	if more {
		next = fmt.Sprintf("/suppressions?q=%s&reason=%s&after=%s", url.QueryEscape(q.Search), url.QueryEscape(q.Reason), url.QueryEscape(rows[len(rows)-1].EmailKey))
	}
	return s.renderStatus(c, code, "suppressions", pageData{Title: i18n.M("Suppression list"), Nav: "contacts", Data: map[string]any{
		"Rows": rows, "Q": q, "Counts": counts, "Reasons": audience.SuppressReasons, "Next": next, "Paged": q.After != "",
		"Errors": ve, "Email": c.FormValue("email"), "Tab": "suppressions"}})
}

// addSuppression suppresses an address by hand (the owner asked by phone,
// a complaint came by other means).
func (s *Server) addSuppression(c *fiber.Ctx) error {
	email := c.FormValue("email")
	err := s.Audience.Suppress(c.UserContext(), email, c.FormValue("reason"), "ui", c.IP())
	if ve := formErrors(err); ve != nil {
		return s.renderSuppressions(c, fiber.StatusUnprocessableEntity, ve)
	}
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("%s is suppressed: it will never be mailed again.", strings.TrimSpace(email)))
	return c.Redirect("/suppressions", fiber.StatusSeeOther)
}
