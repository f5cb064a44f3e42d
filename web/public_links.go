package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/valyala/fasthttp"

	"github.com/rampe/rampe/channels/clicks"
)

// fastLinks answers GET and HEAD of tracked links, /r/{token}, before
// fiber's router and middleware, as fastPages does for landing pages
// (http.fast_landing; off, /r/ goes through the router to followLink, with
// the same answer): partners' and e-mails' traffic comes through them.
// What it passes on to fiber: another method, a request with a body or a
// query string (the router's middleware checks those), a token of
// characters no token has.
func (s *Server) fastLinks(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if n := ctx.Request.Header.ContentLength(); !ctx.IsGet() && !ctx.IsHead() || n != 0 && n != -2 { // -2: no body (limitBody)
			next(ctx)
			return
		}
		token, ok := linkToken(ctx.Request.Header.RequestURI())
		if !ok {
			next(ctx)
			return
		}
		start := ctx.Time()
		defer func() {
			if v := recover(); v != nil {
				slog.Error("web: panic following a tracked link", "panic", v)
				ctx.ResetBody()
				ctx.Error("something went wrong on our side; it has been logged", fiber.StatusInternalServerError)
			}
			method := fiber.MethodGet
			if ctx.IsHead() {
				method = fiber.MethodHead
			}
			m := metricFor(method, "/r/:token", ctx.Response.StatusCode())
			m.count.Inc()
			m.latency.Observe(time.Since(start).Seconds())
		}()
		s.uiHeaders(&ctx.Response.Header)
		// Not ctx as the context: a RequestCtx is recycled after the
		// request. The token aliases the request buffer: a link that
		// remembers it copies it.
		if err := s.follow(context.Background(), ctx, utils.UnsafeString(token), s.clientIP(ctx)); err != nil {
			slog.Error("web: tracked link", "err", err)
			ctx.Error("something went wrong on our side; it has been logged", fiber.StatusInternalServerError)
		}
	}
}

var linkPrefix = []byte("/r/")

// linkToken returns the token of a request URI /r/{token}: base64url and
// a dot, nothing else (no query string, no trailing slash).
func linkToken(uri []byte) ([]byte, bool) {
	tok, ok := bytes.CutPrefix(uri, linkPrefix)
	if !ok || len(tok) == 0 || len(tok) > 64 {
		return nil, false
	}
	for _, c := range tok {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != '.' {
			return nil, false
		}
	}
	return tok, true
}

// clientIP is the visitor's address as fiber's c.IP() tells it: the
// connection's, or with trusted proxies (http.trusted_proxies) the
// forwarded one, through a fiber context of the app.
func (s *Server) clientIP(ctx *fasthttp.RequestCtx) string {
	if len(s.TrustedProxies) == 0 || s.app == nil {
		return ctx.RemoteIP().String()
	}
	c := s.app.AcquireCtx(ctx)
	defer s.app.ReleaseCtx(c)
	return strings.Clone(c.IP())
}

// followLink answers /r/{token} through fiber's router (the fast path is
// off, or the request is one it passes on).
func (s *Server) followLink(c *fiber.Ctx) error {
	return s.follow(c.UserContext(), c.Context(), c.Params("token"), c.IP())
}

// follow answers a tracked link: a 302 to the link's destination, the
// click recorded and, for a partner link, its click id kept in the
// visitor's cookie; a bare 404 for a token that names no link.
func (s *Server) follow(ctx context.Context, rc *fasthttp.RequestCtx, token, ip string) error {
	ua := rc.Request.Header.UserAgent()
	dest, clickID, err := s.Clicks.FollowFrom(ctx, token, clicks.Visitor{IP: ip, UserAgent: utils.UnsafeString(ua)})
	if errors.Is(err, clicks.ErrNotFound) {
		rc.SetStatusCode(fiber.StatusNotFound)
		rc.Response.SetBodyString("not found")
		return nil
	}
	if err != nil {
		return err
	}
	if clickID != "" {
		s.rememberClick(rc, clickID)
	}
	h := &rc.Response.Header
	h.SetCanonical(headerCacheControl, valueNoStore)
	h.SetCanonical(headerLocation, utils.UnsafeBytes(dest)) // copied into the header
	rc.SetStatusCode(fiber.StatusFound)
	return nil
}

var (
	headerLocation = []byte("Location")
	valueNoStore   = []byte("no-store")
)
