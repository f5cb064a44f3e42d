package email

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/validation"
)

// Body formats.
const (
	FormatMarkdown = "markdown"
	FormatHTML     = "html"
)

// Message is a campaign's e-mail: who it is from, what it says, who it
// goes to. Its sends (launch, reminder, last chance) share it.
type Message struct {
	ID          uint64 `gorm:"primaryKey" json:"id"`
	CampaignID  uint64 `json:"campaign_id"`
	FromName    string `json:"from_name"`
	FromAddr    string `json:"from"`
	ReplyTo     string `json:"reply_to"`
	Subject     string `json:"subject"`
	Preheader   string `json:"preheader"`
	Format      string `json:"format"`
	Body        string `json:"body"`
	ListID      uint64 `json:"list_id"`
	SegmentID   uint64 `json:"segment_id"`
	UTMSource   string `json:"utm_source"`
	UTMCampaign string `json:"utm_campaign"`
	// ProofTo lists the addresses proofs go to, comma-separated.
	ProofTo   string    `json:"proof_to"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TableName of messages.
func (Message) TableName() string { return "email_messages" }

// FieldError names the field of a message or a send that is wrong.
// Its message is translated (platform/validation).
type FieldError = validation.FieldError

// ErrNotFound is a message, send or token that does not exist.
var ErrNotFound = errors.New("email: not found")

// checkAddress validates one address field (and returns it cleaned).
func checkAddress(field, v string, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			return "", validation.Field(field, "required")
		}
		return "", nil
	}
	if strings.ContainsAny(v, "\r\n") || len(v) > 254 {
		return "", validation.Field(field, "one address of at most 254 characters, on one line")
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" {
		return "", validation.Field(field, "%q is not an e-mail address", v)
	}
	return a.Address, nil
}

// oneLine refuses control characters in a header-bound field: a CR or LF
// would start a header of its own.
func oneLine(field, v string, maxChars int) (string, error) {
	v = strings.TrimSpace(v)
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", validation.Field(field, "one line, with no control characters")
	}
	if utf8.RuneCountInString(v) > maxChars {
		return "", validation.Field(field, "at most %d characters", maxChars)
	}
	return v, nil
}

// Validate cleans m and names every field that is wrong
// (validation.Errors), leaving a wrong field as it was typed. The body
// must compile (its template error names the line).
func (m *Message) Validate() error {
	var errs validation.Errors
	// keep stores a cleaned value, or records why the value is wrong.
	keep := func(dst *string, v string, err error) {
		if err != nil {
			errs = append(errs, fieldErr(err))
			return
		}
		*dst = v
	}
	v, err := checkAddress("from", m.FromAddr, true)
	keep(&m.FromAddr, v, err)
	v, err = checkAddress("reply_to", m.ReplyTo, false)
	keep(&m.ReplyTo, v, err)
	v, err = oneLine("from_name", m.FromName, 100)
	keep(&m.FromName, v, err)
	v, err = oneLine("subject", m.Subject, MaxSubjectChars)
	keep(&m.Subject, v, err)
	if err == nil && m.Subject == "" {
		errs = append(errs, validation.Fieldf("subject", "required"))
	} else if err == nil {
		if err := checkActions("subject", m.Subject); err != nil {
			errs = append(errs, fieldErr(err))
		}
	}
	v, err = oneLine("preheader", m.Preheader, 200)
	keep(&m.Preheader, v, err)
	v, err = oneLine("utm_source", m.UTMSource, 100)
	keep(&m.UTMSource, v, err)
	v, err = oneLine("utm_campaign", m.UTMCampaign, 100)
	keep(&m.UTMCampaign, v, err)
	if v, err := checkProofs(m.ProofTo); err != nil {
		errs = append(errs, fieldErr(err))
	} else {
		m.ProofTo = v
	}
	if m.Format == "" {
		m.Format = FormatMarkdown
	}
	if m.Format != FormatMarkdown && m.Format != FormatHTML {
		errs = append(errs, validation.Fieldf("format", `"markdown" or "html"`))
	}
	if err := checkBody(m.Body); err != nil {
		errs = append(errs, fieldErr(err))
	} else {
		// The body compiles on its own: a subject or format already
		// found wrong is left out of the trial.
		trial := *m
		if errs.Msg("subject") != nil {
			trial.Subject = ""
		}
		if errs.Msg("format") != nil {
			trial.Format = FormatMarkdown
		}
		if _, err := compileMessage(&trial, edition{LandingURL: "https://example.invalid/"}); err != nil {
			errs = append(errs, fieldErr(err))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// checkProofs cleans the proof addresses: at most 10.
func checkProofs(list string) (string, error) {
	var proofs []string
	for _, p := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' }) {
		a, err := checkAddress("proof_to", p, false)
		if err != nil {
			return "", err
		}
		proofs = append(proofs, a)
	}
	if len(proofs) > 10 {
		return "", validation.Field("proof_to", "at most 10 addresses")
	}
	return strings.Join(proofs, ", "), nil
}

func checkBody(body string) error {
	if len(body) > MaxBodyBytes {
		return validation.Field("body", "%d KB: at most %d KB", len(body)>>10, MaxBodyBytes>>10)
	}
	if !utf8.ValidString(body) {
		return validation.Field("body", "not valid UTF-8 text")
	}
	if strings.TrimSpace(body) == "" {
		return validation.Field("body", "required")
	}
	return nil
}

// fieldErr is a field's error as one of a list: a *FieldError, or a
// template error (naming its line).
func fieldErr(err error) validation.FieldError {
	var fe *FieldError
	var te *TemplateError
	switch {
	case errors.As(err, &fe):
		return *fe
	case errors.As(err, &te):
		return te.FieldError()
	}
	return validation.FieldError{Field: "body", Msg: err.Error()}
}

// Messages stores campaigns' messages.
type Messages struct {
	DB    *gorm.DB
	Clock clock.Clock
}

func (s *Messages) now() time.Time { return clock.Or(s.Clock).Now() }

// Get returns the message of a campaign (ErrNotFound when it has none).
func (s *Messages) Get(ctx context.Context, campaignID uint64) (*Message, error) {
	var m Message
	err := s.DB.WithContext(ctx).Where("campaign_id = ?", campaignID).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &m, err
}

// Save validates and writes a campaign's message, replacing the previous
// one. Sends already under way keep what they froze (their recipients);
// the text of messages not sent yet is the new one.
func (s *Messages) Save(ctx context.Context, m *Message, by string) error {
	if err := m.Validate(); err != nil {
		return err
	}
	m.UpdatedBy, m.UpdatedAt = by, s.now()
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "campaign_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"from_name", "from_addr", "reply_to", "subject", "preheader", "format", "body", "list_id", "segment_id", "utm_source", "utm_campaign", "proof_to", "updated_by", "updated_at"}),
	}).Create(m).Error
}
