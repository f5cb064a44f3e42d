package web

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
	"github.com/rampe/rampe/platform/sheet"
	"github.com/rampe/rampe/platform/validation"
)

// genericRows is how many column rows the generic-feed form offers.
const genericRows = 8

// scheduleKey holds the schedule a form posted, for the page that shows
// it again with its errors.
const scheduleKey = "feeds.schedule"

// feedSchedule reads the schedule of the feed form: its parts (every N
// hours, daily or weekly at a time, in a zone) or a cron expression; a
// form that posts only "cron" (an older page, a script) is a cron
// expression.
func feedSchedule(c *fiber.Ctx) (string, feeds.Schedule, validation.Errors) {
	if !c.Request().PostArgs().Has("schedule_every") {
		cron := strings.TrimSpace(c.FormValue("cron"))
		if cron == "" {
			return "", feeds.Schedule{}, nil
		}
		return cron, feeds.Schedule{Every: feeds.EveryCron, Cron: cron}, nil
	}
	sch := feeds.Schedule{Every: c.FormValue("schedule_every"), At: c.FormValue("schedule_at"), Zone: c.FormValue("schedule_zone"), Cron: c.FormValue("cron")}
	var ve validation.Errors
	if sch.Every == feeds.EveryHours {
		n, err := strconv.Atoi(strings.TrimSpace(c.FormValue("schedule_hours")))
		if err != nil {
			ve = append(ve, validation.Fieldf("schedule_hours", "%q: give a number of hours from 1 to 24", c.FormValue("schedule_hours")))
		}
		sch.Hours = n
	}
	if sch.Every == feeds.EveryWeek {
		d, err := strconv.Atoi(c.FormValue("schedule_day"))
		if err != nil {
			d = -1
		}
		sch.Day = time.Weekday(d)
	}
	if len(ve) > 0 {
		return "", sch, ve
	}
	expr, errs := sch.Expr()
	return expr, sch, errs
}

func feedForm(c *fiber.Ctx) (*feeds.Feed, feeds.ValidationError) {
	f := &feeds.Feed{Name: c.FormValue("name"), Format: c.FormValue("format"), Availability: strings.Join(formList(c, "availability"), ","),
		Brands: strings.Join(formList(c, "brands"), "\n"), ProductTypes: strings.Join(formList(c, "product_types"), "\n"), SKUs: c.FormValue("skus"), TitleTemplate: c.FormValue("title_template"),
		Country: c.FormValue("country"), Language: c.FormValue("language"), Currency: c.FormValue("currency"), Shipping: c.FormValue("shipping"),
		DeliveryTime: c.FormValue("delivery_time"), UTMSource: c.FormValue("utm_source"), UTMMedium: c.FormValue("utm_medium"),
		UTMCampaign: c.FormValue("utm_campaign"), Separator: c.FormValue("separator"), DecimalComma: c.FormValue("decimal_comma") == "on"}
	if f.Separator == "tab" {
		f.Separator = "\t"
	}
	var errs feeds.ValidationError
	var sch feeds.Schedule
	f.Cron, sch, errs = feedSchedule(c)
	c.Locals(scheduleKey, &sch)
	for _, b := range []struct {
		field string
		dst   **int64
	}{{"price_min", &f.PriceMin}, {"price_max", &f.PriceMax}} {
		if v := strings.TrimSpace(c.FormValue(b.field)); v != "" {
			n, err := money.Parse(v, "EUR")
			if err != nil {
				errs = append(errs, fieldErr(b.field, err))
			} else {
				*b.dst = &n
			}
		}
	}
	for i := 0; i < genericRows; i++ {
		h, t := strings.TrimSpace(c.FormValue(fmt.Sprintf("col_header_%d", i))), strings.TrimSpace(c.FormValue(fmt.Sprintf("col_template_%d", i)))
		if h != "" || t != "" {
			f.Columns = append(f.Columns, feeds.Column{Header: h, Template: t})
		}
	}
	return f, errs
}

func formList(c *fiber.Ctx, key string) []string {
	var out []string
	for _, v := range c.Request().PostArgs().PeekMulti(key) {
		out = append(out, string(v))
	}
	return out
}

func (s *Server) showFeeds(c *fiber.Ctx) error {
	list, err := s.Feeds.List(c.UserContext())
	if err != nil {
		return err
	}
	schedules := make(map[uint64]i18n.Message, len(list))
	for _, f := range list {
		schedules[f.ID] = feeds.ParseSchedule(f.Cron, s.Campaigns.DefaultTimeZone).Say()
	}
	return s.render(c, "feeds", pageData{Title: i18n.M("Feeds"), Nav: "feeds", Data: map[string]any{"List": list, "BaseURL": s.BaseURL, "Schedules": schedules}})
}

