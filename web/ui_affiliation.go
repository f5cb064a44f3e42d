package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/rowfile"
	"github.com/rampe/rampe/platform/validation"
)

// partnerForm reads a partner from the form.
func partnerForm(c *fiber.Ctx) affiliation.PartnerInput {
	return affiliation.PartnerInput{Name: c.FormValue("name"), Network: c.FormValue("network"), Email: c.FormValue("email"), Status: c.FormValue("status"),
		Commission: c.FormValue("commission"), Currency: c.FormValue("currency"), Overrides: c.FormValue("overrides"), CookieDays: c.FormValue("cookie_days"),
		TimeZone: c.FormValue("time_zone"), PostbackURL: c.FormValue("postback_url")}
}

// showPartners is the partners page: the list, a form to add one, the CSV
// import and the shop's pixel key.
func (s *Server) showPartners(c *fiber.Ctx) error {
	return s.partnersPage(c, fiber.StatusOK, affiliation.PartnerInput{Network: "direct", CookieDays: "30"}, nil, nil)
}

func (s *Server) partnersPage(c *fiber.Ctx, code int, in affiliation.PartnerInput, formErr error, importErrs []rowfile.RowError) error {
	list, err := s.Affiliation.Partners(c.UserContext())
	if err != nil {
		return err
	}
	data := map[string]any{"Partners": list, "In": in, "Networks": affiliation.Networks, "ImportErrors": importErrs,
		"PixelKey": s.Affiliation.PixelKey, "BaseURL": s.BaseURL}
	var ve validation.Errors
	if errors.As(formErr, &ve) {
		data["Errors"] = ve
	}
	return s.renderStatus(c, code, "partners", pageData{Title: "Partners", Nav: "partners", Data: data})
}

func (s *Server) createPartner(c *fiber.Ctx) error {
	in := partnerForm(c)
	p, err := s.Affiliation.CreatePartner(c.UserContext(), in)
	if err != nil {
		var ve validation.Errors
		if errors.As(err, &ve) {
			return s.partnersPage(c, fiber.StatusUnprocessableEntity, in, err, nil)
		}
		return err
	}
	s.flash(c, true, i18n.M("Partner %s added.", p.Name))
	return c.Redirect("/partners", fiber.StatusSeeOther)
}

func (s *Server) showPartner(c *fiber.Ctx) error {
	p, err := loadByID(c, s.Affiliation.Partner, affiliation.ErrNotFound, "there is no partner with this id")
	if err != nil {
		return err
	}
	return s.partnerPage(c, fiber.StatusOK, p, p.Input(), nil)
}

func (s *Server) partnerPage(c *fiber.Ctx, code int, p *affiliation.Partner, in affiliation.PartnerInput, formErr error) error {
	postbacks, err := s.Affiliation.PostbackLog(c.UserContext(), affiliation.PostbackFilter{PartnerID: p.ID, Limit: 50})
	if err != nil {
		return err
	}
	data := map[string]any{"Partner": p, "In": in, "Networks": affiliation.Networks, "Postbacks": postbacks, "Attempts": affiliation.PostbackAttempts}
	var ve validation.Errors
	if errors.As(formErr, &ve) {
		data["Errors"] = ve
	}
	return s.renderStatus(c, code, "partner", pageData{Title: p.Name, Nav: "partners", Data: data})
}

func (s *Server) updatePartner(c *fiber.Ctx) error {
	p, err := loadByID(c, s.Affiliation.Partner, affiliation.ErrNotFound, "there is no partner with this id")
	if err != nil {
		return err
	}
	in := partnerForm(c)
	if _, err := s.Affiliation.UpdatePartner(c.UserContext(), p.ID, in); err != nil {
		var ve validation.Errors
		if errors.As(err, &ve) {
			return s.partnerPage(c, fiber.StatusUnprocessableEntity, p, in, err)
		}
		return err
	}
	s.flash(c, true, i18n.M("Partner %s saved.", in.Name))
	return c.Redirect("/partners", fiber.StatusSeeOther)
}

