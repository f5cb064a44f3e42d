package web

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/platform/validation"
)

// postbackFilter reads ?partner=&conversion=&status=&limit= of the
// postback log.
func postbackFilter(c *fiber.Ctx) (affiliation.PostbackFilter, *validation.FieldError) {
	var f affiliation.PostbackFilter
	ids := []struct {
		name string
		to   *uint64
	}{{"partner", &f.PartnerID}, {"conversion", &f.ConversionID}}
	for _, q := range ids {
		if v := strings.TrimSpace(c.Query(q.name)); v != "" {
			n, err := strconv.ParseUint(v, 10, 63)
			if err != nil || n == 0 {
				fe := validation.Fieldf(q.name, "%q is not an id", v)
				return f, &fe
			}
			*q.to = n
		}
	}
	f.Status = strings.TrimSpace(c.Query("status"))
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fe := validation.Fieldf("limit", "want 1 to 1000, got %q", v)
			return f, &fe
		}
		f.Limit = n
	}
	return f, nil
}

// apiPostbacks is GET /api/v1/postbacks: the postback log, newest first.
func (s *Server) apiPostbacks(c *fiber.Ctx) error {
	f, fe := postbackFilter(c)
	if fe != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", fe.Msg, fe.Field)
	}
	log, err := s.Affiliation.PostbackLog(c.UserContext(), f)
	var ve validation.Errors
	if errors.As(err, &ve) {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", ve[0].Msg, ve[0].Field)
	}
	if err != nil {
		return err
	}
	return c.JSON(map[string]any{"postbacks": log})
}
