// Package audience owns who the e-mail channel may write to: contacts
// (a normalised address, unique case-insensitively, with their attributes
// and consent status), the history of every consent change, the global
// suppression list that nothing overrides, lists with their public
// double-opt-in subscription, segments (attribute filters evaluated in
// SQL), and streaming imports. The sending code asks Mailable for keyset
// pages of recipients and Count for what a campaign's audience excludes
// and why; it reports unsubscribes, bounces and complaints with Suppress.
package audience

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/mailer"
)

// Consent statuses of a contact.
const (
	Pending      = "pending"  // awaiting double opt-in; not mailable
	OptedIn      = "opted_in" // consent given (import, API, a list without double opt-in)
	Confirmed    = "confirmed"
	Unsubscribed = "unsubscribed"
	Bounced      = "bounced"
	Complained   = "complained"
)

// Statuses lists every consent status, mailable ones first.
var Statuses = []string{OptedIn, Confirmed, Pending, Unsubscribed, Bounced, Complained}

// SuppressReasons are the statuses that put an address on the suppression list.
var SuppressReasons = []string{Unsubscribed, Bounced, Complained}

// MailableStatus tells whether a status allows sending (suppression aside).
func MailableStatus(st string) bool { return st == OptedIn || st == Confirmed }

func suppressing(st string) bool { return st == Unsubscribed || st == Bounced || st == Complained }

// Migrations of the audience tables.
var Migrations = []db.Migration{
	{ID: "2026120210_audience", SQL: `
CREATE TABLE contacts (id {{id}}, email VARCHAR(254) NOT NULL, email_key VARCHAR(254) NOT NULL, name VARCHAR(200) NOT NULL DEFAULT '',
  locale VARCHAR(35) NOT NULL DEFAULT '', country VARCHAR(2) NOT NULL DEFAULT '', time_zone VARCHAR(64) NOT NULL DEFAULT '',
  attrs TEXT NOT NULL DEFAULT '{}', status VARCHAR(20) NOT NULL, created_at {{ts}} NOT NULL, updated_at {{ts}} NOT NULL);
CREATE UNIQUE INDEX contacts_email_key ON contacts (email_key);
CREATE INDEX contacts_status ON contacts (status, id);
CREATE TABLE consent_events (id {{id}}, contact_id {{bigint}} NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  status VARCHAR(20) NOT NULL, previous VARCHAR(20) NOT NULL DEFAULT '', source VARCHAR(20) NOT NULL, ip VARCHAR(64) NOT NULL DEFAULT '',
  note VARCHAR(300) NOT NULL DEFAULT '', at {{ts}} NOT NULL);
CREATE INDEX consent_events_contact ON consent_events (contact_id, id);
CREATE TABLE email_suppressions (email_key VARCHAR(254) PRIMARY KEY, reason VARCHAR(20) NOT NULL, source VARCHAR(20) NOT NULL,
  created_at {{ts}} NOT NULL);
CREATE TABLE email_lists (id {{id}}, name VARCHAR(100) NOT NULL UNIQUE, token VARCHAR(40) NOT NULL UNIQUE,
  double_opt_in BOOLEAN NOT NULL DEFAULT TRUE, created_at {{ts}} NOT NULL);
CREATE TABLE list_members (list_id {{bigint}} NOT NULL REFERENCES email_lists(id) ON DELETE CASCADE,
  contact_id {{bigint}} NOT NULL REFERENCES contacts(id) ON DELETE CASCADE, created_at {{ts}} NOT NULL, PRIMARY KEY (list_id, contact_id));
CREATE INDEX list_members_contact ON list_members (contact_id);
CREATE TABLE segments (id {{id}}, name VARCHAR(100) NOT NULL UNIQUE, list_id {{bigint}} NOT NULL DEFAULT 0, filters TEXT NOT NULL DEFAULT '[]',
  created_at {{ts}} NOT NULL);
CREATE TABLE contact_imports (id {{id}}, filename VARCHAR(255) NOT NULL, format VARCHAR(10) NOT NULL, status VARCHAR(20) NOT NULL,
  partial BOOLEAN NOT NULL DEFAULT FALSE, list_id {{bigint}} NOT NULL DEFAULT 0, bytes_total {{bigint}} NOT NULL DEFAULT 0,
  bytes_read {{bigint}} NOT NULL DEFAULT 0, rows_read {{bigint}} NOT NULL DEFAULT 0, rows_imported {{bigint}} NOT NULL DEFAULT 0,
  rows_invalid {{bigint}} NOT NULL DEFAULT 0, rows_suppressed {{bigint}} NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '',
  created_by VARCHAR(254) NOT NULL DEFAULT '', created_at {{ts}} NOT NULL, finished_at {{ts}});
CREATE TABLE contact_import_errors (id {{id}}, import_id {{bigint}} NOT NULL REFERENCES contact_imports(id) ON DELETE CASCADE,
  line {{bigint}} NOT NULL, col VARCHAR(100) NOT NULL, value TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX contact_import_errors_import ON contact_import_errors (import_id, line);
CREATE TABLE staged_contacts (id {{id}}, import_id {{bigint}} NOT NULL, line {{bigint}} NOT NULL, email VARCHAR(254) NOT NULL,
  email_key VARCHAR(254) NOT NULL, name VARCHAR(200) NOT NULL DEFAULT '', locale VARCHAR(35) NOT NULL DEFAULT '',
  country VARCHAR(2) NOT NULL DEFAULT '', time_zone VARCHAR(64) NOT NULL DEFAULT '', attrs TEXT NOT NULL DEFAULT '{}',
  status VARCHAR(20) NOT NULL DEFAULT '', suppressed BOOLEAN NOT NULL DEFAULT FALSE, existing BOOLEAN NOT NULL DEFAULT FALSE,
  previous VARCHAR(20) NOT NULL DEFAULT '');
CREATE INDEX staged_contacts_import ON staged_contacts (import_id, email_key, line);
CREATE TABLE subscribe_hits (bucket VARCHAR(200) PRIMARY KEY, hits {{bigint}} NOT NULL, expires_at {{ts}} NOT NULL)`},
}

