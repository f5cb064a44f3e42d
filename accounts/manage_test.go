package accounts

import (
	"context"
	"errors"
	"testing"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

func TestDeactivateEndsSessionsTokensAndSignIn(t *testing.T) {
	ctx := context.Background()
	s := &Store{DB: testenv.DB(t, db.Migrations, Migrations)}
	admin, _ := s.CreateUser(ctx, "admin@shop.example", "", Admin, "long-enough-password")
	u, _ := s.CreateUser(ctx, "ana@shop.example", "", Marketer, "long-enough-password")
	tok, _ := s.NewSession(ctx, u.ID)
	secret, _, _ := s.NewAPIToken(ctx, u.ID, "script")
	if _, err := s.Deactivate(ctx, u.ID, admin.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UserBySession(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session of a deactivated user: %v", err)
	}
	if _, err := s.UserByAPIToken(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Fatalf("API token of a deactivated user: %v", err)
	}
	if _, err := s.Authenticate(ctx, "ana@shop.example", "long-enough-password"); !errors.Is(err, ErrDeactivated) {
		t.Fatalf("sign-in of a deactivated user: %v", err)
	}
	if _, err := s.Authenticate(ctx, "ana@shop.example", "wrong-password-x"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a wrong password still reads as such: %v", err)
	}
	if _, err := s.Reactivate(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "ana@shop.example", "long-enough-password"); err != nil {
		t.Fatalf("reactivated: %v", err)
	}
	var fe *FieldError
	if _, err := s.Deactivate(ctx, admin.ID, admin.ID); !errors.As(err, &fe) {
		t.Fatalf("self-deactivation: %v", err)
	}
}

func TestTheLastAdminStays(t *testing.T) {
	ctx := context.Background()
	s := &Store{DB: testenv.DB(t, db.Migrations, Migrations)}
	a, _ := s.CreateUser(ctx, "a@shop.example", "", Admin, "long-enough-password")
	b, _ := s.CreateUser(ctx, "b@shop.example", "", Marketer, "long-enough-password")
	var fe *FieldError
	if _, err := s.SetRole(ctx, a.ID, Viewer); !errors.As(err, &fe) || fe.Field != "role" {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if _, err := s.SetRole(ctx, b.ID, Admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRole(ctx, a.ID, Viewer); err != nil {
		t.Fatalf("with another admin: %v", err)
	}
	if _, err := s.Deactivate(ctx, b.ID, a.ID); !errors.As(err, &fe) {
		t.Fatalf("deactivating the last admin: %v", err)
	}
	if got, _ := s.ByID(ctx, a.ID); got.Role != Viewer {
		t.Fatalf("role %s", got.Role)
	}
}

func TestPasswords(t *testing.T) {
	ctx := context.Background()
	s := &Store{DB: testenv.DB(t, db.Migrations, Migrations)}
	u, _ := s.CreateUser(ctx, "ana@shop.example", "", Marketer, "long-enough-password")
	keep, _ := s.NewSession(ctx, u.ID)
	other, _ := s.NewSession(ctx, u.ID)
	_, keepID, _ := s.UserBySession(ctx, keep)
	var fe *FieldError
	for _, tc := range []struct{ current, next, confirm, field string }{
		{"wrong-password", "brand-new-password", "brand-new-password", "current"},
		{"long-enough-password", "short", "short", "password"},
		{"long-enough-password", "brand-new-password", "brand-new-passwort", "confirm"},
		{"long-enough-password", "long-enough-password", "long-enough-password", "password"},
	} {
		if err := s.ChangePassword(ctx, u.ID, tc.current, tc.next, tc.confirm, keepID); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: %v", tc, err)
		}
	}
	if err := s.ChangePassword(ctx, u.ID, "long-enough-password", "brand-new-password", "brand-new-password", keepID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UserBySession(ctx, keep); err != nil {
		t.Fatalf("the session that changed it ends: %v", err)
	}
	if _, _, err := s.UserBySession(ctx, other); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another session survives: %v", err)
	}
	if _, err := s.Authenticate(ctx, "ana@shop.example", "brand-new-password"); err != nil {
		t.Fatal(err)
	}
	pw, err := s.ResetPassword(ctx, u.ID)
	if err != nil || len(pw) < MinPasswordLength {
		t.Fatalf("reset: %q %v", pw, err)
	}
	if _, _, err := s.UserBySession(ctx, keep); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a reset ends every session: %v", err)
	}
	if _, err := s.Authenticate(ctx, "ana@shop.example", pw); err != nil {
		t.Fatal(err)
	}
}

func TestSetLangKeepsOnlyKnownLanguages(t *testing.T) {
	ctx := context.Background()
	s := &Store{DB: testenv.DB(t, db.Migrations, Migrations)}
	u, _ := s.CreateUser(ctx, "ana@shop.example", "", Marketer, "long-enough-password")
	if err := s.SetLang(ctx, u.ID, "fr"); err != nil {
		t.Fatal(err)
	}
	var fe *FieldError
	if err := s.SetLang(ctx, u.ID, "fr-FR'; --"); !errors.As(err, &fe) || fe.Field != "lang" {
		t.Fatalf("an unknown language: %v", err)
	}
	if got, _ := s.ByID(ctx, u.ID); got.Lang != "fr" {
		t.Fatalf("a refused language changed the preference to %q", got.Lang)
	}
	if err := s.SetLang(ctx, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ByID(ctx, u.ID); got.Lang != "" {
		t.Fatalf("the preference is %q after clearing it", got.Lang)
	}
	if err := s.SetLang(ctx, 999, "en"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown user: %v", err)
	}
}
