package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/valyala/fasthttp"
)

func campaignBody(name, start, end string) string {
	return fmt.Sprintf(`{"name":%q,"channels":["email","comparators"],"time_zone":"Europe/Paris","starts_at":%q,"ends_at":%q,
		"currency":"EUR","budgets":{"email":150000,"comparators":50000},
		"forecast":{"email":{"audience":100000,"open_rate":0.2,"click_rate":0.1},"comparators":{"daily_clicks":5000,"uplift":2}}}`, name, start, end)
}

func future(days int) string {
	return time.Now().AddDate(0, 0, days).Format("2006-01-02") + "T09:00"
}

func TestAPICampaignLifecycle(t *testing.T) {
	a := newTestApp(t)
	res := a.api("POST", "/api/v1/campaigns", accounts.Marketer, campaignBody("Black Friday", future(3), future(6)))
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	c := res.json(t)
	id := int(c["id"].(float64))
	if c["status"] != "draft" || c["starts_at_local"] != future(3) {
		t.Fatalf("created %v", c)
	}
	path := fmt.Sprintf("/api/v1/campaigns/%d", id)

	res = a.api("GET", path+"/readiness", accounts.Viewer, "")
	rep := res.json(t)
	if res.Status != 200 || rep["ready"] != false || len(rep["gates"].([]any)) != 4 || !strings.Contains(res.Body, "no landing page is linked") {
		t.Fatalf("readiness without a landing page: %d %s", res.Status, res.Body)
	}
	res = a.api("POST", path+"/schedule", accounts.Marketer, "")
	if res.Status != 200 || res.json(t)["status"] != "scheduled" {
		t.Fatalf("schedule: %d %s", res.Status, res.Body)
	}
	res = a.api("POST", path+"/pause", accounts.Marketer, "")
	if e := res.json(t)["error"].(map[string]any); res.Status != http.StatusConflict || e["code"] != "illegal_transition" || !strings.Contains(e["message"].(string), "scheduled to paused") {
		t.Fatalf("pause of a scheduled campaign: %d %s", res.Status, res.Body)
	}
	res = a.api("POST", path+"/cancel", accounts.Marketer, `{"reason":"budget moved to Christmas"}`)
	if res.Status != 200 || res.json(t)["status"] != "cancelled" {
		t.Fatalf("cancel: %d %s", res.Status, res.Body)
	}
	res = a.api("GET", path+"/history", accounts.Viewer, "")
	if !strings.Contains(res.Body, "budget moved to Christmas") || !strings.Contains(res.Body, "marketer@shop.example") {
		t.Fatalf("history lacks who/why: %s", res.Body)
	}
	// The audit log speaks the API's style: snake_case, like every answer.
	line := res.json(t)["transitions"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "at", "actor", "from_status", "to_status", "reason", "schedule_version", "gates"} {
		if _, ok := line[k]; !ok {
			t.Errorf("history line lacks %q: %v", k, line)
		}
	}
	if _, goName := line["FromStatus"]; goName {
		t.Errorf("history answers Go field names: %v", line)
	}
	if _, ok := a.api("GET", path, accounts.Viewer, "").json(t)["next_attempt_at"]; !ok {
		t.Errorf("a campaign lacks next_attempt_at")
	}
	res = a.api("GET", "/api/v1/campaigns?status=cancelled&channel=email", accounts.Viewer, "")
	if n := len(res.json(t)["campaigns"].([]any)); n != 1 {
		t.Fatalf("filtered list has %d campaigns: %s", n, res.Body)
	}
	if res = a.api("DELETE", path, accounts.Marketer, ""); res.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	if res = a.api("GET", path, accounts.Viewer, ""); res.Status != http.StatusNotFound {
		t.Fatalf("deleted campaign still there: %d", res.Status)
	}
}

