package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/valyala/fasthttp"

	"github.com/rampe/rampe/landing"
)

// fastPages wraps the handler fiber built: GET and HEAD under /l/, where
// a campaign's traffic lands, are answered before fiber's router and
// middleware (counted in the same metrics, panics recovered): under wrk,
// Rampe's user-space share of the machine went from 23 % to 19 %. All of
// /l/ is public: what is not a page gets the landing 404 page, never the
// sign-in redirect of the UI. Anything else goes through fiber.
func (s *Server) fastPages(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		uri := ctx.Request.Header.RequestURI()
		if !ctx.IsGet() && !ctx.IsHead() || !bytes.HasPrefix(uri, landingPrefix) {
			next(ctx)
			return
		}
		slug, ok := landingSlug(uri)
		if !ok {
			slug = normalisedSlug(ctx.Path())
		}
		start := ctx.Time() // when fasthttp read the request line
		defer func() {
			if v := recover(); v != nil {
				slog.Error("web: panic serving a landing page", "slug", string(slug), "panic", v)
				ctx.ResetBody()
				ctx.Error("something went wrong on our side; it has been logged", fiber.StatusInternalServerError)
			}
			method := fiber.MethodGet
			if ctx.IsHead() {
				method = fiber.MethodHead // fasthttp sends no body
			}
			m := metricFor(method, "/l/:slug", ctx.Response.StatusCode())
			m.count.Inc()
			m.latency.Observe(time.Since(start).Seconds())
		}()
		// Not ctx as the context: a RequestCtx is recycled after the
		// request, and a render may outlive it (it is shared). The slug
		// aliases the request buffer: Get copies it before keeping it.
		if err := s.writePage(context.Background(), ctx, utils.UnsafeString(slug), start); err != nil {
			slog.Error("web: landing page", "slug", string(slug), "err", err)
			ctx.Error("something went wrong on our side; it has been logged", fiber.StatusInternalServerError)
		}
	}
}

var landingPrefix = []byte("/l/")

// landingPage answers /l/ through fiber's router and middleware when the
// fast path is off (http.fast_landing=false): the same page, headers and
// 404 as fastPages. The landing CSP's frame-ancestors decides who may
// frame a page, not the UI's X-Frame-Options.
func (s *Server) landingPage(c *fiber.Ctx) error {
	ctx := c.Context()
	ctx.Response.Header.Del(fiber.HeaderXFrameOptions)
	slug, ok := landingSlug(ctx.Request.Header.RequestURI())
	if !ok {
		slug = normalisedSlug(ctx.Path())
	}
	return s.writePage(c.UserContext(), ctx, string(slug), ctx.Time())
}

// landingSlug returns the slug of a request URI under /l/ that needs no
// decoding nor normalisation — what campaign links look like, with or
// without a query string. Reading the raw URI spares fasthttp's URI
// parsing: a third of the fast path's CPU under wrk (pprof).
func landingSlug(uri []byte) ([]byte, bool) {
	slug, ok := bytes.CutPrefix(uri, landingPrefix)
	if i := bytes.IndexByte(slug, '?'); i >= 0 {
		slug = slug[:i]
	}
	if !ok || len(slug) == 0 {
		return nil, false
	}
	for _, c := range slug {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return nil, false
		}
	}
	return slug, true
}

// normalisedSlug is what follows /l/ in a path fasthttp has decoded and
// normalised (escapes, dot segments, doubled slashes), less one trailing
// slash. What is no slug (empty, nested, a path that left /l/ once
// normalised) is looked up all the same and gets the 404 page.
func normalisedSlug(path []byte) []byte {
	rest, ok := bytes.CutPrefix(path, landingPrefix)
	if !ok {
		return nil
	}
	return bytes.TrimSuffix(rest, []byte("/"))
}

var (
	headerCacheControl = []byte("Cache-Control")
	headerETag         = []byte("ETag")
	headerLastModified = []byte("Last-Modified")
	headerVary         = []byte("Vary")
	headerNoSniff      = []byte("X-Content-Type-Options")
	headerEncoding     = []byte("Content-Encoding")
	headerCSP          = []byte("Content-Security-Policy")
	headerReferrer     = []byte("Referrer-Policy")
	headerHSTS         = []byte("Strict-Transport-Security")
	valueReferrer      = []byte("strict-origin-when-cross-origin")
	valueHSTS          = []byte(hsts)
	valueAcceptEnc     = []byte("Accept-Encoding")
	valueNoSniff       = []byte("nosniff")
	valueBrotli        = []byte("br")
	valueGzip          = []byte("gzip")
)

// writePage answers a landing page from memory: precompressed bytes,
// strong ETag, 304 on If-None-Match, a proper 404 page. Header names are
// set in their canonical form, skipping fasthttp's normalisation. now is
// when the request arrived: Cache-Control's max-age counts from it.
func (s *Server) writePage(cctx context.Context, ctx *fasthttp.RequestCtx, slug string, now time.Time) error {
	r, err := s.Landing.Get(cctx, slug)
	h := &ctx.Response.Header
	h.SetCanonical(headerNoSniff, valueNoSniff)
	h.SetCanonical(headerCSP, s.landingCSP)
	h.SetCanonical(headerReferrer, valueReferrer)
	if s.Secure {
		h.SetCanonical(headerHSTS, valueHSTS)
	}
	if errors.Is(err, landing.ErrNotFound) {
		h.SetContentType("text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		ctx.SetStatusCode(fiber.StatusNotFound)
		ctx.SetBody(landing.NotFound)
		return nil
	}
	if err != nil {
		return err
	}
	var maxAge [32]byte
	h.SetContentType("text/html; charset=utf-8")
	h.SetCanonical(headerCacheControl, strconv.AppendInt(append(maxAge[:0], "public, max-age="...), int64(r.MaxAge(now)), 10))
	h.SetCanonical(headerETag, r.ETagBytes)
	h.SetCanonical(headerLastModified, r.LastModified)
	h.SetCanonical(headerVary, valueAcceptEnc)
	if inm := ctx.Request.Header.Peek(fiber.HeaderIfNoneMatch); len(inm) > 0 && etagMatch(string(inm), r.ETag) {
		ctx.SetStatusCode(fiber.StatusNotModified)
		return nil
	}
	body := r.HTML
	if ae := ctx.Request.Header.Peek(fiber.HeaderAcceptEncoding); len(ae) > 0 {
		switch landing.PreferredEncoding(string(ae)) {
		case "br":
			h.SetCanonical(headerEncoding, valueBrotli)
			body = r.Brotli
		case "gzip":
			h.SetCanonical(headerEncoding, valueGzip)
			body = r.Gzip
		}
	}
	ctx.SetStatusCode(fiber.StatusOK)
	setPageBody(ctx, body)
	return nil
}

// etagMatch implements If-None-Match's weak comparison over a list.
func etagMatch(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || part == etag || part == "W/"+etag {
			return true
		}
	}
	return false
}
