package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
)

func promotionForm(c *fiber.Ctx) landing.PromotionInput {
	in := landing.PromotionInput{Name: c.FormValue("name"), Kind: c.FormValue("kind"), Value: c.FormValue("value"), Currency: c.FormValue("currency"),
		Scope: c.FormValue("scope"), ScopeValue: c.FormValue("scope_value"), Code: c.FormValue("code"), TimeZone: c.FormValue("time_zone"),
		StartsAt: c.FormValue("starts_at"), EndsAt: c.FormValue("ends_at")}
	// A brand or a product type is picked from the catalog's values, in a
	// field of its own (scope_value stays the SKU list, and the API's field).
	switch in.Scope {
	case landing.ScopeBrand:
		in.ScopeValue = cmpOrStr(c.FormValue("scope_brand"), in.ScopeValue)
	case landing.ScopeType:
		in.ScopeValue = cmpOrStr(c.FormValue("scope_type"), in.ScopeValue)
	}
	return in
}

func cmpOrStr(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

// facetLimit bounds the brands and product types a form offers.
const facetLimit = 500

func promotionInputOf(p *landing.Promotion) landing.PromotionInput {
	loc, err := clock.Location(p.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	val := money.Plain(p.Value, p.Currency)
	if p.Kind == landing.PercentOff {
		val = strings.TrimSuffix(strings.TrimSuffix(money.Plain(p.Value, "EUR"), "00"), ".")
	}
	return landing.PromotionInput{Name: p.Name, Kind: p.Kind, Value: val, Currency: p.Currency, Scope: p.Scope, ScopeValue: p.ScopeValue,
		Code: p.Code, TimeZone: p.TimeZone, StartsAt: p.StartsAt.In(loc).Format("2006-01-02T15:04"), EndsAt: p.EndsAt.In(loc).Format("2006-01-02T15:04")}
}

func (s *Server) showPromotions(c *fiber.Ctx) error {
	pg, ferr := parsePaging(c, landing.MaxPromotionPageSize)
	if ferr != nil {
		return badInput(ferr)
	}
	ctx := c.UserContext()
	page, err := s.Promotions.Page(ctx, pg.After, pg.Limit)
	if errors.Is(err, landing.ErrNotFound) {
		return fiber.NewError(fiber.StatusBadRequest, "after: no promotion "+strconv.FormatUint(pg.After, 10))
	}
	if err != nil {
		return err
	}
	total, err := s.Promotions.Count(ctx)
	if err != nil {
		return err
	}
	next := ""
	if page.NextAfter != 0 {
		next = "/promotions?after=" + strconv.FormatUint(page.NextAfter, 10)
		if pg.Limit != 0 {
			next += "&limit=" + strconv.Itoa(pg.Limit)
		}
	}
	return s.render(c, "promotions", pageData{Title: i18n.M("Promotions"), Nav: "promotions", Data: map[string]any{"List": page.Promotions, "Now": s.now(),
		"Total": total, "Next": next, "Paged": pg.After != 0}})
}

func (s *Server) promotionFormPage(c *fiber.Ctx, code int, p *landing.Promotion, in landing.PromotionInput, errs landing.ValidationError) error {
	title, action := i18n.M("New promotion"), "/promotions"
	if p != nil {
		title, action = i18n.M("Edit %s", p.Name), fmt.Sprintf("/promotions/%d", p.ID)
	}
	brands, err := s.Catalog.Facets(c.UserContext(), "brand", facetLimit)
	if err != nil {
		return err
	}
	types, err := s.Catalog.Facets(c.UserContext(), "product_type", facetLimit)
	if err != nil {
		return err
	}
	return s.renderStatus(c, code, "promotion_form", pageData{Title: title, Nav: "promotions", Data: map[string]any{
		"In": in, "P": p, "Action": action, "Errs": errs, "TimeZones": timeZones, "Brands": brands, "Types": types,
		"Labelled": labelsOf(errs, promotionLabels), "FixFields": msgFixFields}})
}

func (s *Server) showNewPromotion(c *fiber.Ctx) error {
	return s.promotionFormPage(c, fiber.StatusOK, nil, landing.PromotionInput{Kind: landing.PercentOff, Scope: landing.ScopeAll, Currency: "EUR",
		TimeZone: s.Campaigns.DefaultTimeZone}, nil)
}

func (s *Server) createPromotion(c *fiber.Ctx) error {
	in := promotionForm(c)
	p, err := s.Promotions.Create(c.UserContext(), in)
	var ve landing.ValidationError
	if errors.As(err, &ve) {
		return s.promotionFormPage(c, fiber.StatusUnprocessableEntity, nil, in, ve)
	}
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Promotion saved as a draft. Check the preview, then publish it."))
	return c.Redirect(fmt.Sprintf("/promotions/%d", p.ID), fiber.StatusSeeOther)
}

func (s *Server) loadPromotion(c *fiber.Ctx) (*landing.Promotion, error) {
	return loadByID(c, s.Promotions.Get, landing.ErrNotFound, "there is no promotion with this id")
}

func (s *Server) showPromotion(c *fiber.Ctx) error {
	p, err := s.loadPromotion(c)
	if err != nil {
		return err
	}
	lines, total, err := s.Promotions.Preview(c.UserContext(), p, 50)
	if err != nil {
		return err
	}
	linked, err := s.Campaigns.Linked(c.UserContext(), 0, p.ID)
	if err != nil {
		return err
	}
	loc, _ := clock.Location(p.TimeZone)
	if loc == nil {
		loc = time.UTC
	}
	return s.render(c, "promotion", pageData{Title: p.Name, Nav: "promotions", Data: map[string]any{
		"P": p, "Lines": lines, "Total": total, "Linked": linked, "Start": p.StartsAt.In(loc), "End": p.EndsAt.In(loc)}})
}

func (s *Server) showEditPromotion(c *fiber.Ctx) error {
	p, err := s.loadPromotion(c)
	if err != nil {
		return err
	}
	if p.Status != landing.StatusDraft {
		s.flash(c, false, i18n.M("Unpublish the promotion before editing it."))
		return c.Redirect(fmt.Sprintf("/promotions/%d", p.ID), fiber.StatusSeeOther)
	}
	return s.promotionFormPage(c, fiber.StatusOK, p, promotionInputOf(p), nil)
}

func (s *Server) updatePromotion(c *fiber.Ctx) error {
	p, err := s.loadPromotion(c)
	if err != nil {
		return err
	}
	in := promotionForm(c)
	_, err = s.Promotions.Update(c.UserContext(), p.ID, in)
	var ve landing.ValidationError
	var re *landing.RefusedError
	switch {
	case errors.As(err, &ve):
		return s.promotionFormPage(c, fiber.StatusUnprocessableEntity, p, in, ve)
	case errors.As(err, &re):
		s.flash(c, false, re.Why)
	case err != nil:
		return err
	default:
		s.flash(c, true, i18n.M("Promotion saved."))
	}
	return c.Redirect(fmt.Sprintf("/promotions/%d", p.ID), fiber.StatusSeeOther)
}

func (s *Server) promotionAction(c *fiber.Ctx) error {
	p, err := s.loadPromotion(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	action := c.Params("action")
	switch action {
	case "publish":
		_, err = s.Promotions.Publish(ctx, p.ID)
	case "unpublish":
		_, err = s.Promotions.Unpublish(ctx, p.ID)
	case "archive":
		_, err = s.Promotions.Archive(ctx, p.ID)
	}
	var re *landing.RefusedError
	switch {
	case errors.As(err, &re):
		s.flash(c, false, i18n.M("Not %sed: %s.", action, re.Why))
	case err != nil:
		return err
	default:
		if action != "archive" {
			s.FeedJobs.EnqueueAll(ctx, "promotion "+action+"ed")
		}
		s.flash(c, true, map[string]i18n.Message{"publish": i18n.M("Published: prices change at the window's start, on landing pages and comparator feeds."),
			"unpublish": i18n.M("Back to draft; prices are back to normal."), "archive": i18n.M("Archived.")}[action])
	}
	return c.Redirect(fmt.Sprintf("/promotions/%d", p.ID), fiber.StatusSeeOther)
}
