package audience

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/validation"
)

// Limits of the public subscription endpoint, counted in the database so
// that every web node counts the same.
type Limits struct {
	PerIP   int           // subscriptions per client address per window (default 5)
	PerList int           // subscriptions per list per window (default 300)
	Window  time.Duration // default 10 minutes
	// ConfirmTTL is how long a confirmation link works (default 7 days).
	ConfirmTTL time.Duration
}

func (s *Service) limits() Limits {
	l := s.Limits
	if l.PerIP <= 0 {
		l.PerIP = 5
	}
	if l.PerList <= 0 {
		l.PerList = 300
	}
	if l.Window <= 0 {
		l.Window = 10 * time.Minute
	}
	if l.ConfirmTTL <= 0 {
		l.ConfirmTTL = 7 * 24 * time.Hour
	}
	return l
}

// ErrBot is a subscription whose honeypot field was filled: nothing is
// done, and the visitor should be told what a person would be told.
var ErrBot = errors.New("audience: honeypot filled")

// SubscribeInput is the public form.
type SubscribeInput struct {
	Email, Name string
	Honeypot    string // a field people leave empty
	IP          string
}

// Subscription is what a subscription did.
type Subscription struct {
	Contact *Contact
	List    *List
	// Pending: a confirmation link was sent and the contact is pending.
	Pending bool
}

// hit counts one use of bucket in the current window and tells whether
// the count stays within max.
func (s *Service) hit(ctx context.Context, bucket string, max int, window time.Duration) (bool, error) {
	now := s.now()
	slot := now.Unix() / int64(window/time.Second)
	key := truncate(fmt.Sprintf("%s:%d", bucket, slot), 200)
	var hits int64
	err := s.DB.WithContext(ctx).Raw(`INSERT INTO subscribe_hits (bucket, hits, expires_at) VALUES (?, 1, ?)
		ON CONFLICT (bucket) DO UPDATE SET hits = subscribe_hits.hits + 1 RETURNING hits`, key, now.Add(2*window)).Scan(&hits).Error
	if err != nil {
		return false, fmt.Errorf("audience: rate limit: %w", err)
	}
	if slot%7 == 0 && hits == 1 {
		s.DB.WithContext(ctx).Exec("DELETE FROM subscribe_hits WHERE expires_at < ?", now)
	}
	return hits <= int64(max), nil
}

// Subscribe is the public form of a list: the contact joins the list as
// pending and gets a signed confirmation link (double opt-in), or as
// opted_in for a list without double opt-in. A suppressed address is
// refused with a *SuppressedError (the visitor must not learn it), a
// contact already mailable joins without a new confirmation.
func (s *Service) Subscribe(ctx context.Context, listToken string, in SubscribeInput) (*Subscription, error) {
	l, err := s.ListByToken(ctx, listToken)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Honeypot) != "" {
		return nil, ErrBot
	}
	email, key, err := NormalizeEmail(in.Email)
	if err != nil {
		return nil, validation.Errors{{Field: "email", Msg: err.Error()}}
	}
	name, err := cleanText(in.Name, MaxName)
	if err != nil {
		return nil, validation.Errors{{Field: "name", Msg: err.Error()}}
	}
	lim := s.limits()
	if ok, err := s.hit(ctx, "ip:"+in.IP, lim.PerIP, lim.Window); err != nil || !ok {
		return nil, errors.Join(ErrRateLimited, err)
	}
	if ok, err := s.hit(ctx, fmt.Sprintf("list:%d", l.ID), lim.PerList, lim.Window); err != nil || !ok {
		return nil, errors.Join(ErrRateLimited, err)
	}
	sub := &Subscription{List: l}
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if sup, err := suppression(tx, key); err != nil || sup != nil {
			if sup != nil {
				return &SuppressedError{email, sup.Reason}
			}
			return err
		}
		by := Actor{Source: "subscribe", IP: in.IP, Note: "list " + l.Name}
		want := OptedIn
		if l.DoubleOptIn {
			want = Pending
		}
		var c Contact
		if err := tx.Where("email_key = ?", key).Limit(1).Find(&c).Error; err != nil {
			return err
		}
		if c.ID == 0 {
			c = Contact{Email: email, EmailKey: key, Name: name, Attrs: map[string]string{}, Status: want, CreatedAt: s.now(), UpdatedAt: s.now()}
			if err := tx.Create(&c).Error; err != nil {
				return err
			}
			if err := s.recordChange(tx, &c, "", want, by); err != nil {
				return err
			}
		} else {
			if c.Name == "" && name != "" {
				if err := tx.Model(&Contact{}).Where("id = ?", c.ID).Update("name", name).Error; err != nil {
					return err
				}
				c.Name = name
			}
			if !MailableStatus(c.Status) {
				if err := s.setStatus(tx, &c, want, by); err != nil {
					return err
				}
			}
		}
		sub.Contact, sub.Pending = &c, c.Status == Pending
		return addMember(tx, l.ID, c.ID, s.now())
	})
	if err != nil {
		return nil, err
	}
	if sub.Pending {
		if err := s.sendConfirmation(ctx, sub.Contact, l); err != nil {
			return nil, err
		}
	}
	return sub, nil
}

