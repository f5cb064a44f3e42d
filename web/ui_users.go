package web

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/platform/i18n"
)

// Messages of the users pages, in one place (for translation).
var (
	msgDeactivated     = i18n.Key("This account is deactivated. Ask an admin to reactivate it.")
	msgRoleChanged     = i18n.Key("%s is now %s.")
	msgUserDeactivated = i18n.Key("%s is deactivated: their sessions ended and their API tokens stopped working.")
	msgUserReactivated = i18n.Key("%s can sign in again.")
	msgPasswordReset   = i18n.Key("New password of %s, shown once — hand it over safely: %s")
	msgPasswordChanged = i18n.Key("Password changed. Your other sessions were signed out.")
	msgNoSuchUser      = i18n.Key("there is no user with this id")
)

// userAction loads the user of :id for an admin's action.
func (s *Server) userOf(c *fiber.Ctx) (*accounts.User, error) {
	id, ok := parseID(c)
	if !ok {
		return nil, fiber.ErrNotFound
	}
	u, err := s.Accounts.ByID(c.UserContext(), id)
	if errors.Is(err, accounts.ErrNotFound) {
		return nil, fiber.NewError(fiber.StatusNotFound, msgNoSuchUser)
	}
	return u, err
}

// userDone answers an admin's action on a user: a refusal comes back on
// the users page naming the field, a success as a flash.
func (s *Server) userDone(c *fiber.Ctx, err error, ok i18n.Message) error {
	var fe *accounts.FieldError
	if errors.As(err, &fe) {
		s.flash(c, false, i18n.M("%s.", fe))
		return c.Redirect("/users", fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	s.flash(c, true, ok)
	return c.Redirect("/users", fiber.StatusSeeOther)
}

func (s *Server) setUserRole(c *fiber.Ctx) error {
	u, err := s.userOf(c)
	if err != nil {
		return err
	}
	role, err := accounts.ParseRole(c.FormValue("role"))
	if err == nil {
		_, err = s.Accounts.SetRole(c.UserContext(), u.ID, role)
	}
	if err == nil {
		slog.Info("web: role changed", "user", u.Email, "role", role, "by", currentUser(c).Email)
	}
	return s.userDone(c, err, i18n.M(msgRoleChanged, u.Email, i18n.Message{Format: string(role)}))
}

func (s *Server) deactivateUser(c *fiber.Ctx) error {
	u, err := s.userOf(c)
	if err != nil {
		return err
	}
	_, err = s.Accounts.Deactivate(c.UserContext(), u.ID, currentUser(c).ID)
	if err == nil {
		slog.Info("web: user deactivated", "user", u.Email, "by", currentUser(c).Email)
	}
	return s.userDone(c, err, i18n.M(msgUserDeactivated, u.Email))
}

func (s *Server) reactivateUser(c *fiber.Ctx) error {
	u, err := s.userOf(c)
	if err != nil {
		return err
	}
	_, err = s.Accounts.Reactivate(c.UserContext(), u.ID)
	return s.userDone(c, err, i18n.M(msgUserReactivated, u.Email))
}

func (s *Server) resetUserPassword(c *fiber.Ctx) error {
	u, err := s.userOf(c)
	if err != nil {
		return err
	}
	pw, err := s.Accounts.ResetPassword(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	slog.Info("web: password reset", "user", u.Email, "by", currentUser(c).Email)
	// Shown on the page that answers, never stored in a cookie.
	return s.renderUsers(c, fiber.StatusOK, nil, map[string]string{}, fmt.Sprintf(msgPasswordReset, u.Email, pw))
}

func (s *Server) showPassword(c *fiber.Ctx) error {
	return s.render(c, "password", passwordPage(nil))
}

// passwordPage is the settings page of the signed-in user: their language
// and their password; errs are the password form's field errors.
func passwordPage(errs map[string]string) pageData {
	if errs == nil {
		errs = map[string]string{}
	}
	return pageData{Title: i18n.M("Language and password"), Nav: "password",
		Data: map[string]any{"Errs": errs, "Langs": i18n.Langs, "LangNames": i18n.Names}}
}

// saveLanguage records the language the signed-in user reads Rampe in
// ("" follows the browser).
func (s *Server) saveLanguage(c *fiber.Ctx) error {
	u := currentUser(c)
	lang := c.FormValue("lang")
	if err := s.Accounts.SetLang(c.UserContext(), u.ID, lang); err != nil {
		var fe *accounts.FieldError
		if errors.As(err, &fe) {
			return fiber.NewError(fiber.StatusUnprocessableEntity, s.tr(c, fe))
		}
		return err
	}
	u.Lang = lang
	c.Locals(langKey, nil)
	s.flash(c, true, i18n.M("Language saved."))
	return c.Redirect("/settings/password", fiber.StatusSeeOther)
}

// changePassword sets the signed-in user's own password.
func (s *Server) changePassword(c *fiber.Ctx) error {
	u := currentUser(c)
	sid, _ := c.Locals(sessionKey).(uint64)
	err := s.Accounts.ChangePassword(c.UserContext(), u.ID, c.FormValue("current"), c.FormValue("password"), c.FormValue("confirm"), sid)
	var fe *accounts.FieldError
	if errors.As(err, &fe) {
		return s.renderStatus(c, fiber.StatusUnprocessableEntity, "password", passwordPage(map[string]string{fe.Field: s.tr(c, fe)}))
	}
	if err != nil {
		return err
	}
	s.flash(c, true, msgPasswordChanged)
	return c.Redirect("/settings/password", fiber.StatusSeeOther)
}
