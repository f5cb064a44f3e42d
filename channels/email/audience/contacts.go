package audience

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/validation"
)

// SuppressedError refuses to make a suppressed address mailable.
type SuppressedError struct{ Email, Reason string }

func (e *SuppressedError) Error() string {
	return fmt.Sprintf("%s is on the suppression list (%s): it is never mailed again, whatever a list, an import or a form says", e.Email, e.Reason)
}

// Unwrap makes errors.Is(err, ErrSuppressed) true.
func (e *SuppressedError) Unwrap() error { return ErrSuppressed }

// Actor says who changes a consent status, for its event.
type Actor struct {
	Source string // import, api, ui, subscribe, confirm, unsubscribe, bounce, complaint
	IP     string
	Note   string
}

// suppression returns the suppression of key, nil when there is none.
func suppression(tx *gorm.DB, key string) (*Suppression, error) {
	var s Suppression
	err := tx.Where("email_key = ?", key).Limit(1).Find(&s).Error
	if err != nil || s.EmailKey == "" {
		return nil, err
	}
	return &s, nil
}

// IsSuppressed tells whether an address is on the suppression list.
func (s *Service) IsSuppressed(ctx context.Context, email string) (bool, error) {
	_, key, err := NormalizeEmail(email)
	if err != nil {
		return false, fmt.Errorf("audience: %q: %w", email, err)
	}
	sup, err := suppression(s.DB.WithContext(ctx), key)
	return sup != nil, err
}

// Suppressed tells which of emails are on the suppression list, keyed by
// the address as given; an address that is not valid is reported
// suppressed (it must not be mailed either).
func (s *Service) Suppressed(ctx context.Context, emails []string) (map[string]bool, error) {
	out := make(map[string]bool, len(emails))
	byKey := make(map[string][]string, len(emails))
	keys := make([]string, 0, len(emails))
	for _, e := range emails {
		_, key, err := NormalizeEmail(e)
		if err != nil {
			out[e] = true
			continue
		}
		out[e] = false
		if _, seen := byKey[key]; !seen {
			keys = append(keys, key)
		}
		byKey[key] = append(byKey[key], e)
	}
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), 500)]
		keys = keys[len(chunk):]
		var hit []string
		if err := s.DB.WithContext(ctx).Model(&Suppression{}).Where("email_key IN ?", chunk).Pluck("email_key", &hit).Error; err != nil {
			return nil, fmt.Errorf("audience: suppressed: %w", err)
		}
		for _, k := range hit {
			for _, e := range byKey[k] {
				out[e] = true
			}
		}
	}
	return out, nil
}

// Create adds a contact; with no status it is opted_in (the caller vouches
// for the consent). A suppressed address is refused unless the status is
// its suppression.
func (s *Service) Create(ctx context.Context, in Input, by Actor) (*Contact, error) {
	c, ve := in.normalize()
	if len(ve) > 0 {
		return nil, ve
	}
	if c.Status == "" {
		c.Status = OptedIn
	}
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Contact{}).Where("email_key = ?", c.EmailKey).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return validation.Errors{{Field: "email", Msg: c.Email + " is already a contact (addresses are compared without case)"}}
		}
		sup, err := suppression(tx, c.EmailKey)
		if err != nil {
			return err
		}
		if sup != nil && c.Status != sup.Reason {
			return &SuppressedError{c.Email, sup.Reason}
		}
		c.CreatedAt, c.UpdatedAt = s.now(), s.now()
		if err := tx.Create(c).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return validation.Errors{{Field: "email", Msg: c.Email + " is already a contact"}}
			}
			return err
		}
		return s.recordChange(tx, c, "", c.Status, by)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Update replaces a contact's fields; an empty status keeps the current one.