func TestAPIRejectsBadInputNamingTheField(t *testing.T) {
	a := newTestApp(t)
	cases := []struct {
		name, body string
		status     int
		field      string
	}{
		{"malformed JSON", `{"name": "x",`, 400, ""},
		{"wrong type", `{"name": 42}`, 400, "name"},
		{"unknown field", `{"nmae": "typo"}`, 400, "nmae"},
		{"budget as string", `{"name":"x","budgets":{"email":"lots"}}`, 400, "budgets"},
		{"missing everything", `{}`, 422, "channels"},
		{"inverted window", campaignBody("x", future(5), future(2)), 422, "ends_at"},
		{"huge budget", strings.Replace(campaignBody("x", future(2), future(5)), "150000", "99999999999999999", 1), 422, "budgets.email"},
		{"hostile zone", strings.Replace(campaignBody("x", future(2), future(5)), "Europe/Paris", "../../etc/passwd", 1), 422, "time_zone"},
		{"huge name", campaignBody(strings.Repeat("A", 5000), future(2), future(5)), 422, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := a.api("POST", "/api/v1/campaigns", accounts.Marketer, tc.body)
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			e := res.json(t)["error"].(map[string]any)
			if e["code"] == "" || e["message"] == "" {
				t.Fatalf("error lacks code/message: %s", res.Body)
			}
			if tc.field != "" && e["field"] != tc.field {
				t.Fatalf("field %v, want %s: %s", e["field"], tc.field, res.Body)
			}
		})
	}
	if res := a.api("GET", "/api/v1/campaigns", accounts.Viewer, ""); strings.Count(res.Body, `"id"`) != 0 {
		t.Fatalf("a refused request stored something: %s", res.Body)
	}
}

func TestAPIAuth(t *testing.T) {
	a := newTestApp(t)
	if res := a.api("GET", "/api/v1/campaigns", "", ""); res.Status != 401 || !strings.Contains(res.Body, "unauthorized") {
		t.Fatalf("no token: %d %s", res.Status, res.Body)
	}
	req, _ := http.NewRequest("GET", a.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer rmp_forged"+strings.Repeat("x", 30))
	if res := a.do(http.DefaultClient, req); res.Status != 401 {
		t.Fatalf("forged token: %d %s", res.Status, res.Body)
	}
	if res := a.api("POST", "/api/v1/campaigns", accounts.Viewer, campaignBody("x", future(2), future(4))); res.Status != 403 {
		t.Fatalf("viewer create: %d %s", res.Status, res.Body)
	}
	if res := a.api("GET", "/api/v1/me", accounts.Viewer, ""); res.json(t)["role"] != "viewer" {
		t.Fatalf("me: %s", res.Body)
	}
	if res := a.api("GET", "/api/v1/nope", accounts.Viewer, ""); res.Status != 404 || res.json(t)["error"] == nil {
		t.Fatalf("unknown endpoint: %d %s", res.Status, res.Body)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	a := newTestApp(t)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": `"database":"ok"`, "/metrics": "rampe_http_requests_total"} {
		req, _ := http.NewRequest("GET", a.URL+path, nil)
		res := a.do(http.DefaultClient, req)
		if res.Status != 200 || !strings.Contains(res.Body, want) {
			t.Errorf("%s: %d %.200s", path, res.Status, res.Body)
		}
	}
}

// TestLongTransfersTimeouts: feed downloads get long timeouts (fasthttp's
// cover a whole body), catalog uploads too but only from a signed-in user
// who may import; everything else gets the server's.
func TestLongTransfersTimeouts(t *testing.T) {
	a := newTestApp(t)
	s := &Server{Deps: Deps{Accounts: a.Accounts}}
	session := func(role accounts.Role) string {
		u, err := a.Accounts.ByEmail(context.Background(), string(role)+"@shop.example")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := a.Accounts.NewSession(context.Background(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, tc := range []struct {
		method, uri, session string
		read, written        time.Duration
	}{
		{"GET", "/feeds/abcdefghijklmnopqrstuvwx/google.xml", "", 0, downloadTimeout},
		{"HEAD", "/feeds/abcdefghijklmnopqrstuvwx/google.xml.gz", "", 0, downloadTimeout},
		{"POST", "/products/import", session(accounts.Marketer), uploadTimeout, 0},
		{"POST", "/products/import", session(accounts.Viewer), 0, 0},
		{"POST", "/products/import", "forged", 0, 0},
		{"POST", "/products/import", "", 0, 0},
		{"GET", "/products/import", "", 0, 0},
		{"GET", "/l/demo", "", 0, 0},
		{"POST", "/campaigns", "", 0, 0},
	} {
		var h fasthttp.RequestHeader
		h.SetMethod(tc.method)
		h.SetRequestURI(tc.uri)
		if tc.session != "" {
			h.SetCookie(sessionCookie, tc.session)
		}
		got := s.longTransfers(&h)
		if got.ReadTimeout != tc.read || got.WriteTimeout != tc.written {
			t.Errorf("%s %s (session %.8s): %+v", tc.method, tc.uri, tc.session, got)
		}
	}
}
