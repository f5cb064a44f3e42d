package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
)

// TestUsersAPI: an admin's token lists, creates, changes and deactivates
// users with the users page's refusals; other tokens, forged ones and none
// are refused, and a refusal changes nothing.
func TestUsersAPI(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	list := a.api("GET", "/api/v1/users", accounts.Admin, "")
	if list.Status != http.StatusOK || !strings.Contains(list.Body, `"email":"marketer@shop.example"`) || strings.Contains(list.Body, "password") ||
		strings.Contains(list.Body, "$2a$") {
		t.Fatalf("list: %d %s", list.Status, list.Body)
	}
	// Rights: a marketer's and a viewer's tokens, a forged one, none.
	for _, r := range []accounts.Role{accounts.Marketer, accounts.Viewer} {
		for _, call := range [][3]string{{"GET", "/api/v1/users", ""}, {"POST", "/api/v1/users", `{"email":"x@shop.example","role":"admin","password":"correct-horse-battery"}`},
			{"PATCH", "/api/v1/users/1", `{"role":"viewer"}`}, {"DELETE", "/api/v1/users/1", ""}} {
			if res := a.api(call[0], call[1], r, call[2]); res.Status != http.StatusForbidden || !strings.Contains(res.Body, `"code":"forbidden"`) {
				t.Errorf("%s %s %s by a %s: %d %s", call[0], call[1], call[2], r, res.Status, res.Body)
			}
		}
	}
	for _, auth := range []string{"", "Bearer rmp_forged0000000000000000000000000000"} {
		req, _ := http.NewRequest("GET", a.URL+"/api/v1/users", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if res := a.do(http.DefaultClient, req); res.Status != http.StatusUnauthorized {
			t.Errorf("users with %q: %d", auth, res.Status)
		}
	}
	if u, _ := a.Accounts.ByEmail(ctx, "x@shop.example"); u != nil {
		t.Fatal("a refused call created a user")
	}

	// Create: the page's validation, named.
	for body, field := range map[string]string{
		`{"email":"nope","name":"N","role":"marketer","password":"correct-horse-battery"}`:                 "email",
		`{"email":"n@shop.example","name":"N","role":"boss","password":"correct-horse-battery"}`:           "role",
		`{"email":"n@shop.example","name":"N","role":"marketer","password":"short"}`:                       "password",
		`{"email":"marketer@shop.example","name":"N","role":"marketer","password":"correct-horse-b"}`:      "email",
		`{"email":"n@shop.example","name":"N","role":"marketer","password":"correct-horse-battery","x":1}`: "x",
	} {
		if res := a.api("POST", "/api/v1/users", accounts.Admin, body); res.Status/100 != 4 || !strings.Contains(res.Body, `"field":"`+field+`"`) {
			t.Errorf("create %s: %d %s, want an error on %s", body, res.Status, res.Body, field)
		}
	}
	res := a.api("POST", "/api/v1/users", accounts.Admin, `{"email":"New@Shop.example","name":"Nina","role":"marketer","password":"correct-horse-battery"}`)
	if res.Status != http.StatusCreated || !strings.Contains(res.Body, `"email":"new@shop.example"`) || !strings.Contains(res.Body, `"active":true`) {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	id := uint64(res.json(t)["id"].(float64))
	path := fmt.Sprintf("/api/v1/users/%d", id)

	// Change the role, reset the password (shown once), deactivate, reactivate.
	if res := a.api("PATCH", path, accounts.Admin, `{"role":"viewer"}`); res.Status != http.StatusOK || !strings.Contains(res.Body, `"role":"viewer"`) {
		t.Fatalf("role: %d %s", res.Status, res.Body)
	}
	res = a.api("PATCH", path, accounts.Admin, `{"reset_password":true}`)
	pw, _ := res.json(t)["password"].(string)
	if res.Status != http.StatusOK || len(pw) < accounts.MinPasswordLength {
		t.Fatalf("reset: %d %s", res.Status, res.Body)
	}
	if _, err := a.Accounts.Authenticate(ctx, "new@shop.example", pw); err != nil {
		t.Fatalf("the reset password does not sign in: %v", err)
	}
	if res := a.api("DELETE", path, accounts.Admin, ""); res.Status != http.StatusOK || !strings.Contains(res.Body, `"active":false`) {
		t.Fatalf("deactivate: %d %s", res.Status, res.Body)
	}
	if u, _ := a.Accounts.ByID(ctx, id); u.Active() {
		t.Fatal("DELETE did not deactivate")
	}
	if res := a.api("PATCH", path, accounts.Admin, `{"active":true}`); res.Status != http.StatusOK || !strings.Contains(res.Body, `"active":true`) {
		t.Fatalf("reactivate: %d %s", res.Status, res.Body)
	}

	// The page's refusals: the last admin keeps the role and stays active,
	// nobody deactivates themselves; bad bodies and ids are named.
	admin, _ := a.Accounts.ByEmail(ctx, "admin@shop.example")
	self := fmt.Sprintf("/api/v1/users/%d", admin.ID)
	for _, c := range []struct{ method, path, body, field string }{
		{"PATCH", self, `{"role":"marketer"}`, "role"},
		{"PATCH", self, `{"active":false}`, "active"},
		{"DELETE", self, ``, "user"},
		{"PATCH", path, `{"role":"boss"}`, "role"},
		{"PATCH", path, `{"active":"no"}`, "active"},
		{"PATCH", path, `{}`, ""},
		{"PATCH", "/api/v1/users/999999", `{"role":"viewer"}`, "id"},
	} {
		res := a.api(c.method, c.path, accounts.Admin, c.body)
		if res.Status/100 != 4 || (c.field != "" && !strings.Contains(res.Body, `"field":"`+c.field+`"`)) {
			t.Errorf("%s %s %s: %d %s, want a refusal on %q", c.method, c.path, c.body, res.Status, res.Body, c.field)
		}
	}
	if u, _ := a.Accounts.ByID(ctx, admin.ID); u.Role != accounts.Admin || !u.Active() {
		t.Fatalf("a refused change changed the admin: %+v", u)
	}
	if u, _ := a.Accounts.ByID(ctx, id); u.Role != accounts.Viewer {
		t.Fatalf("a refused change changed the role: %s", u.Role)
	}
}