// importPartners takes the CSV of the partners page: all or nothing.
func (s *Server) importPartners(c *fiber.Ctx) error {
	up, err := s.readUpload(c, "file")
	if err != nil {
		return err
	}
	defer up.Remove()
	if up.File == nil {
		s.flash(c, false, i18n.M("Choose a CSV file of partners to import."))
		return c.Redirect("/partners", fiber.StatusSeeOther)
	}
	up.File.Seek(0, 0)
	res, err := s.Affiliation.ImportPartners(c.UserContext(), up.File)
	if err != nil {
		return err
	}
	if len(res.Errors) > 0 {
		return s.partnersPage(c, fiber.StatusUnprocessableEntity, affiliation.PartnerInput{Network: "direct", CookieDays: "30"}, nil, res.Errors)
	}
	s.flash(c, true, i18n.M("Import done: %d partners added, %d updated.", res.Created, res.Updated))
	return c.Redirect("/partners", fiber.StatusSeeOther)
}

// affCampaignUI loads the path's campaign for the affiliation tab.
func (s *Server) affCampaignUI(c *fiber.Ctx) (*campaigns.Campaign, error) {
	camp, err := s.loadCampaign(c)
	if err != nil {
		return nil, err
	}
	if !camp.Has(campaigns.Affiliation) {
		return nil, fiber.NewError(fiber.StatusNotFound, "this campaign is not on the affiliation channel")
	}
	return camp, nil
}

// memberView is a partner of the plan as the tab shows it.
type memberView struct {
	Partner *affiliation.Partner
	Member  affiliation.Member
	Links   []linkView
	Kit     affiliation.KitStatus
}

type linkView struct {
	Label  i18n.Localizer // "page d'atterrissage", not the stored "landing"
	URL    string
	Clicks int64
}

// showAffiliation is the campaign's Affiliation tab: partners, links,
// codes, kits, clicks, conversions and commissions.
func (s *Server) showAffiliation(c *fiber.Ctx) error {
	camp, err := s.affCampaignUI(c)
	if err != nil {
		return err
	}
	return s.affiliationPage(c, fiber.StatusOK, camp, nil, "")
}

func (s *Server) affiliationPage(c *fiber.Ctx, code int, camp *campaigns.Campaign, formErr error, form string) error {
	ctx := c.UserContext()
	aff := s.Affiliation
	plan, err := aff.PlanOf(ctx, camp.ID)
	if err != nil {
		return err
	}
	ms, err := aff.Members(ctx, camp.ID)
	if err != nil {
		return err
	}
	kits, err := aff.KitStatuses(ctx, camp)
	if err != nil {
		return err
	}
	stats, err := s.Clicks.Stats(ctx, camp.ID)
	if err != nil {
		return err
	}
	byLink := map[uint64]clicks.LinkStats{}
	for _, st := range stats {
		byLink[st.ID] = st
	}
	var views []memberView
	var totalClicks int64
	in := map[uint64]bool{}
	for _, m := range ms {
		p, err := aff.Partner(ctx, m.PartnerID)
		if err != nil {
			return err
		}
		in[p.ID] = true
		links, err := aff.PartnerLinks(ctx, camp.ID, m.PartnerID)
		if err != nil {
			return err
		}
		v := memberView{Partner: p, Member: m, Kit: kits[m.PartnerID]}
		for i := range links {
			n := byLink[links[i].ID].Clicks
			totalClicks += n
			v.Links = append(v.Links, linkView{Label: affiliation.LinkName(links[i].Label), URL: aff.TrackedURL(&links[i]), Clicks: n})
		}
		views = append(views, v)
	}
	all, err := aff.Partners(ctx)
	if err != nil {
		return err
	}
	var others []affiliation.Partner
	for _, p := range all {
		if !in[p.ID] && p.Active() {
			others = append(others, p)
		}
	}
	var promos []any
	for _, id := range camp.PromotionIDs {
		if p, err := s.Promotions.Get(ctx, id); err == nil {
			promos = append(promos, p)
		}
	}
	convs, err := aff.Conversions(ctx, camp.ID, 50)
	if err != nil {
		return err
	}
	sums, err := aff.Totals(ctx, affiliation.LedgerFilter{CampaignID: camp.ID})
	if err != nil {
		return err
	}
	data := map[string]any{"Campaign": camp, "Plan": plan, "Fallback": aff.Fallback(plan), "Members": views, "Others": others, "Promotions": promos,
		"Conversions": convs, "Sums": sums, "Clicks": totalClicks, "Form": form}
	var ve validation.Errors
	if errors.As(formErr, &ve) {
		data["Errors"] = labelledErrors{ve}
	}
	// A refused form is shown again as typed.
	data["In"] = map[string]string{"fallback_url": c.FormValue("fallback_url"), "partner_id": c.FormValue("partner_id"),
		"code": c.FormValue("code"), "promotion_id": c.FormValue("promotion_id")}
	return s.renderStatus(c, code, "affiliation", pageData{Title: camp.Name, Nav: "campaigns", Data: data})
}

