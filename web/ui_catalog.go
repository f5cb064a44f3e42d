package web

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
)

// productRow is a product with its price in force now.
type productRow struct {
	catalog.Product
	Price landing.Price
}

func (s *Server) showProducts(c *fiber.Ctx) error {
	q := catalog.Query{Search: strings.TrimSpace(c.Query("q")), Brand: c.Query("brand"), ProductType: c.Query("type"), Availability: c.Query("availability"), Limit: 50}
	pg, ferr := parsePaging(c, 500)
	if ferr != nil {
		return badInput(ferr)
	}
	q.After = pg.After
	if q.Availability != "" && !contains(catalog.Availabilities, q.Availability) {
		return fiber.NewError(fiber.StatusBadRequest, "availability: unknown value "+strconv.Quote(q.Availability))
	}
	ctx := c.UserContext()
	found, err := s.Catalog.Search(ctx, q)
	if err != nil {
		return err
	}
	list, more := found.Products, found.More
	total, err := s.Catalog.Count(ctx)
	if err != nil {
		return err
	}
	brands, _ := s.Catalog.Facets(ctx, "brand", 300)
	types, _ := s.Catalog.Facets(ctx, "product_type", 300)
	now := s.now()
	promos, err := s.Promotions.Published(ctx, now)
	if err != nil {
		return err
	}
	index := landing.NewIndex(promos)
	rows := make([]productRow, len(list))
	for i := range list {
		rows[i] = productRow{Product: list[i], Price: index.Price(&list[i], now)}
	}
	next := ""
	if more {
		args := fmt.Sprintf("q=%s&brand=%s&type=%s&availability=%s&after=%d", url.QueryEscape(q.Search), url.QueryEscape(q.Brand), url.QueryEscape(q.ProductType), url.QueryEscape(q.Availability), list[len(list)-1].ID)
		next = "/products?" + args
	}
	return s.render(c, "products", pageData{Title: i18n.M("Products"), Nav: "products", Data: map[string]any{
		"Rows": rows, "Q": q, "Total": total, "Count": found.Count, "SKUPrefix": found.Match == catalog.MatchSKUPrefix,
		"Filtered": q.Search != "" || q.Brand != "" || q.ProductType != "" || q.Availability != "", "Brands": brands, "Types": types, "Availabilities": catalog.Availabilities,
		"Next": next, "Paged": q.After > 0}})
}

func contains(set []string, v string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

func (s *Server) showImport(c *fiber.Ctx) error {
	imports, err := s.Catalog.Imports(c.UserContext(), 20)
	if err != nil {
		return err
	}
	return s.render(c, "import", pageData{Title: i18n.M("Import products"), Nav: "products", Data: map[string]any{"Imports": imports}})
}

// startImport puts the upload in the shared upload store and queues its
// import for a worker (catalog.ImportJobs): a web node never imports, and
// the import's progress lives in the database, so any node shows it. The
// body is read as a stream only once the session, the role and the CSRF
// token passed (readUpload).
func (s *Server) startImport(c *fiber.Ctx) error {
	up, err := s.readUpload(c, "file")
	if err != nil {
		return err
	}
	if up.File == nil {
		s.flash(c, false, i18n.M("Choose a CSV or JSON file to import."))
		return c.Redirect("/products/import", fiber.StatusSeeOther)
	}
	defer up.Remove()
	format := catalog.FormatFor(up.Filename)
	opt := catalog.Options{Format: format, SkipInvalid: up.Fields["skip_invalid"] == "on", DefaultCurrency: up.Fields["currency"]}
	imp, err := s.Catalog.StartImport(c.UserContext(), filepath.Base(up.Filename), format, up.Size, opt.SkipInvalid, currentUser(c).Email)
	if err != nil {
		return err
	}
	if err := s.CatalogImports.Queue(c.UserContext(), imp, up.File, up.Size, opt); err != nil {
		return err
	}
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", fmt.Sprintf("/imports/%d", imp.ID))
		return c.SendStatus(fiber.StatusAccepted)
	}
	return c.Redirect(fmt.Sprintf("/imports/%d", imp.ID), fiber.StatusSeeOther)
}

func (s *Server) loadImport(c *fiber.Ctx) (*catalog.Import, error) {
	return loadByID(c, s.Catalog.GetImport, catalog.ErrNotFound, "no import with this id")
}

func (s *Server) showImportRun(c *fiber.Ctx) error {
	imp, err := s.loadImport(c)
	if err != nil {
		return err
	}
	errs, err := s.Catalog.ImportErrors(c.UserContext(), imp.ID, 200)
	if err != nil {
		return err
	}
	data := map[string]any{"Import": imp, "Errors": errs}
	if c.Query("fragment") != "" {
		c.Set("Content-Type", "text/html; charset=utf-8")
		return s.page(c, "import_run").ExecuteTemplate(c.Response().BodyWriter(), "progress", data)
	}
	return s.render(c, "import_run", pageData{Title: i18n.M("Import of %s", imp.Filename), Nav: "products", Data: data})
}

func (s *Server) importReport(c *fiber.Ctx) error {
	imp, err := s.loadImport(c)
	if err != nil {
		return err
	}
	errs, err := s.Catalog.ImportErrors(c.UserContext(), imp.ID, catalog.MaxReportedErrors)
	if err != nil {
		return err
	}
	c.Set("Content-Type", "text/csv; charset=utf-8")
	c.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%d-report.csv"`, imp.ID))
	return catalog.WriteReport(c.Response().BodyWriter(), catalog.ReportRows(errs))
}
