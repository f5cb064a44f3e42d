package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
)

func (s *Server) startLoadCheck(c *fiber.Ctx) error {
	id, _ := parseID(c)
	plan := loadcheck.Plan{CampaignID: id, By: currentUser(c).Email}
	if v := strings.TrimSpace(c.FormValue("rate")); v != "" {
		r, err := money.ParseNumber(v)
		if err != nil || r <= 0 {
			s.flash(c, false, i18n.M("Load check not started: rate %q is not a positive number of requests per second.", v))
			return c.Redirect(fmt.Sprintf("/campaigns/%d", id), fiber.StatusSeeOther)
		}
		plan.Rate = r
	}
	th := loadcheck.DefaultThresholds
	for _, f := range []struct {
		name string
		dst  *float64
		div  float64
	}{{"max_error_pct", &th.MaxErrorRatio, 100}, {"max_p95_ms", &th.MaxP95Ms, 1}, {"max_p99_ms", &th.MaxP99Ms, 1}} {
		if v := strings.TrimSpace(c.FormValue(f.name)); v != "" {
			n, err := money.ParseNumber(strings.TrimSpace(strings.TrimSuffix(v, "%")))
			if err != nil || n <= 0 {
				s.flash(c, false, i18n.M("Load check not started: %s %q is not a positive number.", f.name, v))
				return c.Redirect(fmt.Sprintf("/campaigns/%d", id), fiber.StatusSeeOther)
			}
			*f.dst = n / f.div
		}
	}
	plan.Thresholds = &th
	for i, line := range strings.Split(strings.TrimSpace(c.FormValue("extras")), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		ex := loadcheck.Extra{URL: fields[0], Weight: 1}
		if len(fields) > 1 {
			w, err := strconv.ParseFloat(fields[1], 64)
			if err != nil || w <= 0 || len(fields) > 2 {
				s.flash(c, false, i18n.M("Load check not started: extra URLs line %d: want \"URL weight\", got %q.", i+1, line))
				return c.Redirect(fmt.Sprintf("/campaigns/%d", id), fiber.StatusSeeOther)
			}
			ex.Weight = w
		}
		plan.Extras = append(plan.Extras, ex)
	}
	chk, err := s.LoadChecks.Start(c.UserContext(), plan)
	var re *loadcheck.RefusedError
	switch {
	case errors.As(err, &re):
		s.flash(c, false, i18n.M("Load check refused: %s.", re.Why))
		return c.Redirect(fmt.Sprintf("/campaigns/%d", id), fiber.StatusSeeOther)
	case errors.Is(err, campaigns.ErrNotFound), errors.Is(err, landing.ErrNotFound):
		return fiber.NewError(fiber.StatusNotFound, "no such campaign or landing page")
	case err != nil:
		return err
	}
	return c.Redirect(fmt.Sprintf("/loadchecks/%d", chk.ID), fiber.StatusSeeOther)
}

func (s *Server) loadCheck(c *fiber.Ctx) (*loadcheck.Check, error) {
	return loadByID(c, s.LoadChecks.Store.Show, loadcheck.ErrNotFound, "there is no load check with this id")
}

func (s *Server) showLoadCheck(c *fiber.Ctx) error {
	chk, err := s.loadCheck(c)
	if err != nil {
		return err
	}
	data := map[string]any{"C": chk}
	if chk.CampaignID != nil {
		if camp, err := s.Campaigns.Get(c.UserContext(), *chk.CampaignID); err == nil {
			data["Campaign"] = camp
		}
	}
	if c.Query("fragment") != "" {
		u := currentUser(c)
		data["CanWrite"], data["CSRF"] = u.Role.CanWrite(), s.csrfToken(c)
		c.Set("Content-Type", "text/html; charset=utf-8")
		return s.page(c, "loadcheck").ExecuteTemplate(c.Response().BodyWriter(), "check-body", data)
	}
	return s.render(c, "loadcheck", pageData{Title: i18n.M("Load check #%s", strconv.FormatUint(chk.ID, 10)), Nav: "loadchecks", Data: data})
}

func (s *Server) abortLoadCheck(c *fiber.Ctx) error {
	chk, err := s.loadCheck(c)
	if err != nil {
		return err
	}
	var re *loadcheck.RefusedError
	if err := s.LoadChecks.Store.RequestAbort(c.UserContext(), chk.ID); errors.As(err, &re) {
		s.flash(c, false, i18n.M("Not aborted: %s.", re.Why))
	} else if err != nil {
		return err
	} else if now, err := s.LoadChecks.Store.Get(c.UserContext(), chk.ID); err == nil && now.Status == loadcheck.Aborted {
		s.flash(c, true, i18n.M("Aborted: %s.", now.Say()))
	} else {
		s.flash(c, true, i18n.M("Abort requested: the attack stops within a second."))
	}
	return c.Redirect(fmt.Sprintf("/loadchecks/%d", chk.ID), fiber.StatusSeeOther)
}

// barHeights scales a step's histogram to 60 px bars for the template.
func barHeights(h []loadcheck.Bucket) []map[string]any {
	var top uint64
	for _, b := range h {
		top = max(top, b.Count)
	}
	out := make([]map[string]any, len(h))
	for i, b := range h {
		height := 0.0
		if top > 0 {
			height = 60 * float64(b.Count) / float64(top)
		}
		label := fmt.Sprintf("≤ %.0f ms", b.UpToMs)
		if b.UpToMs == 0 {
			label = "> last"
		}
		out[i] = map[string]any{"X": float64(i) * 22, "Y": 60 - height, "H": height, "Title": fmt.Sprintf("%s: %d requests", label, b.Count)}
	}
	return out
}
