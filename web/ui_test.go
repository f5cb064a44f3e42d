package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
)

func formValues(name string) url.Values {
	return url.Values{"name": {name}, "channels": {"email", "seo"}, "time_zone": {"Europe/Paris"},
		"starts_at": {future(3)}, "ends_at": {future(5)}, "currency": {"EUR"}, "budget_email": {"1 500,00"}, "budget_seo": {"800"},
		"forecast_email_audience": {"50000"}, "forecast_email_open_rate": {"0.2"}, "forecast_email_click_rate": {"0.1"},
		"forecast_seo_sessions_per_day": {"9000"}, "retry_while_blocked": {"on"}}
}

func TestUISignInAndCampaignFlow(t *testing.T) {
	a := newTestApp(t)
	anon := a.browser("")
	if res := anon.get("/campaigns"); res.Status != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous: %d %s", res.Status, res.Header.Get("Location"))
	}
	if res := anon.post("/login", url.Values{"email": {"marketer@shop.example"}, "password": {"wrong-password"}}); res.Status != 401 || !strings.Contains(res.Body, "Wrong e-mail or password") {
		t.Fatalf("bad password: %d", res.Status)
	}

	b := a.browser(accounts.Marketer)
	lp, err := a.Landing.Pages.Create(context.Background(), landing.PageInput{Slug: "soldes", Title: "Soldes"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Landing.Pages.Publish(context.Background(), lp.ID, "test"); err != nil {
		t.Fatal(err)
	}
	b.get("/campaigns/new")
	f := formValues("Soldes d’été ☀️")
	f.Set("landing_page_id", strconv.FormatUint(lp.ID, 10))
	res := b.post("/campaigns", f)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	loc := res.Header.Get("Location")
	page := b.get(loc)
	for _, want := range []string{"Soldes d’été ☀️", "€1,500.00", "Readiness", "draft"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("campaign page lacks %q", want)
		}
	}
	if res := b.post(loc+"/schedule", url.Values{}); res.Status != http.StatusSeeOther {
		t.Fatalf("schedule: %d", res.Status)
	}
	page = b.get(loc)
	if !strings.Contains(page.Body, "Scheduled. Rampe will check every gate") || !strings.Contains(page.Body, `badge s-scheduled`) {
		t.Fatalf("scheduled page: %.500s", page.Body)
	}
	if rd := b.fragment().get(loc + "/readiness"); !strings.Contains(rd.Body, "schedule.valid") || !strings.Contains(rd.Body, "Ready: every gate passes") {
		t.Fatalf("readiness fragment: %s", rd.Body)
	}
	cal := b.get("/calendar?month=" + future(3)[:7])
	if !strings.Contains(cal.Body, "Soldes d’été ☀️") {
		t.Fatalf("calendar does not show the campaign")
	}
	if res := b.get("/calendar?month=2026-13"); res.Status != 400 || !strings.Contains(res.Body, "month") {
		t.Fatalf("bad month: %d", res.Status)
	}
}

func TestUIFormErrorsBesideFieldsAndNothingSaved(t *testing.T) {
	a := newTestApp(t)
	b := a.browser(accounts.Marketer)
	b.get("/campaigns/new")
	f := formValues("")
	f.Set("budget_email", "lots")
	f.Set("ends_at", "2020-01-01T00:00")
	f.Set("forecast_email_open_rate", "7")
	res := b.post("/campaigns", f)
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", res.Status)
	}
	for _, want := range []string{"is required", "is not an amount: write it as 1 500,00 or 1,500.00 or 1500 (in EUR)", "must be after the start (",
		"is ambiguous: write 22 % for twenty-two percent, or 0.22", "<b>E-mailing budget</b>: ", "<b>Ends</b>: must be after the start",
		"<b>E-mailing: Open rate (22 % or 0.22)</b>: ", "Starts (Europe/Paris time)"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("form lacks error %q", want)
		}
	}
	if !strings.Contains(res.Body, `value="lots"`) {
		t.Error("the form must come back as typed")
	}
	if list := b.get("/campaigns"); !strings.Contains(list.Body, "No campaign here yet") {
		t.Fatal("an invalid form stored a campaign")
	}
}

