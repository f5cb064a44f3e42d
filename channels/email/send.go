package email

import (
	"context"
	"regexp"
	"time"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// Migrations of messages, sends and the send ledger.
var sendMigrations = []db.Migration{
	{ID: "2026120220_email_sends", SQL: `
CREATE TABLE email_messages (id {{id}}, campaign_id {{bigint}} NOT NULL UNIQUE REFERENCES campaigns(id) ON DELETE CASCADE,
  from_name VARCHAR(100) NOT NULL DEFAULT '', from_addr VARCHAR(254) NOT NULL, reply_to VARCHAR(254) NOT NULL DEFAULT '',
  subject VARCHAR(800) NOT NULL, preheader VARCHAR(800) NOT NULL DEFAULT '', format VARCHAR(10) NOT NULL, body TEXT NOT NULL,
  list_id {{bigint}} NOT NULL DEFAULT 0, segment_id {{bigint}} NOT NULL DEFAULT 0, utm_source VARCHAR(400) NOT NULL DEFAULT '',
  utm_campaign VARCHAR(400) NOT NULL DEFAULT '', proof_to TEXT NOT NULL DEFAULT '', updated_by VARCHAR(254) NOT NULL DEFAULT '', updated_at {{ts}} NOT NULL);
CREATE TABLE email_sends (id {{id}}, campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  label VARCHAR(100) NOT NULL, at {{ts}}, local_time VARCHAR(5) NOT NULL DEFAULT '', skip_clicked BOOLEAN NOT NULL DEFAULT FALSE,
  subject VARCHAR(800) NOT NULL DEFAULT '', status VARCHAR(12) NOT NULL, recipients INTEGER NOT NULL DEFAULT 0,
  prepared_after {{bigint}} NOT NULL DEFAULT 0, frozen BOOLEAN NOT NULL DEFAULT FALSE, runner VARCHAR(40) NOT NULL DEFAULT '', heartbeat_at {{ts}},
  rate DOUBLE PRECISION NOT NULL DEFAULT 0, rate_reason TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',
  started_at {{ts}}, finished_at {{ts}}, created_at {{ts}} NOT NULL, updated_at {{ts}} NOT NULL);
CREATE INDEX email_sends_campaign ON email_sends (campaign_id);
CREATE TABLE email_deliveries (id {{id}}, send_id {{bigint}} NOT NULL REFERENCES email_sends(id) ON DELETE CASCADE,
  contact_id {{bigint}} NOT NULL, email VARCHAR(254) NOT NULL, name VARCHAR(200) NOT NULL DEFAULT '', vars TEXT NOT NULL DEFAULT '{}', status VARCHAR(10) NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  answer TEXT NOT NULL DEFAULT '', not_before {{ts}}, runner VARCHAR(40) NOT NULL DEFAULT '', sent_at {{ts}}, unsubscribed_at {{ts}},
  UNIQUE (send_id, contact_id));
CREATE INDEX email_deliveries_queue ON email_deliveries (send_id, status, id)`},
}

// Send statuses.
const (
	SendPlanned   = "planned"   // waiting for its instant, or for its campaign to go live
	SendPreparing = "preparing" // freezing its recipients
	SendSending   = "sending"
	SendPaused    = "paused"  // its campaign was halted; resume goes on
	SendDone      = "done"    // every recipient sent or failed
	SendStopped   = "stopped" // its campaign ended or was cancelled: for good
)

// Delivery statuses: one ledger row per recipient of a send.
const (
	DeliveryQueued   = "queued"
	DeliveryClaimed  = "sending"  // claimed by a runner
	DeliveryDeferred = "deferred" // a 4xx or a lost connection: retried after not_before
	DeliverySent     = "sent"
	DeliveryFailed   = "failed"  // a permanent refusal
	DeliverySkipped  = "skipped" // suppressed after the recipients were frozen
)

// Send is one mailing of a campaign's message: the launch at go-live, a
// reminder, a last chance.
type Send struct {
	ID         uint64     `gorm:"primaryKey" json:"id"`
	CampaignID uint64     `json:"campaign_id"`
	Label      string     `json:"label"`
	At         *time.Time `json:"at"` // nil: at go-live
	// LocalTime ("09:00") delivers at that hour in each recipient's time
	// zone (the campaign's when unknown), on or after At.
	LocalTime     string     `json:"local_time"`
	SkipClicked   bool       `json:"skip_clicked"`
	Subject       string     `json:"subject"` // overrides the message's when set
	Status        string     `json:"status"`
	Recipients    int        `json:"recipients"`
	PreparedAfter uint64     `json:"-"`
	Frozen        bool       `json:"frozen"` // every recipient is in the ledger
	Runner        string     `json:"-"`
	HeartbeatAt   *time.Time `json:"-"`
	Rate          float64    `json:"rate"`
	RateReason    string     `json:"rate_reason"`
	Error         string     `json:"error"`
	StartedAt     *time.Time `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// TableName of sends.
func (Send) TableName() string { return "email_sends" }

// Delivery is a send's ledger row for one recipient.
type Delivery struct {
	ID        uint64 `gorm:"primaryKey"`
	SendID    uint64
	ContactID uint64
	Email     string
	Name      string
	Vars      string // the recipient's personalisation fields, as JSON, frozen with the recipients
	Status    string
	Attempts  int
	Answer    string
	NotBefore *time.Time
	Runner    string
	SentAt    *time.Time
	// UnsubscribedAt is when the recipient unsubscribed through this
	// send's link.
	UnsubscribedAt *time.Time
}

// TableName of the ledger.
func (Delivery) TableName() string { return "email_deliveries" }

var localTime = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

// SendInput is a send as a marketer plans it.
type SendInput struct {
	Label       string     `json:"label"`
	At          *time.Time `json:"at"`
	LocalTime   string     `json:"local_time"`
	SkipClicked bool       `json:"skip_clicked"`
	Subject     string     `json:"subject"`
}

// checkSend validates a send against its campaign's window, naming every
// field that is wrong (validation.Errors).
func checkSend(in *SendInput, starts, ends time.Time, loc *time.Location) error {
	var errs validation.Errors
	if v, err := oneLine("label", in.Label, 100); err != nil {
		errs = append(errs, fieldErr(err))
	} else if in.Label = v; v == "" {
		errs = append(errs, validation.Fieldf("label", "required"))
	}
	v, err := oneLine("subject", in.Subject, MaxSubjectChars)
	if err == nil {
		in.Subject = v
		err = checkActions("subject", in.Subject)
	}
	if err != nil {
		errs = append(errs, fieldErr(err))
	}
	if in.LocalTime != "" && !localTime.MatchString(in.LocalTime) {
		errs = append(errs, validation.Fieldf("local_time", "%q: want HH:MM, 00:00 to 23:59", in.LocalTime))
	}
	if in.At != nil && (in.At.Before(starts) || !in.At.Before(ends)) {
		const layout = "Mon 2 Jan 2006, 15:04 MST"
		errs = append(errs, validation.Fieldf("at", "must fall inside the campaign's window, %s → %s", i18n.Time{T: starts.In(loc), Layout: layout}, i18n.Time{T: ends.In(loc), Layout: layout}))
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Sends lists a campaign's sends in the order they go.
func (s *Sender) Sends(ctx context.Context, campaignID uint64) ([]Send, error) {
	var out []Send
	err := s.DB.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("at IS NOT NULL, at, id").Find(&out).Error
	return out, err
}

// GetSend loads one send.
func (s *Sender) GetSend(ctx context.Context, id uint64) (*Send, error) {
	return db.Take[Send](s.DB.WithContext(ctx), ErrNotFound, id)
}

// AddSend plans a send of a campaign. A campaign already live gets it
// queued at once (or at its instant).
func (s *Sender) AddSend(ctx context.Context, campaignID uint64, in SendInput) (*Send, error) {
	c, err := s.Campaigns.Get(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	if err := checkSend(&in, c.StartsAt, c.EndsAt, c.Location()); err != nil {
		return nil, err
	}
	now := s.now()
	sd := &Send{CampaignID: campaignID, Label: in.Label, At: in.At, LocalTime: in.LocalTime, SkipClicked: in.SkipClicked,
		Subject: in.Subject, Status: SendPlanned, CreatedAt: now, UpdatedAt: now}
	if err := s.DB.WithContext(ctx).Create(sd).Error; err != nil {
		return nil, err
	}
	if c.Status == "live" {
		if err := s.start(ctx, sd); err != nil {
			return sd, err
		}
	}
	return sd, nil
}

// DeleteSend removes a send that has not started.
func (s *Sender) DeleteSend(ctx context.Context, id uint64) error {
	res := s.DB.WithContext(ctx).Where("id = ? AND status = ?", id, SendPlanned).Delete(&Send{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return validation.Field("send", "only a send that has not started can be removed")
	}
	return nil
}

// Progress counts a send's ledger by status.
type Progress struct {
	Total    int64 `json:"total"`
	Queued   int64 `json:"queued"`
	Sending  int64 `json:"sending"`
	Deferred int64 `json:"deferred"`
	Sent     int64 `json:"sent"`
	Failed   int64 `json:"failed"`
	Skipped  int64 `json:"skipped"`
}

// Done is the share of the recipients the send is finished with.
func (p Progress) Done() float64 {
	if p.Total == 0 {
		return 0
	}
	return float64(p.Sent+p.Failed+p.Skipped) / float64(p.Total)
}

// Remaining is what is left to send.
func (p Progress) Remaining() int64 { return p.Queued + p.Sending + p.Deferred }

// Progress reads a send's counts.
func (s *Sender) Progress(ctx context.Context, sendID uint64) (Progress, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := s.DB.WithContext(ctx).Model(&Delivery{}).Select("status, COUNT(*) AS n").Where("send_id = ?", sendID).Group("status").Scan(&rows).Error
	var p Progress
	for _, r := range rows {
		p.Total += r.N
		switch r.Status {
		case DeliveryQueued:
			p.Queued = r.N
		case DeliveryClaimed:
			p.Sending = r.N
		case DeliveryDeferred:
			p.Deferred = r.N
		case DeliverySent:
			p.Sent = r.N
		case DeliveryFailed:
			p.Failed = r.N
		case DeliverySkipped:
			p.Skipped = r.N
		}
	}
	return p, err
}

// setStatus moves the open sends of a campaign to a status.
func (s *Sender) setStatus(ctx context.Context, campaignID uint64, from []string, to string) (int64, error) {
	up := map[string]any{"status": to, "updated_at": s.now()}
	if to == SendStopped {
		up["finished_at"] = s.now()
	}
	res := s.DB.WithContext(ctx).Model(&Send{}).Where("campaign_id = ? AND status IN ?", campaignID, from).Updates(up)
	return res.RowsAffected, res.Error
}

// ensureLaunchSend gives a campaign with a message and no send its first
// send, at go-live.
func (s *Sender) ensureLaunchSend(ctx context.Context, campaignID uint64) error {
	var n int64
	if err := s.DB.WithContext(ctx).Model(&Send{}).Where("campaign_id = ?", campaignID).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	now := s.now()
	return s.DB.WithContext(ctx).Create(&Send{CampaignID: campaignID, Label: "Launch", Status: SendPlanned, CreatedAt: now, UpdatedAt: now}).Error
}
