package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
)

// campaignForm is the raw text of the campaign form, kept so that a form
// with errors comes back exactly as typed.
type campaignForm struct {
	Name, Description, TimeZone, StartsAt, EndsAt, Currency string
	Channels                                                map[string]bool
	Budgets                                                 map[string]string
	Forecast                                                map[string]map[string]string
	LandingPageID, PromotionIDs, FeedIDs                    string
	Retry                                                   bool
}

func formFromRequest(c *fiber.Ctx) campaignForm {
	f := campaignForm{Name: c.FormValue("name"), Description: c.FormValue("description"), TimeZone: c.FormValue("time_zone"),
		StartsAt: c.FormValue("starts_at"), EndsAt: c.FormValue("ends_at"), Currency: c.FormValue("currency"),
		LandingPageID: c.FormValue("landing_page_id"),
		Retry:         c.FormValue("retry_while_blocked") == "on", Channels: map[string]bool{}, Budgets: map[string]string{}, Forecast: map[string]map[string]string{}}
	var promos []string
	if mf, err := c.MultipartForm(); err == nil {
		for _, ch := range mf.Value["channels"] {
			f.Channels[ch] = true
		}
		promos = mf.Value["promotion_ids"]
		f.FeedIDs = strings.Join(mf.Value["feed_ids"], ", ")
	} else {
		args := c.Request().PostArgs()
		for _, v := range args.PeekMulti("channels") {
			f.Channels[string(v)] = true
		}
		for _, v := range args.PeekMulti("promotion_ids") {
			promos = append(promos, string(v))
		}
		var fids []string
		for _, v := range args.PeekMulti("feed_ids") {
			fids = append(fids, string(v))
		}
		f.FeedIDs = strings.Join(fids, ", ")
	}
	f.PromotionIDs = strings.Join(promos, ", ")
	for _, ch := range campaigns.AllChannels {
		f.Budgets[string(ch)] = c.FormValue("budget_" + string(ch))
		f.Forecast[string(ch)] = map[string]string{}
		for _, fld := range campaigns.ForecastFields[ch] {
			f.Forecast[string(ch)][fld.Key] = c.FormValue("forecast_" + string(ch) + "_" + fld.Key)
		}
	}
	return f
}