func (s *Server) feedPage(c *fiber.Ctx, code int, f *feeds.Feed, errs feeds.ValidationError) error {
	data := map[string]any{"F": f, "Errs": errs, "BaseURL": s.BaseURL, "Availabilities": catalog.Availabilities, "Attributes": feeds.Attributes}
	cols := append([]feeds.Column(nil), f.Columns...)
	for len(cols) < genericRows {
		cols = append(cols, feeds.Column{})
	}
	data["Columns"] = cols
	sch := feeds.ParseSchedule(f.Cron, s.Campaigns.DefaultTimeZone)
	if posted, ok := c.Locals(scheduleKey).(*feeds.Schedule); ok {
		sch = *posted
	}
	if sch.Zone == "" {
		sch.Zone = s.Campaigns.DefaultTimeZone
	}
	data["Schedule"], data["TimeZones"] = sch, timeZones
	data["Days"] = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	avail := map[string]bool{}
	for _, a := range strings.Split(f.Availability, ",") {
		avail[a] = true
	}
	data["Avail"] = avail
	// Brands and product types are picked from the catalog's values; a
	// kept value the catalog no longer has (or a type prefix) stays offered.
	for _, fc := range []struct{ key, column, kept string }{{"Brands", "brand", f.Brands}, {"Types", "product_type", f.ProductTypes}} {
		values, err := s.Catalog.Facets(c.UserContext(), fc.column, facetLimit)
		if err != nil {
			return err
		}
		data[fc.key] = choices(values, fc.kept)
	}
	title := i18n.M("New feed")
	if f.ID != 0 {
		title = i18n.M("Feed %s", f.Name)
		runs, err := s.Feeds.Runs(c.UserContext(), f.ID, 15)
		if err != nil {
			return err
		}
		data["Runs"] = runs
		if len(runs) > 0 {
			issues, err := s.Feeds.Issues(c.UserContext(), runs[0].ID, 200)
			if err != nil {
				return err
			}
			data["Last"], data["Issues"] = &runs[0], issues
		}
		if q := queuedSince(c, runs); q != "" {
			data["Queued"] = q
		}
	}
	return s.renderStatus(c, code, "feed", pageData{Title: title, Nav: "feeds", Data: data})
}

func (s *Server) showNewFeed(c *fiber.Ctx) error {
	return s.feedPage(c, fiber.StatusOK, &feeds.Feed{Format: feeds.GoogleXML, TitleTemplate: "{brand} {title}", Country: "FR", Language: "fr",
		Currency: "EUR", Availability: "in_stock", Shipping: "FR:::4.90 EUR", UTMMedium: "comparison"}, nil)
}

func (s *Server) createFeed(c *fiber.Ctx) error {
	f, errs := feedForm(c)
	if len(errs) == 0 {
		err := s.Feeds.Create(c.UserContext(), f)
		if !errors.As(err, &errs) && err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return s.feedPage(c, fiber.StatusUnprocessableEntity, f, errs)
	}
	s.FeedJobs.Enqueue(c.UserContext(), f.ID, "created", s.now())
	s.flash(c, true, i18n.M("Feed created; its first generation is queued."))
	return c.Redirect(fmt.Sprintf("/feeds/%d", f.ID), fiber.StatusSeeOther)
}

func (s *Server) loadFeed(c *fiber.Ctx) (*feeds.Feed, error) {
	return loadByID(c, s.Feeds.Get, feeds.ErrNotFound, "there is no feed with this id")
}

func (s *Server) showFeed(c *fiber.Ctx) error {
	f, err := s.loadFeed(c)
	if err != nil {
		return err
	}
	if c.Query("fragment") != "" {
		runs, err := s.Feeds.Runs(c.UserContext(), f.ID, 1)
		if err != nil {
			return err
		}
		c.Set("Content-Type", "text/html; charset=utf-8")
		if q := queuedSince(c, runs); q != "" || len(runs) == 0 {
			return s.page(c, "feed").ExecuteTemplate(c.Response().BodyWriter(), "run-queued", map[string]any{"F": f, "Queued": q})
		}
		return s.page(c, "feed").ExecuteTemplate(c.Response().BodyWriter(), "run-status", map[string]any{"F": f, "Last": &runs[0]})
	}
	return s.feedPage(c, fiber.StatusOK, f, nil)
}

