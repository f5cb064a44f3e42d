package web

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
)

// apiLandingError maps the landing domain's errors to the JSON error shape.
func apiLandingError(c *fiber.Ctx, err error) error {
	var ve landing.ValidationError
	var re *landing.RefusedError
	switch {
	case errors.As(err, &ve):
		return apiInvalid(c, ve)
	case errors.As(err, &re):
		return apiFail(c, fiber.StatusConflict, "refused", re.Why, "status")
	case errors.Is(err, landing.ErrNotFound):
		return apiFail(c, fiber.StatusNotFound, "not_found", "no such object", "id")
	}
	return err
}

func (s *Server) apiListProducts(c *fiber.Ctx) error {
	q := catalog.Query{Search: c.Query("q"), Brand: c.Query("brand"), ProductType: c.Query("type"), Availability: c.Query("availability")}
	pg, ferr := parsePaging(c, 500)
	if ferr != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", ferr.Error(), ferr.Field)
	}
	q.After, q.Limit = pg.After, pg.Limit
	found, err := s.Catalog.Search(c.UserContext(), q)
	if err != nil {
		return err
	}
	list, more := found.Products, found.More
	out := map[string]any{"products": list, "more": more}
	if more {
		out["next_after"] = list[len(list)-1].ID
	}
	if found.Match != catalog.MatchNone {
		out["match"] = found.Match
	}
	switch {
	case found.Count.Over:
		out["total_over"] = found.Count.N
	case found.Count.Known:
		out["total"] = found.Count.N
	}
	return c.JSON(out)
}

func (s *Server) apiListPromotions(c *fiber.Ctx) error {
	pg, ferr := parsePaging(c, landing.MaxPromotionPageSize)
	if ferr != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", ferr.Error(), ferr.Field)
	}
	page, err := s.Promotions.Page(c.UserContext(), pg.After, pg.Limit)
	if errors.Is(err, landing.ErrNotFound) {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "after: no promotion "+strconv.FormatUint(pg.After, 10), "after")
	}
	if err != nil {
		return err
	}
	total, err := s.Promotions.Count(c.UserContext())
	if err != nil {
		return err
	}
	res := map[string]any{"promotions": page.Promotions, "total": total, "more": page.NextAfter != 0}
	if page.NextAfter != 0 {
		res["next_after"] = page.NextAfter
	}
	return c.JSON(res)
}

func (s *Server) apiCreatePromotion(c *fiber.Ctx) error {
	var in landing.PromotionInput
	if decodeStrict(c, &in) != nil {
		return nil
	}
	p, err := s.Promotions.Create(c.UserContext(), in)
	if err != nil {
		return apiLandingError(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (s *Server) apiGetPromotion(c *fiber.Ctx) error {
	id, _ := parseID(c)
	p, err := s.Promotions.Get(c.UserContext(), id)
	if err != nil {
		return apiLandingError(c, err)
	}
	lines, total, err := s.Promotions.Preview(c.UserContext(), p, 100)
	if err != nil {
		return err
	}
	preview := make([]map[string]any, len(lines))
	for i, l := range lines {
		preview[i] = map[string]any{"sku": l.Product.SKU, "title": l.Product.Title, "currency": l.Product.Currency, "before": l.Before, "after": l.After}
	}
	return c.JSON(map[string]any{"promotion": p, "affected_products": total, "preview": preview})
}

func (s *Server) apiUpdatePromotion(c *fiber.Ctx) error {
	id, _ := parseID(c)
	var in landing.PromotionInput
	if decodeStrict(c, &in) != nil {
		return nil
	}
	p, err := s.Promotions.Update(c.UserContext(), id, in)
	if err != nil {
		return apiLandingError(c, err)
	}
	return c.JSON(p)
}

func (s *Server) apiPromotionAction(c *fiber.Ctx) error {
	id, _ := parseID(c)
	var p *landing.Promotion
	var err error
	switch c.Params("action") {
	case "publish":
		p, err = s.Promotions.Publish(c.UserContext(), id)
	case "unpublish":
		p, err = s.Promotions.Unpublish(c.UserContext(), id)
	case "archive":
		p, err = s.Promotions.Archive(c.UserContext(), id)
	}
	if err != nil {
		return apiLandingError(c, err)
	}
	if c.Params("action") != "archive" {
		s.FeedJobs.EnqueueAll(c.UserContext(), "promotion "+c.Params("action")+"ed")
	}
	return c.JSON(p)
}

func (s *Server) apiListPages(c *fiber.Ctx) error {
	list, err := s.Pages.List(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(map[string]any{"pages": list})
}

func (s *Server) apiCreatePage(c *fiber.Ctx) error {
	var in landing.PageInput
	if decodeStrict(c, &in) != nil {
		return nil
	}
	p, err := s.Pages.Create(c.UserContext(), in)
	if err != nil {
		return apiLandingError(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (s *Server) apiGetPage(c *fiber.Ctx) error {
	id, _ := parseID(c)
	p, err := s.Pages.Get(c.UserContext(), id)
	if err != nil {
		return apiLandingError(c, err)
	}
	versions, err := s.Pages.Versions(c.UserContext(), id)
	if err != nil {
		return err
	}
	vs := make([]map[string]any, len(versions))
	for i, v := range versions {
		vs[i] = map[string]any{"id": v.ID, "number": v.Number, "published_at": v.PublishedAt, "published_by": v.PublishedBy}
	}
	return c.JSON(map[string]any{"page": p, "url": s.BaseURL + "/l/" + p.Slug, "versions": vs})
}

func (s *Server) apiUpdatePage(c *fiber.Ctx) error {
	id, _ := parseID(c)
	var in landing.PageInput
	if decodeStrict(c, &in) != nil {
		return nil
	}
	p, err := s.Pages.Update(c.UserContext(), id, in)
	if err != nil {
		return apiLandingError(c, err)
	}
	return c.JSON(p)
}

// apiPageAction publishes or unpublishes; unpublishing the page of a live
// campaign needs {"confirm": true}, as the UI asks for confirmation.
func (s *Server) apiPageAction(c *fiber.Ctx) error {
	id, _ := parseID(c)
	ctx := c.UserContext()
	if _, err := s.Pages.Get(ctx, id); err != nil {
		return apiLandingError(c, err)
	}
	if c.Params("action") == "publish" {
		v, err := s.Pages.Publish(ctx, id, currentUser(c).Email)
		if err != nil {
			return apiLandingError(c, err)
		}
		return c.JSON(map[string]any{"version": v.Number, "published_at": v.PublishedAt})
	}
	var body struct {
		Confirm bool `json:"confirm"`
	}
	if len(c.Body()) > 0 && decodeStrict(c, &body) != nil {
		return nil
	}
	linked, err := s.Campaigns.Linked(ctx, id, 0)
	if err != nil {
		return err
	}
	if len(linked) > 0 && !body.Confirm {
		names := make([]string, len(linked))
		for i, l := range linked {
			names[i] = l.Name + " (" + string(l.Status) + ")"
		}
		return c.Status(fiber.StatusConflict).JSON(map[string]any{"error": map[string]any{"code": "confirm",
			"message": "campaigns send traffic to this page; send {\"confirm\": true} to unpublish anyway", "field": "confirm"}, "campaigns": names})
	}
	if err := s.Pages.Unpublish(ctx, id); err != nil {
		return apiLandingError(c, err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
