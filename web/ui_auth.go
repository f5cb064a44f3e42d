package web

import (
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/platform/i18n"
)

func (s *Server) showLogin(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Redirect("/campaigns")
	}
	return s.render(c, "login", pageData{Title: i18n.M("Sign in"), Data: map[string]any{"Next": safeNext(c.Query("next"))}})
}

// safeNext keeps redirects after sign-in on this site. It accepts only a
// path of this site: parsed, no scheme, host or user, one leading slash, no
// control byte, space or backslash anywhere (browsers drop tabs and line
// breaks from a URL and read a backslash as a slash, so "/\t/evil" and
// "/\\evil" lead off-site; a CR or LF in a Location header would start a
// header of the attacker's choosing). Anything else goes to the home page.
// The answer is re-serialised, so what reaches the Location header is
// ASCII.
func safeNext(next string) string {
	const home = "/campaigns"
	if next == "" || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "//") {
		return home
	}
	for i := 0; i < len(next); i++ {
		if b := next[i]; b <= ' ' || b == 0x7f || b == '\\' {
			return home
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return home
	}
	return u.String()
}

// doLogin signs a user in. A locked account or address is refused before
// the password is even compared (accounts' sign-in throttling), with the
// wait in words and a Retry-After header.
func (s *Server) doLogin(c *fiber.Ctx) error {
	email, password := c.FormValue("email"), c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	ctx, ip, now := c.UserContext(), c.IP(), s.now()
	refuse := func(code int, msg string) error {
		return s.renderStatus(c, code, "login", pageData{Title: i18n.M("Sign in"), Flash: msg, Data: map[string]any{"Next": next, "Email": email}})
	}
	lock, err := s.Accounts.SigninLock(ctx, email, ip, now)
	if err != nil {
		return err
	}
	if lock != nil {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(lock.Until.Sub(now)/time.Second)+1))
		return refuse(fiber.StatusTooManyRequests, lock.Error())
	}
	u, err := s.Accounts.Authenticate(ctx, email, password)
	if errors.Is(err, accounts.ErrDeactivated) {
		slog.Info("web: sign-in of a deactivated user", "email", email, "ip", ip)
		return refuse(fiber.StatusForbidden, msgDeactivated)
	}
	if err != nil {
		if !errors.Is(err, accounts.ErrBadCredentials) {
			return err
		}
		slog.Info("web: failed sign-in", "email", email, "ip", ip)
		lock, err := s.Accounts.SigninFailed(ctx, email, ip, now)
		if err != nil {
			return err
		}
		if lock != nil {
			slog.Warn("web: sign-in locked", "kind", lock.Kind, "email", email, "ip", ip, "until", lock.Until)
			return refuse(fiber.StatusUnauthorized, "Wrong e-mail or password. "+lock.Error())
		}
		return refuse(fiber.StatusUnauthorized, "Wrong e-mail or password.")
	}
	if err := s.Accounts.SigninSucceeded(ctx, email); err != nil {
		return err
	}
	tok, err := s.Accounts.NewSession(ctx, u.ID)
	if err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, tok, s.Accounts.TTL())
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (s *Server) doLogout(c *fiber.Ctx) error {
	if tok := c.Cookies(sessionCookie); tok != "" {
		s.Accounts.EndSession(c.UserContext(), tok)
	}
	s.clearCookie(c, sessionCookie)
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
	return s.renderStatus(c, code, "tokens", pageData{Title: i18n.M("API tokens"), Nav: "tokens",
		Data: map[string]any{"Tokens": toks, "Secret": secret, "NameError": fieldErr, "BaseURL": s.BaseURL}})
}

func (s *Server) createToken(c *fiber.Ctx) error {
	secret, _, err := s.Accounts.NewAPIToken(c.UserContext(), currentUser(c).ID, c.FormValue("name"))
	var fe *accounts.FieldError
	if errors.As(err, &fe) {
		return s.renderTokens(c, "", s.tr(c, fe))
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
	s.flash(c, true, i18n.M("Token revoked."))
	return c.Redirect("/settings/tokens", fiber.StatusSeeOther)
}

func (s *Server) showUsers(c *fiber.Ctx) error {
	return s.renderUsers(c, fiber.StatusOK, nil, map[string]string{}, "")
}

// renderUsers shows the users page; secret is a message shown once (a reset
// password).
func (s *Server) renderUsers(c *fiber.Ctx, code int, fe *accounts.FieldError, form map[string]string, secret string) error {
	users, err := s.Accounts.List(c.UserContext())
	if err != nil {
		return err
	}
	now := s.now()
	failures, err := s.Accounts.SigninFailures(c.UserContext(), now, 100)
	if err != nil {
		return err
	}
	errs := map[string]string{}
	if fe != nil {
		errs[fe.Field] = s.tr(c, fe)
	}
	return s.renderStatus(c, code, "users", pageData{Title: i18n.M("Users"), Nav: "users",
		Data: map[string]any{"Users": users, "Errs": errs, "Form": form, "Failures": failures, "Now": now, "Secret": secret, "Me": currentUser(c).ID,
			"Roles": []accounts.Role{accounts.Admin, accounts.Marketer, accounts.Viewer}}})
}

func (s *Server) createUser(c *fiber.Ctx) error {
	form := map[string]string{"email": c.FormValue("email"), "name": c.FormValue("name"), "role": c.FormValue("role")}
	role, err := accounts.ParseRole(form["role"])
	if err == nil {
		_, err = s.Accounts.CreateUser(c.UserContext(), form["email"], form["name"], role, c.FormValue("password"))
	}
	var fe *accounts.FieldError
	if errors.As(err, &fe) {
		return s.renderUsers(c, fiber.StatusUnprocessableEntity, fe, form, "")
	}
	if err != nil {
		return err
	}
	s.flash(c, true, i18n.M("User %s created.", form["email"]))
	return c.Redirect("/users", fiber.StatusSeeOther)
}

// liftSigninLock forgets the failed sign-ins of an account or address.
func (s *Server) liftSigninLock(c *fiber.Ctx) error {
	subject := c.FormValue("subject")
	if err := s.Accounts.LiftSigninLock(c.UserContext(), subject); err != nil {
		if errors.Is(err, accounts.ErrNotFound) {
			return fiber.NewError(fiber.StatusNotFound, "no failed sign-ins recorded for "+subject)
		}
		return err
	}
	slog.Info("web: sign-in lock lifted", "subject", subject, "by", currentUser(c).Email)
	s.flash(c, true, i18n.M("Sign-in lock lifted for %s.", subject))
	return c.Redirect("/users", fiber.StatusSeeOther)
}
