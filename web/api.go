package web

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/validation"
)

type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Field   string            `json:"field,omitempty"`
	Fields  validation.Errors `json:"fields,omitempty"`
}

func apiFail(c *fiber.Ctx, status int, code, msg, field string) error {
	return c.Status(status).JSON(apiError{Error: apiErrorBody{Code: code, Message: msg, Field: field}})
}

// apiInvalid answers 422 with every wrong field, the first one as "field".
func apiInvalid(c *fiber.Ctx, ve validation.Errors) error {
	return c.Status(fiber.StatusUnprocessableEntity).JSON(apiError{Error: apiErrorBody{
		Code: "invalid", Message: ve.Error(), Field: ve[0].Field, Fields: ve}})
}

func codeName(status int) string {
	switch status {
	case fiber.StatusNotFound:
		return "not_found"
	case fiber.StatusForbidden:
		return "forbidden"
	case fiber.StatusUnauthorized:
		return "unauthorized"
	case fiber.StatusBadRequest:
		return "bad_request"
	case fiber.StatusRequestEntityTooLarge:
		return "too_large"
	}
	if status >= 500 {
		return "internal"
	}
	return "error"
}

// apiDomainError maps domain errors to the JSON error shape.
func apiDomainError(c *fiber.Ctx, err error) error {
	var ve campaigns.ValidationError
	var te *campaigns.TransitionError
	var ge *campaigns.GatesError
	var fe *accounts.FieldError
	switch {
	case errors.As(err, &ve):
		return apiInvalid(c, ve)
	case errors.As(err, &fe):
		return apiFail(c, fiber.StatusUnprocessableEntity, "invalid", fe.Error(), fe.Field)
	case errors.As(err, &te):
		return apiFail(c, fiber.StatusConflict, "illegal_transition", te.Error(), "status")
	case errors.As(err, &ge):
		return c.Status(fiber.StatusConflict).JSON(map[string]any{"error": apiErrorBody{Code: "not_ready", Message: ge.Error()}, "readiness": ge.Report})
	case errors.Is(err, campaigns.ErrNotFound):
		return apiFail(c, fiber.StatusNotFound, "not_found", "no campaign with this id", "id")
	case errors.Is(err, campaigns.ErrConflict):
		return apiFail(c, fiber.StatusConflict, "conflict", err.Error(), "")
	}
	return err
}

// campaignJSON is the API's view of a campaign: times in UTC and in the
// campaign's zone, money in minor units.
type campaignJSON struct {
	ID                uint64                                   `json:"id"`
	Name              string                                   `json:"name"`
	Description       string                                   `json:"description"`
	Channels          []campaigns.Channel                      `json:"channels"`
	TimeZone          string                                   `json:"time_zone"`
	StartsAt          time.Time                                `json:"starts_at"`
	EndsAt            time.Time                                `json:"ends_at"`
	StartsAtLocal     string                                   `json:"starts_at_local"`
	EndsAtLocal       string                                   `json:"ends_at_local"`
	Currency          string                                   `json:"currency"`
	Budgets           map[campaigns.Channel]int64              `json:"budgets"`
	Forecast          map[campaigns.Channel]map[string]float64 `json:"forecast"`
	LandingPageID     *uint64                                  `json:"landing_page_id"`
	PromotionIDs      []uint64                                 `json:"promotion_ids"`
	FeedIDs           []uint64                                 `json:"feed_ids"`
	Status            campaigns.Status                         `json:"status"`
	NextAttemptAt     *time.Time                               `json:"next_attempt_at"`
	StatusReason      string                                   `json:"status_reason"`
	ScheduleVersion   int                                      `json:"schedule_version"`
	RetryWhileBlocked bool                                     `json:"retry_while_blocked"`
	Readiness         *campaigns.Report                        `json:"readiness,omitempty"`
	CreatedBy         string                                   `json:"created_by"`
	CreatedAt         time.Time                                `json:"created_at"`
	UpdatedAt         time.Time                                `json:"updated_at"`
}

