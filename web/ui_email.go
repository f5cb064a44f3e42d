package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// The e-mail channel's pages: a campaign's message (editor, preview at
// desktop and phone widths, proof) and its sends (progress, pause and
// resume, report), and the public unsubscribe page.

func (s *Server) emailOn(c *fiber.Ctx) error {
	if s.Email == nil {
		return fiber.NewError(fiber.StatusNotFound, "the e-mail channel is not connected")
	}
	return c.Next()
}

// emailCampaign loads the campaign of the URL, which must be on the
// e-mail channel.
func (s *Server) emailCampaign(c *fiber.Ctx) (*campaigns.Campaign, error) {
	camp, err := s.loadCampaign(c)
	if err != nil {
		return nil, err
	}
	if !camp.Has(campaigns.Email) {
		return nil, fiber.NewError(fiber.StatusNotFound, "this campaign is not on the e-mail channel: add the channel on its edit page first")
	}
	return camp, nil
}

func messageForm(c *fiber.Ctx, campaignID uint64) (*email.Message, error) {
	m := &email.Message{CampaignID: campaignID, FromName: c.FormValue("from_name"), FromAddr: c.FormValue("from"), ReplyTo: c.FormValue("reply_to"),
		Subject: c.FormValue("subject"), Preheader: c.FormValue("preheader"), Format: c.FormValue("format"), Body: c.FormValue("body"),
		UTMSource: c.FormValue("utm_source"), UTMCampaign: c.FormValue("utm_campaign"), ProofTo: c.FormValue("proof_to")}
	for f, dst := range map[string]*uint64{"list_id": &m.ListID, "segment_id": &m.SegmentID} {
		if v := strings.TrimSpace(c.FormValue(f)); v != "" {
			n, err := strconv.ParseUint(v, 10, 63)
			if err != nil {
				return m, &email.FieldError{Field: f, Msg: fmt.Sprintf("%q is not an id", v)}
			}
			*dst = n
		}
	}
	return m, nil
}

func (s *Server) showEmail(c *fiber.Ctx) error {
	camp, err := s.emailCampaign(c)
	if err != nil {
		return err
	}
	m, err := s.Email.Messages.Get(c.UserContext(), camp.ID)
	if errors.Is(err, email.ErrNotFound) {
		m = &email.Message{CampaignID: camp.ID, Format: email.FormatMarkdown,
			Body: "Bonjour {{or .first_name \"\"}},\n\nNos offres commencent maintenant : [découvrir la sélection]({{.landing_url}}).\n\n{{.products}}\n"}
	} else if err != nil {
		return err
	}
	return s.emailPage(c, fiber.StatusOK, camp, m, nil, m.ID != 0)
}

// emailPage renders the message editor with its sends; saved says the
// message exists (preview and proof are possible).
func (s *Server) emailPage(c *fiber.Ctx, code int, camp *campaigns.Campaign, m *email.Message, formErr error, saved bool, extra ...map[string]any) error {
	ctx := c.UserContext()
	sends, err := s.Email.Sends(ctx, camp.ID)
	if err != nil {
		return err
	}
	views, err := s.sendViews(c, sends)
	if err != nil {
		return err
	}
	sample, _ := strconv.Atoi(c.Query("sample"))
	data := map[string]any{"Campaign": camp, "M": m, "Saved": saved, "Sends": views, "Sample": max(sample, 0) % 5}
	// Every wrong field is named by its label in the banner, and shown
	// beside its field.
	data["Errs"] = labelledErrors{formErr}
	if formErr != nil {
		data["Err"] = labelledErrors{formErr}
	}
	for _, e := range extra {
		for k, v := range e {
			data[k] = v
		}
	}
	if s.Audience != nil {
		lists, _ := s.Audience.Lists(ctx)
		segs, _ := s.Audience.Segments(ctx)
		data["Lists"], data["Segments"] = lists, segs
	}
	return s.renderStatus(c, code, "email", pageData{Title: i18n.M("E-mail — %s", camp.Name), Nav: "campaigns", Data: data})
}

// sendView is a send with its progress, for the pages.
type sendView struct {
	email.Send
	P        email.Progress
	Pct      int
	Rate     float64
	ETA      i18n.Duration
	At       string
	Bounced  int64
	Unsubbed int64
}

