package web

import (
	"net/url"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
)

// TestTextTheDatabaseCannotStore: a NUL byte or invalid UTF-8 in a query
// parameter, a form field or a JSON string is refused with 400 naming it
// (PostgreSQL answered such text with an error, seen as a 500), and
// nothing is stored.
func TestTextTheDatabaseCannotStore(t *testing.T) {
	a := newTestApp(t)
	b := a.browser(accounts.Marketer)
	for _, path := range []string{"/products?q=%00", "/products?q=%ff", "/products?brand=ok&q=a%00b", "/campaigns?status=%c3"} {
		res := b.get(path)
		name := strings.SplitN(strings.SplitN(path, "?", 2)[1], "=", 2)[0]
		if strings.Contains(path, "&") {
			name = "q"
		}
		if res.Status != 400 || !strings.Contains(res.Body, "parameter &#34;"+name+"&#34; is not valid text") {
			t.Errorf("%s: %d %.300s", path, res.Status, res.Body)
		}
	}
	form := formValues("bad\x00name")
	if res := b.post("/campaigns", form); res.Status != 400 || !strings.Contains(res.Body, "parameter &#34;name&#34; is not valid text") {
		t.Errorf("form with a NUL: %d %.300s", res.Status, res.Body)
	}
	res := a.api("POST", "/api/v1/campaigns", accounts.Marketer, `{"name":"bad\u0000name","channels":["email"]}`)
	if res.Status != 400 || !strings.Contains(res.Body, `"code":"invalid"`) || !strings.Contains(res.Body, "NUL") {
		t.Errorf("JSON with a NUL: %d %s", res.Status, res.Body)
	}
	res = a.api("GET", "/api/v1/products?q="+url.QueryEscape("\xff"), accounts.Viewer, "")
	if res.Status != 400 || !strings.Contains(res.Body, `"field":"q"`) {
		t.Errorf("API query with invalid UTF-8: %d %s", res.Status, res.Body)
	}
	if list := a.api("GET", "/api/v1/campaigns", accounts.Viewer, ""); strings.Contains(list.Body, "bad") {
		t.Errorf("a refused request stored something: %s", list.Body)
	}
	// Accented text is text.
	if res := b.get("/products?q=" + url.QueryEscape("Été")); res.Status != 200 {
		t.Errorf("accented search: %d", res.Status)
	}
}
