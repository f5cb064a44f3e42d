// Package web is Rampe's HTTP surface: the marketers' UI (server-rendered
// html/template pages with htmx), the JSON API under /api/v1, health and
// metrics. It depends on the domain packages and translates their errors
// into responses; no domain package depends on it.
package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"gorm.io/gorm"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/channels/display"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/channels/search"
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/notify"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// Pinger reports whether a dependency answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps is everything the web layer needs, built by the wiring in cmd/rampe.
type Deps struct {
	DB        *gorm.DB
	Redis     Pinger
	Accounts  *accounts.Store
	Campaigns *campaigns.Service
	Catalog   *catalog.Store
	// CatalogImports queues the imports of uploaded catalogs for a worker.
	CatalogImports *catalog.ImportJobs
	Promotions     *landing.Promotions
	Pages          *landing.Pages
	Landing        *landing.Server
	Feeds          *feeds.Service
	FeedJobs       *feeds.Jobs
	LoadChecks     *loadcheck.Service
	Secret         []byte
	BaseURL        string
	Secure         bool // cookies get the Secure flag and responses HSTS (https base URL)
	Version        string

	// MetricsToken, when set, is the bearer token /metrics demands;
	// otherwise /metrics answers loopback clients only. MetricsElsewhere
	// means metrics.addr serves them and http.addr does not.
	MetricsToken     string
	MetricsElsewhere bool
	// FrameAncestors are the origins that may frame landing pages.
	FrameAncestors []string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client.
	TrustedProxies []string
	// Notify takes alerts to people (their preferences page).
	Notify *notify.Service
	// Clicks is the /r/{token} redirector and its tracked links.
	Clicks *clicks.Service
	// Email is the e-mail channel's engine (nil: not connected).
	Email *email.Sender
	// Outbox is the SMTP catch-all's mail (nil when smtp.url is set).
	Outbox *email.Outbox
	// Audience is the e-mail channel's contacts, lists, segments and
	// suppression list.
	Audience *audience.Service
	// ContactImports queues the imports of uploaded contact files for a
	// worker.
	ContactImports *audience.ImportJobs
	// Search is the SEO / SEA channel (nil: not connected); RobotsRules
	// is seo.robots_rules.
	Search      *search.Channel
	RobotsRules string
	// Affiliation is the affiliation channel's partners, plans and
	// conversions (nil: not connected).
	Affiliation *affiliation.Service
	// Display is the display channel: creatives, placements, ad tags.
	Display *display.Service
	// DisplayMaxAge is the ad tags' Cache-Control max-age.
	DisplayMaxAge time.Duration
	// BaseURL's check, made once the server listens (nil: not checked).
	BaseURLStatus *BaseURLStatus
	// LandingThroughRouter turns the landing fast path off
	// (http.fast_landing=false): /l/ pages go through fiber's router and
	// middleware like every other URL. Serve's writev connection goes
	// with it (its fast argument).
	LandingThroughRouter bool
	// Clock is the stack's time source, the one every service reads (nil:
	// the wall clock): the promotions in force, a code's validity, today.
	Clock clock.Clock
}

// Server holds the dependencies shared by every handler.
type Server struct {
	Deps
	pages      *pages
	landingCSP []byte // Content-Security-Policy of public landing pages
	deployment string // DeploymentID of Secret, sent by /healthz
	app        *fiber.App
}

func (s *Server) now() time.Time { return clock.Or(s.Clock).Now() }

// New builds the fiber app with every route of Rampe.
func New(d Deps) (*fiber.App, error) {
	p, err := loadPages(d.Campaigns.DefaultTimeZone)
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, pages: p, landingCSP: []byte(landingCSP(d.FrameAncestors)), deployment: DeploymentID(d.Secret)}
	cfg := fiber.Config{
		AppName:               "rampe",
		DisableStartupMessage: true,
		// About nginx's defaults (60 s to read a request or send a response,
		// 75 s of keep-alive). Read and idle are equal so that the read
		// deadline fasthttp sets twice per request rarely moves (see conn).
		ReadTimeout:  60 * time.Second,
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  60 * time.Second,
		// Bodies are streamed to the handlers, which bound them: 2 MiB
		// (limitBody), a catalog upload 1 GiB (readUpload). fasthttp's own
		// limit does not hold a streamed body, and its pre-parsing of
		// multipart forms would read a whole upload into temporary files
		// before any middleware could refuse it.
		BodyLimit:                    int(maxUploadFile + uploadOverhead),
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		// A response of up to 32 KiB leaves in one write syscall instead of
		// several (fasthttp's default buffer is 4 KiB): UI pages, and a
		// landing page when conn cannot send it by writev (HEAD, HTTP/1.0).
		WriteBufferSize: 32 << 10,
		ErrorHandler:    s.errorHandler,
	}
	if len(d.TrustedProxies) > 0 {
		cfg.ProxyHeader, cfg.EnableTrustedProxyCheck, cfg.TrustedProxies, cfg.EnableIPValidation = fiber.HeaderXForwardedFor, true, d.TrustedProxies, true
	}
	app := fiber.New(cfg)
	s.app = app
	s.routes(app)
	handler := app.Server().Handler
	if !d.LandingThroughRouter {
		handler = s.fastLinks(s.fastPages(handler))
	}
	app.Server().Handler = s.fastTags(handler)
	app.Server().HeaderReceived = s.longTransfers
	return app, nil
}

