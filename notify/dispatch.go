package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/lease"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/validation"
)

// Delivery states and limits.
const (
	Pending     = "pending"
	Sending     = "sending"
	Sent        = "sent"
	Failed      = "failed"
	maxAttempts = 8
	collectSize = 200
)

// backoff is the wait before attempt n+1: 30 s, 1 min, 2 min … at most 1 h.
func backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Collect turns the alerts raised since the last collection into
// deliveries, in one transaction that moves the cursor: two workers never
// collect the same alerts. A fresh deployment starts from its newest alert
// rather than mailing its whole history.
func (s *Service) Collect(ctx context.Context) (int, error) {
	var cur cursor
	err := s.DB.WithContext(ctx).Where("id = 1").Take(&cur).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		last, err := s.Alerts.LastAlertID(ctx)
		if err != nil {
			return 0, err
		}
		return 0, s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&cursor{ID: 1, LastAlertID: last}).Error
	}
	if err != nil {
		return 0, err
	}
	alerts, err := s.Alerts.AlertsAfter(ctx, cur.LastAlertID, collectSize)
	if err != nil || len(alerts) == 0 {
		return 0, err
	}
	recipients, prefs, err := s.audience(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&cursor{}).Where("id = 1 AND last_alert_id = ?", cur.LastAlertID).Update("last_alert_id", alerts[len(alerts)-1].ID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errNoSlot
		}
		var out []Delivery
		for _, a := range alerts {
			fresh, err := s.changed(tx, a)
			if err != nil {
				return err
			}
			if fresh {
				out = append(out, s.deliveriesFor(a, recipients, prefs)...)
			}
		}
		n = len(out)
		if n == 0 {
			return nil
		}
		return tx.CreateInBatches(out, db.InsertBatch).Error
	})
	if errors.Is(err, errNoSlot) {
		return 0, nil
	}
	return n, err
}

// changed records the alert as its campaign's latest of its kind and tells
// whether its text differs from the last one told (no storm).
func (s *Service) changed(tx *gorm.DB, a campaigns.Alert) (bool, error) {
	h := hash(a.Message)
	var k key
	err := tx.Where("campaign_id = ? AND kind = ?", a.CampaignID, a.Kind).Take(&k).Error
	if err == nil && k.MessageHash == h {
		return false, nil
	}
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return false, err
	}
	return true, tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&key{CampaignID: a.CampaignID, Kind: a.Kind, MessageHash: h, AlertID: a.ID}).Error
}

func (s *Service) audience(ctx context.Context) ([]Recipient, map[uint64]Pref, error) {
	recipients, err := s.Users.Recipients(ctx)
	if err != nil {
		return nil, nil, err
	}
	var list []Pref
	if err := s.DB.WithContext(ctx).Find(&list).Error; err != nil {
		return nil, nil, err
	}
	prefs := make(map[uint64]Pref, len(list))
	for _, p := range list {
		prefs[p.UserID] = p
	}
	return recipients, prefs, nil
}

// msgAlertMail is the body of an alert e-mail.
var msgAlertMail = i18n.Key("%s\n\n%s\n\nRaised at %s UTC. Choose what Rampe sends you at %s/settings/notifications.\n")

