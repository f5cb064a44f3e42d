package web

import (
	"bytes"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/valyala/fasthttp"

	"github.com/rampe/rampe/channels/display"
)

var (
	tagPrefix   = []byte("/d/")
	suffixJS    = []byte(".js")
	suffixHTML  = []byte(".html")
	typeJS      = []byte("text/javascript; charset=utf-8")
	typeHTML    = []byte("text/html; charset=utf-8")
	headerSetCk = []byte("Set-Cookie")
	headerUA    = []byte("User-Agent")
	capCookie   = []byte(display.CapCookie)
	// The iframe variant shows an image and a link: nothing else loads.
	frameCSP = []byte("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
)

// fastTags answers GET and HEAD of ad tags, /d/{placement}.js and
// /d/{placement}.html, before fiber's router, as fastPages does for
// landing pages: they are served on partners' pages at their traffic.
// Anything else under /d/ (images, odd paths) goes through fiber.
func (s *Server) fastTags(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if s.Display == nil || !ctx.IsGet() && !ctx.IsHead() {
			next(ctx)
			return
		}
		key, kind, ok := tagKey(ctx.Request.Header.RequestURI())
		if !ok {
			next(ctx)
			return
		}
		start := ctx.Time()
		defer func() {
			if v := recover(); v != nil {
				slog.Error("web: panic serving an ad tag", "placement", string(key), "panic", v)
				ctx.ResetBody()
				ctx.Error("something went wrong on our side; it has been logged", fiber.StatusInternalServerError)
			}
			method := fiber.MethodGet
			if ctx.IsHead() {
				method = fiber.MethodHead
			}
			m := metricFor(method, "/d/:placement", ctx.Response.StatusCode())
			m.count.Inc()
			m.latency.Observe(time.Since(start).Seconds())
		}()
		s.writeTag(ctx, utils.UnsafeString(key), kind, s.now())
	}
}

// tagKey reads the placement and form of a tag's URI (a query string is
// ignored: pages add cache busters).
func tagKey(uri []byte) ([]byte, display.Kind, bool) {
	rest, ok := bytes.CutPrefix(uri, tagPrefix)
	if !ok {
		return nil, 0, false
	}
	if i := bytes.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	kind := display.Script
	key, ok := bytes.CutSuffix(rest, suffixJS)
	if !ok {
		if key, ok = bytes.CutSuffix(rest, suffixHTML); !ok {
			return nil, 0, false
		}
		kind = display.Frame
	}
	if len(key) == 0 || len(key) > 60 {
		return nil, 0, false
	}
	for _, c := range key {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return nil, 0, false
		}
	}
	return key, kind, true
}

// writeTag answers a tag from the display snapshot: the creative, a
// private short max-age (rotation and the cap cookie make it the
// visitor's), and the cap cookie when it changed.
func (s *Server) writeTag(ctx *fasthttp.RequestCtx, key string, kind display.Kind, now time.Time) {
	h := &ctx.Response.Header
	h.SetCanonical(headerNoSniff, valueNoSniff)
	if kind == display.Frame {
		h.SetContentTypeBytes(typeHTML)
		h.SetCanonical(headerCSP, frameCSP)
	} else {
		h.SetContentTypeBytes(typeJS)
	}
	out, err := s.Display.Tag(key, kind, ctx.Request.Header.PeekBytes(headerUA), ctx.Request.Header.CookieBytes(capCookie), now, !ctx.IsHead())
	if errors.Is(err, display.ErrNoPlacement) {
		h.Set("Cache-Control", "no-store")
		ctx.SetStatusCode(fiber.StatusNotFound)
		if kind == display.Frame {
			ctx.SetBodyString("<!doctype html><meta charset=utf-8><title>No such placement</title>\n")
		} else {
			ctx.SetBodyString("/* rampe: no such placement */\n")
		}
		return
	}
	var cc [40]byte
	h.SetCanonical(headerCacheControl, strconv.AppendInt(append(cc[:0], "private, max-age="...), int64(s.DisplayMaxAge/time.Second), 10))
	if out.Cookie != "" {
		v := display.CapCookie + "=" + out.Cookie + "; Path=/d/; Max-Age=172800; HttpOnly; SameSite=Lax"
		if s.Secure {
			// Partners' pages are other sites: the cookie goes along
			// only as SameSite=None, which needs Secure.
			v = display.CapCookie + "=" + out.Cookie + "; Path=/d/; Max-Age=172800; HttpOnly; Secure; SameSite=None"
		}
		h.SetCanonical(headerSetCk, []byte(v))
	}
	ctx.SetBody(out.Body)
}

// serveTag is the router's way to a tag (what fastTags passes on is
// malformed: it gets the 404).
func (s *Server) serveTag(c *fiber.Ctx) error {
	if s.Display == nil {
		return fiber.ErrNotFound
	}
	key, kind, ok := tagKey([]byte(c.OriginalURL()))
	if !ok {
		return fiber.NewError(fiber.StatusNotFound, "there is no ad tag at "+c.Path())
	}
	s.writeTag(c.Context(), string(key), kind, s.now())
	return nil
}

// serveCreativeImage serves a creative's bytes under its hash: they never
// change, so they are cached for a year.
func (s *Server) serveCreativeImage(c *fiber.Ctx) error {
	if s.Display == nil {
		return fiber.ErrNotFound
	}
	cr, err := s.Display.Image(c.UserContext(), c.Params("file"))
	if errors.Is(err, display.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "there is no creative at "+c.Path())
	}
	if err != nil {
		return err
	}
	c.Set("Content-Type", cr.MIME)
	c.Set("Cache-Control", "public, max-age=31536000, immutable")
	c.Set("Content-Security-Policy", "default-src 'none'")
	return c.Send(cr.Data)
}
