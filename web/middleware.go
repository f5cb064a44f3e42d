package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampe/rampe/accounts"
)

const (
	userKey       = "user"
	sessionKey    = "session"
	sessionCookie = "rampe_session"
	csrfCookie    = "rampe_csrf"
	csrfField     = "_csrf"
	csrfHeader    = "X-CSRF-Token"
)

var (
	httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rampe_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"method", "route", "status"})
	httpSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "rampe_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 3, 10),
	}, []string{"route"})
)

func init() { prometheus.MustRegister(httpRequests, httpSeconds) }

// routeMetrics caches the metric children of one method, route and status:
// resolving label values on every request costs more than serving a cached
// landing page.
type routeKey struct {
	method, route string
	status        int
}

type routeMetric struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

var routeMetrics sync.Map // routeKey → routeMetric

func metricFor(method, route string, status int) routeMetric {
	method = methodLabel(method)
	k := routeKey{method, route, status}
	if m, ok := routeMetrics.Load(k); ok {
		return m.(routeMetric)
	}
	// The method and route may point into fasthttp's reused request
	// buffer: the labels, which Prometheus keeps, must be copies, or a
	// later request rewrites them ("POS") and two children end up with
	// the same labels, which fails every scrape.
	method, route = strings.Clone(method), strings.Clone(route)
	m := routeMetric{count: httpRequests.WithLabelValues(method, route, strconv.Itoa(status)), latency: httpSeconds.WithLabelValues(route)}
	actual, _ := routeMetrics.LoadOrStore(routeKey{method, route, status}, m)
	return actual.(routeMetric)
}

// methodLabel keeps the method label to the methods of HTTP: anyone can
// send any word as a method, and each would be a new series.
func methodLabel(m string) string {
	switch m {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch,
		fiber.MethodDelete, fiber.MethodOptions, fiber.MethodConnect, fiber.MethodTrace:
		return m
	}
	return "OTHER"
}

// observe logs and counts each request under its route pattern (not the raw
// path, which would explode the label set).
func observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		var fe *fiber.Error
		var se *statusError
		switch {
		case errors.As(err, &fe):
			status = fe.Code
		case errors.As(err, &se):
			status = se.code
		default:
			status = fiber.StatusInternalServerError
		}
	}
	elapsed := time.Since(start)
	m := metricFor(c.Method(), c.Route().Path, status)
	m.count.Inc()
	m.latency.Observe(elapsed.Seconds())
	if status >= 500 {
		slog.Error("web: request", "method", c.Method(), "path", c.Path(), "status", status, "err", err)
	}
	return err
}

// csrfToken returns the token forms must echo: an HMAC of a random
// per-browser cookie (signed double-submit), so it works on any web node
// without server-side state.
func (s *Server) csrfToken(c *fiber.Ctx) string {
	seed := c.Cookies(csrfCookie)
	if seed == "" {
		if v, ok := c.Locals(csrfCookie).(string); ok {
			seed = v
		}
	}
	if seed == "" {
		b := make([]byte, 18)
		rand.Read(b)
		seed = base64.RawURLEncoding.EncodeToString(b)
		c.Locals(csrfCookie, seed)
		s.setCookie(c, csrfCookie, seed, 365*24*time.Hour)
	}
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte("csrf:" + seed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF tells whether got is this browser's CSRF token.
func (s *Server) validCSRF(c *fiber.Ctx, got string) bool {
	return c.Cookies(csrfCookie) != "" && hmac.Equal([]byte(got), []byte(s.csrfToken(c)))
}

var errCSRF = fiber.NewError(fiber.StatusForbidden, "this form has expired or did not come from Rampe (CSRF check failed); reload the page and try again")

// uploadRoutes read their multipart body themselves, as a stream: the
// handler checks the form's first part, _csrf, before reading the rest
// (readUpload). Any other multipart request must carry the token in the
// X-CSRF-Token header.
var uploadRoutes = map[string]bool{"/products/import": true, "/contacts/import": true, "/partners/import": true}

// rawUploadRoutes take a file as the whole request body (the API's
// imports), streamed to disk by their handler with the same bound.
var rawUploadRoutes = map[string]bool{"/api/v1/contacts/import": true}

// csrf refuses unsafe UI requests without the token of this browser. It
// never parses a multipart body to find the token: that would read a whole
// upload, of any size and from anyone, before refusing it.
func (s *Server) csrf(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if got := c.Get(csrfHeader); got != "" {
		if !s.validCSRF(c, got) {
			return errCSRF
		}
		c.Locals(csrfCheckedKey, true)
		return c.Next()
	}
	if isMultipart(c) && uploadRoutes[c.Path()] {
		if c.Cookies(csrfCookie) == "" {
			return errCSRF
		}
		return c.Next()
	}
	// Any other multipart form (a display creative) is small — limitBody
	// held it to 2 MiB — and is read whole for its token like a plain form.
	if !s.validCSRF(c, c.FormValue(csrfField)) {
		return errCSRF
	}
	c.Locals(csrfCheckedKey, true)
	return c.Next()
}

const csrfCheckedKey = "csrf_checked"

func isMultipart(c *fiber.Ctx) bool {
	return len(c.Request().Header.MultipartFormBoundary()) > 0 ||
		strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm)
}

// setCookie sets one of Rampe's cookies: never readable by scripts, sent
// on same-site navigations only, and Secure whenever public.base_url is
// https (not when this request's scheme is, which a proxy may hide).
func (s *Server) setCookie(c *fiber.Ctx, name, value string, ttl time.Duration) {
	c.Cookie(&fiber.Cookie{Name: name, Value: value, Path: "/", HTTPOnly: true, Secure: s.Secure, SameSite: "Lax",
		MaxAge: int(ttl / time.Second), Expires: time.Now().Add(ttl)})
}

// clearCookie removes one of Rampe's cookies.
func (s *Server) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", HTTPOnly: true, Secure: s.Secure, SameSite: "Lax",
		MaxAge: -1, Expires: time.Unix(1, 0)})
}

