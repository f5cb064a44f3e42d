package web

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/platform/validation"
)

// apiAudienceError maps the audience's errors to the JSON error shape.
func apiAudienceError(c *fiber.Ctx, err error, what string) error {
	var ve validation.Errors
	var se *audience.SuppressedError
	var fe *fiber.Error
	switch {
	case errors.As(err, &ve):
		return apiInvalid(c, ve)
	case errors.As(err, &se):
		return apiFail(c, fiber.StatusConflict, "suppressed", se.Error(), "status")
	case errors.Is(err, audience.ErrNotFound):
		return apiFail(c, fiber.StatusNotFound, "not_found", "no "+what+" with this id", "id")
	case errors.As(err, &fe):
		return apiFail(c, fe.Code, codeName(fe.Code), fe.Message, "")
	}
	return err
}

func apiBadID(c *fiber.Ctx) error {
	return apiFail(c, fiber.StatusBadRequest, "bad_request", "id must be a positive integer", "id")
}

func contactOut(ct *audience.Contact) *audience.Contact {
	if ct.Attrs == nil {
		ct.Attrs = map[string]string{}
	}
	return ct
}

// apiListContacts answers a page of contacts by id: ?q=&status=&list=&after=&limit=.
func (s *Server) apiListContacts(c *fiber.Ctx) error {
	q, ferr := contactQuery(c)
	if ferr != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", ferr.Error(), ferr.Field)
	}
	rows, more, err := s.Audience.List(c.UserContext(), q)
	if err != nil {
		return err
	}
	counts, err := s.Audience.CountBy(c.UserContext(), q)
	if err != nil {
		return err
	}
	for i := range rows {
		contactOut(&rows[i])
	}
	res := map[string]any{"contacts": rows, "counts": counts, "more": more}
	if more {
		res["next_after"] = rows[len(rows)-1].ID
	}
	return c.JSON(res)
}

// contactBody is a contact in the API, with the lists it joins. Its
// fields are flat (not an embedded Input) so that a type error names the
// field as the client sent it.
type contactBody struct {
	Email      string            `json:"email"`
	Name       string            `json:"name"`
	Locale     string            `json:"locale"`
	Country    string            `json:"country"`
	TimeZone   string            `json:"time_zone"`
	Attributes map[string]string `json:"attributes"`
	Status     string            `json:"status"`
	ListIDs    []uint64          `json:"list_ids"`
}

func (b contactBody) input() audience.Input {
	return audience.Input{Email: b.Email, Name: b.Name, Locale: b.Locale, Country: b.Country, TimeZone: b.TimeZone, Attributes: b.Attributes, Status: b.Status}
}

func (s *Server) joinLists(c *fiber.Ctx, id uint64, lists []uint64) error {
	for _, l := range lists {
		if _, err := s.Audience.GetList(c.UserContext(), l); err != nil {
			return validation.Errors{{Field: "list_ids", Msg: fmt.Sprintf("no list %d", l)}}
		}
	}
	for _, l := range lists {
		if err := s.Audience.AddMember(c.UserContext(), l, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) apiCreateContact(c *fiber.Ctx) error {
	var in contactBody
	if decodeStrict(c, &in) != nil {
		return nil
	}
	for _, l := range in.ListIDs {
		if _, err := s.Audience.GetList(c.UserContext(), l); err != nil {
			return apiInvalid(c, validation.Errors{{Field: "list_ids", Msg: fmt.Sprintf("no list %d", l)}})
		}
	}
	ct, err := s.Audience.Create(c.UserContext(), in.input(), s.actor(c, "api"))
	if err != nil {
		return apiAudienceError(c, err, "contact")
	}
	if err := s.joinLists(c, ct.ID, in.ListIDs); err != nil {
		return apiAudienceError(c, err, "list")
	}
	return c.Status(fiber.StatusCreated).JSON(contactOut(ct))
}

func (s *Server) apiGetContact(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiBadID(c)
	}
	ctx := c.UserContext()
	ct, err := s.Audience.Get(ctx, id)
	if err != nil {
		return apiAudienceError(c, err, "contact")
	}
	history, err := s.Audience.History(ctx, id)
	if err != nil {
		return err
	}
	lists, err := s.Audience.ListsOf(ctx, id)
	if err != nil {
		return err
	}
	ids := make([]uint64, len(lists))
	for i, l := range lists {
		ids[i] = l.ID
	}
	sup, err := s.Audience.IsSuppressed(ctx, ct.Email)
	if err != nil {
		return err
	}
	return c.JSON(struct {
		*audience.Contact
		ListIDs    []uint64                `json:"list_ids"`
		Suppressed bool                    `json:"suppressed"`
		History    []audience.ConsentEvent `json:"consent_history"`
	}{contactOut(ct), ids, sup, history})
}

func (s *Server) apiUpdateContact(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiBadID(c)
	}
	var in contactBody
	if decodeStrict(c, &in) != nil {
		return nil
	}
	ct, err := s.Audience.Update(c.UserContext(), id, in.input(), s.actor(c, "api"))
	if err != nil {
		return apiAudienceError(c, err, "contact")
	}
	if err := s.joinLists(c, ct.ID, in.ListIDs); err != nil {
		return apiAudienceError(c, err, "list")
	}
	return c.JSON(contactOut(ct))
}

