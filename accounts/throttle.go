package accounts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Sign-in throttling. Failed sign-ins are counted per e-mail address (the
// account, whether it exists or not, so a lock tells nothing about who
// has an account) and per network address, in the database so that every
// web node counts the same. Past a few free failures a subject is locked
// for a minute, doubling at each further failure up to an hour; a locked
// subject is refused before any password is hashed, so guessing costs the
// attacker time and the server nothing. A successful sign-in clears the
// account's count; counts are forgotten a day after their last failure.
const (
	AccountFreeFailures = 5
	AddressFreeFailures = 20
	firstLock           = time.Minute
	maxLock             = time.Hour
	forgetAfter         = 24 * time.Hour
)

// SigninFailure is the failure count of one subject: "email:…" or "ip:…".
type SigninFailure struct {
	Subject     string `gorm:"primaryKey"`
	Failures    int
	LastFailure time.Time
	LockedUntil *time.Time
}

// TableName is the table of failure counts.
func (SigninFailure) TableName() string { return "signin_failures" }

// Kind is "account" or "address"; Name is the e-mail or the IP.
func (f SigninFailure) Kind() string {
	if strings.HasPrefix(f.Subject, "ip:") {
		return "address"
	}
	return "account"
}

// Name is the e-mail address or the network address.
func (f SigninFailure) Name() string {
	_, n, _ := strings.Cut(f.Subject, ":")
	return n
}

// Locked tells whether the subject is locked at now.
func (f SigninFailure) Locked(now time.Time) bool {
	return f.LockedUntil != nil && f.LockedUntil.After(now)
}

// Lock is a refusal to sign in: who is locked and until when.
type Lock struct {
	Kind  string // account or address
	Until time.Time
	At    time.Time // the instant it was judged at (the caller's now)
}

// Error says it in words, for the sign-in page.
func (l *Lock) Error() string {
	who := "this e-mail address"
	if l.Kind == "address" {
		who = "your network address"
	}
	return fmt.Sprintf("Too many failed sign-ins from %s: try again in %s, or ask an admin to lift the lock (Users page).", who, waitWords(l.Until.Sub(l.At)))
}

// waitWords rounds a wait up to whole seconds, or minutes from one on.
func waitWords(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	switch {
	case secs <= 1:
		return "1 second"
	case secs < 60:
		return fmt.Sprintf("%d seconds", secs)
	case secs <= 60:
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", (secs+59)/60)
}

// accountSubject is the subject of an e-mail address; one longer than an
// address can be is counted under its hash, so that any text fits.
func accountSubject(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 {
		return "email:" + hashToken(email)
	}
	return "email:" + email
}
func addressSubject(ip string) string { return "ip:" + ip }

// SigninLock returns the lock that holds a sign-in of email from ip at
// now, or nil.
func (s *Store) SigninLock(ctx context.Context, email, ip string, now time.Time) (*Lock, error) {
	var rows []SigninFailure
	err := s.DB.WithContext(ctx).Where("subject IN ? AND locked_until > ?", []string{accountSubject(email), addressSubject(ip)}, now).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("accounts: sign-in locks: %w", err)
	}
	var l *Lock
	for _, r := range rows {
		if l == nil || r.LockedUntil.After(l.Until) {
			l = &Lock{Kind: r.Kind(), Until: *r.LockedUntil, At: now}
		}
	}
	return l, nil
}

// SigninFailed counts a failed sign-in of email from ip and returns the
// lock it caused, if any.
func (s *Store) SigninFailed(ctx context.Context, email, ip string, now time.Time) (*Lock, error) {
	var lock *Lock
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, sub := range []struct {
			subject string
			free    int
		}{{accountSubject(email), AccountFreeFailures}, {addressSubject(ip), AddressFreeFailures}} {
			f, err := countFailure(tx, sub.subject, now)
			if err != nil {
				return err
			}
			if f.Failures <= sub.free {
				continue
			}
			until := now.Add(lockFor(f.Failures - sub.free))
			if err := tx.Model(&SigninFailure{}).Where("subject = ?", sub.subject).Update("locked_until", until).Error; err != nil {
				return err
			}
			if lock == nil || until.After(lock.Until) {
				lock = &Lock{Kind: f.Kind(), Until: until, At: now}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("accounts: count a failed sign-in: %w", err)
	}
	return lock, nil
}

// countFailure adds one failure to subject in one statement (two nodes
// counting at once both count), starting again from one when the last
// failure is older than forgetAfter.
func countFailure(tx *gorm.DB, subject string, now time.Time) (SigninFailure, error) {
	f := SigninFailure{Subject: subject, Failures: 1, LastFailure: now}
	err := tx.Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "subject"}},
		DoUpdates: clause.Assignments(map[string]any{
			"failures":     gorm.Expr("CASE WHEN signin_failures.last_failure < ? THEN 1 ELSE signin_failures.failures + 1 END", now.Add(-forgetAfter)),
			"last_failure": now,
		}),
	}).Create(&f).Error
	if err != nil {
		return f, err
	}
	return f, tx.Where("subject = ?", subject).Take(&f).Error
}

// lockFor is the lock after the n-th failure past the free ones.
func lockFor(n int) time.Duration {
	d := firstLock
	for i := 1; i < n && d < maxLock; i++ {
		d *= 2
	}
	return min(d, maxLock)
}

// SigninSucceeded clears the account's failures.
func (s *Store) SigninSucceeded(ctx context.Context, email string) error {
	return s.DB.WithContext(ctx).Where("subject = ?", accountSubject(email)).Delete(&SigninFailure{}).Error
}

// SigninFailures lists the subjects with failures of the last day, locked
// ones first, for the admins' Users page.
func (s *Store) SigninFailures(ctx context.Context, now time.Time, limit int) ([]SigninFailure, error) {
	var out []SigninFailure
	err := s.DB.WithContext(ctx).Where("last_failure > ?", now.Add(-forgetAfter)).
		Order("locked_until DESC NULLS LAST, last_failure DESC").Limit(limit).Find(&out).Error
	return out, err
}

// LiftSigninLock forgets a subject's failures (an admin's decision).
func (s *Store) LiftSigninLock(ctx context.Context, subject string) error {
	res := s.DB.WithContext(ctx).Where("subject = ?", subject).Delete(&SigninFailure{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// Until is the end of the lock, or the zero time.
func (f SigninFailure) Until() time.Time {
	if f.LockedUntil == nil {
		return time.Time{}
	}
	return *f.LockedUntil
}
