package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
)

// A page's versions in other languages are declared in the API and the
// editor, refused with the line named, and listed in the published head.
func TestPageAlternatesInAPIAndEditor(t *testing.T) {
	a := newTestApp(t)
	res := a.api("POST", "/api/v1/pages", accounts.Marketer, `{"slug":"sale","title":"Sale","lang":"en","alternates":[{"lang":"fr","slug":"nowhere"}]}`)
	if res.Status != 422 || !strings.Contains(res.Body, `"alternates.0"`) {
		t.Fatalf("a page naming no page: %d %s", res.Status, res.Body)
	}
	res = a.api("POST", "/api/v1/pages", accounts.Marketer, `{"slug":"sale","title":"Sale","lang":"en","alternates":[{"lang":"fr-fr","url":"https://shop.example/fr/soldes"}]}`)
	if res.Status != 201 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	pid := int(res.json(t)["id"].(float64))
	got := a.api("GET", fmt.Sprintf("/api/v1/pages/%d", pid), accounts.Viewer, "").json(t)
	if alts, _ := got["page"].(map[string]any)["alternates"].([]any); len(alts) != 1 || alts[0].(map[string]any)["lang"] != "fr-FR" {
		t.Fatalf("%v", got)
	}
	if r := a.api("POST", fmt.Sprintf("/api/v1/pages/%d/publish", pid), accounts.Marketer, ""); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	body := a.get("/l/sale").Body
	for _, want := range []string{`<link rel="alternate" hreflang="en" href="http://127.0.0.1/l/sale">`, `<link rel="alternate" hreflang="fr-FR" href="https://shop.example/fr/soldes">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the head lacks %s", want)
		}
	}
	// The editor: one a line, errors named by line, in French.
	b := a.browser(accounts.Marketer)
	b.acceptLanguage = "fr"
	edit := fmt.Sprintf("/pages/%d", pid)
	if r := b.get(edit); !strings.Contains(r.Body, "fr-FR https://shop.example/fr/soldes") {
		t.Fatalf("the editor does not show the alternates")
	}
	r := b.post(edit, url.Values{"slug": {"sale"}, "title": {"Sale"}, "lang": {"en"}, "alternates": {"fr-FR https://shop.example/fr/soldes\nklingon sale"}})
	if r.Status != 422 || !strings.Contains(r.Body, "alternates.1 : &#34;klingon&#34; n&#39;est pas une étiquette de langue") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r = b.post(edit, url.Values{"slug": {"sale"}, "title": {"Sale"}, "lang": {"en"}, "alternates": {"fr-FR https://shop.example/fr/soldes\nx-default /l/sale"}})
	if r.Status != 303 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if got := a.api("GET", fmt.Sprintf("/api/v1/pages/%d", pid), accounts.Viewer, "").Body; !strings.Contains(got, `{"lang":"x-default","slug":"sale"}`) {
		t.Fatalf("%s", got)
	}
}
