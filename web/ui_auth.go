package web

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/accounts"
)

func (s *Server) showLogin(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Redirect("/campaigns")
	}
	return s.render(c, "login", pageData{Title: "Sign in", Data: map[string]any{"Next": safeNext(c.Query("next"))}})
}

// safeNext keeps redirects after sign-in on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/campaigns"
	}
	return next
}

func (s *Server) doLogin(c *fiber.Ctx) error {
	email, password := c.FormValue("email"), c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	u, err := s.Accounts.Authenticate(c.UserContext(), email, password)
	if err != nil {
		if !errors.Is(err, accounts.ErrBadCredentials) {
			return err
		}
		slog.Info("web: failed sign-in", "email", email, "ip", c.IP())
		return s.renderStatus(c, fiber.StatusUnauthorized, "login", pageData{Title: "Sign in", Flash: "Wrong e-mail or password.",
			Data: map[string]any{"Next": next, "Email": email}})
	}
	tok, err := s.Accounts.NewSession(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: tok, Path: "/", HTTPOnly: true, Secure: s.Secure, SameSite: "Lax",
		Expires: time.Now().Add(s.Accounts.TTL())})
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (s *Server) doLogout(c *fiber.Ctx) error {
	if tok := c.Cookies(sessionCookie); tok != "" {
		s.Accounts.EndSession(c.UserContext(), tok)
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0), HTTPOnly: true})
	return c.Redirect("/login", fiber.StatusSeeOther)
}

func (s *Server) showTokens(c *fiber.Ctx) error {
	return s.renderTokens(c, "", "")
}

func (s *Server) renderTokens(c *fiber.Ctx, secret, fieldErr string) error {
	toks, err := s.Accounts.APITokens(c.UserContext(), currentUser(c).ID)
	if err != nil {
		return err
	}
	code := fiber.StatusOK
	if fieldErr != "" {
		code = fiber.StatusUnprocessableEntity
	}
	return s.renderStatus(c, code, "tokens", pageData{Title: "API tokens", Nav: "tokens",
		Data: map[string]any{"Tokens": toks, "Secret": secret, "NameError": fieldErr, "BaseURL": s.BaseURL}})
}

func (s *Server) createToken(c *fiber.Ctx) error {
	secret, _, err := s.Accounts.NewAPIToken(c.UserContext(), currentUser(c).ID, c.FormValue("name"))
	var fe *accounts.FieldError
	if errors.As(err, &fe) {
		return s.renderTokens(c, "", fe.Msg)
	}
	if err != nil {
		return err
	}
	return s.renderTokens(c, secret, "")
}

func (s *Server) revokeToken(c *fiber.Ctx) error {
	id, _ := parseID(c)
	if err := s.Accounts.RevokeAPIToken(c.UserContext(), currentUser(c).ID, id); err != nil {
		if errors.Is(err, accounts.ErrNotFound) {
			return fiber.NewError(fiber.StatusNotFound, "no such token of yours")
		}
		return err
	}
	s.flash(c, true, "Token revoked.")
	return c.Redirect("/settings/tokens", fiber.StatusSeeOther)
}

func (s *Server) showUsers(c *fiber.Ctx) error {
	return s.renderUsers(c, fiber.StatusOK, nil, map[string]string{})
}

func (s *Server) renderUsers(c *fiber.Ctx, code int, fe *accounts.FieldError, form map[string]string) error {
	users, err := s.Accounts.List(c.UserContext())
	if err != nil {
		return err
	}
	errs := map[string]string{}
	if fe != nil {
		errs[fe.Field] = fe.Msg
	}
	return s.renderStatus(c, code, "users", pageData{Title: "Users", Nav: "users",
		Data: map[string]any{"Users": users, "Errs": errs, "Form": form}})
}

func (s *Server) createUser(c *fiber.Ctx) error {
	form := map[string]string{"email": c.FormValue("email"), "name": c.FormValue("name"), "role": c.FormValue("role")}
	role, err := accounts.ParseRole(form["role"])
	if err == nil {
		_, err = s.Accounts.CreateUser(c.UserContext(), form["email"], form["name"], role, c.FormValue("password"))
	}
	var fe *accounts.FieldError
	if errors.As(err, &fe) {
		return s.renderUsers(c, fiber.StatusUnprocessableEntity, fe, form)
	}
	if err != nil {
		return err
	}
	s.flash(c, true, "User "+form["email"]+" created.")
	return c.Redirect("/users", fiber.StatusSeeOther)
}
