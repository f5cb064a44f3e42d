package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
)

// ctaRows is how many call-to-action rows the page form offers.
const ctaRows = 3

func pageForm(c *fiber.Ctx) (landing.PageInput, landing.ValidationError) {
	in := landing.PageInput{Slug: c.FormValue("slug"), Title: c.FormValue("title"), MetaDescription: c.FormValue("meta_description"),
		CanonicalURL: c.FormValue("canonical_url"), Hero: c.FormValue("hero"), Body: c.FormValue("body"), ProductSKUs: c.FormValue("product_skus"),
		UTMSource: c.FormValue("utm_source"), UTMMedium: c.FormValue("utm_medium"), UTMCampaign: c.FormValue("utm_campaign"), Lang: c.FormValue("lang"),
		Alternates: landing.ParseAlternates(c.FormValue("alternates"))}
	var errs landing.ValidationError
	if v := strings.TrimSpace(c.FormValue("promotion_id")); v != "" {
		id, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			errs = append(errs, landing.FieldError{Field: "promotion_id", Msg: fmt.Sprintf("%q is not a promotion id", v)})
		} else {
			in.PromotionID = &id
		}
	}
	if v := strings.TrimSpace(c.FormValue("product_limit")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, landing.FieldError{Field: "product_limit", Msg: fmt.Sprintf("%q is not a whole number", v)})
		}
		in.ProductLimit = n
	}
	for i := 0; i < ctaRows; i++ {
		in.CTAs = append(in.CTAs, landing.CTA{Label: c.FormValue(fmt.Sprintf("cta_label_%d", i)), URL: c.FormValue(fmt.Sprintf("cta_url_%d", i))})
	}
	if len(errs) > 0 {
		// Show the domain's complaints too, all at once.
		var ve landing.ValidationError
		_, err := landing.BuildPage(in)
		errors.As(err, &ve)
		errs = append(errs, ve...)
	}
	return in, errs
}

func pageInputOf(p *landing.Page) landing.PageInput {
	return landing.PageInput{Slug: p.Slug, Title: p.Title, MetaDescription: p.MetaDescription, CanonicalURL: p.CanonicalURL, Hero: p.Hero,
		Body: p.Body, ProductSKUs: p.ProductSKUs, PromotionID: p.PromotionID, ProductLimit: p.ProductLimit, CTAs: p.CTAs,
		UTMSource: p.UTMSource, UTMMedium: p.UTMMedium, UTMCampaign: p.UTMCampaign, Lang: p.Lang, Alternates: p.Alternates}
}

func (s *Server) showPages(c *fiber.Ctx) error {
	list, err := s.Pages.List(c.UserContext())
	if err != nil {
		return err
	}
	return s.render(c, "pages", pageData{Title: i18n.M("Landing pages"), Nav: "pages", Data: map[string]any{"List": list, "BaseURL": s.BaseURL}})
}

func (s *Server) pageFormPage(c *fiber.Ctx, code int, p *landing.Page, in landing.PageInput, errs landing.ValidationError) error {
	promos, err := s.Promotions.All(c.UserContext())
	if err != nil {
		return err
	}
	var versions []landing.Version
	title, action := "New landing page", "/pages"
	if p != nil {
		title, action = p.Title, fmt.Sprintf("/pages/%d", p.ID)
		if versions, err = s.Pages.Versions(c.UserContext(), p.ID); err != nil {
			return err
		}
	}
	for len(in.CTAs) < ctaRows {
		in.CTAs = append(in.CTAs, landing.CTA{})
	}
	promoID := ""
	if in.PromotionID != nil {
		promoID = strconv.FormatUint(*in.PromotionID, 10)
	}
	return s.renderStatus(c, code, "page_form", pageData{Title: title, Nav: "pages", Data: map[string]any{
		"In": in, "P": p, "Action": action, "Errs": errs, "Promotions": promos, "PromotionID": promoID, "Versions": versions, "BaseURL": s.BaseURL,
		"Langs": i18n.Langs, "LangNames": i18n.Names, "DefaultLangName": i18n.Names[s.Landing.LangOf(&landing.Page{})],
		"Audit": s.pageAudit(c, p), "AlternatesText": landing.AlternatesText(in.Alternates)}})
}

func (s *Server) showNewPage(c *fiber.Ctx) error {
	return s.pageFormPage(c, fiber.StatusOK, nil, landing.PageInput{ProductLimit: 12, UTMMedium: "email"}, nil)
}

