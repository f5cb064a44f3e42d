package email

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// A template error names the field and the line where it was written.
func TestTemplateErrorsNameTheLine(t *testing.T) {
	for body, want := range map[string]string{
		"Bonjour,\n\nligne 3\n{{.first_name": "body: line 4",
		"a\nb\n{{if .x}}oops":                "body: line 3",
		"Hello\n{{ .name | nosuchfunc }}\n":  "body: line 2",
		"fine {{.first_name}}\n\n{{end}} ok": "body: line 3",
	} {
		m := &Message{FromAddr: "news@shop.example", Subject: "S", Body: body}
		err := m.Validate()
		var ve validation.Errors
		if !errors.As(err, &ve) || len(ve) != 1 || !strings.HasPrefix(ve[0].Error(), want) {
			t.Errorf("%q: %v, want %s", body, err, want)
		}
	}
	m := &Message{FromAddr: "news@shop.example", Subject: "{{.first_name", Body: "x"}
	var ve validation.Errors
	if err := m.Validate(); !errors.As(err, &ve) || len(ve) != 1 || ve[0].Field != "subject" {
		t.Errorf("subject: %v", err)
	}
}

// Every wrong field is named at once, each left as typed, and a template
// error says in the reader's language which line holds what.
func TestValidateNamesEveryFieldAndKeepsWhatWasTyped(t *testing.T) {
	m := &Message{FromAddr: "pas-une-adresse", Subject: "", Body: "Bonjour {{.first_name}, nos soldes {{.inconnu}} commencent !"}
	var ve validation.Errors
	if err := m.Validate(); !errors.As(err, &ve) {
		t.Fatalf("want validation.Errors, got %v", err)
	}
	var fields []string
	for _, f := range ve {
		fields = append(fields, f.Field)
	}
	if strings.Join(fields, ",") != "from,subject,body" {
		t.Errorf("fields %v, want from, subject and body", fields)
	}
	if m.FromAddr != "pas-une-adresse" {
		t.Errorf("the wrong address was wiped: %q", m.FromAddr)
	}
	body := ve[2]
	for lang, want := range map[string]string{i18n.EN: "line 1: unclosed {{ … }}: {{.first_name}", i18n.FR: "ligne 1 : {{ … }} non fermé : {{.first_name}"} {
		if got := body.Text(lang); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	for src, want := range map[string]string{
		"x\n{{ .name | nosuchfunc }}": "ligne 2 : fonction inconnue nosuchfunc dans {{ .name | nosuchfunc }}",
		"x {{.first_name \"y}}":       "ligne 1 : guillemet non fermé dans {{.first_name \"y}}",
		"a\n\n{{end}}":                "ligne 3 : {{end}} n'est pas un champ : écrivez {{.first_name}} ou {{or .first_name \"client\"}}",
		"a\n{{.first_name":            "ligne 2 : {{ … }} non fermé : {{.first_name",
	} {
		m := &Message{FromAddr: "news@shop.example", Subject: "S", Body: src}
		var ve validation.Errors
		if err := m.Validate(); !errors.As(err, &ve) || ve[0].Text(i18n.FR) != want {
			t.Errorf("%q: %v, want %q", src, ve, want)
		}
	}
}

// Hostile HTML loses what runs; fields are escaped in their context.
func TestHostileBodiesAndFieldsAreDefused(t *testing.T) {
	m := &Message{FromAddr: "news@shop.example", Subject: "{{.name}}", Format: FormatHTML,
		Body: `<p onclick="x()">Hi {{.name}}</p><script>alert(1)</script><a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)><form action="https://evil.example"><input></form><a href="https://shop.example/?q={{.email}}">ok</a>`}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	cm, err := compileMessage(m, edition{LandingURL: "https://r.example/l/x"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := cm.render(map[string]string{"name": `<b>"Eve"</b>` + "\r\nBcc: all@evil.example", "email": "a&b@x"}, nil, "https://r.example/u/t")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "onclick", "javascript:", "onerror", "<form", "<b>\"Eve\"", "RAMPEACTION"} {
		if strings.Contains(r.HTML, bad) || strings.Contains(r.Subject, "\n") {
			t.Errorf("%q survived:\n%s\nsubject %q", bad, r.HTML, r.Subject)
		}
	}
	if !strings.Contains(r.HTML, "&lt;b&gt;") || !strings.Contains(r.HTML, `href="https://shop.example/?q=a%26b%40x"`) {
		t.Errorf("the field was not escaped:\n%s", r.HTML)
	}
	for _, tc := range []struct{ field, v string }{{"from", "a@b.example\r\nBcc: x@y.example"}, {"subject", "S\nBcc: x"}, {"from_name", "N\r\nBcc: x@y.example"}, {"reply_to", "not-an-address"}} {
		m := &Message{FromAddr: "news@shop.example", Subject: "S", Body: "x"}
		switch tc.field {
		case "from":
			m.FromAddr = tc.v
		case "subject":
			m.Subject = tc.v
		case "from_name":
			m.FromName = tc.v
		case "reply_to":
			m.ReplyTo = tc.v
		}
		var ve validation.Errors
		if err := m.Validate(); !errors.As(err, &ve) || len(ve) != 1 || ve[0].Field != tc.field {
			t.Errorf("%s=%q: %v", tc.field, tc.v, err)
		}
	}
	big := &Message{FromAddr: "news@shop.example", Subject: "S", Body: strings.Repeat("x", 10<<20)}
	var ve validation.Errors
	if err := big.Validate(); !errors.As(err, &ve) || ve[0].Field != "body" {
		t.Errorf("10 MB body: %v", err)
	}
}

func gate(t *testing.T, reg *campaigns.Registry, c *campaigns.Campaign, name string) campaigns.Result {
	t.Helper()
	rep := reg.Evaluate(context.Background(), c, time.Now())
	for _, r := range rep.Results {
		if r.Gate == name {
			return r
		}
	}
	t.Fatalf("no gate %s in %+v", name, rep.Results)
	return campaigns.Result{}
}

// The gates say what to fix.
func TestEmailGatesSayWhatToFix(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 30)
	ch := &Channel{Sender: f.s}
	reg := &campaigns.Registry{Timeout: 10 * time.Second}
	ch.RegisterGates(reg)
	c, _ := f.cs.Get(ctx, f.c.ID)
	page := uint64(1) // the page itself is the landing gates' business
	c.LandingPageID = &page
	if r := gate(t, reg, c, "email.audience"); r.Outcome != campaigns.Pass || !strings.Contains(r.Message, "30 mailable") {
		t.Errorf("audience: %+v", r)
	}
	// The body links an outside host and not the landing page.
	if r := gate(t, reg, c, "email.message"); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "shop.example") {
		t.Errorf("message with a foreign link: %+v", r)
	}
	ch.LinkHosts = []string{"shop.example"}
	m := mustMessage(t, f)
	m.Body = "Bonjour {{.first_name}} {{.loyalty}}\n\n[Voir](https://shop.example/soldes)"
	if err := f.s.Messages.Save(ctx, m, "test"); err != nil {
		t.Fatal(err)
	}
	if r := gate(t, reg, c, "email.message"); r.Outcome != campaigns.Warn || !strings.Contains(r.Message, "loyalty (20 of 20)") {
		t.Errorf("missing field: %+v", r)
	}
	m.Body = "Bonjour\n\n[Voir](https://shop.example/soldes)\n\n" + strings.Repeat("Une longue phrase pour grossir le message. ", 3000)
	f.s.Messages.Save(ctx, m, "test")
	if r := gate(t, reg, c, "email.message"); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "Gmail clips") {
		t.Errorf("clipped: %+v", r)
	}
	// The sender: answers, no DKIM key → warn; with a key → pass; down → fail.
	if r := gate(t, reg, c, "email.sender"); r.Outcome != campaigns.Warn || !strings.Contains(r.Message, "no DKIM key") {
		t.Errorf("sender without DKIM: %+v", r)
	}
	f.s.DKIM = &DKIMKey{Domain: "shop.example", Selector: "s1", Signer: ed25519.NewKeyFromSeed(make([]byte, 32))}
	if r := gate(t, reg, c, "email.sender"); r.Outcome != campaigns.Pass {
		t.Errorf("sender with DKIM: %+v", r)
	}
	f.smtp.Stop()
	ch.probed = time.Time{}
	if r := gate(t, reg, c, "email.sender"); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "does not answer") {
		t.Errorf("sender down: %+v", r)
	}
	// Everyone suppressed: no audience.
	f.g.Exec("UPDATE test_contacts SET suppressed = 'unsubscribed'")
	if r := gate(t, reg, c, "email.audience"); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "30 suppressed") {
		t.Errorf("no audience: %+v", r)
	}
	// No message at all.
	f.g.Exec("DELETE FROM email_messages")
	if r := gate(t, reg, c, "email.message"); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "no e-mail message") {
		t.Errorf("no message: %+v", r)
	}
}
