package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
)

// TestUILanguageFollowsBrowserThenPreference: anonymous pages speak the
// browser's language, a signed-in user's saved preference wins over it, an
// empty preference goes back to the browser, and an unknown language is
// refused and changes nothing.
func TestUILanguageFollowsBrowserThenPreference(t *testing.T) {
	a := newTestApp(t)
	anon := a.browser("")
	anon.acceptLanguage = "fr-FR,fr;q=0.9,en;q=0.8"
	res := anon.get("/login")
	for _, want := range []string{`<html lang="fr">`, "Se connecter", "Mot de passe"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("French login page lacks %q", want)
		}
	}
	anon.acceptLanguage = "de-DE,de;q=0.9"
	if res := anon.get("/login"); !strings.Contains(res.Body, `<html lang="en">`) || !strings.Contains(res.Body, "Sign in") {
		t.Errorf("a German browser does not get English: %.300s", res.Body)
	}

	b := a.browser(accounts.Marketer)
	b.acceptLanguage = "en-US"
	if res := b.get("/campaigns"); !strings.Contains(res.Body, `<html lang="en">`) || !strings.Contains(res.Body, ">Campaigns</a>") {
		t.Fatalf("English browser, no preference: not English")
	}
	b.get("/settings/password")
	if res := b.post("/settings/language", url.Values{"lang": {"fr"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("save language: %d %s", res.Status, res.Body)
	}
	res = b.get("/settings/password")
	for _, want := range []string{`<html lang="fr">`, ">Campagnes</a>", "Langue enregistrée.", `<option value="fr" lang="fr" selected>`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("after choosing French, the page lacks %q", want)
		}
	}
	if res := b.post("/settings/language", url.Values{"lang": {"klingon"}}); res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "klingon") {
		t.Errorf("unknown language: %d %s", res.Status, res.Body)
	}
	if u, _ := a.Accounts.ByEmail(t.Context(), "marketer@shop.example"); u.Lang != "fr" {
		t.Errorf("a refused language changed the preference to %q", u.Lang)
	}
	b.post("/settings/language", url.Values{"lang": {""}})
	if res := b.get("/campaigns"); !strings.Contains(res.Body, `<html lang="en">`) {
		t.Error("an empty preference does not follow the browser again")
	}
}