func (s *Service) sendConfirmation(ctx context.Context, c *Contact, l *List) error {
	if s.Send == nil {
		return fmt.Errorf("audience: no mailer to send the confirmation of %s", c.Email)
	}
	link := strings.TrimRight(s.BaseURL, "/") + "/subscribe/confirm/" + s.ConfirmToken(c.ID, l.ID, s.now().Add(s.limits().ConfirmTTL))
	hello := "Hello,"
	if c.Name != "" {
		hello = "Hello " + c.Name + ","
	}
	text := fmt.Sprintf("%s\n\nPlease confirm that you want to receive the e-mails of %q by opening this link:\n\n%s\n\n"+
		"The link works for %d days. If you did not ask for this, ignore this message: you will receive nothing more.\n",
		hello, l.Name, link, int(s.limits().ConfirmTTL.Hours()/24))
	if err := s.Send(ctx, mailer.Message{To: c.Email, Subject: "Confirm your subscription to " + l.Name, Text: text}); err != nil {
		return fmt.Errorf("audience: send confirmation to %s: %w", c.Email, err)
	}
	return nil
}

const tokenMAC = 16

// ConfirmToken signs (contact, list, expiry) with the app secret.
func (s *Service) ConfirmToken(contactID, listID uint64, expires time.Time) string {
	b := make([]byte, 24, 24+tokenMAC)
	binary.BigEndian.PutUint64(b, contactID)
	binary.BigEndian.PutUint64(b[8:], listID)
	binary.BigEndian.PutUint64(b[16:], uint64(expires.Unix()))
	return base64.RawURLEncoding.EncodeToString(append(b, s.mac(b)...))
}

func (s *Service) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte("audience-confirm:"))
	m.Write(payload)
	return m.Sum(nil)[:tokenMAC]
}

// CheckToken verifies a confirmation token: forged, altered or expired is
// ErrInvalidToken, with no more said.
func (s *Service) CheckToken(token string) (contactID, listID uint64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 24+tokenMAC || len(s.Secret) == 0 {
		return 0, 0, ErrInvalidToken
	}
	if !hmac.Equal(b[24:], s.mac(b[:24])) {
		return 0, 0, ErrInvalidToken
	}
	if time.Unix(int64(binary.BigEndian.Uint64(b[16:24])), 0).Before(s.now()) {
		return 0, 0, ErrInvalidToken
	}
	return binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:16]), nil
}

// Confirm completes a double opt-in: the contact becomes confirmed, with
// the visitor's address in its history. A token of a deleted contact or
// list, or of a suppressed address, is ErrInvalidToken.
func (s *Service) Confirm(ctx context.Context, token, ip string) (*Contact, *List, error) {
	cid, lid, err := s.CheckToken(token)
	if err != nil {
		return nil, nil, err
	}
	var c *Contact
	var l *List
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if l, err = db.Take[List](tx, ErrInvalidToken, lid); err != nil {
			return err
		}
		if c, err = db.Take[Contact](tx, ErrInvalidToken, cid); err != nil {
			return err
		}
		if sup, err := suppression(tx, c.EmailKey); err != nil || sup != nil {
			if sup != nil {
				return ErrInvalidToken
			}
			return err
		}
		if err := addMember(tx, l.ID, c.ID, s.now()); err != nil {
			return err
		}
		return s.setStatus(tx, c, Confirmed, Actor{Source: "confirm", IP: ip, Note: "list " + l.Name})
	})
	if err != nil {
		return nil, nil, err
	}
	return c, l, nil
}
