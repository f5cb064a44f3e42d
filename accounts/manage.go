package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// The refusals of user management, in one place (for translation).
const (
	msgLastAdmin     = "%s is the last active admin: make another user admin first"
	msgSelfDeactive  = "you cannot deactivate yourself; another admin can"
	msgWrongCurrent  = "is not your current password"
	msgNotConfirmed  = "does not match the new password"
	msgSameAsCurrent = "must differ from the current password"
)

// ErrDeactivated is returned for a user who may no longer sign in.
var ErrDeactivated = errors.New("accounts: user deactivated")

// Active tells whether the user may sign in.
func (u *User) Active() bool { return u.DeactivatedAt == nil }

// SetLang records the language a user reads Rampe in: one of i18n.Langs,
// or "" to follow the browser.
func (s *Store) SetLang(ctx context.Context, id uint64, lang string) error {
	if lang != "" && !i18n.Supported(lang) {
		return validation.Field("lang", "%q is not a language Rampe speaks (want %s)", lang, strings.Join(i18n.Langs, ", "))
	}
	res := s.DB.WithContext(ctx).Model(&User{}).Where("id = ?", id).Update("lang", lang)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// activeAdmins counts the admins who can still sign in, in tx.
func activeAdmins(tx *gorm.DB) (int64, error) {
	var n int64
	return n, tx.Model(&User{}).Where("role = ? AND deactivated_at IS NULL", Admin).Count(&n).Error
}

// SetRole changes a user's role. The last active admin keeps the role, so
// that someone can always manage users.
func (s *Store) SetRole(ctx context.Context, id uint64, role Role) (*User, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	var u *User
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if u, err = s.inTx(tx, id); err != nil {
			return err
		}
		if u.Role == Admin && role != Admin && u.Active() {
			if n, err := activeAdmins(tx); err != nil || n <= 1 {
				return firstErr(err, validation.Field("role", msgLastAdmin, u.Email))
			}
		}
		u.Role = role
		return tx.Model(&User{}).Where("id = ?", id).Update("role", role).Error
	})
	return u, err
}

// Deactivate stops a user from signing in: their sessions end and their API
// tokens stop working at once. An admin cannot deactivate themselves, nor
// the last active admin.
func (s *Store) Deactivate(ctx context.Context, id, by uint64) (*User, error) {
	if id == by {
		return nil, validation.Field("user", msgSelfDeactive)
	}
	var u *User
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if u, err = s.inTx(tx, id); err != nil || !u.Active() {
			return err
		}
		if u.Role == Admin {
			if n, err := activeAdmins(tx); err != nil || n <= 1 {
				return firstErr(err, validation.Field("user", msgLastAdmin, u.Email))
			}
		}
		now := s.now()
		u.DeactivatedAt = &now
		if err := tx.Model(&User{}).Where("id = ?", id).Update("deactivated_at", now).Error; err != nil {
			return err
		}
		return tx.Where("user_id = ?", id).Delete(&Session{}).Error
	})
	return u, err
}

// Reactivate lets a deactivated user sign in again.
func (s *Store) Reactivate(ctx context.Context, id uint64) (*User, error) {
	u, err := s.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	u.DeactivatedAt = nil
	return u, s.DB.WithContext(ctx).Model(&User{}).Where("id = ?", id).Update("deactivated_at", nil).Error
}

// ResetPassword gives a user a new random password, returned once, and ends
// their sessions (an admin's reset for someone who forgot theirs).
func (s *Store) ResetPassword(ctx context.Context, id uint64) (string, error) {
	if _, err := s.ByID(ctx, id); err != nil {
		return "", err
	}
	pw := RandomPassword()
	return pw, s.setPassword(ctx, id, pw, 0)
}

// ChangePassword sets a user's own password after checking the current one,
// and ends their other sessions (keep: the session making the change).
func (s *Store) ChangePassword(ctx context.Context, id uint64, current, next, confirm string, keep uint64) error {
	u, err := s.ByID(ctx, id)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
		return validation.Field("current", msgWrongCurrent)
	}
	if err := checkPassword(next); err != nil {
		return err
	}
	if next != confirm {
		return validation.Field("confirm", msgNotConfirmed)
	}
	if next == current {
		return validation.Field("password", msgSameAsCurrent)
	}
	return s.setPassword(ctx, id, next, keep)
}

func checkPassword(pw string) error {
	if len(pw) < MinPasswordLength {
		return validation.Field("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(pw) > 72 {
		return validation.Field("password", "must be at most 72 bytes")
	}
	return nil
}

func (s *Store) setPassword(ctx context.Context, id uint64, pw string, keep uint64) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("accounts: hash password: %w", err)
	}
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", id).Update("password_hash", string(hash)).Error; err != nil {
			return fmt.Errorf("accounts: set password of %d: %w", id, err)
		}
		return tx.Where("user_id = ? AND id <> ?", id, keep).Delete(&Session{}).Error
	})
}

func (s *Store) inTx(tx *gorm.DB, id uint64) (*User, error) {
	var u User
	err := tx.Take(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, err
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
