package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one parsed template set per language and page, each the
// layout plus the page's own file with t bound to the language; all are
// parsed at start-up so a broken template stops the boot instead of a
// request.
type pages struct {
	byLang map[string]map[string]*template.Template
	static map[string]staticFile
}

type staticFile struct {
	body  []byte
	ctype string
	hash  string
}

var funcs = template.FuncMap{
	"money": money.Format,
	"minor": money.Plain,
	"local": func(t time.Time, c *campaigns.Campaign) string { return t.In(c.Location()).Format(dateLayout) },
	// inZone shows an instant in a named IANA zone (a promotion's, an
	// alert's campaign's), the zone named; the deployment's zone when unknown.
	"inZone": func(t time.Time, zone string) string {
		loc, err := clock.Location(zone)
		if err != nil || zone == "" {
			return t.UTC().Format(dateLayout)
		}
		return t.In(loc).Format(dateLayout)
	},
	"inputTS": func(t time.Time, c *campaigns.Campaign) string { return t.In(c.Location()).Format("2006-01-02T15:04") },
	"pathesc": url.PathEscape,
	"list":    func(v ...string) []string { return v },
	// actions are the moves a commission in this state can make.
	"actions": func(status string) []string {
		switch status {
		case "pending":
			return []string{"approve", "reject"}
		case "approved":
			return []string{"pay", "reject"}
		}
		return nil
	},
	"has":  func(list []string, v string) bool { return slices.Contains(list, v) },
	"bars": barHeights,
	"pct":  func(v float64) string { return fmt.Sprintf("%.1f %%", v*100) },
	// rate shows a request rate: 4200 → "4200", 0.475 → "0.475".
	"rate":      loadcheck.FormatRate,
	"deref":     func(p *uint64) uint64 { return *p },
	"deref64":   func(p *time.Time) time.Time { return *p },
	"channel":   func(c campaigns.Channel) string { return c.Label() },
	"gateTitle": gateTitle,
	"gateFix":   fixFor,
	"join":      strings.Join,
	"count":     thousands,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	},
	"inc": func(i int) int { return i + 1 },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"measured": measured,
}

// dateLayout is how the UI writes an instant: in a zone, the zone named.
const dateLayout = "Mon 2 Jan 2006, 15:04 MST"

