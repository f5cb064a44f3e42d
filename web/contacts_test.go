package web

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/platform/mailer"
)

// mailbox keeps what the audience sends.
type mailbox struct {
	mu   sync.Mutex
	msgs []mailer.Message
}

func (m *mailbox) send(_ context.Context, msg mailer.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

func (m *mailbox) all() []mailer.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mailer.Message(nil), m.msgs...)
}

func errField(t *testing.T, r response) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

func TestContactsAPI(t *testing.T) {
	a := newTestApp(t)
	if r := a.api("GET", "/api/v1/contacts", "", ""); r.Status != 401 {
		t.Fatalf("anonymous: %d", r.Status)
	}
	if r := a.api("POST", "/api/v1/contacts", accounts.Viewer, `{"email":"a@shop.example"}`); r.Status != 403 {
		t.Fatalf("viewer create: %d", r.Status)
	}
	if r := a.api("POST", "/api/v1/lists", accounts.Viewer, `{"name":"X"}`); r.Status != 403 {
		t.Fatalf("viewer list: %d", r.Status)
	}
	if r := a.api("POST", "/api/v1/suppressions", accounts.Viewer, `{"email":"a@shop.example"}`); r.Status != 403 {
		t.Fatalf("viewer suppress: %d", r.Status)
	}
	r := a.api("POST", "/api/v1/lists", accounts.Marketer, `{"name":"Newsletter"}`)
	if r.Status != 201 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	listID := r.json(t)["id"].(float64)
	r = a.api("POST", "/api/v1/contacts", accounts.Marketer, fmt.Sprintf(`{"email":"Ana@Exämple.FR","name":"Ana","time_zone":"Europe/Paris","attributes":{"loyalty":"gold"},"list_ids":[%v]}`, listID))
	if r.Status != 201 || r.json(t)["email"] != "Ana@xn--exmple-cua.fr" {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.json(t)["id"].(float64)
	bad := []struct {
		body, field string
		status      int
	}{
		{`{"email":"ana@xn--exmple-cua.fr"}`, "email", 422},
		{`{"email":"b@shop.example","name":42}`, "name", 400},
		{`{"email":"b@shop.example","attributes":{"points":12}}`, "attributes", 400},
		{`{"email":"b@shop.example","name":"B\r\nBcc: x@evil.example"}`, "name", 422},
		{`{"email":"b@shop.example","name":"` + strings.Repeat("x", 5000) + `"}`, "name", 422},
		{`{"email":"b@shop.example","time_zone":"Paris"}`, "time_zone", 422},
		{`{"email":"b@shop.example","colour":"red"}`, "colour", 400},
		{`{"email":"b@shop.example","list_ids":[999]}`, "list_ids", 422},
		{`{"email":"b@shop.example",`, "", 400},
	}
	for _, c := range bad {
		r := a.api("POST", "/api/v1/contacts", accounts.Marketer, c.body)
		if r.Status != c.status || errField(t, r) != c.field {
			t.Errorf("%.60s: %d %s, want %d naming %q", c.body, r.Status, r.Body, c.status, c.field)
		}
	}
	r = a.api("GET", fmt.Sprintf("/api/v1/contacts/%v", id), accounts.Viewer, "")
	m := r.json(t)
	if r.Status != 200 || m["attributes"].(map[string]any)["loyalty"] != "gold" || len(m["consent_history"].([]any)) != 1 || len(m["list_ids"].([]any)) != 1 {
		t.Fatalf("get: %s", r.Body)
	}
	r = a.api("PUT", fmt.Sprintf("/api/v1/contacts/%v", id), accounts.Marketer, `{"email":"ana@xn--exmple-cua.fr","name":"Ana B","status":"unsubscribed"}`)
	if r.Status != 200 || r.json(t)["status"] != "unsubscribed" {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	// Suppressed: nothing makes it mailable again.
	r = a.api("PUT", fmt.Sprintf("/api/v1/contacts/%v", id), accounts.Marketer, `{"email":"ana@xn--exmple-cua.fr","status":"opted_in"}`)
	if r.Status != 409 || errField(t, r) != "status" {
		t.Fatalf("resubscribe: %d %s", r.Status, r.Body)
	}
	r = a.api("POST", "/api/v1/suppressions", accounts.Marketer, `{"email":"Zed@Shop.example","reason":"complained"}`)
	if r.Status != 201 {
		t.Fatalf("suppress: %d %s", r.Status, r.Body)
	}
	if r := a.api("POST", "/api/v1/suppressions", accounts.Marketer, `{"email":"zed@shop.example","reason":"tired"}`); r.Status != 422 || errField(t, r) != "reason" {
		t.Fatalf("bad reason: %d %s", r.Status, r.Body)
	}
	if r := a.api("POST", "/api/v1/contacts", accounts.Marketer, `{"email":"ZED@shop.example"}`); r.Status != 409 {
		t.Fatalf("create suppressed: %d %s", r.Status, r.Body)
	}
	r = a.api("GET", "/api/v1/suppressions?q=zed", accounts.Viewer, "")
	if r.Status != 200 || len(r.json(t)["suppressions"].([]any)) != 1 {
		t.Fatalf("suppressions: %s", r.Body)
	}
	// Keyset paging.
	for i := range 7 {
		a.api("POST", "/api/v1/contacts", accounts.Marketer, fmt.Sprintf(`{"email":"p%d@shop.example"}`, i))
	}
	seen, after := 0, "0"
	for range 10 {
		r = a.api("GET", "/api/v1/contacts?limit=3&after="+after, accounts.Viewer, "")
		m := r.json(t)
		seen += len(m["contacts"].([]any))
		if m["more"] != true {
			break
		}
		after = fmt.Sprint(m["next_after"])
	}
	if seen != 8 {
		t.Fatalf("paged through %d contacts, want 8", seen)
	}
	if r := a.api("GET", "/api/v1/contacts?status=happy", accounts.Viewer, ""); r.Status != 400 || errField(t, r) != "status" {
		t.Fatalf("bad status filter: %d %s", r.Status, r.Body)
	}
	if r := a.api("DELETE", fmt.Sprintf("/api/v1/contacts/%v", id), accounts.Viewer, ""); r.Status != 403 {
		t.Fatalf("viewer delete: %d", r.Status)
	}
	if r := a.api("DELETE", fmt.Sprintf("/api/v1/contacts/%v", id), accounts.Marketer, ""); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := a.api("GET", fmt.Sprintf("/api/v1/contacts/%v", id), accounts.Viewer, ""); r.Status != 404 {
		t.Fatalf("deleted: %d", r.Status)
	}
	r = a.api("POST", fmt.Sprintf("/api/v1/lists/%v/members", listID), accounts.Marketer, `{"contact_ids":[1,2,3]}`)
	if r.Status != 422 || errField(t, r) != "contact_ids" {
		t.Fatalf("members of a deleted contact: %d %s", r.Status, r.Body)
	}
	page := a.api("GET", "/api/v1/contacts?limit=2", accounts.Viewer, "").json(t)["contacts"].([]any)
	ids := fmt.Sprintf("[%v,%v]", page[0].(map[string]any)["id"], page[1].(map[string]any)["id"])
	if r := a.api("POST", fmt.Sprintf("/api/v1/lists/%v/members", listID), accounts.Viewer, `{"contact_ids":`+ids+`}`); r.Status != 403 {
		t.Fatalf("viewer members: %d", r.Status)
	}
	if r := a.api("POST", fmt.Sprintf("/api/v1/lists/%v/members", listID), accounts.Marketer, `{"contact_ids":`+ids+`}`); r.Status != 200 || r.json(t)["members"].(float64) != 2 {
		t.Fatalf("add members: %d %s", r.Status, r.Body)
	}
	if r := a.api("DELETE", fmt.Sprintf("/api/v1/lists/%v/members", listID), accounts.Marketer, `{"contact_ids":`+ids[:strings.Index(ids, ",")]+`]}`); r.Status != 200 || r.json(t)["members"].(float64) != 1 {
		t.Fatalf("remove members: %d %s", r.Status, r.Body)
	}
	r = a.api("POST", "/api/v1/segments", accounts.Marketer, fmt.Sprintf(`{"name":"Gold","list_id":%v,"filters":[{"field":"loyalty","op":"eq","value":"gold"}]}`, listID))
	if r.Status != 201 {
		t.Fatalf("segment: %d %s", r.Status, r.Body)
	}
	if r := a.api("POST", "/api/v1/segments", accounts.Marketer, `{"name":"Bad","filters":[{"field":"loyalty","op":"like"}]}`); r.Status != 422 || errField(t, r) != "filters[0].op" {
		t.Fatalf("bad segment: %d %s", r.Status, r.Body)
	}
}

func apiUpload(t *testing.T, a *testApp, role accounts.Role, query, ctype, body string) response {
	t.Helper()
	req, _ := http.NewRequest("POST", a.URL+"/api/v1/contacts/import"+query, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+a.tokens[role])
	return a.do(http.DefaultClient, req)
}

func waitAPIImport(t *testing.T, a *testApp, id any) map[string]any {
	t.Helper()
	for range 200 {
		m := a.api("GET", fmt.Sprintf("/api/v1/contacts/imports/%v", id), accounts.Viewer, "").json(t)
		if m["status"] != "running" {
			return m
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("import still running")
	return nil
}

func TestContactsImportAPI(t *testing.T) {
	a := newTestApp(t)
	a.startImportWorker(t)
	file := "email,name,loyalty\nann@shop.example,Ann,gold\nnot-an-address,Bad,\nbob@shop.example,\"Bob\r\nBcc: x@evil.example\",none\nANN@shop.example,Dup,\n"
	if r := apiUpload(t, a, accounts.Viewer, "", "text/csv", file); r.Status != 403 {
		t.Fatalf("viewer: %d", r.Status)
	}
	r := apiUpload(t, a, accounts.Marketer, "?filename=c.csv", "text/csv", file)
	if r.Status != 202 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	m := waitAPIImport(t, a, r.json(t)["id"])
	errs := m["errors"].([]any)
	if m["status"] != "failed" || m["rows_imported"].(float64) != 0 || len(errs) != 3 {
		t.Fatalf("all-or-nothing: %v", m)
	}
	for i, line := range []float64{3, 4, 6} { // the quoted CRLF spans lines 4 and 5
		if e := errs[i].(map[string]any); e["line"] != line {
			t.Errorf("error %d: %v, want line %v", i, e, line)
		}
	}
	r = apiUpload(t, a, accounts.Marketer, "?partial=true", "text/csv", file)
	m = waitAPIImport(t, a, r.json(t)["id"])
	if m["status"] != "done" || m["rows_imported"].(float64) != 1 || m["rows_invalid"].(float64) != 3 {
		t.Fatalf("partial: %v", m)
	}
	r = apiUpload(t, a, accounts.Marketer, "?list=999", "text/csv", file)
	if r.Status != 400 {
		t.Fatalf("unknown list: %d %s", r.Status, r.Body)
	}
	r = apiUpload(t, a, accounts.Marketer, "", "application/json", `[{"email":"cy@shop.example","name":{"first":"Cy"}}]`)
	m = waitAPIImport(t, a, r.json(t)["id"])
	if e := m["errors"].([]any); m["status"] != "failed" || len(e) != 1 || !strings.Contains(fmt.Sprint(e[0]), "want a string") {
		t.Fatalf("wrong JSON type: %v", m)
	}
}

func uploadContacts(t *testing.T, b *browser, name, body string, fields map[string]string) response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", b.csrf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", name)
	fw.Write([]byte(body))
	w.Close()
	req, _ := http.NewRequest("POST", b.a.URL+"/contacts/import", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.a.do(b.client, req)
}

func TestContactsUI(t *testing.T) {
	a := newTestApp(t)
	a.startImportWorker(t)
	anon := a.browser("")
	for _, p := range []string{"/contacts", "/lists", "/segments", "/suppressions", "/contacts/import"} {
		if r := anon.get(p); r.Status != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("anonymous %s: %d", p, r.Status)
		}
	}
	b := a.browser(accounts.Marketer)
	b.get("/lists")
	if r := b.post("/lists", url.Values{"name": {"Newsletter"}, "double_opt_in": {"on"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("create list: %d %s", r.Status, r.Body)
	}
	lists, _ := a.Audience.Lists(context.Background())
	list := lists[0]
	page := b.get(fmt.Sprintf("/lists/%d", list.ID))
	if !strings.Contains(page.Body, "/subscribe/"+list.Token) || !strings.Contains(page.Body, "&lt;form method=&#34;post&#34;") {
		t.Fatalf("list page lacks the form snippet")
	}
	b.get("/contacts/import")
	res := uploadContacts(t, b, "c.csv", "email;name;country;loyalty\nann@shop.example;Ann;FR;gold\nbad;Bad;XX;\n", map[string]string{"list": fmt.Sprint(list.ID)})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.Status, res.Body)
	}
	body := waitImport(t, b, res.Header.Get("Location"))
	if !strings.Contains(body, "nothing imported") || !strings.Contains(body, "<td class=\"num\">3</td><td>email</td>") || !strings.Contains(body, "<td>country</td>") {
		t.Fatalf("failed import page: %s", body)
	}
	res = uploadContacts(t, b, "c.csv", "email;name;country;loyalty\nann@shop.example;Ann;FR;gold\nbad;Bad;XX;\n", map[string]string{"list": fmt.Sprint(list.ID), "partial": "on"})
	body = waitImport(t, b, res.Header.Get("Location"))
	if !strings.Contains(body, "1 contact imported") {
		t.Fatalf("partial import page: %s", body)
	}
	page = b.get("/contacts/import")
	if strings.Count(page.Body, "c.csv") != 2 {
		t.Fatal("past imports not listed")
	}
	page = b.get("/contacts?q=ANN")
	if !strings.Contains(page.Body, "ann@shop.example") {
		t.Fatalf("search: %s", page.Body)
	}
	ann, _ := a.Audience.ByEmail(context.Background(), "ann@shop.example")
	page = b.get(fmt.Sprintf("/contacts/%d", ann.ID))
	for _, want := range []string{"Consent history", "import", `id="sends"`, "loyalty", "gold", "Newsletter"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("contact page lacks %q", want)
		}
	}
	if r := b.post(fmt.Sprintf("/contacts/%d", ann.ID), url.Values{"email": {"ann@shop.example"}, "name": {"Ann\r\nX"}}); r.Status != 422 || !strings.Contains(r.Body, "line break") {
		t.Fatalf("CRLF name: %d", r.Status)
	}
	if r := b.post(fmt.Sprintf("/contacts/%d/status", ann.ID), url.Values{"status": {"unsubscribed"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("unsubscribe: %d", r.Status)
	}
	b.post(fmt.Sprintf("/contacts/%d/status", ann.ID), url.Values{"status": {"opted_in"}})
	if page = b.get(fmt.Sprintf("/contacts/%d", ann.ID)); !strings.Contains(page.Body, "suppression list (unsubscribed)") {
		t.Fatal("re-subscribing a suppressed contact by hand was not refused")
	}
	if page = b.get("/suppressions?q=ann&reason=unsubscribed"); !strings.Contains(page.Body, "ann@shop.example") || !strings.Contains(page.Body, `<option value="unsubscribed" selected>`) {
		t.Fatal("suppression list search")
	}
	if page = b.get("/suppressions?reason=bounced"); strings.Contains(page.Body, "ann@shop.example") {
		t.Fatal("reason filter")
	}
	if r := b.post("/contacts", url.Values{"email": {"Ann@SHOP.example"}}); r.Status != 422 || !strings.Contains(r.Body, "suppression list") {
		t.Fatalf("new contact on a suppressed address: %d", r.Status)
	}
	if r := b.post("/segments/preview", url.Values{"list": {fmt.Sprint(list.ID)}, "field0": {"loyalty"}, "op0": {"eq"}, "value0": {"gold"}}); !strings.Contains(r.Body, "unsubscribed 1") {
		t.Fatalf("preview: %s", r.Body)
	}
	if r := b.post("/segments", url.Values{"name": {"Gold"}, "field0": {"loyalty"}, "op0": {"eq"}, "value0": {"gold"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("segment: %d %s", r.Status, r.Body)
	}
	if r := b.post("/segments", url.Values{"name": {"Bad"}, "field0": {"loyalty"}, "op0": {"in"}}); r.Status != 422 {
		t.Fatalf("bad segment: %d", r.Status)
	}
	if r := b.post("/suppressions", url.Values{"email": {"not an address"}, "reason": {"bounced"}}); r.Status != 422 {
		t.Fatalf("bad suppression: %d", r.Status)
	}
	if r := b.post("/contacts", url.Values{"email": {"Cleo@Shop.example"}, "name": {"Cléo"}, "list": {fmt.Sprint(list.ID)}, "attributes": {"loyalty = silver"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("new contact: %d %s", r.Status, r.Body)
	}
	if page = b.get(fmt.Sprintf("/contacts?list=%d&q=cleo", list.ID)); !strings.Contains(page.Body, "Cleo@shop.example") {
		t.Fatal("a new contact did not join its list")
	}
	if r := b.post("/contacts", url.Values{"email": {"dora@shop.example"}, "list": {"999"}}); r.Status != 422 {
		t.Fatalf("unknown list: %d", r.Status)
	}
	// A viewer reads and cannot write.
	v := a.browser(accounts.Viewer)
	if r := v.get(fmt.Sprintf("/contacts/%d", ann.ID)); r.Status != 200 || strings.Contains(r.Body, "Set status") {
		t.Fatalf("viewer page: %d", r.Status)
	}
	for _, p := range []string{"/contacts", "/lists", "/segments", "/suppressions", fmt.Sprintf("/contacts/%d/delete", ann.ID), fmt.Sprintf("/contacts/%d/status", ann.ID)} {
		if r := v.post(p, url.Values{"email": {"x@shop.example"}, "name": {"X"}, "status": {"opted_in"}}); r.Status != 403 {
			t.Errorf("viewer POST %s: %d", p, r.Status)
		}
	}
	if r := v.get("/contacts/import"); r.Status != 403 {
		t.Errorf("viewer import page: %d", r.Status)
	}
}

var confirmRE = regexp.MustCompile(`/subscribe/confirm/(\S+)`)

func TestPublicSubscribe(t *testing.T) {
	a := newTestApp(t)
	a.Audience.Limits = audience.Limits{PerIP: 3}
	ctx := context.Background()
	l, _ := a.Audience.CreateList(ctx, audience.ListInput{Name: "Newsletter"})
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) response {
		req, _ := http.NewRequest("POST", a.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return a.do(anon, req)
	}
	get := func(path string) response {
		req, _ := http.NewRequest("GET", a.URL+path, nil)
		return a.do(anon, req)
	}
	if r := get("/subscribe/" + l.Token); r.Status != 200 || !strings.Contains(r.Body, `name="website"`) {
		t.Fatalf("form: %d", r.Status)
	}
	if r := get("/subscribe/nope"); r.Status != 404 || r.Body != "not found" {
		t.Fatalf("unknown list: %d %q", r.Status, r.Body)
	}
	if r := post("/subscribe/"+l.Token, url.Values{"email": {"bot@shop.example"}, "website": {"http://spam.example"}}); r.Status != 200 || !strings.Contains(r.Body, "Check your inbox") {
		t.Fatalf("honeypot: %d", r.Status)
	}
	if _, err := a.Audience.ByEmail(ctx, "bot@shop.example"); err == nil {
		t.Fatal("a bot subscribed")
	}
	if r := post("/subscribe/"+l.Token, url.Values{"email": {"nope"}}); r.Status != 422 || !strings.Contains(r.Body, "not an e-mail") {
		t.Fatalf("bad address: %d", r.Status)
	}
	if r := post("/subscribe/"+l.Token, url.Values{"email": {"Zoe@Shop.example"}, "name": {"Zoé"}}); r.Status != 200 || !strings.Contains(r.Body, "Check your inbox") {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	msgs := a.Mail.all()
	if len(msgs) != 1 {
		t.Fatalf("sent %d", len(msgs))
	}
	token := confirmRE.FindStringSubmatch(msgs[0].Text)[1]
	for _, bad := range []string{"forged", token[:len(token)-3] + "abc"} {
		if r := get("/subscribe/confirm/" + bad); r.Status != 404 || r.Body != "not found" {
			t.Errorf("forged %q: %d %q", bad, r.Status, r.Body)
		}
		if r := post("/subscribe/confirm/"+bad, url.Values{}); r.Status != 404 {
			t.Errorf("forged POST: %d", r.Status)
		}
	}
	if r := get("/subscribe/confirm/" + token); r.Status != 200 || !strings.Contains(r.Body, "Yes, subscribe me") {
		t.Fatalf("confirm page: %d", r.Status)
	}
	if c, _ := a.Audience.ByEmail(ctx, "zoe@shop.example"); c.Status != audience.Pending {
		t.Fatalf("a GET confirmed: %s", c.Status)
	}
	if r := post("/subscribe/confirm/"+token, url.Values{}); r.Status != 200 || !strings.Contains(r.Body, "Subscription confirmed") {
		t.Fatalf("confirm: %d", r.Status)
	}
	if c, _ := a.Audience.ByEmail(ctx, "zoe@shop.example"); c.Status != audience.Confirmed {
		t.Fatalf("status %s", c.Status)
	}
	// Suppressed: the same words, nothing sent.
	a.Audience.Suppress(ctx, "sup@shop.example", audience.Complained, "test", "")
	if r := post("/subscribe/"+l.Token, url.Values{"email": {"SUP@shop.example"}}); r.Status != 200 || !strings.Contains(r.Body, "Check your inbox") {
		t.Fatalf("suppressed: %d", r.Status)
	}
	if len(a.Mail.all()) != 1 {
		t.Fatal("mailed a suppressed address")
	}
	var last response
	for i := range 3 {
		last = post("/subscribe/"+l.Token, url.Values{"email": {fmt.Sprintf("r%d@shop.example", i)}})
	}
	if last.Status != 429 {
		t.Fatalf("rate limit: %d", last.Status)
	}
}