// affiliationFormError re-renders the tab with the form's errors, or
// passes another error on.
func (s *Server) affiliationFormError(c *fiber.Ctx, camp *campaigns.Campaign, err error, form string) error {
	var ve validation.Errors
	if errors.As(err, &ve) {
		return s.affiliationPage(c, fiber.StatusUnprocessableEntity, camp, err, form)
	}
	return err
}

func (s *Server) affiliationBack(c *fiber.Ctx, camp *campaigns.Campaign, ok bool, msg i18n.Message) error {
	s.flash(c, ok, msg)
	return c.Redirect(fmt.Sprintf("/campaigns/%d/affiliation", camp.ID), fiber.StatusSeeOther)
}

func (s *Server) saveFallback(c *fiber.Ctx) error {
	camp, err := s.affCampaignUI(c)
	if err != nil {
		return err
	}
	if err := s.Affiliation.SetFallback(c.UserContext(), camp, c.FormValue("fallback_url")); err != nil {
		return s.affiliationFormError(c, camp, err, "fallback")
	}
	return s.affiliationBack(c, camp, true, i18n.M("Fallback saved."))
}

func (s *Server) addMember(c *fiber.Ctx) error {
	camp, err := s.affCampaignUI(c)
	if err != nil {
		return err
	}
	pid, _ := strconv.ParseUint(c.FormValue("partner_id"), 10, 64)
	promo, _ := strconv.ParseUint(c.FormValue("promotion_id"), 10, 64)
	if _, err := s.Affiliation.SetMember(c.UserContext(), camp, affiliation.MemberInput{PartnerID: pid, Code: c.FormValue("code"), PromotionID: promo}, currentUser(c).Email); err != nil {
		return s.affiliationFormError(c, camp, err, "member")
	}
	return s.affiliationBack(c, camp, true, i18n.M("Partner added to the plan."))
}

func (s *Server) removeMember(c *fiber.Ctx) error {
	camp, err := s.affCampaignUI(c)
	if err != nil {
		return err
	}
	pid, _ := strconv.ParseUint(c.Params("pid"), 10, 64)
	if err := s.Affiliation.RemoveMember(c.UserContext(), camp, pid); err != nil && !errors.Is(err, affiliation.ErrNotFound) {
		return err
	}
	return s.affiliationBack(c, camp, true, i18n.M("Partner removed from the plan; its links now lead to the fallback."))
}

func (s *Server) addDeepLink(c *fiber.Ctx) error {
	camp, err := s.affCampaignUI(c)
	if err != nil {
		return err
	}
	pid, _ := strconv.ParseUint(c.Params("pid"), 10, 64)
	if _, err := s.Affiliation.DeepLink(c.UserContext(), camp, pid, c.FormValue("sku"), currentUser(c).Email); err != nil {
		return s.affiliationFormError(c, camp, err, "deeplink")
	}
	return s.affiliationBack(c, camp, true, i18n.M("Deep link added."))
}

func (s *Server) sendKitsNow(c *fiber.Ctx) error {
	camp, err := s.affCampaignUI(c)
	if err != nil {
		return err
	}
	n, err := s.Affiliation.SendKits(c.UserContext(), camp.ID)
	if err != nil {
		return s.affiliationBack(c, camp, false, i18n.M("%d kits sent; the others were not: %v", n, err))
	}
	return s.affiliationBack(c, camp, true, i18n.M("%d kits sent (partners with the current kit get none).", n))
}

func (s *Server) downloadKit(c *fiber.Ctx) error {
	camp, err := s.affCampaignUI(c)
	if err != nil {
		return err
	}
	return s.sendKit(c, camp)
}

