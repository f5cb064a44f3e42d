package email

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"
)

// Unsubscription is what an unsubscribe link names, for its page.
type Unsubscription struct {
	Masked  string // the address, partly hidden: the link may be forwarded
	Locale  string
	Already bool
}

// delivery finds the ledger row a token names.
func (s *Sender) delivery(ctx context.Context, token string) (*Delivery, error) {
	sendID, contactID, ok := s.parseUnsubscribe(token)
	if !ok {
		return nil, ErrNotFound
	}
	var d Delivery
	err := s.DB.WithContext(ctx).Where("send_id = ? AND contact_id = ?", sendID, contactID).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &d, err
}

// LookupUnsubscribe reads what a token names. A forged or unknown token is
// ErrNotFound.
func (s *Sender) LookupUnsubscribe(ctx context.Context, token string) (*Unsubscription, error) {
	d, err := s.delivery(ctx, token)
	if err != nil {
		return nil, err
	}
	sup, err := s.Audience.Suppressed(ctx, []string{d.Email})
	if err != nil {
		return nil, err
	}
	u := &Unsubscription{Masked: mask(d.Email), Already: sup[d.Email]}
	if strings.Contains(d.Vars, `"locale":"fr`) {
		u.Locale = "fr"
	}
	return u, nil
}

// Unsubscribe suppresses the address a token names: by the page's
// button, or by a mail client's one-click POST (RFC 8058), with no
// sign-in. Doing it twice is harmless.
func (s *Sender) Unsubscribe(ctx context.Context, token, source, ip string) error {
	d, err := s.delivery(ctx, token)
	if err != nil {
		return err
	}
	if err := s.Audience.Suppress(ctx, d.Email, "unsubscribed", source, ip); err != nil {
		return err
	}
	return s.DB.WithContext(ctx).Model(&Delivery{}).Where("id = ? AND unsubscribed_at IS NULL", d.ID).Update("unsubscribed_at", s.now()).Error
}

// mask hides most of an address's local part: a***@shop.example.
func mask(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return "***"
	}
	return email[:1] + "***" + email[at:]
}
