package audience

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/testenv"
	"github.com/rampe/rampe/platform/validation"
)

// sent collects the messages a service sends.
type sent struct {
	mu   sync.Mutex
	msgs []mailer.Message
}

func (s *sent) send(_ context.Context, m mailer.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *sent) all() []mailer.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mailer.Message(nil), s.msgs...)
}

func newService(t *testing.T) (*Service, *sent) {
	t.Helper()
	out := &sent{}
	g := testenv.DB(t, db.Migrations, Migrations)
	return &Service{DB: g, Secret: []byte("0123456789abcdef0123456789abcdef"), Send: out.send, BaseURL: "https://shop.example"}, out
}

func field(err error) string {
	var ve validation.Errors
	if errors.As(err, &ve) {
		return ve[0].Field
	}
	return ""
}

func TestNormalizeEmail(t *testing.T) {
	cases := []struct{ in, email, key, bad string }{
		{in: " Ana@Exämple.FR ", email: "Ana@xn--exmple-cua.fr", key: "ana@xn--exmple-cua.fr"},
		{in: "ana@xn--exmple-cua.fr", email: "ana@xn--exmple-cua.fr", key: "ana@xn--exmple-cua.fr"},
		{in: "o'brien+tag@Shop.Example", email: "o'brien+tag@shop.example", key: "o'brien+tag@shop.example"},
		{in: "", bad: "required"},
		{in: "no-at-sign", bad: "not an e-mail"},
		{in: "a@b", bad: "domain"},
		{in: "Ana <ana@shop.example>", bad: "domain"},
		{in: "a b@shop.example", bad: "not an e-mail"},
		{in: "ana@shop.example\r\nBcc: x@evil.example", bad: "line break"},
		{in: "josé@shop.example", bad: "ASCII"},
		{in: strings.Repeat("a", 65) + "@shop.example", bad: "before @ is longer than 64"},
		{in: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 59) + ".fr", bad: "longer than 254"},
		{in: "a@-bad-.example", bad: "domain"},
	}
	for _, c := range cases {
		email, key, err := NormalizeEmail(c.in)
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.bad)
			}
			continue
		}
		if err != nil || email != c.email || key != c.key {
			t.Errorf("%q = %q, %q, %v; want %q, %q", c.in, email, key, err, c.email, c.key)
		}
	}
}