func (s *Service) Update(ctx context.Context, id uint64, in Input, by Actor) (*Contact, error) {
	nc, ve := in.normalize()
	if len(ve) > 0 {
		return nil, ve
	}
	var out *Contact
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := db.Take[Contact](tx, ErrNotFound, id)
		if err != nil {
			return err
		}
		if nc.EmailKey != c.EmailKey {
			var n int64
			if err := tx.Model(&Contact{}).Where("email_key = ? AND id <> ?", nc.EmailKey, id).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return validation.Errors{{Field: "email", Msg: nc.Email + " is already another contact"}}
			}
		}
		c.Email, c.EmailKey, c.Name, c.Locale, c.Country, c.TimeZone, c.Attrs = nc.Email, nc.EmailKey, nc.Name, nc.Locale, nc.Country, nc.TimeZone, nc.Attrs
		c.UpdatedAt = s.now()
		if err := tx.Select("email", "email_key", "name", "locale", "country", "time_zone", "attrs", "updated_at").Save(c).Error; err != nil {
			return err
		}
		if nc.Status != "" {
			if err := s.setStatus(tx, c, nc.Status, by); err != nil {
				return err
			}
		} else if sup, err := suppression(tx, c.EmailKey); err != nil {
			return err
		} else if sup != nil && c.Status != sup.Reason {
			// The new address was suppressed before: it takes that status.
			if err := s.setStatus(tx, c, sup.Reason, by); err != nil {
				return err
			}
		}
		out = c
		return nil
	})
	return out, err
}

// SetStatus changes a contact's consent status by hand (UI, API).
func (s *Service) SetStatus(ctx context.Context, id uint64, status string, by Actor) (*Contact, error) {
	if !validStatus(status) {
		return nil, validation.Errors{{Field: "status", Msg: fmt.Sprintf("unknown status %q", status)}}
	}
	var c *Contact
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if c, err = db.Take[Contact](tx, ErrNotFound, id); err != nil {
			return err
		}
		return s.setStatus(tx, c, status, by)
	})
	return c, err
}

// setStatus moves c to status inside tx: a suppressed address cannot be
// made mailable (or pending) again, and a suppressing status adds the
// address to the suppression list.
func (s *Service) setStatus(tx *gorm.DB, c *Contact, status string, by Actor) error {
	if status == c.Status {
		return nil
	}
	sup, err := suppression(tx, c.EmailKey)
	if err != nil {
		return err
	}
	if sup != nil && !suppressing(status) {
		return &SuppressedError{c.Email, sup.Reason}
	}
	if suppressing(status) && sup == nil {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Suppression{EmailKey: c.EmailKey, Reason: status, Source: by.Source, CreatedAt: s.now()}).Error; err != nil {
			return err
		}
	}
	prev := c.Status
	c.Status, c.UpdatedAt = status, s.now()
	if err := tx.Model(&Contact{}).Where("id = ?", c.ID).Updates(map[string]any{"status": status, "updated_at": c.UpdatedAt}).Error; err != nil {
		return err
	}
	return s.recordChange(tx, c, prev, status, by)
}

func (s *Service) recordChange(tx *gorm.DB, c *Contact, prev, status string, by Actor) error {
	return tx.Create(&ConsentEvent{ContactID: c.ID, Status: status, Previous: prev, Source: by.Source, IP: truncate(by.IP, 64),
		Note: truncate(by.Note, 300), At: s.now()}).Error
}

// Suppress puts an address on the suppression list for reason
// (unsubscribed, bounced or complained) and, when it is a contact, sets
// its status with a consent event. Suppressing twice changes nothing.
func (s *Service) Suppress(ctx context.Context, email, reason, source, ip string) error {
	if !suppressing(reason) {
		return validation.Errors{{Field: "reason", Msg: fmt.Sprintf("unknown reason %q (want unsubscribed, bounced or complained)", reason)}}
	}
	addr, key, err := NormalizeEmail(email)
	if err != nil {
		return validation.Errors{{Field: "email", Msg: err.Error()}}
	}
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Suppression{EmailKey: key, Reason: reason, Source: truncate(source, 20), CreatedAt: s.now()}).Error
		if err != nil {
			return fmt.Errorf("audience: suppress %s: %w", addr, err)
		}
		var c Contact
		if err := tx.Where("email_key = ?", key).Limit(1).Find(&c).Error; err != nil || c.ID == 0 || suppressing(c.Status) {
			return err
		}
		prev := c.Status
		c.Status = reason
		if err := tx.Model(&Contact{}).Where("id = ?", c.ID).Updates(map[string]any{"status": reason, "updated_at": s.now()}).Error; err != nil {
			return err
		}
		return s.recordChange(tx, &c, prev, reason, Actor{Source: source, IP: ip})
	})
}

