// Package notify takes campaign alerts to the people who asked for them:
// by e-mail (through smtp.url) and to a webhook (a JSON body with a "text"
// field, which Slack- and Teams-compatible incoming webhooks accept). Each
// user chooses in their preferences. There is no storm: one message per
// campaign and kind of alert until its text changes. Deliveries are rows
// in the database, sent by the worker and retried with back-off until
// they go through or fail for good, so none is lost to a restart.
package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/validation"
)

// Migrations of the notification tables.
var Migrations = []db.Migration{
	{ID: "2026120203_notify", SQL: `
CREATE TABLE notify_prefs (user_id {{bigint}} PRIMARY KEY, email BOOLEAN NOT NULL DEFAULT FALSE, webhook_url TEXT NOT NULL DEFAULT '', updated_at {{ts}} NOT NULL);
CREATE TABLE notify_cursor (id INTEGER PRIMARY KEY, last_alert_id {{bigint}} NOT NULL);
CREATE TABLE notify_keys (campaign_id {{bigint}} NOT NULL, kind VARCHAR(40) NOT NULL, message_hash VARCHAR(64) NOT NULL, alert_id {{bigint}} NOT NULL,
  PRIMARY KEY (campaign_id, kind));
CREATE TABLE notify_deliveries (id {{id}}, alert_id {{bigint}} NOT NULL, user_id {{bigint}} NOT NULL, channel VARCHAR(10) NOT NULL, target TEXT NOT NULL,
  subject TEXT NOT NULL, body TEXT NOT NULL, status VARCHAR(10) NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
  next_attempt_at {{ts}} NOT NULL, sent_at {{ts}}, created_at {{ts}} NOT NULL);
CREATE INDEX notify_deliveries_due ON notify_deliveries (status, next_attempt_at)`},
}

// Pref is a user's choice of where alerts go.
type Pref struct {
	UserID     uint64 `gorm:"primaryKey"`
	Email      bool
	WebhookURL string
	UpdatedAt  time.Time
}

// TableName of preferences.
func (Pref) TableName() string { return "notify_prefs" }

type cursor struct {
	ID          int `gorm:"primaryKey"`
	LastAlertID uint64
}

func (cursor) TableName() string { return "notify_cursor" }

type key struct {
	CampaignID  uint64 `gorm:"primaryKey"`
	Kind        string `gorm:"primaryKey"`
	MessageHash string
	AlertID     uint64
}

func (key) TableName() string { return "notify_keys" }

// Delivery is one message to one person by one channel.
type Delivery struct {
	ID            uint64 `gorm:"primaryKey"`
	AlertID       uint64
	UserID        uint64
	Channel       string // email or webhook
	Target        string // the address or the URL
	Subject       string
	Body          string
	Status        string // pending, sent, failed
	Attempts      int
	Error         string
	NextAttemptAt time.Time
	SentAt        *time.Time
	CreatedAt     time.Time
}

// TableName of deliveries.
func (Delivery) TableName() string { return "notify_deliveries" }

// Alerts is what notify reads of the campaigns domain.
type Alerts interface {
	AlertsAfter(ctx context.Context, afterID uint64, limit int) ([]campaigns.Alert, error)
	LastAlertID(ctx context.Context) (uint64, error)
}

// Recipient is a user who may be told.
type Recipient struct {
	ID    uint64
	Email string
	Lang  string // the language the user reads Rampe in ("": English)
}

// Users lists the users notify may write to.
type Users interface {
	Recipients(ctx context.Context) ([]Recipient, error)
}

// Sender delivers one message by one channel.
type Sender interface {
	Email(ctx context.Context, to, subject, text string) error
	Webhook(ctx context.Context, url string, body []byte) error
}

// Service is the notification domain.
type Service struct {
	DB      *gorm.DB
	Alerts  Alerts
	Users   Users
	Send    Sender
	BaseURL string
	// EmailReady tells whether e-mail can be sent (smtp.url set).
	EmailReady bool
	// HTTPHosts may receive webhooks over plain http (alerts.webhook_http_hosts).
	HTTPHosts []string
	Clock     clock.Clock
}

func (s *Service) now() time.Time { return clock.Or(s.Clock).Now() }

// FieldError names the preference that is wrong.
// Its message is translated (platform/validation).
type FieldError = validation.FieldError

// Pref returns a user's preferences (all off when never saved).
func (s *Service) Pref(ctx context.Context, userID uint64) (Pref, error) {
	p := Pref{UserID: userID}
	err := s.DB.WithContext(ctx).Where("user_id = ?", userID).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, nil
	}
	return p, err
}

// SavePref validates and stores a user's preferences.
func (s *Service) SavePref(ctx context.Context, p Pref) error {
	p.WebhookURL = strings.TrimSpace(p.WebhookURL)
	if p.WebhookURL != "" {
		if err := s.checkWebhook(p.WebhookURL); err != nil {
			return err
		}
	}
	p.UpdatedAt = s.now()
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&p).Error
}

// checkWebhook accepts an https URL, or http to a host the operator
// listed: a webhook is a request Rampe makes on a user's word.
func (s *Service) checkWebhook(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || len(raw) > 2000 || u.User != nil {
		return validation.Field("webhook_url", "%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		for _, h := range s.HTTPHosts {
			if strings.EqualFold(h, u.Hostname()) || strings.EqualFold(h, u.Host) {
				return nil
			}
		}
		return validation.Field("webhook_url", "%s: use https (plain http only to hosts listed in alerts.webhook_http_hosts)", u.Host)
	}
	return validation.Field("webhook_url", "scheme %q: use https", u.Scheme)
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

var errNoSlot = errors.New("notify: another worker took these alerts")

// AccountUsers lists the users of the accounts domain as recipients.
type AccountUsers struct{ Store *accounts.Store }

// Recipients returns every user with their e-mail address.
func (u AccountUsers) Recipients(ctx context.Context) ([]Recipient, error) {
	users, err := u.Store.List(ctx)
	out := make([]Recipient, len(users))
	for i, x := range users {
		out[i] = Recipient{ID: x.ID, Email: x.Email, Lang: x.Lang}
	}
	return out, err
}
