package accounts

import (
	"context"
	"errors"
	"testing"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

func TestUsersSessionsTokens(t *testing.T) {
	ctx := context.Background()
	s := &Store{DB: testenv.DB(t, db.Migrations, Migrations)}
	u, err := s.CreateUser(ctx, "Ana@Shop.example", "Ana", Marketer, "long-enough-password")
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ana@shop.example" {
		t.Fatalf("email not normalised: %s", u.Email)
	}
	var fe *FieldError
	if _, err := s.CreateUser(ctx, "ana@shop.example", "", Viewer, "long-enough-password"); !errors.As(err, &fe) || fe.Field != "email" {
		t.Fatalf("duplicate e-mail: %v", err)
	}
	if _, err := s.CreateUser(ctx, "b@shop.example", "", Viewer, "short"); !errors.As(err, &fe) || fe.Field != "password" {
		t.Fatalf("short password: %v", err)
	}
	if _, err := ParseRole("root"); err == nil {
		t.Fatal("unknown role accepted")
	}
	if _, err := s.Authenticate(ctx, "ana@shop.example", "wrong-password"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := s.Authenticate(ctx, "nobody@shop.example", "whatever-password"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := s.Authenticate(ctx, "ANA@shop.example", "long-enough-password"); err != nil {
		t.Fatal(err)
	}
	tok, err := s.NewSession(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.UserBySession(ctx, tok); err != nil || got.ID != u.ID {
		t.Fatalf("session: %v", err)
	}
	s.EndSession(ctx, tok)
	if _, _, err := s.UserBySession(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ended session still valid: %v", err)
	}
	secret, api, err := s.NewAPIToken(ctx, u.ID, "script")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserByAPIToken(ctx, secret); err != nil || got.ID != u.ID {
		t.Fatalf("token: %v", err)
	}
	var stored APIToken
	s.DB.First(&stored, api.ID)
	if stored.TokenHash == secret || len(stored.TokenHash) != 64 {
		t.Fatal("the token must be stored hashed")
	}
	if err := s.RevokeAPIToken(ctx, u.ID, api.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByAPIToken(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked token still valid: %v", err)
	}
}