func (s *Server) sendViews(c *fiber.Ctx, sends []email.Send) ([]sendView, error) {
	out := make([]sendView, 0, len(sends))
	for _, sd := range sends {
		r, err := s.Email.Report(c.UserContext(), sd.ID)
		if err != nil {
			return nil, err
		}
		v := sendView{Send: sd, P: r.Progress, Pct: int(r.Progress.Done()*100 + 0.5), Rate: r.Rate, Bounced: r.Bounced, Unsubbed: r.Unsubscribed}
		if r.ETA > 0 {
			v.ETA = i18n.Duration(r.ETA.Round(time.Second))
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Server) saveEmail(c *fiber.Ctx) error {
	camp, err := s.emailCampaign(c)
	if err != nil {
		return err
	}
	m, err := messageForm(c, camp.ID)
	if err == nil {
		err = s.Email.Messages.Save(c.UserContext(), m, currentUser(c).Email)
	}
	if len(fieldIssues(err)) > 0 {
		return s.emailPage(c, fiber.StatusUnprocessableEntity, camp, m, err, false)
	}
	if err != nil {
		return err
	}
	// Saving re-evaluates the campaign's readiness: its e-mail gates read
	// the message.
	if _, _, err := s.Campaigns.Check(c.UserContext(), camp.ID, currentUser(c).Email); err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Message saved. Check the preview at both widths, then send yourself a proof."))
	return c.Redirect(fmt.Sprintf("/campaigns/%d/email", camp.ID), fiber.StatusSeeOther)
}

// previewEmail renders the message for a sample contact, framed by the
// editor with a policy that lets nothing run.
func (s *Server) previewEmail(c *fiber.Ctx) error {
	camp, err := s.emailCampaign(c)
	if err != nil {
		return err
	}
	m, err := s.Email.Messages.Get(c.UserContext(), camp.ID)
	if errors.Is(err, email.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "save the message first")
	}
	if err != nil {
		return err
	}
	i, _ := strconv.Atoi(c.Query("sample"))
	r, err := s.Email.Preview(c.UserContext(), camp, m, max(i, 0))
	if err != nil {
		return fiber.NewError(fiber.StatusUnprocessableEntity, "the message does not render: "+err.Error())
	}
	c.Set("Cache-Control", "no-store")
	c.Set("X-Frame-Options", "SAMEORIGIN")
	c.Set("Content-Security-Policy", previewCSP)
	if c.Query("part") == "text" {
		c.Set("Content-Type", "text/plain; charset=utf-8")
		return c.SendString("To: " + r.To + "\nSubject: " + r.Subject + "\n\n" + r.Text)
	}
	c.Set("Content-Type", "text/html; charset=utf-8")
	return c.SendString(r.HTML)
}

func (s *Server) proofEmail(c *fiber.Ctx) error {
	camp, err := s.emailCampaign(c)
	if err != nil {
		return err
	}
	m, err := s.Email.Messages.Get(c.UserContext(), camp.ID)
	if err != nil {
		s.flash(c, false, i18n.M("Save the message first."))
		return c.Redirect(fmt.Sprintf("/campaigns/%d/email", camp.ID), fiber.StatusSeeOther)
	}
	to := strings.FieldsFunc(c.FormValue("proof_to", m.ProofTo), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' })
	if len(to) > 10 {
		to = to[:10]
	}
	if err := s.Email.Proof(c.UserContext(), camp, m, to); err != nil {
		s.flash(c, false, i18n.M("No proof sent: %s", err.Error()))
	} else {
		s.flash(c, true, i18n.M("Proof sent to %s.", strings.Join(to, ", ")))
	}
	return c.Redirect(fmt.Sprintf("/campaigns/%d/email", camp.ID), fiber.StatusSeeOther)
}

// sendInput reads a send's form: its instant is in the campaign's zone.
func sendInput(c *fiber.Ctx, camp *campaigns.Campaign) (email.SendInput, error) {
	in := email.SendInput{Label: c.FormValue("label"), LocalTime: c.FormValue("local_time"), SkipClicked: c.FormValue("skip_clicked") == "on",
		Subject: c.FormValue("subject")}
	if v := strings.TrimSpace(c.FormValue("at")); v != "" {
		loc, err := clock.Location(camp.TimeZone)
		if err != nil {
			return in, err
		}
		t, err := campaigns.ParseLocal(v, loc)
		if err != nil {
			return in, validation.Errors{fieldErr("at", err)}
		}
		t = t.UTC()
		in.At = &t
	}
	return in, nil
}

func (s *Server) addSend(c *fiber.Ctx) error {
	camp, err := s.emailCampaign(c)
	if err != nil {
		return err
	}
	in, err := sendInput(c, camp)
	if err == nil {
		_, err = s.Email.AddSend(c.UserContext(), camp.ID, in)
	}
	if len(fieldIssues(err)) > 0 {
		// The page again, with what was typed and what is wrong with it.
		m, merr := s.Email.Messages.Get(c.UserContext(), camp.ID)
		if merr != nil {
			m = &email.Message{CampaignID: camp.ID, Format: email.FormatMarkdown}
		}
		form := map[string]string{"label": c.FormValue("label"), "at": c.FormValue("at"), "local_time": c.FormValue("local_time"),
			"subject": c.FormValue("subject"), "skip_clicked": c.FormValue("skip_clicked")}
		return s.emailPage(c, fiber.StatusUnprocessableEntity, camp, m, nil, merr == nil, map[string]any{"SendForm": form, "SendErr": labelledErrors{err}})
	}
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("Send %s planned.", in.Label))
	return c.Redirect(fmt.Sprintf("/campaigns/%d/email#sends", camp.ID), fiber.StatusSeeOther)
}

func (s *Server) loadSend(c *fiber.Ctx) (*email.Send, error) {
	return loadByID(c, s.Email.GetSend, email.ErrNotFound, "there is no send with this id")
}

func (s *Server) sendAction(c *fiber.Ctx) error {
	sd, err := s.loadSend(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	switch c.Params("action") {
	case "pause":
		err = s.Email.PauseSend(ctx, sd.ID)
	case "resume":
		err = s.Email.ResumeSend(ctx, sd.ID)
	case "delete":
		err = s.Email.DeleteSend(ctx, sd.ID)
	}
	if err != nil {
		s.flash(c, false, err.Error())
	} else {
		s.flash(c, true, i18n.M("Send %s: %s done.", sd.Label, c.Params("action")))
	}
	return c.Redirect(fmt.Sprintf("/campaigns/%d/email#sends", sd.CampaignID), fiber.StatusSeeOther)
}

// showSendsFragment is the sends table alone, polled while a send runs.
func (s *Server) showSendsFragment(c *fiber.Ctx) error {
	camp, err := s.emailCampaign(c)
	if err != nil {
		return err
	}
	sends, err := s.Email.Sends(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	views, err := s.sendViews(c, sends)
	if err != nil {
		return err
	}
	u := currentUser(c)
	return s.renderFragment(c, "email", "sends_table", map[string]any{"Campaign": camp, "Sends": views, "CSRF": s.csrfToken(c), "CanWrite": u != nil && u.Role.CanWrite()})
}

func (s *Server) showSend(c *fiber.Ctx) error {
	sd, err := s.loadSend(c)
	if err != nil {
		return err
	}
	camp, err := s.Campaigns.Get(c.UserContext(), sd.CampaignID)
	if err != nil {
		return err
	}
	r, err := s.Email.Report(c.UserContext(), sd.ID)
	if err != nil {
		return err
	}
	stats, err := s.Clicks.Stats(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	var links []any
	for _, l := range stats {
		if l.Channel == campaigns.Email {
			links = append(links, l)
		}
	}
	return s.render(c, "send", pageData{Title: i18n.M("Send %s — %s", sd.Label, camp.Name), Nav: "campaigns",
		Data: map[string]any{"Campaign": camp, "R": r, "Links": links, "Pct": int(r.Progress.Done()*100 + 0.5)}})
}

// The public unsubscribe page: GET shows a confirm button, POST (the
// button, or a mail client's RFC 8058 one-click) unsubscribes with no
// sign-in. A forged token is a 404 that says nothing.
func (s *Server) showUnsubscribe(c *fiber.Ctx) error {
	if s.Email == nil {
		return fiber.ErrNotFound
	}
	u, err := s.Email.LookupUnsubscribe(c.UserContext(), c.Params("token"))
	if errors.Is(err, email.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.Set("X-Robots-Tag", "noindex")
	c.Set("Cache-Control", "no-store")
	s.speakContact(c, u.Locale)
	return s.renderPublic(c, fiber.StatusOK, "unsubscribe", map[string]any{"U": u, "Token": c.Params("token"), "Done": false})
}

func (s *Server) doUnsubscribe(c *fiber.Ctx) error {
	if s.Email == nil {
		return fiber.ErrNotFound
	}
	token := c.Params("token")
	source := "unsubscribe link"
	if strings.Contains(string(c.Body()), "List-Unsubscribe=One-Click") {
		source = "one-click"
	}
	err := s.Email.Unsubscribe(c.UserContext(), token, source, c.IP())
	if errors.Is(err, email.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.Set("Cache-Control", "no-store")
	if source != "unsubscribe link" {
		return c.SendStatus(fiber.StatusOK)
	}
	u, err := s.Email.LookupUnsubscribe(c.UserContext(), token)
	if err != nil {
		return err
	}
	s.speakContact(c, u.Locale)
	return s.renderPublic(c, fiber.StatusOK, "unsubscribe", map[string]any{"U": u, "Token": token, "Done": true})
}

// speakContact answers a contact in their own language (their locale,
// "fr-FR" or "fr"), else in their browser's.
func (s *Server) speakContact(c *fiber.Ctx, locale string) {
	base, _, _ := strings.Cut(strings.ReplaceAll(locale, "_", "-"), "-")
	c.Locals(langKey, i18n.Match(strings.ToLower(base), c.Get(fiber.HeaderAcceptLanguage)))
}

// emailNow says in a line where a campaign's sends stand, for its page:
// "Launch: sending, 41 % (2050 of 5000 sent)".
func (s *Server) emailNow(c *fiber.Ctx, camp *campaigns.Campaign) string {
	if s.Email == nil || !camp.Has(campaigns.Email) {
		return ""
	}
	sends, err := s.Email.Sends(c.UserContext(), camp.ID)
	if err != nil || len(sends) == 0 {
		return ""
	}
	var parts []string
	for _, sd := range sends {
		p, err := s.Email.Progress(c.UserContext(), sd.ID)
		if err != nil {
			return ""
		}
		parts = append(parts, s.tr(c, i18n.M("%s: %s, %.0f %% (%d of %d sent)", sd.Label, i18n.Message{Format: string(sd.Status)}, p.Done()*100, p.Sent, p.Total)))
	}
	return strings.Join(parts, " · ")
}