func formFromCampaign(c *campaigns.Campaign) campaignForm {
	f := campaignForm{Name: c.Name, Description: c.Description, TimeZone: c.TimeZone, Currency: c.Currency,
		StartsAt: c.LocalStart().Format("2006-01-02T15:04"), EndsAt: c.LocalEnd().Format("2006-01-02T15:04"),
		Retry: c.RetryWhileBlocked, Channels: map[string]bool{}, Budgets: map[string]string{}, Forecast: map[string]map[string]string{}}
	for _, ch := range c.Channels() {
		f.Channels[string(ch)] = true
	}
	for ch, v := range c.Budgets {
		f.Budgets[string(ch)] = money.Plain(v, c.Currency)
	}
	for ch, vals := range c.Forecast {
		f.Forecast[string(ch)] = map[string]string{}
		for k, v := range vals {
			f.Forecast[string(ch)][k] = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	if c.LandingPageID != nil {
		f.LandingPageID = strconv.FormatUint(*c.LandingPageID, 10)
	}
	ids := make([]string, len(c.PromotionIDs))
	for i, id := range c.PromotionIDs {
		ids[i] = strconv.FormatUint(id, 10)
	}
	f.PromotionIDs = strings.Join(ids, ", ")
	fids := make([]string, len(c.FeedIDs))
	for i, id := range c.FeedIDs {
		fids[i] = strconv.FormatUint(id, 10)
	}
	f.FeedIDs = strings.Join(fids, ", ")
	return f
}

// input turns the form into the domain Input, collecting the errors of the
// parts only the form has (amounts typed as decimals, numbers as text).
func (f campaignForm) input() (campaigns.Input, campaigns.ValidationError) {
	var errs campaigns.ValidationError
	in := campaigns.Input{Name: f.Name, Description: f.Description, TimeZone: f.TimeZone, StartsAt: f.StartsAt, EndsAt: f.EndsAt,
		Currency: f.Currency, Budgets: map[string]int64{}, Forecast: map[string]map[string]float64{}, RetryWhileBlocked: &f.Retry}
	cur := strings.ToUpper(strings.TrimSpace(f.Currency))
	if cur == "" {
		cur = "EUR"
	}
	for _, ch := range campaigns.AllChannels {
		if !f.Channels[string(ch)] {
			continue
		}
		in.Channels = append(in.Channels, string(ch))
		if raw := strings.TrimSpace(f.Budgets[string(ch)]); raw != "" {
			v, err := money.Parse(raw, cur)
			if err != nil {
				errs = append(errs, fieldErr("budgets."+string(ch), err))
			} else {
				in.Budgets[string(ch)] = v
			}
		}
		for _, fld := range campaigns.ForecastFields[ch] {
			v, err := parseForecast(fld, f.Forecast[string(ch)][fld.Key])
			if isEmpty(err) {
				continue
			}
			if err != nil {
				errs = append(errs, fieldErr("forecast."+string(ch)+"."+fld.Key, err))
				continue
			}
			if in.Forecast[string(ch)] == nil {
				in.Forecast[string(ch)] = map[string]float64{}
			}
			in.Forecast[string(ch)][fld.Key] = v
		}
	}
	if raw := strings.TrimSpace(f.LandingPageID); raw != "" {
		id, err := strconv.ParseUint(raw, 10, 63)
		if err != nil || id == 0 {
			errs = append(errs, campaigns.FieldError{Field: "landing_page_id", Msg: fmt.Sprintf("%q is not a landing page id", raw)})
		} else {
			in.LandingPageID = &id
		}
	}
	var bad []string
	in.PromotionIDs, bad = parseIDs(f.PromotionIDs)
	for _, b := range bad {
		errs = append(errs, campaigns.FieldError{Field: "promotion_ids", Msg: fmt.Sprintf("%q is not a promotion id", b)})
	}
	in.FeedIDs, bad = parseIDs(f.FeedIDs)
	for _, b := range bad {
		errs = append(errs, campaigns.FieldError{Field: "feed_ids", Msg: fmt.Sprintf("%q is not a feed id", b)})
	}
	return in, errs
}

// parseIDs reads a comma- or space-separated list of ids, returning the
// parts that are not ids apart.
func parseIDs(list string) (ids []uint64, bad []string) {
	for _, part := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
		id, err := strconv.ParseUint(part, 10, 63)
		if err != nil || id == 0 {
			bad = append(bad, part)
			continue
		}
		ids = append(ids, id)
	}
	return ids, bad
}

// idSet turns a list of ids into a set, for checkboxes.
func idSet(list string) map[uint64]bool {
	ids, _ := parseIDs(list)
	set := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set
}

var timeZones = []string{"Europe/Paris", "Europe/London", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Brussels",
	"Europe/Amsterdam", "Europe/Zurich", "Europe/Lisbon", "America/New_York", "America/Montreal", "UTC"}

func (s *Server) formPage(c *fiber.Ctx, code int, title i18n.Message, camp *campaigns.Campaign, f campaignForm, errs campaigns.ValidationError) error {
	action := "/campaigns"
	if camp != nil {
		action = fmt.Sprintf("/campaigns/%d", camp.ID)
	}
	pages, err := s.Pages.List(c.UserContext())
	if err != nil {
		return err
	}
	promos, err := s.Promotions.All(c.UserContext())
	if err != nil {
		return err
	}
	feedList, err := s.Feeds.List(c.UserContext())
	if err != nil {
		return err
	}
	return s.renderStatus(c, code, "campaign_form", pageData{Title: title, Nav: "campaigns", Errors: errs, Data: map[string]any{
		"Labelled": labelErrors(errs), "FixFields": msgFixFields,
		"Form": f, "Campaign": camp, "Action": action, "Channels": campaigns.AllChannels, "ForecastFields": campaigns.ForecastFields,
		"TimeZones": timeZones, "Pages": pages, "Promotions": promos, "Chosen": idSet(f.PromotionIDs), "Feeds": feedList, "ChosenFeeds": idSet(f.FeedIDs)}})
}

func (s *Server) showNewCampaign(c *fiber.Ctx) error {
	loc, _ := clock.Location(s.Campaigns.DefaultTimeZone)
	now := s.now().In(loc)
	start := time.Date(now.Year(), now.Month(), now.Day()+1, 8, 0, 0, 0, loc)
	f := campaignForm{TimeZone: s.Campaigns.DefaultTimeZone, Currency: "EUR", Retry: true,
		StartsAt: start.Format("2006-01-02T15:04"), EndsAt: start.Add(72 * time.Hour).Format("2006-01-02T15:04"),
		Channels: map[string]bool{}, Budgets: map[string]string{}, Forecast: map[string]map[string]string{}}
	return s.formPage(c, fiber.StatusOK, i18n.M("New campaign"), nil, f, nil)
}

func (s *Server) createCampaign(c *fiber.Ctx) error {
	f := formFromRequest(c)
	in, errs := f.input()
	if len(errs) > 0 {
		// Show the domain's complaints too, all at once; store nothing.
		var ve campaigns.ValidationError
		_, err := campaigns.Build(in, s.Campaigns.DefaultTimeZone)
		errors.As(err, &ve)
		return s.formPage(c, fiber.StatusUnprocessableEntity, i18n.M("New campaign"), nil, f, append(errs, ve...))
	}
	camp, err := s.Campaigns.Create(c.UserContext(), in, currentUser(c).Email)
	var ve campaigns.ValidationError
	if errors.As(err, &ve) {
		return s.formPage(c, fiber.StatusUnprocessableEntity, i18n.M("New campaign"), nil, f, ve)
	}
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Campaign created as a draft. Check its readiness, then schedule it."))
	return c.Redirect(fmt.Sprintf("/campaigns/%d", camp.ID), fiber.StatusSeeOther)
}

func (s *Server) loadCampaign(c *fiber.Ctx) (*campaigns.Campaign, error) {
	return loadByID(c, s.Campaigns.Get, campaigns.ErrNotFound, "there is no campaign with this id")
}

func (s *Server) showEditCampaign(c *fiber.Ctx) error {
	camp, err := s.loadCampaign(c)
	if err != nil {
		return err
	}
	if !camp.Editable() {
		s.flash(c, false, i18n.M("A %s campaign can no longer be edited.", string(camp.Status)))
		return c.Redirect(fmt.Sprintf("/campaigns/%d", camp.ID), fiber.StatusSeeOther)
	}
	return s.formPage(c, fiber.StatusOK, i18n.M("Edit %s", camp.Name), camp, formFromCampaign(camp), nil)
}

func (s *Server) updateCampaign(c *fiber.Ctx) error {
	camp, err := s.loadCampaign(c)
	if err != nil {
		return err
	}
	f := formFromRequest(c)
	in, errs := f.input()
	if len(errs) == 0 {
		_, err = s.Campaigns.Update(c.UserContext(), camp.ID, in, currentUser(c).Email)
	}
	var ve campaigns.ValidationError
	var te *campaigns.TransitionError
	switch {
	case len(errs) > 0 || errors.As(err, &ve):
		if len(errs) > 0 {
			_, err = campaigns.Build(in, s.Campaigns.DefaultTimeZone)
			errors.As(err, &ve)
		}
		return s.formPage(c, fiber.StatusUnprocessableEntity, i18n.M("Edit %s", camp.Name), camp, f, append(errs, ve...))
	case errors.As(err, &te) || errors.Is(err, campaigns.ErrConflict):
		s.flash(c, false, err.Error())
	case err != nil:
		return err
	default:
		msg := i18n.M("Campaign saved.")
		if camp.Status != campaigns.Draft {
			msg = i18n.M("Campaign saved and rescheduled.")
		}
		s.flash(c, true, msg)
	}
	return c.Redirect(fmt.Sprintf("/campaigns/%d", camp.ID), fiber.StatusSeeOther)
}

func (s *Server) deleteCampaign(c *fiber.Ctx) error {
	camp, err := s.loadCampaign(c)
	if err != nil {
		return err
	}
	if err := s.Campaigns.Delete(c.UserContext(), camp.ID); err != nil {
		var te *campaigns.TransitionError
		if errors.As(err, &te) {
			s.flash(c, false, te.Why)
			return c.Redirect(fmt.Sprintf("/campaigns/%d", camp.ID), fiber.StatusSeeOther)
		}
		return err
	}
	s.flash(c, true, i18n.M("Campaign “%s” deleted.", camp.Name))
	return c.Redirect("/campaigns", fiber.StatusSeeOther)
}

func (s *Server) campaignAction(c *fiber.Ctx) error {
	id, _ := parseID(c)
	action := c.Params("action")
	_, err := s.runAction(c, id, action, strings.TrimSpace(c.FormValue("reason")))
	var te *campaigns.TransitionError
	var ge *campaigns.GatesError
	switch {
	case errors.Is(err, campaigns.ErrNotFound):
		return fiber.NewError(fiber.StatusNotFound, "there is no campaign with this id")
	case errors.As(err, &te):
		s.flash(c, false, i18n.M("Cannot %s: %s.", action, te.Why))
	case errors.As(err, &ge):
		s.flash(c, false, i18n.M("Not resumed, gates failing: %s", ge.Report.Summary()))
	case errors.Is(err, campaigns.ErrConflict):
		s.flash(c, false, err.Error())
	case err != nil:
		return err
	case action == "schedule":
		// Scheduling stores a fresh readiness, and says what would block it:
		// scheduled but not ready is a warning, not a success.
		var names []string
		if _, rep, err := s.Campaigns.Check(c.UserContext(), id, currentUser(c).Email); err == nil {
			names = failingTitles(s.lang(c), rep)
		}
		if len(names) > 0 {
			s.flashWarn(c, i18n.M(msgScheduledWarn, len(names), strings.Join(names, ", ")))
		} else {
			s.flash(c, true, i18n.M("Scheduled. Rampe will check every gate at go-live."))
		}
	default:
		s.flash(c, true, map[string]i18n.Message{"schedule": i18n.M("Scheduled. Rampe will check every gate at go-live."), "unschedule": i18n.M("Back to draft."),
			"pause": i18n.M("Paused."), "resume": i18n.M("Live again."), "cancel": i18n.M("Cancelled.")}[action])
	}
	return c.Redirect(fmt.Sprintf("/campaigns/%d", id), fiber.StatusSeeOther)
}

// showCampaigns shows one page of campaigns (campaigns.PageSize) in start
// order, with the true number of campaigns the filter keeps and a link to
// the next page.
func (s *Server) showCampaigns(c *fiber.Ctx) error {
	f, ferr := listFilter(c)
	if ferr != nil {
		return badInput(ferr)
	}
	pg, ferr := parsePaging(c, campaigns.PageSize)
	if ferr != nil {
		return badInput(ferr)
	}
	ctx := c.UserContext()
	page, err := s.Campaigns.List(ctx, f, pg.After, pg.Limit)
	if errors.As(err, &ferr) {
		return badInput(ferr)
	}
	if err != nil {
		return err
	}
	counts, err := s.Campaigns.Counts(ctx, f)
	if err != nil {
		return err
	}
	var all int64
	for _, n := range counts {
		all += n
	}
	// Where this page sits in the whole list: the rows after it are counted.
	total, rest := all, int64(0)
	if f.Status != "" {
		total = counts[f.Status]
	}
	if page.NextAfter != 0 {
		if rest, err = s.Campaigns.Count(ctx, f, page.NextAfter); err != nil {
			return err
		}
	}
	query := url.Values{"channel": {string(f.Channel)}}
	next := ""
	if page.NextAfter != 0 {
		q := url.Values{"status": {string(f.Status)}, "channel": {string(f.Channel)}, "after": {strconv.FormatUint(page.NextAfter, 10)}}
		if pg.Limit != 0 {
			q.Set("limit", strconv.Itoa(pg.Limit))
		}
		next = "/campaigns?" + q.Encode()
	}
	first := url.Values{"status": {string(f.Status)}, "channel": {string(f.Channel)}}
	shown := int64(len(page.Campaigns))
	return s.render(c, "campaigns", pageData{Title: i18n.M("Campaigns"), Nav: "campaigns", Data: map[string]any{
		"Campaigns": page.Campaigns, "Counts": counts, "All": all, "Total": total, "Statuses": campaigns.AllStatuses, "Channels": campaigns.AllChannels,
		"Status": string(f.Status), "Channel": string(f.Channel), "Query": queryPart(query),
		"From": total - rest - shown + 1, "To": total - rest, "Next": next, "NextN": min(rest, int64(cmp.Or(pg.Limit, campaigns.PageSize))),
		"First": "/campaigns?" + first.Encode(), "Paged": pg.After != 0}})
}

func (s *Server) showCampaign(c *fiber.Ctx) error {
	camp, err := s.loadCampaign(c)
	if err != nil {
		return err
	}
	hist, err := s.Campaigns.History(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	alerts, err := s.Campaigns.Alerts(c.UserContext(), campaigns.AlertFilter{CampaignID: camp.ID}, 0, campaignAlerts)
	if err != nil {
		return err
	}
	need, err := s.LoadChecks.Needed(c.UserContext(), camp)
	if err != nil {
		return err
	}
	checks, err := s.LoadChecks.Store.ForCampaign(c.UserContext(), camp.ID, 10)
	if err != nil {
		return err
	}
	var page *landing.Page
	if camp.LandingPageID != nil {
		page, _ = s.Pages.Get(c.UserContext(), *camp.LandingPageID) // a missing page shows as its id; the gate says why
	}
	var linkedFeeds []*feeds.Feed
	for _, id := range camp.FeedIDs {
		if f, err := s.Feeds.Get(c.UserContext(), id); err == nil {
			linkedFeeds = append(linkedFeeds, f)
		}
	}
	var promos []*landing.Promotion
	for _, id := range camp.PromotionIDs {
		if p, err := s.Promotions.Get(c.UserContext(), id); err == nil {
			promos = append(promos, p)
		}
	}
	states, err := s.Campaigns.ChannelStates(c.UserContext(), camp)
	if err != nil {
		return err
	}
	links, err := s.Clicks.Stats(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	linkForm := map[string]string{"channel": c.Query("link_channel"), "url": c.Query("link_url"), "label": c.Query("link_label")}
	if linkForm["url"] == "" && page != nil {
		linkForm["url"] = s.BaseURL + "/l/" + page.Slug
	}
	camp.Readiness = s.draftReadiness(c.UserContext(), camp)
	var final *finalReadiness
	if finished(camp.Status) {
		final = finalFrom(hist)
	}
	moves := map[campaigns.Channel]*campaigns.ChannelMove{}
	for _, st := range states {
		if st.Move != nil {
			moves[st.Channel] = st.Move
		}
	}
	return s.render(c, "campaign", pageData{Title: camp.Name, Nav: "campaigns", Data: map[string]any{
		"C": camp, "History": hist, "CampaignAlerts": alerts.Alerts, "MoreAlerts": alerts.Total - int64(len(alerts.Alerts)), "Actions": actionsFor(camp.Status), "Page": page, "Promos": promos,
		"Peak": camp.PeakOf(), "Need": need, "Checks": checks, "Feeds": linkedFeeds, "Moves": moves, "AffiliationOn": s.Affiliation != nil,
		"Links": s.linksJSON(links), "LinkForm": linkForm, "BaseURLProblem": s.BaseURLStatus.Problem(),
		"Final": final, "ScheduleWarning": scheduleWarning(s.lang(c), camp.Readiness), "EmailNow": s.emailNow(c, camp)}})
}

// showReadiness evaluates the gates now, storing nothing; the campaign page
// loads it with htmx.
func (s *Server) showReadiness(c *fiber.Ctx) error {
	id, _ := parseID(c)
	camp, rep, err := s.Campaigns.Readiness(c.UserContext(), id)
	return s.renderReadiness(c, camp, rep, err)
}

// checkReadiness is "Check now": it evaluates and stores, and a blocked
// campaign whose gates all pass goes live.
func (s *Server) checkReadiness(c *fiber.Ctx) error {
	id, _ := parseID(c)
	camp, rep, err := s.Campaigns.Check(c.UserContext(), id, currentUser(c).Email)
	return s.renderReadiness(c, camp, rep, err)
}

// renderReadiness answers htmx with the readiness card alone; a browser
// that opened the address itself (a bookmark, a new tab) goes to the
// campaign's page, where the card stands among the rest.
func (s *Server) renderReadiness(c *fiber.Ctx, camp *campaigns.Campaign, rep *campaigns.Report, err error) error {
	if errors.Is(err, campaigns.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	if c.Get("HX-Request") != "true" {
		return c.Redirect(fmt.Sprintf("/campaigns/%d#readiness", camp.ID), fiber.StatusSeeOther)
	}
	t := s.page(c, "campaign")
	c.Set("Content-Type", "text/html; charset=utf-8")
	return t.ExecuteTemplate(c.Response().BodyWriter(), "readiness", map[string]any{"C": camp, "Report": rep, "CanWrite": currentUser(c).Role.CanWrite(),
		"BaseURLProblem": s.BaseURLStatus.Problem()})
}

// actionsFor lists the lifecycle buttons a campaign in status st offers.
func actionsFor(st campaigns.Status) []string {
	var out []string
	for _, a := range []struct {
		name string
		to   campaigns.Status
	}{{"schedule", campaigns.Scheduled}, {"pause", campaigns.Paused}, {"resume", campaigns.Live}, {"unschedule", campaigns.Draft}, {"cancel", campaigns.Cancelled}} {
		if a.name == "resume" && st != campaigns.Paused {
			continue
		}
		if campaigns.CanMove(st, a.to) {
			out = append(out, a.name)
		}
	}
	return out
}

func (s *Server) resolveAlert(c *fiber.Ctx) error {
	id, _ := parseID(c)
	if err := s.Campaigns.ResolveAlert(c.UserContext(), id); err != nil {
		if errors.Is(err, campaigns.ErrNotFound) {
			return fiber.NewError(fiber.StatusNotFound, "no open alert with this id")
		}
		return err
	}
	s.flash(c, true, i18n.M("Alert resolved."))
	return c.Redirect(safeNext(c.FormValue("next")), fiber.StatusSeeOther)
}