// Timeouts of the requests that move a whole catalog or a whole feed:
// fasthttp's read and write timeouts cover the entire body, and a
// 140 MB catalog upload or a 460 MB feed download on a slow link takes
// longer than the defaults (60 s each) allow.
const (
	uploadTimeout   = 30 * time.Minute
	downloadTimeout = 30 * time.Minute
)

// longTransfers gives feed downloads and catalog uploads their timeouts;
// every other request keeps the server's. An upload gets its half hour
// only from a signed-in user who may import: anyone else's is refused
// within the server's 60 s read timeout, before its body is read.
func (s *Server) longTransfers(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	path := h.RequestURI()
	switch {
	case bytes.HasPrefix(path, []byte("/feeds/")):
		return fasthttp.RequestConfig{WriteTimeout: downloadTimeout}
	case h.IsPost() && (bytes.HasPrefix(path, []byte("/products/import")) || bytes.HasPrefix(path, []byte("/contacts/import"))):
		tok := h.Cookie(sessionCookie)
		if len(tok) == 0 {
			return fasthttp.RequestConfig{}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if u, _, err := s.Accounts.UserBySession(ctx, string(tok)); err == nil && u.Role.CanWrite() {
			return fasthttp.RequestConfig{ReadTimeout: uploadTimeout}
		}
	case h.IsPost() && bytes.HasPrefix(path, []byte("/api/v1/contacts/import")):
		tok, ok := bytes.CutPrefix(h.Peek(fiber.HeaderAuthorization), []byte("Bearer "))
		if !ok || len(tok) == 0 {
			return fasthttp.RequestConfig{}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if u, err := s.Accounts.UserByAPIToken(ctx, string(bytes.TrimSpace(tok))); err == nil && u.Role.CanWrite() {
			return fasthttp.RequestConfig{ReadTimeout: uploadTimeout}
		}
	}
	return fasthttp.RequestConfig{}
}

// errorHandler answers errors no handler turned into a response: JSON for
// the API, an HTML page for the UI.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	var msg any = "something went wrong on our side; it has been logged"
	var fe *fiber.Error
	var se *statusError
	switch {
	case errors.As(err, &se):
		code, msg = se.code, se.msg
	case errors.As(err, &fe):
		code, msg = fe.Code, fe.Message
	default:
		slog.Error("web: unhandled error", "method", c.Method(), "path", c.Path(), "err", err)
	}
	if isAPI(c) {
		return c.Status(code).JSON(apiError{Error: apiErrorBody{Code: codeName(code), Message: i18n.Text(i18n.EN, msg)}})
	}
	// The page reads in the user's language: a message of the catalog
	// (every fixed fiber.NewError text has its French) or a statusError.
	return s.renderStatus(c, code, "error", pageData{Title: i18n.M("Error"), Data: map[string]any{"Code": code, "Message": i18n.Text(s.lang(c), msg)}})
}

// statusError is an HTTP error whose message is built at run time and
// reads in the user's language on pages (English in the API).
type statusError struct {
	code int
	msg  i18n.Message
}

func (e *statusError) Error() string { return e.msg.String() }

// badInput is the 400 of a wrong query parameter of a page: the
// parameter and what is wrong with it, in the reader's language when the
// error carries its message (validation.Field).
func badInput(fe *validation.FieldError) error {
	if fe.Message.Format == "" {
		return fiber.NewError(fiber.StatusBadRequest, fe.Error())
	}
	return &statusError{code: fiber.StatusBadRequest, msg: i18n.M("%s: %s", fe.Field, fe.Message)}
}

// noPageAt is the 404 of a path nothing answers.
func noPageAt(path string) error {
	return &statusError{code: fiber.StatusNotFound, msg: i18n.M("there is no page at %s", path)}
}

func (s *Server) healthz(c *fiber.Ctx) error {
	c.Set(deploymentHeader, s.deployment)
	return c.SendString("ok")
}

// readyz tells a load balancer whether this node can serve: the
// database and Redis answer. Its words are fixed (the errors go to the
// log): anyone may call it, and an error text can name hosts and users.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	status := map[string]string{"database": "ok", "redis": "ok"}
	code := fiber.StatusOK
	if err := db.Ping(ctx, s.DB); err != nil {
		slog.Error("web: readyz: database", "err", err)
		status["database"], code = "unreachable", fiber.StatusServiceUnavailable
	}
	if err := s.Redis.Ping(ctx); err != nil {
		slog.Error("web: readyz: redis", "err", err)
		status["redis"], code = "unreachable", fiber.StatusServiceUnavailable
	}
	return c.Status(code).JSON(status)
}