// queuedSince is the ?queued= instant (Unix ms) of a generation asked
// for, while no run has started since: the page then waits for a worker,
// polling, until the run appears. Empty when nothing waits.
func queuedSince(c *fiber.Ctx, runs []feeds.Run) string {
	q := c.Query("queued")
	ms, err := strconv.ParseInt(q, 10, 64)
	if err != nil || ms <= 0 {
		return ""
	}
	if len(runs) > 0 && !runs[0].StartedAt.Before(time.UnixMilli(ms)) {
		return ""
	}
	return q
}

func (s *Server) updateFeed(c *fiber.Ctx) error {
	old, err := s.loadFeed(c)
	if err != nil {
		return err
	}
	f, errs := feedForm(c)
	if len(errs) == 0 {
		err := s.Feeds.Update(c.UserContext(), old.ID, f)
		if !errors.As(err, &errs) && err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		f.ID, f.Token, f.LastRunID = old.ID, old.Token, old.LastRunID
		return s.feedPage(c, fiber.StatusUnprocessableEntity, f, errs)
	}
	s.FeedJobs.Enqueue(c.UserContext(), old.ID, "definition changed", s.now())
	s.flash(c, true, i18n.M("Feed saved; a new generation is queued."))
	return c.Redirect(fmt.Sprintf("/feeds/%d", old.ID), fiber.StatusSeeOther)
}

// generateFeed queues a generation for a worker (feeds.Jobs.Request); its
// progress is in the database, so the page polls it.
func (s *Server) generateFeed(c *fiber.Ctx) error {
	f, err := s.loadFeed(c)
	if err != nil {
		return err
	}
	if err := s.FeedJobs.Request(c.UserContext(), f.ID, "by "+currentUser(c).Email); err != nil {
		slog.Error("web: queue a feed generation", "feed", f.Name, "err", err)
		s.flash(c, false, i18n.M("The generation could not be queued (%s); try again in a moment.", err.Error()))
		return c.Redirect(fmt.Sprintf("/feeds/%d", f.ID), fiber.StatusSeeOther)
	}
	s.flash(c, true, i18n.M("Generation queued: a worker runs it, and this page shows its progress."))
	return c.Redirect(fmt.Sprintf("/feeds/%d?queued=%d", f.ID, s.now().Add(-time.Second).UnixMilli()), fiber.StatusSeeOther)
}

func (s *Server) rotateFeedToken(c *fiber.Ctx) error {
	f, err := s.loadFeed(c)
	if err != nil {
		return err
	}
	if _, err := s.Feeds.RotateToken(c.UserContext(), f.ID); err != nil {
		return err
	}
	s.flash(c, true, i18n.M("New URL issued; the old one now answers 404. Give the new URL to the comparator."))
	return c.Redirect(fmt.Sprintf("/feeds/%d", f.ID), fiber.StatusSeeOther)
}

func (s *Server) feedReport(c *fiber.Ctx) error {
	f, err := s.loadFeed(c)
	if err != nil {
		return err
	}
	if f.LastRunID == nil {
		return fiber.NewError(fiber.StatusNotFound, "the feed was never generated")
	}
	issues, err := s.Feeds.Issues(c.UserContext(), *f.LastRunID, feeds.MaxIssues)
	if err != nil {
		return err
	}
	c.Set("Content-Type", "text/csv; charset=utf-8")
	c.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-report.csv"`, f.Name))
	cw := sheet.NewWriter(c.Response().BodyWriter())
	cw.Write([]string{"sku", "severity", "rule", "field", "value", "message"})
	for _, i := range issues {
		cw.Write([]string{i.SKU, i.Severity, i.Rule, i.Field, i.Value, i.Message})
	}
	cw.Flush()
	return cw.Error()
}

// downloadFeed lets a signed-in user download the current file. A person
// opens it in a spreadsheet: the CSV and TSV formats come with every cell
// that a spreadsheet would run as a formula made inert (sheet.Safe), where
// comparators get the file as generated.
func (s *Server) downloadFeed(c *fiber.Ctx) error {
	f, err := s.loadFeed(c)
	if err != nil {
		return err
	}
	c.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, f.FileName()))
	sep, plain, delimited := f.Delimited()
	if !delimited {
		return s.sendFeed(c, f, f.FileName())
	}
	src, err := s.Feeds.Storage.Open(c.UserContext(), f.ID, f.FileName())
	if errors.Is(err, feeds.ErrNoFile) {
		return c.Status(fiber.StatusNotFound).SendString("the feed has not been generated yet")
	}
	if err != nil {
		return err
	}
	c.Set("Content-Type", f.ContentType())
	c.Set("Cache-Control", "no-store")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer src.Close()
		var err error
		if plain {
			err = sheet.CopyTSV(w, src)
		} else {
			err = sheet.CopyCSV(w, src, sep)
		}
		if err != nil {
			slog.Error("web: feed download", "feed", f.ID, "err", err)
		}
	})
	return nil
}

