// Package accounts owns users, their roles, sign-in sessions and API tokens.
// Passwords are hashed with bcrypt; session and API tokens are random and only
// their SHA-256 is stored, so a database leak does not hand out sign-ins.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/validation"
)

// Role is what a user may do.
type Role string

// Roles, from most to least powerful.
const (
	Admin    Role = "admin"
	Marketer Role = "marketer"
	Viewer   Role = "viewer"
)

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case Admin, Marketer, Viewer:
		return r, nil
	}
	return "", validation.Field("role", "unknown role %q (want admin, marketer or viewer)", s)
}

// CanWrite tells whether the role may change campaigns.
func (r Role) CanWrite() bool { return r == Admin || r == Marketer }

// User is a person who signs in.
type User struct {
	ID           uint64 `gorm:"primaryKey"`
	Email        string
	Name         string
	Role         Role
	PasswordHash string `json:"-"`
	CreatedAt    time.Time
	// DeactivatedAt is when an admin stopped the user from signing in.
	DeactivatedAt *time.Time
	// Lang is the language the user reads Rampe in ("en", "fr"); empty
	// follows the browser's Accept-Language.
	Lang string
}

// Session is one signed-in browser.
type Session struct {
	ID        uint64 `gorm:"primaryKey"`
	TokenHash string
	UserID    uint64
	ExpiresAt time.Time
	CreatedAt time.Time
}

// APIToken lets a script call /api/v1 as a user.
type APIToken struct {
	ID         uint64 `gorm:"primaryKey"`
	UserID     uint64
	Name       string
	Prefix     string
	TokenHash  string `json:"-"`
	LastUsedAt *time.Time
	CreatedAt  time.Time
}

// FieldError is a validation error naming its field.
// Its message is translated (platform/validation).
type FieldError = validation.FieldError

// Errors callers map to responses.
var (
	ErrBadCredentials = errors.New("accounts: wrong e-mail or password")
	ErrNotFound       = errors.New("accounts: not found")
)

// Migrations of the accounts tables.
var Migrations = []db.Migration{
	{ID: "2026112201_accounts", SQL: `
CREATE TABLE users (id {{id}}, email VARCHAR(254) NOT NULL UNIQUE, name VARCHAR(200) NOT NULL DEFAULT '', role VARCHAR(20) NOT NULL, password_hash VARCHAR(100) NOT NULL, created_at {{ts}} NOT NULL);
CREATE TABLE sessions (id {{id}}, token_hash VARCHAR(64) NOT NULL UNIQUE, user_id {{bigint}} NOT NULL REFERENCES users(id) ON DELETE CASCADE, expires_at {{ts}} NOT NULL, created_at {{ts}} NOT NULL);
CREATE TABLE api_tokens (id {{id}}, user_id {{bigint}} NOT NULL REFERENCES users(id) ON DELETE CASCADE, name VARCHAR(100) NOT NULL, prefix VARCHAR(20) NOT NULL, token_hash VARCHAR(64) NOT NULL UNIQUE, last_used_at {{ts}}, created_at {{ts}} NOT NULL)`},
	{ID: "2026120201_signin_failures", SQL: `
CREATE TABLE signin_failures (subject VARCHAR(300) PRIMARY KEY, failures INTEGER NOT NULL, last_failure {{ts}} NOT NULL, locked_until {{ts}})`},
	{ID: "2026120210_users_deactivated", SQL: `ALTER TABLE users ADD COLUMN deactivated_at {{ts}}`},
	{ID: "2026120220_users_lang", SQL: `ALTER TABLE users ADD COLUMN lang VARCHAR(5) NOT NULL DEFAULT ''`},
}

// Store is the accounts repository.
type Store struct {
	DB         *gorm.DB
	SessionTTL time.Duration
	// Clock dates users, sessions and tokens, and judges a session's
	// expiry (nil: the wall clock).
	Clock clock.Clock
}

func (s *Store) now() time.Time { return clock.Or(s.Clock).Now() }

// MinPasswordLength is enforced on every new password.
const MinPasswordLength = 10