func (s *Server) createPage(c *fiber.Ctx) error {
	in, ferrs := pageForm(c)
	if len(ferrs) > 0 {
		return s.pageFormPage(c, fiber.StatusUnprocessableEntity, nil, in, ferrs)
	}
	p, err := s.Pages.Create(c.UserContext(), in)
	var ve landing.ValidationError
	if errors.As(err, &ve) {
		return s.pageFormPage(c, fiber.StatusUnprocessableEntity, nil, in, ve)
	}
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Draft saved. Preview it, then publish."))
	return c.Redirect(fmt.Sprintf("/pages/%d", p.ID), fiber.StatusSeeOther)
}

func (s *Server) loadPage(c *fiber.Ctx) (*landing.Page, error) {
	return loadByID(c, s.Pages.Get, landing.ErrNotFound, "there is no landing page with this id")
}

func (s *Server) showPage(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return err
	}
	return s.pageFormPage(c, fiber.StatusOK, p, pageInputOf(p), nil)
}

func (s *Server) updatePage(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return err
	}
	in, ferrs := pageForm(c)
	if len(ferrs) > 0 {
		return s.pageFormPage(c, fiber.StatusUnprocessableEntity, p, in, ferrs)
	}
	_, err = s.Pages.Update(c.UserContext(), p.ID, in)
	var ve landing.ValidationError
	if errors.As(err, &ve) {
		return s.pageFormPage(c, fiber.StatusUnprocessableEntity, p, in, ve)
	}
	if err != nil {
		return err
	}
	msg := i18n.M("Draft saved.")
	if p.Published() {
		msg = i18n.M("Draft saved. Visitors still see the published version until you publish again.")
	}
	s.flash(c, true, msg)
	return c.Redirect(fmt.Sprintf("/pages/%d", p.ID), fiber.StatusSeeOther)
}

// previewPage renders the draft as visitors would see it if published now.
func (s *Server) previewPage(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return err
	}
	body, err := landing.RenderMarkdown(p.Body)
	if err != nil {
		return err
	}
	r, err := s.Landing.RenderVersion(c.UserContext(), p, body, "draft preview", p.UpdatedAt, s.now())
	if err != nil {
		return err
	}
	c.Set("Content-Type", "text/html; charset=utf-8")
	c.Set("Cache-Control", "no-store")
	c.Set("X-Robots-Tag", "noindex")
	c.Set("X-Frame-Options", "SAMEORIGIN")
	c.Set("Content-Security-Policy", previewCSP)
	return c.Send(r.HTML)
}

func (s *Server) publishPage(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return err
	}
	v, err := s.Pages.Publish(c.UserContext(), p.ID, currentUser(c).Email)
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Version %d is live at /l/%s.", v.Number, p.Slug))
	return c.Redirect(fmt.Sprintf("/pages/%d", p.ID), fiber.StatusSeeOther)
}

// unpublishPage asks for confirmation when a live campaign sends traffic to
// the page; confirmed, the campaigns get an alert through their gates.
func (s *Server) unpublishPage(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return err
	}
	linked, err := s.Campaigns.Linked(c.UserContext(), p.ID, 0)
	if err != nil {
		return err
	}
	var live []campaigns.Campaign
	for _, camp := range linked {
		if camp.Status == campaigns.Live || camp.Status == campaigns.Paused {
			live = append(live, camp)
		}
	}
	if len(live) > 0 && c.FormValue("confirm") != "yes" {
		return s.render(c, "page_unpublish", pageData{Title: i18n.M("Unpublish %s?", p.Title), Nav: "pages", Data: map[string]any{"P": p, "Live": live}})
	}
	err = s.Pages.Unpublish(c.UserContext(), p.ID)
	var re *landing.RefusedError
	if errors.As(err, &re) {
		s.flash(c, false, re.Why)
	} else if err != nil {
		return err
	} else {
		msg := i18n.M("Unpublished: /l/%s now answers 404.", p.Slug)
		if len(live) > 0 {
			msg = i18n.M("Unpublished: /l/%s now answers 404. %d live campaigns got an alert.", p.Slug, len(live))
		}
		s.flash(c, true, msg)
	}
	return c.Redirect(fmt.Sprintf("/pages/%d", p.ID), fiber.StatusSeeOther)
}