// SuppressionQuery narrows the suppression list.
type SuppressionQuery struct {
	Search string // part of the address
	Reason string
	After  string // the last address of the previous page
	Limit  int
}

// Suppressions returns a page of the suppression list by address, and
// whether more follow.
func (s *Service) Suppressions(ctx context.Context, q SuppressionQuery) ([]Suppression, bool, error) {
	limit := pageLimit(q.Limit)
	tx := s.DB.WithContext(ctx).Where("email_key > ?", q.After).Order("email_key").Limit(limit + 1)
	if t := strings.TrimSpace(q.Search); t != "" {
		tx = tx.Where(`email_key LIKE ? ESCAPE '\'`, "%"+likeEscape(strings.ToLower(t))+"%")
	}
	if q.Reason != "" {
		tx = tx.Where("reason = ?", q.Reason)
	}
	var out []Suppression
	if err := tx.Find(&out).Error; err != nil {
		return nil, false, fmt.Errorf("audience: suppressions: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// CountSuppressions counts the suppression list by reason.
func (s *Service) CountSuppressions(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Reason string
		N      int64
	}
	err := s.DB.WithContext(ctx).Model(&Suppression{}).Select("reason, COUNT(*) AS n").Group("reason").Scan(&rows).Error
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Reason] = r.N
	}
	return out, err
}

// Get loads a contact.
func (s *Service) Get(ctx context.Context, id uint64) (*Contact, error) {
	return db.Take[Contact](s.DB.WithContext(ctx), ErrNotFound, id)
}

// ByEmail loads a contact by address, whatever its case.
func (s *Service) ByEmail(ctx context.Context, email string) (*Contact, error) {
	_, key, err := NormalizeEmail(email)
	if err != nil {
		return nil, ErrNotFound
	}
	return db.Take[Contact](s.DB.WithContext(ctx).Where("email_key = ?", key), ErrNotFound)
}

// Delete removes a contact, its history and memberships. A suppressed
// address stays suppressed.
func (s *Service) Delete(ctx context.Context, id uint64) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Explicit, as SQLite enforces ON DELETE CASCADE only with foreign keys on.
		if err := tx.Where("contact_id = ?", id).Delete(&ConsentEvent{}).Error; err != nil {
			return err
		}
		if err := tx.Where("contact_id = ?", id).Delete(&member{}).Error; err != nil {
			return err
		}
		res := tx.Delete(&Contact{}, id)
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
}

// History lists a contact's consent changes, newest first.
func (s *Service) History(ctx context.Context, id uint64) ([]ConsentEvent, error) {
	var out []ConsentEvent
	return out, s.DB.WithContext(ctx).Where("contact_id = ?", id).Order("id DESC").Limit(500).Find(&out).Error
}

// Query narrows the contact list; paging is by keyset on id.
type Query struct {
	Search string // part of the address or the name
	Status string
	ListID uint64
	After  uint64
	Limit  int
}

func pageLimit(n int) int {
	if n <= 0 || n > 500 {
		return 50
	}
	return n
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

func (s *Service) filtered(ctx context.Context, q Query) *gorm.DB {
	tx := s.DB.WithContext(ctx).Model(&Contact{})
	if q.Status != "" {
		tx = tx.Where("status = ?", q.Status)
	}
	if q.ListID != 0 {
		tx = tx.Where("EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = ? AND m.contact_id = contacts.id)", q.ListID)
	}
	if t := strings.TrimSpace(q.Search); t != "" {
		like := "%" + likeEscape(strings.ToLower(t)) + "%"
		tx = tx.Where(`(email_key LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\')`, like, like)
	}
	return tx
}

// List returns a page of contacts by id, and whether more follow.
func (s *Service) List(ctx context.Context, q Query) ([]Contact, bool, error) {
	limit := pageLimit(q.Limit)
	var out []Contact
	if err := s.filtered(ctx, q).Where("id > ?", q.After).Order("id").Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, false, fmt.Errorf("audience: list contacts: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// CountBy counts the contacts of a query by status.
func (s *Service) CountBy(ctx context.Context, q Query) (map[string]int64, error) {
	q.Status = ""
	var rows []struct {
		Status string
		N      int64
	}
	if err := s.filtered(ctx, q).Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("audience: count contacts: %w", err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
