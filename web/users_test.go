package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
)

func (a *testApp) userID(t *testing.T, r accounts.Role) uint64 {
	t.Helper()
	u, err := a.Accounts.ByEmail(context.Background(), string(r)+"@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// Only an admin manages users; a marketer cannot change a role, not even
// their own.
func TestUIUsersRights(t *testing.T) {
	a := newTestApp(t)
	m := a.browser(accounts.Marketer)
	m.get("/campaigns")
	viewer := a.userID(t, accounts.Viewer)
	for _, path := range []string{fmt.Sprintf("/users/%d/role", viewer), fmt.Sprintf("/users/%d/role", a.userID(t, accounts.Marketer)),
		fmt.Sprintf("/users/%d/deactivate", viewer), fmt.Sprintf("/users/%d/password", viewer)} {
		if res := m.post(path, url.Values{"role": {"admin"}}); res.Status != http.StatusForbidden {
			t.Errorf("marketer POST %s: %d", path, res.Status)
		}
	}
	if u, _ := a.Accounts.ByID(context.Background(), viewer); u.Role != accounts.Viewer || !u.Active() {
		t.Fatalf("a marketer changed a user: %+v", u)
	}
	adm := a.browser(accounts.Admin)
	adm.get("/users")
	if res := adm.post(fmt.Sprintf("/users/%d/role", viewer), url.Values{"role": {"marketer"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("admin sets a role: %d %s", res.Status, res.Body)
	}
	if page := adm.get("/users"); !strings.Contains(page.Body, "viewer@shop.example is now marketer.") {
		t.Fatalf("flash: %.2000s", page.Body)
	}
	if res := adm.post(fmt.Sprintf("/users/%d/role", viewer), url.Values{"role": {"root"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("bad role: %d", res.Status)
	}
	if page := adm.get("/users"); !strings.Contains(page.Body, "unknown role") {
		t.Fatalf("bad role flash: %.2000s", page.Body)
	}
	if res := adm.post("/users/999999/role", url.Values{"role": {"viewer"}}); res.Status != http.StatusNotFound {
		t.Fatalf("unknown user: %d", res.Status)
	}
}

// A deactivated user cannot sign in, their open sessions end at once, and
// their API token stops working.
func TestUIDeactivatedUserIsSignedOut(t *testing.T) {
	a := newTestApp(t)
	m := a.browser(accounts.Marketer)
	if res := m.get("/campaigns"); res.Status != 200 {
		t.Fatalf("before: %d", res.Status)
	}
	adm := a.browser(accounts.Admin)
	adm.get("/users")
	if res := adm.post(fmt.Sprintf("/users/%d/deactivate", a.userID(t, accounts.Marketer)), url.Values{}); res.Status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.Status)
	}
	if res := m.get("/campaigns"); res.Status != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("the deactivated user's session still works: %d", res.Status)
	}
	if r := a.api("GET", "/api/v1/me", accounts.Marketer, ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("the deactivated user's API token still works: %d", r.Status)
	}
	again := a.browser("")
	res := again.post("/login", url.Values{"email": {"marketer@shop.example"}, "password": {testPassword}})
	if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "deactivated") {
		t.Fatalf("sign-in of a deactivated user: %d", res.Status)
	}
	if res := adm.post(fmt.Sprintf("/users/%d/deactivate", a.userID(t, accounts.Admin)), url.Values{}); res.Status != http.StatusSeeOther {
		t.Fatalf("self: %d", res.Status)
	}
	if page := adm.get("/users"); !strings.Contains(page.Body, "you cannot deactivate yourself") {
		t.Fatalf("self-deactivation allowed: %.2000s", page.Body)
	}
	adm.post(fmt.Sprintf("/users/%d/reactivate", a.userID(t, accounts.Marketer)), url.Values{})
	if m2 := a.browser(accounts.Marketer); m2.get("/campaigns").Status != 200 {
		t.Fatal("reactivated user cannot sign in")
	}
}

var resetRE = regexp.MustCompile(`New password of viewer@shop.example, shown once — hand it over safely: ([0-9a-f]+)`)

func TestUIPasswords(t *testing.T) {
	a := newTestApp(t)
	adm := a.browser(accounts.Admin)
	adm.get("/users")
	res := adm.post(fmt.Sprintf("/users/%d/password", a.userID(t, accounts.Viewer)), url.Values{})
	m := resetRE.FindStringSubmatch(res.Body)
	if res.Status != 200 || m == nil {
		t.Fatalf("reset: %d %.2000s", res.Status, res.Body)
	}
	v := a.browser("")
	if r := v.post("/login", url.Values{"email": {"viewer@shop.example"}, "password": {testPassword}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("old password after reset: %d", r.Status)
	}
	if r := v.post("/login", url.Values{"email": {"viewer@shop.example"}, "password": {m[1]}}); r.Status != http.StatusSeeOther {
		t.Fatalf("new password: %d", r.Status)
	}
	// The viewer changes their own password.
	v.get("/settings/password")
	if r := v.post("/settings/password", url.Values{"current": {"nope-nope-nope"}, "password": {"my-own-password"}, "confirm": {"my-own-password"}}); r.Status != 422 ||
		!strings.Contains(r.Body, "is not your current password") {
		t.Fatalf("wrong current: %d", r.Status)
	}
	if r := v.post("/settings/password", url.Values{"current": {m[1]}, "password": {"my-own-password"}, "confirm": {"my-own-password"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	if page := v.get("/settings/password"); !strings.Contains(page.Body, "Password changed.") {
		t.Fatalf("still signed in after changing: %.1000s", page.Body)
	}
	if r := a.browser("").post("/login", url.Values{"email": {"viewer@shop.example"}, "password": {"my-own-password"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("sign in with the changed password: %d", r.Status)
	}
}