func TestCreateFindsDuplicatesWithoutCaseAndIDNA(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	c, err := s.Create(ctx, Input{Email: "Ana@Exämple.FR", Name: "Ana", TimeZone: "Europe/Paris", Locale: "fr_FR", Country: "fr",
		Attributes: map[string]string{"Loyalty": "gold"}}, Actor{Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Email != "Ana@xn--exmple-cua.fr" || c.Locale != "fr-FR" || c.Country != "FR" || c.Attrs["loyalty"] != "gold" || c.Status != OptedIn {
		t.Fatalf("stored %+v", c)
	}
	if _, err := s.Create(ctx, Input{Email: "ana@xn--exmple-cua.fr"}, Actor{Source: "api"}); field(err) != "email" {
		t.Fatalf("duplicate: %v", err)
	}
	got, err := s.ByEmail(ctx, "ANA@EXÄMPLE.fr")
	if err != nil || got.ID != c.ID {
		t.Fatalf("by email: %v %v", got, err)
	}
	h, _ := s.History(ctx, c.ID)
	if len(h) != 1 || h[0].Status != OptedIn || h[0].Source != "api" {
		t.Fatalf("history %+v", h)
	}
	v := got.Vars()
	if v["first_name"] != "Ana" || v["loyalty"] != "gold" || v["email"] != c.Email || v["time_zone"] != "Europe/Paris" {
		t.Fatalf("vars %v", v)
	}
}

func TestInputValidationNamesFields(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	cases := []struct {
		in    Input
		field string
	}{
		{Input{Email: "a@shop.example", Name: "Eve\r\nBcc: x@evil.example"}, "name"},
		{Input{Email: "a@shop.example", Name: "Eve\x07"}, "name"},
		{Input{Email: "a@shop.example", Name: strings.Repeat("é", MaxName+1)}, "name"},
		{Input{Email: "a@shop.example", TimeZone: "Mars/Olympus"}, "time_zone"},
		{Input{Email: "a@shop.example", TimeZone: "Local"}, "time_zone"},
		{Input{Email: "a@shop.example", Country: "XX"}, "country"},
		{Input{Email: "a@shop.example", Locale: "not a locale"}, "locale"},
		{Input{Email: "a@shop.example", Status: "subscribed"}, "status"},
		{Input{Email: "a@shop.example", Attributes: map[string]string{"email": "x"}}, "attributes"},
		{Input{Email: "a@shop.example", Attributes: map[string]string{"ok": strings.Repeat("x", MaxAttrValue+1)}}, "attributes"},
		{Input{Email: "a@shop.example", Attributes: map[string]string{"bad name!": "x"}}, "attributes"},
	}
	for _, c := range cases {
		if _, err := s.Create(ctx, c.in, Actor{Source: "api"}); field(err) != c.field {
			t.Errorf("%+v: %v, want field %s", c.in, err, c.field)
		}
	}
	many := map[string]string{}
	for i := range MaxAttrs + 1 {
		many[fmt.Sprintf("a%d", i)] = "x"
	}
	if _, err := s.Create(ctx, Input{Email: "a@shop.example", Attributes: many}, Actor{}); field(err) != "attributes" {
		t.Errorf("too many attributes: %v", err)
	}
}

func TestSuppressionIsNeverOverridden(t *testing.T) {
	s, out := newService(t)
	ctx := context.Background()
	l, _ := s.CreateList(ctx, ListInput{Name: "News"})
	c, err := s.Create(ctx, Input{Email: "Bob@Shop.example", Name: "Bob"}, Actor{Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Suppress(ctx, "bob@SHOP.example", Bounced, "bounce", ""); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.IsSuppressed(ctx, "BOB@shop.example"); !ok {
		t.Fatal("not suppressed")
	}
	got, _ := s.Get(ctx, c.ID)
	if got.Status != Bounced {
		t.Fatalf("status %s", got.Status)
	}
	got2, err := s.Suppressed(ctx, []string{"BOB@shop.example", "bob@shop.example", "ann@shop.example", "not an address"})
	if err != nil || !got2["BOB@shop.example"] || !got2["bob@shop.example"] || got2["ann@shop.example"] || !got2["not an address"] {
		t.Fatalf("suppressed: %v %v", got2, err)
	}
	if name, err := s.ListName(ctx, l.ID); err != nil || name != "News" {
		t.Fatalf("list name: %q %v", name, err)
	}
	// API: a status change back, and a new contact after deletion.
	if _, err := s.SetStatus(ctx, c.ID, OptedIn, Actor{Source: "api"}); !errors.Is(err, ErrSuppressed) {
		t.Fatalf("set status: %v", err)
	}
	if _, err := s.Update(ctx, c.ID, Input{Email: c.Email, Name: "Bobby", Status: Confirmed}, Actor{Source: "api"}); !errors.Is(err, ErrSuppressed) {
		t.Fatalf("update: %v", err)
	}
	if got, _ := s.Get(ctx, c.ID); got.Name != "Bob" || got.Status != Bounced {
		t.Fatalf("a refused update changed %+v", got)
	}
	if err := s.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, Input{Email: "bob@shop.example"}, Actor{Source: "api"}); !errors.Is(err, ErrSuppressed) {
		t.Fatalf("re-create: %v", err)
	}
	// Subscribe: refused, nothing sent.
	if _, err := s.Subscribe(ctx, l.Token, SubscribeInput{Email: "BOB@shop.example", IP: "192.0.2.1"}); !errors.Is(err, ErrSuppressed) {
		t.Fatalf("subscribe: %v", err)
	}
	if len(out.all()) != 0 {
		t.Fatal("a confirmation went to a suppressed address")
	}
	// Import: the row is imported with its fields but stays suppressed, and reported.
	res, err := s.Import(ctx, strings.NewReader("email,name,status\nann@shop.example,Ann,\nbob@shop.example,Bob B,opted_in\n"), ImportOptions{ListID: l.ID})
	if err != nil || res.Imported != 2 || res.Suppressed != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Line != 3 || !strings.Contains(res.Errors[0].Msg, "suppression list (bounced)") {
		t.Fatalf("report %+v", res.Errors)
	}
	bob, _ := s.ByEmail(ctx, "bob@shop.example")
	if bob.Status != Bounced || bob.Name != "Bob B" {
		t.Fatalf("imported bob %+v", bob)
	}
	page, _ := s.Mailable(ctx, Spec{ListID: l.ID}, 0, 100)
	if len(page) != 1 || page[0].Email != "ann@shop.example" {
		t.Fatalf("mailable %+v", page)
	}
	cnt, _ := s.Count(ctx, Spec{ListID: l.ID})
	if cnt.Mailable != 1 || cnt.Excluded[Bounced] != 1 {
		t.Fatalf("count %+v", cnt)
	}
}

func TestImportAllOrNothingAndPartial(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	file := "Email;Name;Time_Zone;Locale;Country;Loyalty\n" +
		"ana@shop.example;Ana;Europe/Paris;fr;FR;gold\n" +
		"not-an-address;X;;;;\n" +
		"carl@shop.example;Carl;Mars/Base;;;\n" +
		"\"dan@shop.example\";\"Dan\r\nBcc: evil@x.example\";;;;\n" +
		"ANA@Shop.Example;Ana again;;;;\n" +
		"eve@shop.example;" + strings.Repeat("e", 300) + ";;;;\n" +
		"fay@shop.example;Fay;;en-GB;GB;silver\n"
	res, err := s.Import(ctx, strings.NewReader(file), ImportOptions{})
	if !errors.Is(err, ErrInvalidRows) || res.Committed {
		t.Fatalf("all-or-nothing: %+v %v", res, err)
	}
	if n, _ := s.CountBy(ctx, Query{}); len(n) != 0 {
		t.Fatalf("a failed import stored %v", n)
	}
	want := []struct {
		line int64
		col  string
	}{{3, "email"}, {4, "time_zone"}, {5, "name"}, {7, "email"}, {8, "name"}}
	if len(res.Errors) != len(want) {
		t.Fatalf("report %+v", res.Errors)
	}
	for i, w := range want {
		if e := res.Errors[i]; e.Line != w.line || e.Column != w.col {
			t.Errorf("error %d = %+v, want line %d column %s", i, e, w.line, w.col)
		}
	}
	if !strings.Contains(res.Errors[3].Msg, "first seen on line 2") {
		t.Errorf("duplicate message %q", res.Errors[3].Msg)
	}
	res, err = s.Import(ctx, strings.NewReader(file), ImportOptions{Partial: true})
	if err != nil || res.Imported != 2 || res.Invalid != 5 || res.Rows != 7 {
		t.Fatalf("partial: %+v %v", res, err)
	}
	ana, _ := s.ByEmail(ctx, "ana@shop.example")
	if ana.Name != "Ana" || ana.Attrs["loyalty"] != "gold" || ana.TimeZone != "Europe/Paris" {
		t.Fatalf("ana %+v", ana)
	}
	// A second import updates by address; an empty cell keeps the value.
	res, err = s.Import(ctx, strings.NewReader(`[{"email":"ANA@shop.example","name":"","country":"BE","status":"unsubscribed","attributes":{"loyalty":"silver"}}]`), ImportOptions{Format: "json"})
	if err != nil || res.Imported != 1 {
		t.Fatalf("json: %+v %v", res, err)
	}
	ana, _ = s.ByEmail(ctx, "ana@shop.example")
	if ana.Name != "Ana" || ana.Country != "BE" || ana.Status != Unsubscribed || ana.Attrs["loyalty"] != "silver" {
		t.Fatalf("ana after json %+v", ana)
	}
	if ok, _ := s.IsSuppressed(ctx, "ana@shop.example"); !ok {
		t.Fatal("an imported unsubscribe is not suppressed")
	}
	h, _ := s.History(ctx, ana.ID)
	if len(h) != 2 || h[0].Status != Unsubscribed || h[0].Previous != OptedIn || h[0].Source != "import" {
		t.Fatalf("history %+v", h)
	}
}

func TestImportMalformedFiles(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	cases := []struct {
		name, format, body string
		line               int64
		msg                string
	}{
		{"empty", "csv", "", 1, "empty"},
		{"no email column", "csv", "name,country\nAna,FR\n", 1, `missing column "email"`},
		{"bad quote", "csv", "email,name\na@shop.example,\"Ana\n", 2, "malformed CSV"},
		{"field count", "csv", "email,name\na@shop.example,Ana,extra\n", 2, "3 fields, the header has 2"},
		{"bad header", "csv", "email,what is this?\n", 1, "not a valid attribute name"},
		{"json syntax", "json", `[{"email":"a@shop.example"}, {"email": ]`, 2, "malformed JSON"},
		{"json not objects", "json", `["a@shop.example"]`, 1, "malformed JSON"},
		{"json number name", "json", `{"email":"a@shop.example","name":42}`, 1, "want a string"},
		{"json nested attrs", "json", `{"email":"a@shop.example","attributes":{"loyalty":{"x":1}}}`, 1, "object of strings"},
		{"json attrs not strings", "json", `{"email":"a@shop.example","attributes":{"points":12}}`, 1, "object of strings"},
		{"long line", "csv", "email\n" + strings.Repeat("x", MaxLineBytes+10), 2, "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := s.Import(ctx, strings.NewReader(c.body), ImportOptions{Format: c.format})
			if !errors.Is(err, ErrInvalidRows) {
				t.Fatalf("err = %v", err)
			}
			if len(res.Errors) == 0 || res.Errors[0].Line != c.line || !strings.Contains(res.Errors[0].Msg, c.msg) {
				t.Fatalf("report %+v, want line %d %q", res.Errors, c.line, c.msg)
			}
		})
	}
	if n, _ := s.CountBy(ctx, Query{}); len(n) != 0 {
		t.Fatalf("malformed files stored %v", n)
	}
}

func TestMailableAndCountWithListSegmentSuppressionAndPaging(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	news, _ := s.CreateList(ctx, ListInput{Name: "Newsletter"})
	other, _ := s.CreateList(ctx, ListInput{Name: "Other"})
	var b strings.Builder
	b.WriteString("email,name,loyalty,status\n")
	const n = 250
	for i := range n {
		loyalty, status := []string{"gold", "silver", "none"}[i%3], ""
		switch i % 10 {
		case 7:
			status = Pending
		case 8:
			status = Unsubscribed
		case 9:
			status = Bounced
		}
		fmt.Fprintf(&b, "user%03d@shop.example,User %d,%s,%s\n", i, i, loyalty, status)
	}
	if _, err := s.Import(ctx, strings.NewReader(b.String()), ImportOptions{ListID: news.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, Input{Email: "outsider@shop.example", Attributes: map[string]string{"loyalty": "gold"}}, Actor{}); err != nil {
		t.Fatal(err)
	}
	// Suppressed behind the status's back: counted as "suppressed".
	if err := s.DB.Exec("INSERT INTO email_suppressions (email_key, reason, source, created_at) VALUES ('user000@shop.example', 'complained', 'test', ?)", time.Now()).Error; err != nil {
		t.Fatal(err)
	}
	gold, err := s.CreateSegment(ctx, SegmentInput{Name: "Gold", Filters: []Filter{{Field: "loyalty", Op: "eq", Value: "GOLD"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Expected by brute force.
	wantAll, wantGold := 0, 0
	for i := 1; i < n; i++ {
		if i%10 < 7 {
			wantAll++
			if i%3 == 0 {
				wantGold++
			}
		}
	}
	collect := func(sp Spec) []Contact {
		var all []Contact
		after := uint64(0)
		for {
			page, err := s.Mailable(ctx, sp, after, 40)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				return all
			}
			all = append(all, page...)
			after = page[len(page)-1].ID
		}
	}
	if got := collect(Spec{ListID: news.ID}); len(got) != wantAll {
		t.Fatalf("list: %d mailable, want %d", len(got), wantAll)
	}
	got := collect(Spec{ListID: news.ID, SegmentID: gold.ID})
	if len(got) != wantGold {
		t.Fatalf("list+gold: %d, want %d", len(got), wantGold)
	}
	for i, c := range got {
		if c.Attrs["loyalty"] != "gold" || !MailableStatus(c.Status) || (i > 0 && c.ID <= got[i-1].ID) {
			t.Fatalf("bad row %d: %+v", i, c)
		}
	}
	if got := collect(Spec{SegmentID: gold.ID}); len(got) != wantGold+1 {
		t.Fatalf("all contacts+gold: %d, want %d", len(got), wantGold+1)
	}
	if got := collect(Spec{ListID: other.ID}); len(got) != 0 {
		t.Fatalf("empty list: %d", len(got))
	}
	c, err := s.Count(ctx, Spec{ListID: news.ID})
	if err != nil || c.Mailable != int64(wantAll) || c.Excluded[Pending] != 25 || c.Excluded[Unsubscribed] != 25 || c.Excluded[Bounced] != 25 || c.Excluded["suppressed"] != 1 || c.Total() != n {
		t.Fatalf("count %+v %v", c, err)
	}
	// Every operator, through the preview.
	for _, tc := range []struct {
		f    Filter
		want int64
	}{
		{Filter{Field: "email", Op: "contains", Value: "USER00"}, 6},
		{Filter{Field: "loyalty", Op: "in", Values: []string{"gold", "silver"}}, 0},
		{Filter{Field: "loyalty", Op: "neq", Value: "none"}, 0},
		{Filter{Field: "status", Op: "eq", Value: "pending"}, 0},
		{Filter{Field: "country", Op: "exists"}, 0},
		{Filter{Field: "loyalty", Op: "exists"}, 0},
	} {
		p, err := s.Preview(ctx, news.ID, []Filter{tc.f})
		if err != nil {
			t.Fatalf("%+v: %v", tc.f, err)
		}
		if tc.f.Op == "contains" && p.Mailable != tc.want {
			t.Errorf("%+v: %d mailable, want %d", tc.f, p.Mailable, tc.want)
		}
		t.Logf("%+v → %+v", tc.f, p)
	}
	if p, _ := s.Preview(ctx, news.ID, []Filter{{Field: "country", Op: "exists"}}); p.Total() != 0 {
		t.Errorf("country exists: %+v", p)
	}
	if p, _ := s.Preview(ctx, news.ID, []Filter{{Field: "status", Op: "in", Value: "pending, bounced"}}); p.Total() != 50 || p.Mailable != 0 {
		t.Errorf("status in: %+v", p)
	}
	if _, err := s.CreateSegment(ctx, SegmentInput{Name: "Bad", Filters: []Filter{{Field: "loyalty", Op: "like", Value: "x"}}}); field(err) != "filters[0].op" {
		t.Errorf("bad op: %v", err)
	}
	if _, err := s.CreateSegment(ctx, SegmentInput{Name: "Bad", Filters: []Filter{{Field: "no such!", Op: "eq"}}}); field(err) != "filters[0].field" {
		t.Errorf("bad field: %v", err)
	}
}
