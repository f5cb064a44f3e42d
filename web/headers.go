package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// The UI's policy: its own scripts, styles and images only, never framed.
const uiCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// landingCSP is the policy of public landing pages: no script runs
// (JSON-LD is data, not script), the inline style block of the page,
// product images from wherever the catalog keeps them, links out but no
// form, and framing only by the origins the merchant allowed
// (landing.frame_ancestors).
func landingCSP(frameAncestors []string) string {
	fa := "'none'"
	if len(frameAncestors) > 0 {
		fa = strings.Join(frameAncestors, " ")
	}
	return "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors " + fa
}

// previewCSP is a landing page's policy for its draft preview, which only
// Rampe itself may frame.
const previewCSP = "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

const hsts = "max-age=31536000"

// securityHeaders gives every answer of fiber's router (pages, partials,
// errors, the API) the UI's headers; a handler that serves something else
// (a landing page preview) replaces the policy. With an https base URL,
// browsers are told to use https only.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	s.uiHeaders(&c.Response().Header)
	return c.Next()
}

// uiHeaders sets the UI's headers (also those of the tracked links' fast
// path, fastLinks, which answers before this middleware).
func (s *Server) uiHeaders(h *fasthttp.ResponseHeader) {
	h.SetCanonical(headerNoSniff, valueNoSniff)
	h.SetCanonical(headerFrameOptions, valueDeny)
	h.SetCanonical(headerReferrer, valueSameOrigin)
	h.SetCanonical(headerCSP, valueUICSP)
	if s.Secure {
		h.SetCanonical(headerHSTS, valueHSTS)
	}
}

var (
	headerFrameOptions = []byte("X-Frame-Options")
	valueDeny          = []byte("DENY")
	valueSameOrigin    = []byte("same-origin")
	valueUICSP         = []byte(uiCSP)
)
