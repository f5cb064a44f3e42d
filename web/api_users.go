package web

import (
	"errors"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/rampe/rampe/accounts"
)

// The users API does what the users page does, with the same rights (an
// admin's token) and the same refusals (the last active admin keeps the
// role and cannot be deactivated, nobody deactivates themselves).

// userJSON is a user as the API shows it; the password hash never leaves.
type userJSON struct {
	ID            uint64        `json:"id"`
	Email         string        `json:"email"`
	Name          string        `json:"name"`
	Role          accounts.Role `json:"role"`
	Lang          string        `json:"lang"`
	Active        bool          `json:"active"`
	CreatedAt     time.Time     `json:"created_at"`
	DeactivatedAt *time.Time    `json:"deactivated_at"`
	// Password is the new password of a reset, shown once.
	Password string `json:"password,omitempty"`
}

func toUserJSON(u *accounts.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Lang: u.Lang, Active: u.Active(), CreatedAt: u.CreatedAt, DeactivatedAt: u.DeactivatedAt}
}

// apiAdmin lets only an admin's token through.
func apiAdmin(c *fiber.Ctx) error {
	if u := currentUser(c); u == nil || u.Role != accounts.Admin {
		return apiFail(c, fiber.StatusForbidden, "forbidden", "only an admin's token manages users", "")
	}
	return c.Next()
}

func (s *Server) apiListUsers(c *fiber.Ctx) error {
	list, err := s.Accounts.List(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]userJSON, len(list))
	for i := range list {
		out[i] = toUserJSON(&list[i])
	}
	return c.JSON(map[string]any{"users": out})
}

func (s *Server) apiCreateUser(c *fiber.Ctx) error {
	var in struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if decodeStrict(c, &in) != nil {
		return nil
	}
	role, err := accounts.ParseRole(in.Role)
	var u *accounts.User
	if err == nil {
		u, err = s.Accounts.CreateUser(c.UserContext(), in.Email, in.Name, role, in.Password)
	}
	if err != nil {
		return apiUserError(c, err)
	}
	slog.Info("web: user created", "user", u.Email, "role", u.Role, "by", currentUser(c).Email, "via", "api")
	return c.Status(fiber.StatusCreated).JSON(toUserJSON(u))
}

// apiPatchUser changes what the body names: "role", "active" (false
// deactivates, true reactivates), "reset_password" (true: a new random
// password, answered once).
func (s *Server) apiPatchUser(c *fiber.Ctx) error {
	u, err := s.apiUserOf(c)
	if u == nil {
		return err
	}
	var in struct {
		Role          *string `json:"role"`
		Active        *bool   `json:"active"`
		ResetPassword bool    `json:"reset_password"`
	}
	if decodeStrict(c, &in) != nil {
		return nil
	}
	if in.Role == nil && in.Active == nil && !in.ResetPassword {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", "give role, active or reset_password", "")
	}
	ctx, me := c.UserContext(), currentUser(c)
	// Checked before anything changes, so a refused body changes nothing.
	var role accounts.Role
	if in.Role != nil {
		if role, err = accounts.ParseRole(*in.Role); err != nil {
			return apiUserError(c, err)
		}
	}
	if in.Active != nil && !*in.Active && u.ID == me.ID {
		return apiFail(c, fiber.StatusUnprocessableEntity, "invalid", "active: you cannot deactivate yourself; another admin can", "active")
	}
	if in.Role != nil && role != u.Role {
		if u, err = s.Accounts.SetRole(ctx, u.ID, role); err != nil {
			return apiUserError(c, err)
		}
		slog.Info("web: role changed", "user", u.Email, "role", role, "by", me.Email, "via", "api")
	}
	if in.Active != nil && *in.Active != u.Active() {
		if *in.Active {
			u, err = s.Accounts.Reactivate(ctx, u.ID)
		} else {
			u, err = s.Accounts.Deactivate(ctx, u.ID, me.ID)
		}
		if err != nil {
			return apiUserError(c, err)
		}
		slog.Info("web: user active changed", "user", u.Email, "active", *in.Active, "by", me.Email, "via", "api")
	}
	out := toUserJSON(u)
	if in.ResetPassword {
		if out.Password, err = s.Accounts.ResetPassword(ctx, u.ID); err != nil {
			return apiUserError(c, err)
		}
		slog.Info("web: password reset", "user", u.Email, "by", me.Email, "via", "api")
	}
	return c.JSON(out)
}

// apiDeleteUser deactivates a user: accounts are kept, since the audit log
// names them; PATCH {"active": true} reactivates.
func (s *Server) apiDeleteUser(c *fiber.Ctx) error {
	u, err := s.apiUserOf(c)
	if u == nil {
		return err
	}
	if u, err = s.Accounts.Deactivate(c.UserContext(), u.ID, currentUser(c).ID); err != nil {
		return apiUserError(c, err)
	}
	slog.Info("web: user deactivated", "user", u.Email, "by", currentUser(c).Email, "via", "api")
	return c.JSON(toUserJSON(u))
}

// apiUserOf loads the user of :id; nil when there is none (answered 404,
// the error nil) or on another error.
func (s *Server) apiUserOf(c *fiber.Ctx) (*accounts.User, error) {
	id, _ := parseID(c)
	u, err := s.Accounts.ByID(c.UserContext(), id)
	if errors.Is(err, accounts.ErrNotFound) {
		return nil, apiFail(c, fiber.StatusNotFound, "not_found", msgNoSuchUser, "id")
	}
	return u, err
}

// apiUserError answers a refused user change naming the field.
func apiUserError(c *fiber.Ctx, err error) error {
	var fe *accounts.FieldError
	if errors.As(err, &fe) {
		return apiFail(c, fiber.StatusUnprocessableEntity, "invalid", fe.Error(), fe.Field)
	}
	if errors.Is(err, accounts.ErrNotFound) {
		return apiFail(c, fiber.StatusNotFound, "not_found", msgNoSuchUser, "id")
	}
	return err
}
