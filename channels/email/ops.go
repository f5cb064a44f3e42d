package email

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// PauseSend pauses one send while its campaign stays live; ResumeSend
// lets it go on.
func (s *Sender) PauseSend(ctx context.Context, id uint64) error {
	res := s.DB.WithContext(ctx).Model(&Send{}).Where("id = ? AND status IN ?", id, []string{SendPreparing, SendSending}).
		Updates(map[string]any{"status": SendPaused, "updated_at": s.now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return validation.Field("send", "only a send that is preparing or sending can be paused")
	}
	return nil
}

// ResumeSend goes on with a paused send, if its campaign is live.
func (s *Sender) ResumeSend(ctx context.Context, id uint64) error {
	sd, err := s.GetSend(ctx, id)
	if err != nil {
		return err
	}
	if sd.Status != SendPaused {
		return validation.Field("send", "only a paused send can be resumed")
	}
	c, err := s.Campaigns.Get(ctx, sd.CampaignID)
	if err != nil {
		return err
	}
	if c.Status != campaigns.Live {
		return validation.Field("send", "the campaign is %s: its sends go on when it is live again", i18n.M(string(c.Status)))
	}
	return s.start(ctx, sd)
}

// Rendered is a message as one recipient will read it.
type Rendered struct {
	To, Subject, HTML, Text string
	Missing                 []string
}

// Preview renders the campaign's message, as it is now, for sample
// contact i of its audience (a placeholder contact when it has none).
// Links are shown as they lead, not tracked.
func (s *Sender) Preview(ctx context.Context, c *campaigns.Campaign, m *Message, i int) (*Rendered, error) {
	list := c.Name
	if name, err := s.Audience.ListName(ctx, m.ListID); err == nil && name != "" {
		list = name
	}
	cm, _, err := s.compileAt(ctx, c, m, list, s.now(), false)
	if err != nil {
		return nil, err
	}
	sample, err := s.Audience.Mailable(ctx, m.ListID, m.SegmentID, 0, 5)
	if err != nil {
		return nil, err
	}
	r := Recipient{Email: "sample@example.com", Vars: map[string]string{"email": "sample@example.com", "name": "Sample", "first_name": "Sample"}}
	if len(sample) > 0 {
		r = sample[i%len(sample)]
	}
	out, err := cm.render(r.Vars, nil, s.BaseURL+"/u/preview")
	if err != nil {
		return nil, err
	}
	return &Rendered{To: r.Email, Subject: out.Subject, HTML: out.HTML, Text: out.Text, Missing: out.Missing}, nil
}

// Proof mails the message as the first sample contact reads it to test
// addresses, its subject marked [Proof]. Nothing is recorded in a ledger.
func (s *Sender) Proof(ctx context.Context, c *campaigns.Campaign, m *Message, to []string) error {
	if len(to) == 0 {
		return validation.Field("proof_to", "give at least one test address")
	}
	for i, addr := range to {
		a, err := checkAddress("proof_to", addr, true)
		if err != nil {
			return err
		}
		to[i] = a
	}
	r, err := s.Preview(ctx, c, m, 0)
	if err != nil {
		return err
	}
	cl, sc, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("SMTP server %s:%d: %w", s.SMTP.Host, s.SMTP.Port, err)
	}
	defer cl.CloseWithSMTPClient(sc)
	for _, addr := range to {
		mm, err := s.envelope(m, "Proof", 0, Delivery{Email: addr}, rendered{Subject: "[Proof] " + r.Subject, HTML: r.HTML, Text: r.Text},
			s.BaseURL+"/u/preview", "preview")
		if err != nil {
			return err
		}
		if _, err := s.transmit(sc, m.FromAddr, addr, mm, nil); err != nil {
			return fmt.Errorf("proof to %s: %w", addr, err)
		}
	}
	return nil
}

// Report is a send's outcome for its report page.
type Report struct {
	Send         Send
	Progress     Progress
	Unsubscribed int64
	Bounced      int64
	// Rate is the recent sending rate (messages/s over the last minute)
	// and ETA when the rest will be sent at that rate.
	Rate float64
	ETA  time.Duration
	// Failures are the most common refusals.
	Failures []Failure
}

// Failure is a refusal and how many recipients got it.
type Failure struct {
	Answer string `json:"answer"`
	N      int64  `json:"count"`
}

// Report reads a send's outcome.
func (s *Sender) Report(ctx context.Context, id uint64) (*Report, error) {
	sd, err := s.GetSend(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &Report{Send: *sd}
	if r.Progress, err = s.Progress(ctx, id); err != nil {
		return nil, err
	}
	q := s.DB.WithContext(ctx).Model(&Delivery{})
	if err := q.Where("send_id = ? AND unsubscribed_at IS NOT NULL", id).Count(&r.Unsubscribed).Error; err != nil {
		return nil, err
	}
	if err := s.DB.WithContext(ctx).Model(&Delivery{}).Where("send_id = ? AND status = ? AND answer LIKE ?", id, DeliveryFailed, "RCPT: 5%").Count(&r.Bounced).Error; err != nil {
		return nil, err
	}
	var recent int64
	if err := s.DB.WithContext(ctx).Model(&Delivery{}).Where("send_id = ? AND sent_at >= ?", id, s.now().Add(-time.Minute)).Count(&recent).Error; err != nil {
		return nil, err
	}
	r.Rate = float64(recent) / 60
	if r.Rate > 0 && r.Progress.Remaining() > 0 {
		r.ETA = time.Duration(float64(r.Progress.Remaining())/r.Rate) * time.Second
	}
	var fails []Failure
	if err := s.DB.WithContext(ctx).Model(&Delivery{}).Select("answer, COUNT(*) AS n").Where("send_id = ? AND status = ?", id, DeliveryFailed).
		Group("answer").Order("n DESC").Limit(5).Scan(&fails).Error; err != nil {
		return nil, err
	}
	for i := range fails {
		fails[i].Answer = strings.TrimSpace(fails[i].Answer)
	}
	r.Failures = fails
	return r, nil
}

// ContactSend is one message a send mailed (or tried to mail) to a contact.
type ContactSend struct {
	SendID, CampaignID uint64
	Label, Campaign    string
	Status, Answer     string
	SentAt             *time.Time
	UnsubscribedAt     *time.Time
}

// SendsTo lists the latest sends to a contact, newest first.
func (s *Sender) SendsTo(ctx context.Context, contactID uint64, limit int) ([]ContactSend, error) {
	var out []ContactSend
	err := s.DB.WithContext(ctx).Table("email_deliveries d").
		Select("d.send_id, s.campaign_id, s.label, c.name AS campaign, d.status, d.answer, d.sent_at, d.unsubscribed_at").
		Joins("JOIN email_sends s ON s.id = d.send_id").Joins("JOIN campaigns c ON c.id = s.campaign_id").
		Where("d.contact_id = ?", contactID).Order("d.id DESC").Limit(limit).Scan(&out).Error
	return out, err
}
