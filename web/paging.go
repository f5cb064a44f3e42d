package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/validation"
)

// paging is the keyset of a list request: after the row with id After (0:
// the first page), at most Limit rows (0: the list's page size).
type paging struct {
	After uint64
	Limit int
}

// parsePaging reads the after and limit query parameters of a list, shared
// by the UI and the API. After is a row id: a whole number from 0 to the
// largest id a database stores (2^63-1); limit is from 1 to maxLimit.
// Anything else (negative, not a number, too large) is a *FieldError
// naming the parameter.
func parsePaging(c *fiber.Ctx, maxLimit int) (paging, *campaigns.FieldError) {
	var p paging
	if a := c.Query("after"); a != "" {
		v, err := strconv.ParseInt(a, 10, 64)
		if err != nil || v < 0 {
			return p, validation.Field("after", "want the id of the last row of the previous page (a whole number from 0 to 9223372036854775807), got %q", a)
		}
		p.After = uint64(v)
	}
	if l := c.Query("limit"); l != "" {
		v, err := strconv.Atoi(l)
		if err != nil || v < 1 || v > maxLimit {
			return p, validation.Field("limit", "want a whole number from 1 to %s, got %q", strconv.Itoa(maxLimit), l)
		}
		p.Limit = v
	}
	return p, nil
}

// thousands writes a whole number as people read counts: 5,000.
func thousands(v any) string {
	s := fmt.Sprint(v)
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// queryPart is a page's filters as the query part of its links: encoded
// here, and marked so that html/template, which would escape "=" and "&"
// of a plain string in a query ("channel%3demail"), leaves it as it is.
// Only url.Values's own encoding goes through it; empty values are left
// out.
func queryPart(v url.Values) template.URL {
	kept := url.Values{}
	for k, vs := range v {
		for _, x := range vs {
			if x != "" {
				kept.Add(k, x)
			}
		}
	}
	return template.URL(kept.Encode())
}