// showCommissions is the commissions ledger: filters, approve, reject,
// pay, export, a page of ledgerShown lines at a time (Older → by keyset).
func (s *Server) showCommissions(c *fiber.Ctx) error {
	f, fe := ledgerFilter(c)
	var lines []affiliation.LedgerLine
	var more bool
	var err error
	if fe == nil {
		lines, more, fe, err = s.ledgerPage(c, f, ledgerShown, ledgerShown)
	}
	pageOnly := fe != nil && (fe.Field == "after" || fe.Field == "limit")
	if fe != nil {
		// A stale page link shows the filter's first page; a wrong filter,
		// every commission. The flash says which and why.
		if !pageOnly {
			f = affiliation.LedgerFilter{}
		}
		lines, more, err = s.Affiliation.LedgerPage(c.UserContext(), f, 0, ledgerShown)
	}
	if err != nil {
		return err
	}
	partners, err := s.Affiliation.Partners(c.UserContext())
	if err != nil {
		return err
	}
	sums, err := s.Affiliation.Totals(c.UserContext(), f)
	if err != nil {
		return err
	}
	total := 0
	for _, t := range sums {
		total += t.Count
	}
	q := ledgerQuery(c)
	if fe != nil && !pageOnly {
		q = "" // the filter was dropped: so it is from the links
	}
	paged := c.Query("after") != "" && fe == nil
	back := q
	if paged {
		v, _ := url.ParseQuery(q)
		v.Set("after", c.Query("after"))
		back = v.Encode() // an action on this page comes back to it
	}
	data := map[string]any{"Lines": lines, "Partners": partners, "Filter": f, "Sums": sums,
		"Query": q, "Back": back, "Export": template.URL("/commissions/export.csv?" + q), "First": template.URL("/commissions?" + q),
		"Total": total, "Shown": len(lines), "From": c.Query("from"), "To": c.Query("to"), "Now": s.now(), "Paged": paged}
	if more {
		v, _ := url.ParseQuery(q)
		v.Set("after", strconv.FormatUint(lines[len(lines)-1].ConversionID, 10))
		data["Next"] = template.URL("/commissions?" + v.Encode())
	}
	d := pageData{Title: "Commissions", Nav: "commissions", Data: data}
	if fe != nil {
		d.Flash = i18n.M("%s: %s", i18n.M(ledgerLabels[fe.Field]), fe.Message)
	}
	return s.render(c, "commissions", d)
}

// ledgerShown is how many lines a page of the commissions shows; Older →
// shows the next ones, and the export holds them all.
const ledgerShown = 500

// ledgerQuery is the ledger's filters of the request, re-encoded: nothing
// else rides along into the page's links.
func ledgerQuery(c *fiber.Ctx) string {
	v := url.Values{}
	for _, k := range []string{"partner", "campaign", "status", "from", "to"} {
		if x := c.Query(k); x != "" {
			v.Set(k, x)
		}
	}
	return v.Encode()
}

// exportCommissions downloads every commission the ledger's filters keep,
// as CSV, for the signed-in user.
func (s *Server) exportCommissions(c *fiber.Ctx) error {
	f, fe := ledgerFilter(c)
	if fe != nil {
		return fiber.NewError(fiber.StatusBadRequest, fe.Field+": "+fe.Msg)
	}
	return s.exportLedger(c, f)
}

// exportLedger streams the ledger's lines as a CSV attachment.
func (s *Server) exportLedger(c *fiber.Ctx, f affiliation.LedgerFilter) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="commissions.csv"`)
	return s.Affiliation.ExportLedger(c.UserContext(), c.Response().BodyWriter(), f)
}

func (s *Server) decideCommission(c *fiber.Ctx) error {
	id, _ := parseID(c)
	_, err := s.Affiliation.Decide(c.UserContext(), id, c.Params("action"), currentUser(c).Email, c.FormValue("note"))
	var ve validation.Errors
	switch {
	case errors.Is(err, affiliation.ErrNotFound):
		return fiber.NewError(fiber.StatusNotFound, "there is no commission for this conversion")
	case errors.As(err, &ve):
		s.flash(c, false, ve[0])
	case err != nil:
		return err
	default:
		s.flash(c, true, i18n.M("Commission of conversion #%d: %s.", id, i18n.M(c.Params("action"))))
	}
	back := "/commissions"
	if q, err := url.ParseQuery(c.FormValue("back")); err == nil && len(q) > 0 {
		back += "?" + q.Encode() // the ledger's filters, re-encoded: nothing else rides along
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}