// loadPages parses every page; zone is the deployment's time zone
// (campaigns.default_time_zone), in which "at" shows the instants that
// belong to no campaign.
func loadPages(zone string) (*pages, error) {
	p := &pages{byLang: map[string]map[string]*template.Template{}, static: map[string]staticFile{}}
	loc, err := clock.Location(zone)
	if err != nil || zone == "" {
		loc = time.UTC
	}
	for _, lang := range i18n.Langs {
		if p.byLang[lang], err = parsePages(lang, loc, p.asset); err != nil {
			return nil, err
		}
	}
	err = fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := "application/octet-stream"
		switch path.Ext(name) {
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		}
		p.static[strings.TrimPrefix(name, "static/")] = staticFile{body: b, ctype: ctype, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
	return p, err
}

// parsePages parses every page for one language: t, text and lang are bound
// to it; at shows instants in loc.
func parsePages(lang string, loc *time.Location, asset func(string) (string, error)) (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).Funcs(langFuncs(lang, loc)).Funcs(template.FuncMap{"asset": asset}).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	out := map[string]*template.Template{}
	entries, _ := fs.ReadDir(templateFS, "templates")
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("web: parse page %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// langFuncs are the template functions that write words, numbers and dates
// in lang: t, text and lang (see i18n.Funcs), amounts, counts, rates and
// instants (in the campaign's zone, a named zone, or loc for "at"), channel
// and gate names.
func langFuncs(lang string, loc *time.Location) template.FuncMap {
	date := func(t time.Time, in *time.Location) string { return i18n.FormatTime(lang, t.In(in), dateLayout) }
	m := i18n.Funcs(lang)
	for k, v := range (template.FuncMap{
		"money": func(minor int64, cur string) string { return money.FormatIn(lang, minor, cur) },
		"at":    func(t time.Time) string { return date(t, loc) },
		"local": func(t time.Time, c *campaigns.Campaign) string { return date(t, c.Location()) },
		// inZone shows an instant in a named IANA zone (a promotion's, an
		// alert's campaign's), the zone named; the deployment's zone when unknown.
		"inZone": func(t time.Time, zone string) string {
			in, err := clock.Location(zone)
			if err != nil || zone == "" {
				in = time.UTC
			}
			return date(t, in)
		},
		"month": func(t time.Time) string { return i18n.FormatTime(lang, t, "January 2006") },
		// date writes t (already in its zone) with a Go layout, names in lang.
		"date": func(t time.Time, layout string) string { return i18n.FormatTime(lang, t, layout) },
		// atZone names the zone "at" writes in, for a column's header.
		"atZone": func() string { return loc.String() },
		"pct":    func(v float64) string { return i18n.T(lang, "%.1f %%", v*100) },
		// rate writes a request rate or a measure as lang writes numbers.
		"rate":      func(v float64) string { return loadcheck.Rate(v).Text(lang) },
		"ms":        func(v float64) string { return i18n.T(lang, "%.0f", v) },
		"count":     func(v any) string { return i18n.T(lang, "%v", v) },
		"channel":   func(c campaigns.Channel) string { return i18n.T(lang, c.Label()) },
		"gateTitle": func(name string) string { return i18n.Text(lang, gateTitle(name)) },
		"measured":  func(m map[string]any, c *campaigns.Campaign) string { return measured(lang, m, c) },
		"forecast":  func(ch campaigns.Channel, m map[string]float64) []string { return forecastLines(lang, ch, m) },
	}) {
		m[k] = v
	}
	return m
}

// page is the parsed page name in the request's language (nil when there is
// no such page).
func (s *Server) page(c *fiber.Ctx, name string) *template.Template {
	return s.pages.byLang[s.lang(c)][name]
}

// langKey caches the request's language in its locals.
const langKey = "lang"

// lang is the language of the request: the signed-in user's preference,
// else the browser's Accept-Language, else English.
func (s *Server) lang(c *fiber.Ctx) string {
	if l, ok := c.Locals(langKey).(string); ok {
		return l
	}
	pref := ""
	if u := currentUser(c); u != nil {
		pref = u.Lang
	}
	l := i18n.Match(pref, c.Get(fiber.HeaderAcceptLanguage))
	c.Locals(langKey, l)
	return l
}

// tr writes a user-visible text (a Message, an error, a key) in the
// request's language.
func (s *Server) tr(c *fiber.Ctx, v any) string { return i18n.Text(s.lang(c), v) }

// asset returns the checksum URL of a static file: cached forever, busted on
// change.
func (p *pages) asset(name string) (string, error) {
	f, ok := p.static[name]
	if !ok {
		return "", fmt.Errorf("web: unknown asset %s", name)
	}
	return "/static/" + f.hash + "/" + name, nil
}

func (s *Server) serveStatic(c *fiber.Ctx) error {
	f, ok := s.pages.static[c.Params("*")]
	if !ok || c.Params("hash") != f.hash {
		return fiber.ErrNotFound
	}
	c.Set("Content-Type", f.ctype)
	c.Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Send(f.body)
}

// serveDemoImage serves the demo catalog's product pictures under stable
// URLs (product image links cannot carry a checksum).
func (s *Server) serveDemoImage(c *fiber.Ctx) error {
	f, ok := s.pages.static["demo/"+c.Params("name")]
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set("Content-Type", f.ctype)
	c.Set("Cache-Control", "public, max-age=86400")
	return c.Send(f.body)
}

// serveFavicon answers browsers that ask for /favicon.ico on public pages.
func (s *Server) serveFavicon(c *fiber.Ctx) error {
	f := s.pages.static["favicon.svg"]
	c.Set("Content-Type", f.ctype)
	c.Set("Cache-Control", "public, max-age=86400")
	return c.Send(f.body)
}

// pageData is what every page template receives.
type pageData struct {
	// Title is a string shown as is (a record's name) or an i18n.Message.
	Title   any
	Nav     string
	Version string
	User    *accounts.User
	CSRF    string
	// Flash is a string (already in the reader's language, or a catalog
	// key) or an i18n.Message.
	Flash   any
	FlashOK bool
	Alerts  int64
	Data    map[string]any
	Errors  campaigns.ValidationError
	// OutboxOn shows the Outbox in the navigation (no smtp.url).
	OutboxOn bool
	// AffiliationOn shows the affiliation channel's pages in the navigation.
	AffiliationOn bool
	// FlashWarn shows Flash as a warning (flashWarn): done, but not well.
	FlashWarn bool
}

func (s *Server) render(c *fiber.Ctx, name string, d pageData) error {
	return s.renderStatus(c, fiber.StatusOK, name, d)
}

func (s *Server) renderStatus(c *fiber.Ctx, code int, name string, d pageData) error {
	t := s.page(c, name)
	if t == nil {
		return fmt.Errorf("web: no page %q", name)
	}
	if u, ok := c.Locals(userKey).(*accounts.User); ok {
		d.User = u
		d.Alerts, _ = s.Campaigns.OpenAlerts(c.UserContext())
	}
	d.CSRF = s.csrfToken(c)
	d.Version = s.Version
	d.OutboxOn = s.Outbox != nil
	d.AffiliationOn = s.Affiliation != nil
	if msg, ok := s.takeFlash(c); ok {
		d.Flash, d.FlashOK, d.FlashWarn = msg[1:], msg[0] == '+', msg[0] == '!'
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		slog.Error("web: render", "page", name, "err", err)
		return err
	}
	c.Set("Content-Type", "text/html; charset=utf-8")
	return c.Status(code).Send(buf.Bytes())
}

// renderFragment executes one named template of a page alone (an htmx
// swap), with no layout.
func (s *Server) renderFragment(c *fiber.Ctx, page, name string, data any) error {
	t := s.page(c, page)
	if t == nil {
		return fmt.Errorf("web: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	c.Set("Content-Type", "text/html; charset=utf-8")
	return c.Send(buf.Bytes())
}

// renderPublic renders a page for people who are not signed in (no
// navigation): its template defines NAME_page as a whole document.
func (s *Server) renderPublic(c *fiber.Ctx, code int, name string, data any) error {
	if err := s.renderFragment(c, name, name+"_page", data); err != nil {
		return err
	}
	return c.SendStatus(code)
}

const flashCookie = "rampe_flash"

// flash stores a one-time message shown on the next page, written in the
// request's language (msg is a string, an i18n.Message or an error); ok
// picks its colour.
func (s *Server) flash(c *fiber.Ctx, ok bool, m any) {
	msg := s.tr(c, m)
	prefix := "-"
	if ok {
		prefix = "+"
	}
	s.setCookie(c, flashCookie, url.QueryEscape(prefix+msg), time.Minute)
}

// flashWarn shows m once on the next page as a warning: the action was
// done, but something is wrong (neither a success nor a failure banner).
func (s *Server) flashWarn(c *fiber.Ctx, m any) {
	s.setCookie(c, flashCookie, url.QueryEscape("!"+s.tr(c, m)), time.Minute)
}

func (s *Server) takeFlash(c *fiber.Ctx) (string, bool) {
	v, _ := url.QueryUnescape(c.Cookies(flashCookie))
	if v == "" {
		return "", false
	}
	s.clearCookie(c, flashCookie)
	return v, true
}