func TestUIFormTakesAmountsAndRatesAsTyped(t *testing.T) {
	a := newTestApp(t)
	b := a.browser(accounts.Marketer)
	b.get("/campaigns/new")
	f := formValues("Typed")
	f.Set("budget_email", "1 500,00 €")
	f.Set("forecast_email_audience", "150 000")
	f.Set("forecast_email_open_rate", "22 %")
	f.Set("forecast_email_click_rate", "0,08")
	if res := b.post("/campaigns", f); res.Status != http.StatusSeeOther {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	list, err := a.Campaigns.List(context.Background(), campaigns.Filter{}, 0, 10)
	if err != nil || len(list.Campaigns) != 1 {
		t.Fatalf("%v %+v", err, list)
	}
	c := list.Campaigns[0]
	if c.Budgets["email"] != 150000 || c.Forecast["email"]["audience"] != 150000 || c.Forecast["email"]["open_rate"] != 0.22 || c.Forecast["email"]["click_rate"] != 0.08 {
		t.Fatalf("stored %v %v", c.Budgets, c.Forecast)
	}
}

func TestUIRefusesForgedAndForbiddenRequests(t *testing.T) {
	a := newTestApp(t)
	b := a.browser(accounts.Marketer)
	res := b.post("/campaigns", func() url.Values { f := formValues("x"); f.Set("_csrf", "forged"); return f }())
	if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "CSRF") {
		t.Fatalf("forged CSRF: %d", res.Status)
	}
	v := a.browser(accounts.Viewer)
	v.get("/campaigns")
	if res := v.post("/campaigns", formValues("x")); res.Status != http.StatusForbidden || !strings.Contains(res.Body, "viewer") {
		t.Fatalf("viewer create: %d", res.Status)
	}
	if res := v.get("/campaigns/new"); res.Status != http.StatusForbidden {
		t.Fatalf("viewer form: %d", res.Status)
	}
	if res := v.get("/users"); res.Status != http.StatusForbidden {
		t.Fatalf("viewer users page: %d", res.Status)
	}
	if res := b.get("/campaigns/999999"); res.Status != 404 {
		t.Fatalf("unknown campaign: %d", res.Status)
	}
	// Open redirect after sign-in is refused.
	anon := a.browser("")
	res = anon.post("/login", url.Values{"email": {"viewer@shop.example"}, "password": {testPassword}, "next": {"//evil.example/"}})
	if loc := res.Header.Get("Location"); loc != "/campaigns" {
		t.Fatalf("next=//evil.example redirected to %q", loc)
	}
}

func TestUIEscapesHostileText(t *testing.T) {
	a := newTestApp(t)
	b := a.browser(accounts.Marketer)
	b.get("/campaigns/new")
	payloads := []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `javascript:alert(1)`, `{{.CSRF}}`}
	for _, p := range payloads {
		f := formValues(p)
		f.Set("description", p)
		if res := b.post("/campaigns", f); res.Status != http.StatusSeeOther {
			t.Fatalf("create %q: %d", p, res.Status)
		}
	}
	for _, path := range []string{"/campaigns", "/campaigns/1", "/campaigns/2", "/calendar?month=" + future(3)[:7]} {
		body := b.get(path).Body
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Fatalf("%s renders hostile HTML unescaped", path)
		}
	}
}

