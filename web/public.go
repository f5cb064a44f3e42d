package web

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/landing"
)

// servePage answers /l/{slug} from memory: precompressed bytes, strong ETag,
// 304 on If-None-Match, HEAD without a body (fiber), a proper 404 page.
func (s *Server) servePage(c *fiber.Ctx) error {
	r, err := s.Landing.Get(c.UserContext(), c.Params("slug"))
	if errors.Is(err, landing.ErrNotFound) {
		c.Set("Content-Type", "text/html; charset=utf-8")
		c.Set("Cache-Control", "no-store")
		return c.Status(fiber.StatusNotFound).Send(landing.NotFound)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	h := &c.Response().Header
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(r.MaxAge(now)))
	h.Set("ETag", r.ETag)
	h.Set("Last-Modified", r.LastModified)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatch(inm, r.ETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	body := r.HTML
	switch landing.PreferredEncoding(c.Get(fiber.HeaderAcceptEncoding)) {
	case "br":
		h.Set("Content-Encoding", "br")
		body = r.Brotli
	case "gzip":
		h.Set("Content-Encoding", "gzip")
		body = r.Gzip
	}
	return c.Send(body)
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