// CreateUser validates and stores a user.
func (s *Store) CreateUser(ctx context.Context, email, name string, role Role, password string) (*User, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Address != strings.TrimSpace(email) {
		return nil, validation.Field("email", "%q is not an e-mail address", email)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	if len(password) < MinPasswordLength {
		return nil, validation.Field("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return nil, validation.Field("password", "must be at most 72 bytes")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("accounts: hash password: %w", err)
	}
	u := &User{Email: strings.ToLower(addr.Address), Name: strings.TrimSpace(name), Role: role, PasswordHash: string(hash), CreatedAt: s.now()}
	if err := s.DB.WithContext(ctx).Create(u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, validation.Field("email", "a user with e-mail %s already exists", u.Email)
		}
		return nil, fmt.Errorf("accounts: create user: %w", err)
	}
	return u, nil
}

// List returns every user by e-mail.
func (s *Store) List(ctx context.Context) ([]User, error) {
	var out []User
	return out, s.DB.WithContext(ctx).Order("email").Find(&out).Error
}

// ByEmail finds a user.
func (s *Store) ByEmail(ctx context.Context, email string) (*User, error) {
	return db.Take[User](s.DB.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))), ErrNotFound)
}

// Authenticate checks an e-mail and password. The same error comes back for an
// unknown e-mail and a wrong password, and both cost one bcrypt comparison.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*User, error) {
	u, err := s.ByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return nil, ErrBadCredentials
	}
	if !u.Active() {
		return nil, ErrDeactivated
	}
	return u, nil
}

// dummyHash is computed on first use: at package init it cost every
// command of the binary a bcrypt hash (~70 ms of CPU) before doing anything.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not-a-real-password"), bcrypt.DefaultCost)
	return h
})

// NewSession stores a session and returns the cookie token.
func (s *Store) NewSession(ctx context.Context, userID uint64) (token string, err error) {
	token = randomToken(32)
	now := s.now()
	err = s.DB.WithContext(ctx).Create(&Session{TokenHash: hashToken(token), UserID: userID, ExpiresAt: now.Add(s.TTL()), CreatedAt: now}).Error
	return token, err
}

// TTL is how long a session lasts (a week unless configured).
func (s *Store) TTL() time.Duration {
	if s.SessionTTL <= 0 {
		return 7 * 24 * time.Hour
	}
	return s.SessionTTL
}

// UserBySession resolves a cookie token to its user and session id.
func (s *Store) UserBySession(ctx context.Context, token string) (*User, uint64, error) {
	var sess Session
	err := s.DB.WithContext(ctx).Where("token_hash = ? AND expires_at > ?", hashToken(token), s.now()).Take(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	u, err := s.ByID(ctx, sess.UserID)
	if err == nil && !u.Active() {
		return nil, 0, ErrNotFound
	}
	return u, sess.ID, err
}

// EndSession signs a browser out.
func (s *Store) EndSession(ctx context.Context, token string) error {
	return s.DB.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Delete(&Session{}).Error
}

// ByID finds a user by id.
func (s *Store) ByID(ctx context.Context, id uint64) (*User, error) {
	return db.Take[User](s.DB.WithContext(ctx), ErrNotFound, id)
}

// NewAPIToken creates a token for a user and returns its secret once.
func (s *Store) NewAPIToken(ctx context.Context, userID uint64, name string) (secret string, tok *APIToken, err error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, validation.Field("name", "give the token a name of 1 to 100 characters")
	}
	secret = "rmp_" + randomToken(24)
	tok = &APIToken{UserID: userID, Name: name, Prefix: secret[:10], TokenHash: hashToken(secret), CreatedAt: s.now()}
	if err := s.DB.WithContext(ctx).Create(tok).Error; err != nil {
		return "", nil, fmt.Errorf("accounts: create token: %w", err)
	}
	return secret, tok, nil
}

// UserByAPIToken resolves a bearer token.
func (s *Store) UserByAPIToken(ctx context.Context, secret string) (*User, error) {
	var tok APIToken
	err := s.DB.WithContext(ctx).Where("token_hash = ?", hashToken(secret)).Take(&tok).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u, err := s.ByID(ctx, tok.UserID)
	if err != nil || !u.Active() {
		return nil, firstErr(err, ErrNotFound)
	}
	now := s.now()
	s.DB.WithContext(ctx).Model(&APIToken{}).Where("id = ?", tok.ID).Update("last_used_at", now)
	return u, nil
}

// APITokens lists a user's tokens.
func (s *Store) APITokens(ctx context.Context, userID uint64) ([]APIToken, error) {
	var out []APIToken
	err := s.DB.WithContext(ctx).Where("user_id = ?", userID).Order("id").Find(&out).Error
	return out, err
}

// RevokeAPIToken deletes one of a user's tokens.
func (s *Store) RevokeAPIToken(ctx context.Context, userID, id uint64) error {
	res := s.DB.WithContext(ctx).Where("user_id = ? AND id = ?", userID, id).Delete(&APIToken{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// RandomPassword returns a password for generated accounts (demo admin).
func RandomPassword() string {
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}