func TestUITokensAndUsers(t *testing.T) {
	a := newTestApp(t)
	b := a.browser(accounts.Admin)
	b.get("/settings/tokens")
	res := b.post("/settings/tokens", url.Values{"name": {"reporting"}})
	m := strings.Index(res.Body, "rmp_")
	if res.Status != 200 || m < 0 {
		t.Fatalf("token page: %d", res.Status)
	}
	secret := res.Body[m : m+36]
	req, _ := http.NewRequest("GET", a.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	if r := a.do(http.DefaultClient, req); r.Status != 200 || !strings.Contains(r.Body, "admin@shop.example") {
		t.Fatalf("token from the UI does not work: %d %s", r.Status, r.Body)
	}
	if res := b.post("/settings/tokens", url.Values{"name": {""}}); res.Status != 422 {
		t.Fatalf("empty token name: %d", res.Status)
	}
	b.get("/users")
	if res := b.post("/users", url.Values{"email": {"not-an-email"}, "role": {"marketer"}, "password": {"long-enough-pw"}}); res.Status != 422 || !strings.Contains(res.Body, "is not an e-mail address") {
		t.Fatalf("bad user e-mail: %d", res.Status)
	}
	if res := b.post("/users", url.Values{"email": {"new@shop.example"}, "role": {"viewer"}, "password": {"long-enough-pw"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("create user: %d %s", res.Status, res.Body)
	}
	if page := b.get("/users"); !strings.Contains(page.Body, "new@shop.example") {
		t.Fatal("new user not listed")
	}
}

func TestUICapacityCalendar(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	in := campaigns.Input{Name: "Newsletter géante", Channels: []string{"email"}, TimeZone: "Europe/Paris",
		StartsAt: time.Now().Add(48 * time.Hour).Truncate(time.Hour).Format(time.RFC3339), EndsAt: time.Now().Add(96 * time.Hour).Format(time.RFC3339),
		Budgets: map[string]int64{"email": 1}, Forecast: map[string]map[string]float64{"email": {"audience": 1e6, "open_rate": 0.3, "click_rate": 0.2}}}
	if _, err := a.Campaigns.Create(ctx, in, "test"); err != nil {
		t.Fatal(err)
	}
	b := a.browser(accounts.Viewer)
	page := b.get("/capacity")
	// 60,000 clicks, half of them in the first 2 h: the first hour is ~17,600 visits × 4 pages / 3600 × 2 ≈ 39 req/s.
	if page.Status != 200 || !strings.Contains(page.Body, "<svg") || !strings.Contains(page.Body, "Forecast peak: 39 requests/s") ||
		!strings.Contains(page.Body, "Newsletter géante") {
		t.Fatalf("capacity page: %d %.3000s", page.Status, page.Body)
	}
	// No capacity measured yet: the verdict is bad. Measured at 50 req/s, it
	// is still short of the need (39 × the safety factor 1.5 ≈ 59); at 100,
	// the peak is covered. The axis steps are round (0, 50… 200).
	verdict := regexp.MustCompile(`class="verdict (\w+)"`)
	if m := verdict.FindStringSubmatch(page.Body); m == nil || m[1] != "bad" {
		t.Fatalf("verdict without a load check: %v", m)
	}
	for _, tc := range []struct {
		rate  float64
		class string
		short bool
	}{{50, "bad", true}, {100, "ok", false}} {
		fin := time.Now().UTC()
		if err := a.LoadChecksStore().DB.Create(&loadcheck.Check{URL: "http://127.0.0.1/l/x", TargetRate: tc.rate, Steps: loadcheck.DefaultSteps, StepSeconds: 1,
			Thresholds: loadcheck.DefaultThresholds, Status: loadcheck.Passed, SustainedRate: tc.rate, CreatedAt: fin, FinishedAt: &fin}).Error; err != nil {
			t.Fatal(err)
		}
		page = b.get("/capacity")
		if m := verdict.FindStringSubmatch(page.Body); m == nil || m[1] != tc.class || strings.Contains(page.Body, "below what the forecast peak needs") != tc.short {
			t.Errorf("capacity %v req/s: verdict %v, short shown %v; want %s, %v", tc.rate, m, !tc.short, tc.class, tc.short)
		}
	}
	for _, tick := range []string{">0</text>", ">50</text>", ">100</text>", ">150</text>", ">200</text>"} {
		if !strings.Contains(page.Body, tick) {
			t.Errorf("axis lacks the tick %s", tick)
		}
	}
}