func toJSON(c *campaigns.Campaign) campaignJSON {
	pids, fids := c.PromotionIDs, c.FeedIDs
	if pids == nil {
		pids = []uint64{}
	}
	if fids == nil {
		fids = []uint64{}
	}
	return campaignJSON{ID: c.ID, Name: c.Name, Description: c.Description, Channels: c.Channels(), TimeZone: c.TimeZone,
		StartsAt: c.StartsAt, EndsAt: c.EndsAt, StartsAtLocal: c.LocalStart().Format("2006-01-02T15:04"), EndsAtLocal: c.LocalEnd().Format("2006-01-02T15:04"),
		Currency: c.Currency, Budgets: c.Budgets, Forecast: c.Forecast, LandingPageID: c.LandingPageID, PromotionIDs: pids, FeedIDs: fids,
		Status: c.Status, NextAttemptAt: c.NextAttemptAt, StatusReason: c.StatusReason, ScheduleVersion: c.ScheduleVersion, RetryWhileBlocked: c.RetryWhileBlocked,
		Readiness: c.Readiness, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (s *Server) apiMe(c *fiber.Ctx) error {
	u := currentUser(c)
	return c.JSON(map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "role": u.Role})
}

func parseID(c *fiber.Ctx) (uint64, bool) {
	id, err := strconv.ParseUint(c.Params("id"), 10, 63)
	return id, err == nil && id > 0
}

// listFilter reads status and channel query parameters, shared by UI and API.
func listFilter(c *fiber.Ctx) (campaigns.Filter, *campaigns.FieldError) {
	var f campaigns.Filter
	if st := c.Query("status"); st != "" {
		ok := false
		for _, s := range campaigns.AllStatuses {
			if string(s) == st {
				f.Status, ok = s, true
			}
		}
		if !ok {
			return f, &campaigns.FieldError{Field: "status", Msg: "unknown status " + strconv.Quote(st)}
		}
	}
	if ch := c.Query("channel"); ch != "" {
		p, ok := campaigns.ParseChannel(ch)
		if !ok {
			return f, &campaigns.FieldError{Field: "channel", Msg: "unknown channel " + strconv.Quote(ch)}
		}
		f.Channel = p
	}
	return f, nil
}

// apiListCampaigns answers a page of campaigns sorted by start:
// ?status=&channel=&after=&limit=, with the total of the filter and, when
// more follow, next_after to pass as after.
func (s *Server) apiListCampaigns(c *fiber.Ctx) error {
	f, ferr := listFilter(c)
	if ferr != nil {
		return apiFail(c, fiber.StatusBadRequest, "invalid", ferr.Error(), ferr.Field)
	}
	pg, ferr := parsePaging(c, campaigns.MaxPageSize)
	if ferr != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", ferr.Error(), ferr.Field)
	}
	page, err := s.Campaigns.List(c.UserContext(), f, pg.After, pg.Limit)
	if errors.As(err, &ferr) {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", ferr.Error(), ferr.Field)
	}
	if err != nil {
		return err
	}
	total, err := s.Campaigns.Count(c.UserContext(), f, 0)
	if err != nil {
		return err
	}
	out := make([]campaignJSON, len(page.Campaigns))
	for i := range page.Campaigns {
		out[i] = toJSON(&page.Campaigns[i])
	}
	res := map[string]any{"campaigns": out, "total": total, "more": page.NextAfter != 0}
	if page.NextAfter != 0 {
		res["next_after"] = page.NextAfter
	}
	return c.JSON(res)
}

// decodeInput parses a campaign body; when ok is false the error response
// has been written.
func decodeInput(c *fiber.Ctx) (in campaigns.Input, ok bool) {
	err := decodeStrict(c, &in)
	return in, err == nil
}

// decodeStrict decodes JSON refusing unknown fields and answers the error
// naming the field; a non-nil return means the response is written.
func decodeStrict(c *fiber.Ctx, dst any) error {
	if !strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
		apiFail(c, fiber.StatusUnsupportedMediaType, "bad_request", "send JSON with Content-Type: application/json", "")
		return errResponded
	}
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		field := ""
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field = te.Field
			apiFail(c, fiber.StatusBadRequest, "bad_request", "field "+te.Field+": want "+te.Type.String()+", got JSON "+te.Value, field)
			return errResponded
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field = strings.Trim(f, `"`)
		}
		apiFail(c, fiber.StatusBadRequest, "bad_request", "malformed JSON: "+err.Error(), field)
		return errResponded
	}
	return nil
}

var errResponded = errors.New("web: response already written")

func (s *Server) apiCreateCampaign(c *fiber.Ctx) error {
	in, ok := decodeInput(c)
	if !ok {
		return nil
	}
	camp, err := s.Campaigns.Create(c.UserContext(), in, currentUser(c).Email)
	if err != nil {
		return apiDomainError(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(toJSON(camp))
}

func (s *Server) apiGetCampaign(c *fiber.Ctx) error {
	camp, err := s.apiCampaign(c)
	if camp == nil {
		return err
	}
	states, err := s.Campaigns.ChannelStates(c.UserContext(), camp)
	if err != nil {
		return err
	}
	out := struct {
		campaignJSON
		ChannelStates []channelStateJSON `json:"channel_states"`
	}{campaignJSON: toJSON(camp), ChannelStates: make([]channelStateJSON, 0, len(states))}
	for _, st := range states {
		j := channelStateJSON{Channel: st.Channel}
		if m := st.Move; m != nil {
			j.Move, j.Status, j.State, j.Detail, j.Error, j.Attempts, j.At = m.Move, m.Status, m.Words(), m.Detail, m.Error, m.Attempts, m.When()
		}
		out.ChannelStates = append(out.ChannelStates, j)
	}
	return c.JSON(out)
}

// channelStateJSON is what a channel last did outside Rampe.
type channelStateJSON struct {
	Channel  campaigns.Channel `json:"channel"`
	Move     campaigns.Move    `json:"move,omitempty"`
	Status   string            `json:"status,omitempty"`
	State    string            `json:"state,omitempty"`
	Detail   string            `json:"detail,omitempty"`
	Error    string            `json:"error,omitempty"`
	Attempts int               `json:"attempts,omitempty"`
	At       time.Time         `json:"at,omitempty"`
}

func (s *Server) apiUpdateCampaign(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "id must be a positive integer", "id")
	}
	in, ok := decodeInput(c)
	if !ok {
		return nil
	}
	camp, err := s.Campaigns.Update(c.UserContext(), id, in, currentUser(c).Email)
	if err != nil {
		return apiDomainError(c, err)
	}
	return c.JSON(toJSON(camp))
}

