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
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/db"
)

// Pinger reports whether a dependency answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps is everything the web layer needs, built by the wiring in cmd/rampe.
type Deps struct {
	DB         *gorm.DB
	Redis      Pinger
	Accounts   *accounts.Store
	Campaigns  *campaigns.Service
	Catalog    *catalog.Store
	Promotions *landing.Promotions
	Pages      *landing.Pages
	Landing    *landing.Server
	Feeds      *feeds.Service
	FeedJobs   *feeds.Jobs
	LoadChecks *loadcheck.Service
	Secret     []byte
	BaseURL    string
	Secure     bool // cookies get the Secure flag (https base URL)
	Version    string
}

// Server holds the dependencies shared by every handler.
type Server struct {
	Deps
	pages *pages
}

// New builds the fiber app with every route of Rampe.
func New(d Deps) (*fiber.App, error) {
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, pages: p}
	app := fiber.New(fiber.Config{
		AppName:               "rampe",
		DisableStartupMessage: true,
		// About nginx's defaults (60 s to read a request or send a response,
		// 75 s of keep-alive). Read and idle are equal so that the read
		// deadline fasthttp sets twice per request rarely moves (see conn).
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		BodyLimit:         1 << 30, // catalog uploads; other bodies are small by nature
		StreamRequestBody: true,
		// A response of up to 32 KiB leaves in one write syscall instead of
		// several (fasthttp's default buffer is 4 KiB): UI pages, and a
		// landing page when conn cannot send it by writev (HEAD, HTTP/1.0).
		WriteBufferSize: 32 << 10,
		ErrorHandler:    s.errorHandler,
	})
	s.routes(app)
	app.Server().Handler = s.fastPages(app.Server().Handler)
	app.Server().HeaderReceived = longTransfers
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

// longTransfers gives catalog uploads and feed downloads their timeouts;
// every other request keeps the server's.
func longTransfers(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	path := h.RequestURI()
	switch {
	case bytes.HasPrefix(path, []byte("/feeds/")):
		return fasthttp.RequestConfig{WriteTimeout: downloadTimeout}
	case h.IsPost() && bytes.HasPrefix(path, []byte("/products/import")):
		return fasthttp.RequestConfig{ReadTimeout: uploadTimeout}
	}
	return fasthttp.RequestConfig{}
}

// errorHandler answers errors no handler turned into a response: JSON for
// the API, an HTML page for the UI.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	msg := "something went wrong on our side; it has been logged"
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code, msg = fe.Code, fe.Message
	} else {
		slog.Error("web: unhandled error", "method", c.Method(), "path", c.Path(), "err", err)
	}
	if isAPI(c) {
		return c.Status(code).JSON(apiError{Error: apiErrorBody{Code: codeName(code), Message: msg}})
	}
	return s.renderStatus(c, code, "error", pageData{Title: "Error", Data: map[string]any{"Code": code, "Message": msg}})
}

func (s *Server) healthz(c *fiber.Ctx) error { return c.SendString("ok") }

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	status := map[string]string{"database": "ok", "redis": "ok"}
	code := fiber.StatusOK
	if err := db.Ping(ctx, s.DB); err != nil {
		status["database"], code = err.Error(), fiber.StatusServiceUnavailable
	}
	if err := s.Redis.Ping(ctx); err != nil {
		status["redis"], code = err.Error(), fiber.StatusServiceUnavailable
	}
	return c.Status(code).JSON(status)
}