// loadUser puts the signed-in user, if any, in the context.
func (s *Server) loadUser(c *fiber.Ctx) error {
	if tok := c.Cookies(sessionCookie); tok != "" {
		if u, sid, err := s.Accounts.UserBySession(c.UserContext(), tok); err == nil {
			c.Locals(userKey, u)
			c.Locals(sessionKey, sid)
		}
	}
	return c.Next()
}

// signedIn sends anonymous visitors to the sign-in page.
func signedIn(c *fiber.Ctx) error {
	if _, ok := c.Locals(userKey).(*accounts.User); !ok {
		if c.Get("HX-Request") == "true" {
			c.Set("HX-Redirect", "/login")
			return c.SendStatus(fiber.StatusUnauthorized)
		}
		return c.Redirect("/login?next=" + url.QueryEscape(c.OriginalURL()))
	}
	return c.Next()
}

// writer refuses viewers: they read only.
func writer(c *fiber.Ctx) error {
	u := currentUser(c)
	if u == nil || !u.Role.CanWrite() {
		return fiber.NewError(fiber.StatusForbidden, "your role (viewer) can read but not change anything")
	}
	return c.Next()
}

// admin allows admins only.
func admin(c *fiber.Ctx) error {
	u := currentUser(c)
	if u == nil || u.Role != accounts.Admin {
		return fiber.NewError(fiber.StatusForbidden, "only an admin can do this")
	}
	return c.Next()
}

func currentUser(c *fiber.Ctx) *accounts.User {
	u, _ := c.Locals(userKey).(*accounts.User)
	return u
}

// apiAuth resolves a bearer token; the API never uses cookies, so it needs
// no CSRF token.
func (s *Server) apiAuth(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return apiFail(c, fiber.StatusUnauthorized, "unauthorized", "send an API token: Authorization: Bearer rmp_…", "")
	}
	u, err := s.Accounts.UserByAPIToken(c.UserContext(), strings.TrimSpace(tok))
	if err != nil {
		return apiFail(c, fiber.StatusUnauthorized, "unauthorized", "unknown or revoked API token", "")
	}
	c.Locals(userKey, u)
	return c.Next()
}

func apiWriter(c *fiber.Ctx) error {
	if u := currentUser(c); u == nil || !u.Role.CanWrite() {
		return apiFail(c, fiber.StatusForbidden, "forbidden", "the token's user is a viewer and may only read", "")
	}
	return c.Next()
}

func isAPI(c *fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/api/") }

// maxBody bounds request bodies everywhere but the catalog upload, which
// streams to disk: the app accepts up to 1 GiB for that one route.
const maxBody = 2 << 20

// validText refuses, before any handler, a query or form parameter or a
// JSON string the databases cannot store: PostgreSQL rejects a NUL byte
// and invalid UTF-8 with an error, which surfaced as a 500. The answer
// names the parameter.
func validText(c *fiber.Ctx) error {
	bad := ""
	check := func(key, value []byte) {
		if bad == "" && (!utf8.Valid(value) || bytes.IndexByte(value, 0) >= 0 || !utf8.Valid(key)) {
			bad = strings.ToValidUTF8(string(key), "?")
		}
	}
	c.Request().URI().QueryArgs().VisitAll(check)
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationForm) {
		c.Request().PostArgs().VisitAll(check)
	}
	msg := ""
	switch {
	case bad != "":
		msg = fmt.Sprintf("parameter %q is not valid text: it holds a NUL byte or invalid UTF-8", bad)
	case strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) && !rawUploadRoutes[c.Path()] && bytes.Contains(c.Body(), []byte(`\u0000`)):
		msg = `a JSON string holds a NUL character (\u0000), which cannot be stored`
	default:
		return c.Next()
	}
	if isAPI(c) {
		return apiFail(c, fiber.StatusBadRequest, "invalid", msg, bad)
	}
	return fiber.NewError(fiber.StatusBadRequest, msg)
}

// limitBody refuses, before anything reads it, a body over 2 MiB (or of
// unknown length) on every route but the streamed uploads, which bound
// theirs as they read (readUpload).
func limitBody(c *fiber.Ctx) error {
	n := c.Request().Header.ContentLength()
	if n == 0 || n == -2 {
		return c.Next()
	}
	if c.Method() == fiber.MethodPost && (uploadRoutes[c.Path()] && isMultipart(c) || rawUploadRoutes[c.Path()]) {
		if int64(n) > maxUploadBody() {
			return fiber.NewError(fiber.StatusRequestEntityTooLarge, uploadTooLarge())
		}
		return c.Next()
	}
	if n > maxBody || n == -1 {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "request body too large (the limit is 2 MiB)")
	}
	return c.Next()
}

// closeUnreadBody closes the connection after a response given before
// the request's body was read (a refusal, a redirect to sign-in): the
// unread rest of the body would otherwise be read as the next request.
func closeUnreadBody(c *fiber.Ctx) error {
	err := c.Next()
	if n := c.Request().Header.ContentLength(); (n > 0 || n == -1) && c.Request().IsBodyStream() {
		c.Context().SetConnectionClose()
	}
	return err
}