// Contact is one address and what is known of its owner.
type Contact struct {
	ID        uint64            `gorm:"primaryKey" json:"id"`
	Email     string            `json:"email"`
	EmailKey  string            `json:"-"`
	Name      string            `json:"name"`
	Locale    string            `json:"locale"`
	Country   string            `json:"country"`
	TimeZone  string            `json:"time_zone"`
	Attrs     map[string]string `gorm:"serializer:json" json:"attributes"`
	Status    string            `json:"status"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// ConsentEvent is one change of a contact's consent status.
type ConsentEvent struct {
	ID        uint64    `gorm:"primaryKey" json:"id"`
	ContactID uint64    `json:"contact_id"`
	Status    string    `json:"status"`
	Previous  string    `json:"previous"`
	Source    string    `json:"source"` // import, api, ui, subscribe, confirm, unsubscribe, bounce, complaint
	IP        string    `gorm:"column:ip" json:"ip"`
	Note      string    `json:"note"`
	At        time.Time `json:"at"`
}

// Suppression is an address that is never mailed again.
type Suppression struct {
	EmailKey  string    `gorm:"primaryKey" json:"email"`
	Reason    string    `json:"reason"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName of suppressions.
func (Suppression) TableName() string { return "email_suppressions" }

// List is a mailing list with its public subscription token.
type List struct {
	ID          uint64    `gorm:"primaryKey" json:"id"`
	Name        string    `json:"name"`
	Token       string    `json:"token"`
	DoubleOptIn bool      `json:"double_opt_in"`
	CreatedAt   time.Time `json:"created_at"`
	Members     int64     `gorm:"-" json:"members"`
}

// TableName of lists.
func (List) TableName() string { return "email_lists" }

type member struct {
	ListID    uint64
	ContactID uint64
	CreatedAt time.Time
}

func (member) TableName() string { return "list_members" }

// Errors of the package; web maps them to statuses.
var (
	ErrNotFound     = errors.New("audience: not found")
	ErrSuppressed   = errors.New("audience: the address is on the suppression list")
	ErrRateLimited  = errors.New("audience: too many subscriptions; try again later")
	ErrInvalidToken = errors.New("audience: invalid or expired token")
)

// Service is the audience's API.
type Service struct {
	DB     *gorm.DB
	Secret []byte
	Clock  clock.Clock
	// Send delivers the double opt-in confirmation (nil: none is sent,
	// and subscribing to a double opt-in list fails).
	Send func(ctx context.Context, m mailer.Message) error
	// BaseURL is the public base URL of confirmation links.
	BaseURL string
	// Limits of the public subscription (zero: the defaults).
	Limits Limits
}

func (s *Service) now() time.Time { return clock.Or(s.Clock).Now() }