func (s *Service) deliveriesFor(a campaigns.Alert, recipients []Recipient, prefs map[uint64]Pref) []Delivery {
	link := fmt.Sprintf("%s/campaigns/%d", s.BaseURL, a.CampaignID)
	if a.CampaignID == 0 { // a test message
		link = s.BaseURL + "/settings/notifications"
	}
	// The e-mail speaks its reader's language; the webhook, read by
	// machines and shared channels, keeps the English.
	mail := func(lang string) (string, string) {
		msg := i18n.Text(lang, a.Say())
		return "[Rampe] " + truncate(msg, 150), i18n.T(lang, msgAlertMail, msg, link, a.CreatedAt.UTC().Format("2006-01-02 15:04"), s.BaseURL)
	}
	hook, _ := json.Marshal(map[string]any{
		"text": "Rampe alert: " + a.Message + " " + link,
		"rampe": map[string]any{"alert_id": a.ID, "campaign_id": a.CampaignID, "kind": a.Kind, "message": a.Message, "url": link,
			"raised_at": a.CreatedAt.UTC()},
	})
	now := s.now()
	var out []Delivery
	for _, r := range recipients {
		p := prefs[r.ID]
		if p.Email && s.EmailReady {
			subject, text := mail(r.Lang)
			out = append(out, Delivery{AlertID: a.ID, UserID: r.ID, Channel: "email", Target: r.Email, Subject: subject, Body: text,
				Status: Pending, NextAttemptAt: now, CreatedAt: now})
		}
		if p.WebhookURL != "" {
			out = append(out, Delivery{AlertID: a.ID, UserID: r.ID, Channel: "webhook", Target: p.WebhookURL, Subject: "[Rampe] " + truncate(a.Message, 150), Body: string(hook),
				Status: Pending, NextAttemptAt: now, CreatedAt: now})
		}
	}
	return out
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Deliver sends the deliveries that are due, each claimed by one worker; a
// failure waits its back-off, and fails for good after maxAttempts.
func (s *Service) Deliver(ctx context.Context) (sent, failed int, err error) {
	now := s.now()
	// A worker that died while sending left its claim: release it.
	if err := s.DB.WithContext(ctx).Model(&Delivery{}).Where("status = ? AND next_attempt_at < ?", Sending, now.Add(-10*time.Minute)).
		Update("status", Pending).Error; err != nil {
		return 0, 0, err
	}
	var due []Delivery
	if err := s.DB.WithContext(ctx).Where("status = ? AND next_attempt_at <= ?", Pending, now).Order("id").Limit(100).Find(&due).Error; err != nil {
		return 0, 0, err
	}
	for _, d := range due {
		res := s.DB.WithContext(ctx).Model(&Delivery{}).Where("id = ? AND status = ?", d.ID, Pending).
			Updates(map[string]any{"status": Sending, "attempts": d.Attempts + 1, "next_attempt_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			continue
		}
		d.Attempts++
		serr := s.send(ctx, d)
		up := map[string]any{"status": Sent, "error": "", "sent_at": s.now()}
		switch {
		case serr == nil:
			sent++
		case d.Attempts >= maxAttempts:
			up = map[string]any{"status": Failed, "error": serr.Error()}
			failed++
		default:
			up = map[string]any{"status": Pending, "error": serr.Error(), "next_attempt_at": s.now().Add(backoff(d.Attempts))}
		}
		if serr != nil {
			slog.Warn("notify: delivery failed", "delivery", d.ID, "channel", d.Channel, "attempt", d.Attempts, "err", serr)
		}
		if err := s.DB.WithContext(ctx).Model(&Delivery{}).Where("id = ?", d.ID).Updates(up).Error; err != nil {
			return sent, failed, err
		}
	}
	return sent, failed, nil
}

func (s *Service) send(ctx context.Context, d Delivery) error {
	if d.Channel == "email" {
		return s.Send.Email(ctx, d.Target, d.Subject, d.Body)
	}
	return s.Send.Webhook(ctx, d.Target, []byte(d.Body))
}

// Deliveries returns a user's latest deliveries, for their preferences page.
func (s *Service) Deliveries(ctx context.Context, userID uint64, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.DB.WithContext(ctx).Where("user_id = ?", userID).Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// Test queues a test message to each of a user's channels now.
func (s *Service) Test(ctx context.Context, r Recipient) (int, error) {
	p, err := s.Pref(ctx, r.ID)
	if err != nil {
		return 0, err
	}
	test := i18n.M("Test from Rampe: alerts reach you here.")
	a := campaigns.Alert{Kind: "test", Message: test.String(), MessageTexts: i18n.Render(test), CreatedAt: s.now()}
	out := s.deliveriesFor(a, []Recipient{r}, map[uint64]Pref{r.ID: p})
	if len(out) == 0 {
		return 0, validation.Field("email", "choose e-mail (with smtp.url set) or a webhook first")
	}
	return len(out), s.DB.WithContext(ctx).Create(&out).Error
}

// Run collects and delivers now and every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	round := func(ctx context.Context) {
		if _, err := s.Collect(ctx); err != nil {
			slog.Error("notify: collect alerts", "err", err)
		}
		if _, _, err := s.Deliver(ctx); err != nil {
			slog.Error("notify: deliver", "err", err)
		}
	}
	round(ctx)
	lease.Every(ctx, interval, round)
}

// NetSender sends e-mail through a mailer and webhooks over HTTP.
type NetSender struct {
	Mailer *mailer.Mailer // nil: no smtp.url
	HTTP   *http.Client
}

// Email sends a plain-text e-mail.
func (n NetSender) Email(ctx context.Context, to, subject, text string) error {
	if n.Mailer == nil {
		return errors.New("no SMTP server configured (smtp.url)")
	}
	return n.Mailer.Send(ctx, mailer.Message{To: to, Subject: subject, Text: text})
}

// Webhook posts body as JSON; any answer but 2xx is an error naming it.
func (n NetSender) Webhook(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Rampe-Alerts/1")
	res, err := n.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 300))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %d: %s", res.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// NewHTTPClient is the webhooks' client: a 10 s limit, and no redirect
// followed (a redirect could lead the request where the user may not).
func NewHTTPClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