func (s *Server) apiDeleteCampaign(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "id must be a positive integer", "id")
	}
	if err := s.Campaigns.Delete(c.UserContext(), id); err != nil {
		return apiDomainError(c, err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// runAction applies a lifecycle action, shared by UI and API.
func (s *Server) runAction(c *fiber.Ctx, id uint64, action, why string) (*campaigns.Campaign, error) {
	ctx, actor := c.UserContext(), currentUser(c).Email
	switch action {
	case "schedule":
		camp, err := s.Campaigns.Schedule(ctx, id, actor)
		if err == nil && s.Affiliation != nil {
			s.Affiliation.PlanChanged(ctx, camp, "scheduled") // the partners get their kits
		}
		return camp, err
	case "unschedule":
		return s.Campaigns.Unschedule(ctx, id, actor)
	case "pause":
		return s.Campaigns.Pause(ctx, id, actor, why)
	case "resume":
		return s.Campaigns.Resume(ctx, id, actor)
	case "cancel":
		return s.Campaigns.Cancel(ctx, id, actor, why)
	}
	return nil, fiber.ErrNotFound
}

func (s *Server) apiCampaignAction(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "id must be a positive integer", "id")
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if len(c.Body()) > 0 {
		if err := json.Unmarshal(c.Body(), &body); err != nil {
			return apiFail(c, fiber.StatusBadRequest, "bad_request", "malformed JSON: "+err.Error(), "reason")
		}
	}
	if len(body.Reason) > 500 {
		return apiFail(c, fiber.StatusUnprocessableEntity, "invalid", "reason: at most 500 characters", "reason")
	}
	camp, err := s.runAction(c, id, c.Params("action"), body.Reason)
	if err != nil {
		return apiDomainError(c, err)
	}
	camp, err = s.Campaigns.Get(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	return c.JSON(toJSON(camp))
}

func (s *Server) apiReadiness(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "id must be a positive integer", "id")
	}
	_, rep, err := s.Campaigns.Readiness(c.UserContext(), id)
	if err != nil {
		return apiDomainError(c, err)
	}
	return c.JSON(rep)
}

// apiCheckReadiness is "Check now": it evaluates, stores, and puts a blocked
// campaign whose gates all pass live.
func (s *Server) apiCheckReadiness(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "id must be a positive integer", "id")
	}
	_, rep, err := s.Campaigns.Check(c.UserContext(), id, currentUser(c).Email)
	if err != nil {
		return apiDomainError(c, err)
	}
	return c.JSON(rep)
}

func (s *Server) apiHistory(c *fiber.Ctx) error {
	camp, err := s.apiCampaign(c)
	if camp == nil {
		return err
	}
	h, err := s.Campaigns.History(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	out := make([]transitionJSON, len(h))
	for i, t := range h {
		gates := t.Gates
		if gates == nil {
			gates = []campaigns.Result{}
		}
		out[i] = transitionJSON{ID: t.ID, At: t.At, Actor: t.Actor, From: t.FromStatus, To: t.ToStatus, Reason: t.Reason, ScheduleVersion: t.ScheduleVersion, Gates: gates}
	}
	return c.JSON(map[string]any{"transitions": out})
}

// transitionJSON is one line of the audit log in the API's style.
type transitionJSON struct {
	ID              uint64             `json:"id"`
	At              time.Time          `json:"at"`
	Actor           string             `json:"actor"`
	From            campaigns.Status   `json:"from_status"`
	To              campaigns.Status   `json:"to_status"`
	Reason          string             `json:"reason"`
	ScheduleVersion int                `json:"schedule_version"`
	Gates           []campaigns.Result `json:"gates"`
}

// loadByID reads the record the path's :id names; an id that names none
// (or is no id) is a 404 saying so in notFound's words.
func loadByID[T any](c *fiber.Ctx, get func(context.Context, uint64) (*T, error), errNotFound error, notFound string) (*T, error) {
	id, ok := parseID(c)
	if !ok {
		return nil, fiber.NewError(fiber.StatusNotFound, notFound)
	}
	v, err := get(c.UserContext(), id)
	if errors.Is(err, errNotFound) {
		return nil, fiber.NewError(fiber.StatusNotFound, notFound)
	}
	return v, err
}