func (s *Server) apiDeleteContact(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiBadID(c)
	}
	if err := s.Audience.Delete(c.UserContext(), id); err != nil {
		return apiAudienceError(c, err, "contact")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// apiImportContacts takes the file as the raw body (Content-Type text/csv
// or application/json, up to 1 GiB, streamed to disk) with
// ?list=&partial=true&format=&filename=, and answers 202 with the import
// to poll.
func (s *Server) apiImportContacts(c *fiber.Ctx) error {
	name := c.Query("filename", "upload")
	format := c.Query("format")
	if format == "" && c.Get(fiber.HeaderContentType) != "" {
		format = "csv"
		if ct := c.Get(fiber.HeaderContentType); ct == fiber.MIMEApplicationJSON || ct == "application/x-ndjson" {
			format = "json"
		}
	}
	opt, err := s.importOptions(c.UserContext(), c.Query("list"), c.Query("partial"), name, format)
	if err != nil {
		return apiAudienceError(c, err, "list")
	}
	tmp, size, err := saveBody(c)
	if errors.Is(err, errBodyTooLarge) {
		return apiFail(c, fiber.StatusRequestEntityTooLarge, "too_large", uploadTooLarge(), "")
	}
	if err != nil {
		return err
	}
	run, err := s.Audience.StartImport(c.UserContext(), filepath.Base(name), opt.Format, size, opt, currentUser(c).Email)
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := s.queueContactImport(c.UserContext(), run, tmp, size, opt); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(importJSON(run, nil))
}

func importJSON(run *audience.ImportRun, problems []audience.ImportProblem) map[string]any {
	errs := audience.ReportRows(problems)
	if errs == nil {
		errs = []audience.RowError{}
	}
	return map[string]any{"id": run.ID, "filename": run.Filename, "format": run.Format, "status": run.Status, "partial": run.Partial,
		"list_id": run.ListID, "percent": run.Percent(), "bytes_total": run.BytesTotal, "bytes_read": run.BytesRead, "rows_read": run.RowsRead,
		"rows_imported": run.RowsImported, "rows_invalid": run.RowsInvalid, "rows_suppressed": run.RowsSuppressed, "message": run.Message,
		"created_by": run.CreatedBy, "created_at": run.CreatedAt, "finished_at": run.FinishedAt, "errors": errs,
		"status_url": "/api/v1/contacts/imports/" + strconv.FormatUint(run.ID, 10)}
}

func (s *Server) apiGetContactImport(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiBadID(c)
	}
	run, err := s.Audience.GetImport(c.UserContext(), id)
	if err != nil {
		return apiAudienceError(c, err, "import")
	}
	problems, err := s.Audience.ImportProblems(c.UserContext(), id, 1000)
	if err != nil {
		return err
	}
	return c.JSON(importJSON(run, problems))
}

type listJSON struct {
	*audience.List
	SubscribeURL string          `json:"subscribe_url"`
	Counts       audience.Counts `json:"counts"`
}

func (s *Server) apiListLists(c *fiber.Ctx) error {
	lists, err := s.Audience.Lists(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]listJSON, len(lists))
	for i := range lists {
		out[i] = listJSON{List: &lists[i], SubscribeURL: s.subscribeURL(&lists[i])}
		if out[i].Counts, err = s.Audience.Count(c.UserContext(), audience.Spec{ListID: lists[i].ID}); err != nil {
			return err
		}
	}
	return c.JSON(map[string]any{"lists": out})
}

func (s *Server) apiCreateList(c *fiber.Ctx) error {
	var in audience.ListInput
	if decodeStrict(c, &in) != nil {
		return nil
	}
	l, err := s.Audience.CreateList(c.UserContext(), in)
	if err != nil {
		return apiAudienceError(c, err, "list")
	}
	return c.Status(fiber.StatusCreated).JSON(listJSON{List: l, SubscribeURL: s.subscribeURL(l), Counts: audience.Counts{Excluded: map[string]int64{}}})
}