// servePublicFeed answers comparators at /feeds/{token}/{file}. An unknown
// token or file gets the same bare 404, with no hint that a feed exists.
func (s *Server) servePublicFeed(c *fiber.Ctx) error {
	token := c.Params("token")
	if _, err := strconv.ParseUint(token, 10, 64); err == nil && len(token) != feeds.TokenLength {
		return c.Next() // /feeds/{id}/report.csv, /feeds/{id}/download: signed-in pages
	}
	// Any other token unknown, whatever its shape, is a plain 404: nothing
	// tells a guessed URL from a feed that exists.
	f, err := s.Feeds.ByToken(c.UserContext(), token)
	name := c.Params("file")
	if err != nil || (name != f.FileName() && name != f.FileName()+".gz") {
		if err != nil && !errors.Is(err, feeds.ErrNotFound) {
			return err
		}
		return c.Status(fiber.StatusNotFound).SendString("not found")
	}
	return s.sendFeed(c, f, name)
}

func (s *Server) sendFeed(c *fiber.Ctx, f *feeds.Feed, name string) error {
	file := name
	ctype := f.ContentType()
	encoded := false
	if strings.HasSuffix(name, ".gz") {
		ctype = "application/gzip"
	} else if landing.PreferredEncoding(c.Get(fiber.HeaderAcceptEncoding)) != "" && strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		file, encoded = name+".gz", true
	}
	st, err := s.Feeds.Storage.Open(c.UserContext(), f.ID, file)
	if errors.Is(err, feeds.ErrNoFile) {
		return c.Status(fiber.StatusNotFound).SendString("the feed has not been generated yet")
	}
	if err != nil {
		return err
	}
	etag := fmt.Sprintf(`"%d-%d-%x"`, f.ID, st.Size, st.ModTime.UnixNano())
	mod := st.ModTime.UTC().Format(http.TimeFormat)
	h := &c.Response().Header
	h.Set("ETag", etag)
	h.Set("Last-Modified", mod)
	h.Set("Content-Type", ctype)
	h.Set("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "public, max-age=300")
	if encoded {
		h.Set("Content-Encoding", "gzip")
	}
	if notModified(c, etag, st.ModTime) {
		st.Close()
		return c.SendStatus(fiber.StatusNotModified)
	}
	if c.Method() == fiber.MethodHead {
		st.Close()
		h.SetContentLength(int(st.Size))
		return nil
	}
	return c.SendStream(st, int(st.Size))
}

func notModified(c *fiber.Ctx, etag string, mod time.Time) bool {
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" {
		return etagMatch(inm, etag)
	}
	if ims := c.Get(fiber.HeaderIfModifiedSince); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && mod.Unix() <= t.Unix()
	}
	return false
}

// showProduct shows a product, its price now and its problems per feed.
func (s *Server) showProduct(c *fiber.Ctx) error {
	sku, err := url.PathUnescape(c.Params("sku"))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "malformed SKU in the URL")
	}
	p, err := s.Catalog.BySKU(c.UserContext(), sku)
	if errors.Is(err, catalog.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "there is no product with SKU "+strconv.Quote(sku))
	}
	if err != nil {
		return err
	}
	now := s.now()
	promos, err := s.Promotions.Published(c.UserContext(), now)
	if err != nil {
		return err
	}
	issues, err := s.Feeds.ProductIssues(c.UserContext(), p.SKU)
	if err != nil {
		return err
	}
	return s.render(c, "product", pageData{Title: p.Title, Nav: "products", Data: map[string]any{"P": p, "Price": landing.EffectivePrice(p, promos, now), "Issues": issues}})
}

// choice is one option of a multiple select.
type choice struct {
	Value  string
	Chosen bool
}

// choices offers values, the kept ones (one per line) chosen, and adds the
// kept ones that values lack.
func choices(values []string, kept string) []choice {
	chosen := map[string]bool{}
	for _, k := range strings.Split(kept, "\n") {
		if k = strings.TrimSpace(k); k != "" {
			chosen[k] = true
		}
	}
	out := make([]choice, 0, len(values)+len(chosen))
	for _, v := range values {
		out = append(out, choice{v, chosen[v]})
		delete(chosen, v)
	}
	extra := make([]string, 0, len(chosen))
	for k := range chosen {
		extra = append(extra, k)
	}
	sort.Strings(extra)
	for _, k := range extra {
		out = append(out, choice{k, true})
	}
	return out
}
