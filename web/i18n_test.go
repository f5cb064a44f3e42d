package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/platform/i18n"
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

// TestUIFrenchPagesPluralsAmountsDates: a French browser reads the signed-in
// pages in French, plurals agree with their count, amounts and dates are
// written the French way, and English keeps its own forms.
func TestUIFrenchPagesPluralsAmountsDates(t *testing.T) {
	a := newTestApp(t)
	id := a.createCampaign(t, "Soldes d'hiver")
	camp, err := a.Campaigns.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	month := camp.StartsAt.In(camp.Location()).Format("2006-01")
	fr := a.browser(accounts.Marketer)
	fr.acceptLanguage = "fr-FR,fr;q=0.9"
	en := a.browser(accounts.Viewer)
	en.acceptLanguage = "en-US"

	page := fr.get("/calendar?month=" + month).Body
	for _, want := range []string{`<html lang="fr">`, ">Calendrier</a>", "1 campagne autour de ce mois", ">lun.</div>", "Aujourd&#39;hui"} {
		if !strings.Contains(page, want) {
			t.Errorf("French calendar lacks %q", want)
		}
	}
	if got := en.get("/calendar?month=" + month).Body; !strings.Contains(got, "1 campaign around this month") {
		t.Error("English calendar: the singular is not used for 1")
	}
	a.createCampaign(t, "Soldes d'été")
	if page := fr.get("/calendar?month=" + month).Body; !strings.Contains(page, "2 campagnes autour de ce mois") {
		t.Error("French calendar: the plural is not used for 2")
	}
	if got := en.get("/calendar?month=" + month).Body; !strings.Contains(got, "2 campaigns around this month") {
		t.Error("English calendar: the plural is not used for 2")
	}

	page = fr.get(fmt.Sprintf("/campaigns/%d", id)).Body
	frDate := i18n.FormatTime(i18n.FR, camp.StartsAt.In(camp.Location()), dateLayout)
	for _, want := range []string{"Canaux", "État de préparation", "brouillon", frDate} {
		if !strings.Contains(page, want) {
			t.Errorf("French campaign page lacks %q", want)
		}
	}
	if !strings.Contains(page, "\u00a0€") {
		t.Error("French campaign page: no amount written with the euro sign after it")
	}
	if got := en.get(fmt.Sprintf("/campaigns/%d", id)).Body; !strings.Contains(got, "€") || strings.Contains(got, "\u00a0€") || !strings.Contains(got, "Readiness") {
		t.Error("English campaign page: amounts are not written €1,500.00 or the page is not English")
	}
}

// TestUIFormErrorsInFrench: the same refused campaign form speaks French to
// a French reader — field errors from the domain (campaigns.Build), from
// amounts and rates (platform/money) and the labels of the summary — while
// the API keeps its English messages.
func TestUIFormErrorsInFrench(t *testing.T) {
	a := newTestApp(t)
	b := a.browser(accounts.Marketer)
	b.acceptLanguage = "fr"
	b.get("/campaigns/new")
	f := formValues("")
	f.Set("budget_email", "beaucoup")
	f.Set("ends_at", "2020-01-01T00:00")
	f.Set("forecast_email_open_rate", "7")
	res := b.post("/campaigns", f)
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", res.Status)
	}
	for _, want := range []string{"est obligatoire", "n&#39;est pas un montant : écrivez-le 1 500,00 ou 1,500.00 ou 1500 (en EUR)",
		"doit être après le début (", "est ambigu : écrivez 22 % pour vingt-deux pour cent, ou 0,22", "<b>Budget E-mailing</b>: ",
		"<b>Fin</b>: doit être après le début", "Corrigez les champs ci-dessous", "Début (heure de Europe/Paris)"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("French form lacks %q", want)
		}
	}
	api := a.api("POST", "/api/v1/campaigns", accounts.Marketer, `{"name":"","channels":["email"]}`)
	if api.Status != http.StatusUnprocessableEntity || !strings.Contains(api.Body, "is required") {
		t.Errorf("the API's errors changed language: %d %s", api.Status, api.Body)
	}
}