func (s *Server) apiGetList(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiBadID(c)
	}
	l, err := s.Audience.GetList(c.UserContext(), id)
	if err != nil {
		return apiAudienceError(c, err, "list")
	}
	cnt, err := s.Audience.Count(c.UserContext(), audience.Spec{ListID: id})
	if err != nil {
		return err
	}
	return c.JSON(listJSON{List: l, SubscribeURL: s.subscribeURL(l), Counts: cnt})
}

type segmentJSON struct {
	*audience.Segment
	Counts audience.Counts `json:"counts"`
}

func (s *Server) apiListSegments(c *fiber.Ctx) error {
	segs, err := s.Audience.Segments(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]segmentJSON, len(segs))
	for i := range segs {
		out[i].Segment = &segs[i]
		if out[i].Counts, err = s.Audience.Count(c.UserContext(), audience.Spec{SegmentID: segs[i].ID}); err != nil {
			return err
		}
	}
	return c.JSON(map[string]any{"segments": out})
}

func (s *Server) apiCreateSegment(c *fiber.Ctx) error {
	var in audience.SegmentInput
	if decodeStrict(c, &in) != nil {
		return nil
	}
	seg, err := s.Audience.CreateSegment(c.UserContext(), in)
	if err != nil {
		return apiAudienceError(c, err, "segment")
	}
	cnt, err := s.Audience.Count(c.UserContext(), audience.Spec{SegmentID: seg.ID})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(segmentJSON{Segment: seg, Counts: cnt})
}

func (s *Server) apiGetSegment(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiBadID(c)
	}
	seg, err := s.Audience.GetSegment(c.UserContext(), id)
	if err != nil {
		return apiAudienceError(c, err, "segment")
	}
	cnt, err := s.Audience.Count(c.UserContext(), audience.Spec{SegmentID: id})
	if err != nil {
		return err
	}
	return c.JSON(segmentJSON{Segment: seg, Counts: cnt})
}

// apiListSuppressions answers a page by address: ?q=&reason=&after=&limit=.
func (s *Server) apiListSuppressions(c *fiber.Ctx) error {
	q, ferr := suppressionQuery(c)
	if ferr != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", ferr.Error(), ferr.Field)
	}
	rows, more, err := s.Audience.Suppressions(c.UserContext(), q)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []audience.Suppression{}
	}
	res := map[string]any{"suppressions": rows, "more": more}
	if more {
		res["next_after"] = rows[len(rows)-1].EmailKey
	}
	return c.JSON(res)
}

func (s *Server) apiAddSuppression(c *fiber.Ctx) error {
	var in struct {
		Email  string `json:"email"`
		Reason string `json:"reason"`
	}
	if decodeStrict(c, &in) != nil {
		return nil
	}
	if in.Reason == "" {
		in.Reason = audience.Unsubscribed
	}
	if err := s.Audience.Suppress(c.UserContext(), in.Email, in.Reason, "api", c.IP()); err != nil {
		return apiAudienceError(c, err, "contact")
	}
	return c.Status(fiber.StatusCreated).JSON(map[string]any{"email": in.Email, "reason": in.Reason, "suppressed": true})
}

// apiListMembers adds contacts to a list ({"contact_ids": [..]}) or, with
// DELETE, takes them out.
func (s *Server) apiListMembers(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiBadID(c)
	}
	var in struct {
		ContactIDs []uint64 `json:"contact_ids"`
	}
	if decodeStrict(c, &in) != nil {
		return nil
	}
	ctx := c.UserContext()
	if _, err := s.Audience.GetList(ctx, id); err != nil {
		return apiAudienceError(c, err, "list")
	}
	if len(in.ContactIDs) == 0 || len(in.ContactIDs) > 1000 {
		return apiInvalid(c, validation.Errors{{Field: "contact_ids", Msg: "give 1 to 1000 contact ids"}})
	}
	for _, cid := range in.ContactIDs {
		if _, err := s.Audience.Get(ctx, cid); err != nil {
			if errors.Is(err, audience.ErrNotFound) {
				return apiInvalid(c, validation.Errors{{Field: "contact_ids", Msg: fmt.Sprintf("no contact %d", cid)}})
			}
			return err
		}
	}
	for _, cid := range in.ContactIDs {
		var err error
		if c.Method() == fiber.MethodDelete {
			err = s.Audience.RemoveMember(ctx, id, cid)
		} else {
			err = s.Audience.AddMember(ctx, id, cid)
		}
		if err != nil {
			return err
		}
	}
	l, err := s.Audience.GetList(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(map[string]any{"id": l.ID, "members": l.Members})
}
