package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/display"
)

// The search tab and the campaign page speak French to a French browser:
// field errors of ad groups and ads, and the sentences of the search and
// display gates.
func TestSearchAndDisplayInFrench(t *testing.T) {
	a := newTestApp(t)
	p := a.seedPage(t)
	c := a.searchCampaign(t, p.ID)
	a.Search.RegisterGates(a.Campaigns.Gates)
	display.Channel{Service: a.Display}.RegisterGates(a.Campaigns.Gates)
	b := a.browser(accounts.Marketer)
	b.acceptLanguage = "fr-FR,fr;q=0.9"
	r := b.post(fmt.Sprintf("/campaigns/%d/adgroups", c.ID), url.Values{"name": {"Chaises"}, "max_cpc": {"abc"}, "keywords": {"[chaise]\n[chaise]"}})
	for _, want := range []string{"répète la ligne 1", "n&#39;est pas un montant supérieur à 0 en EUR"} {
		if r.Status != 422 || !strings.Contains(r.Body, want) {
			t.Errorf("ad group error: %d, want %q in\n%s", r.Status, want, r.Body)
		}
	}
	// The gates of the campaign page: no ad group yet (sea.ads warns),
	// the page's audit (seo.page).
	r = b.get(fmt.Sprintf("/campaigns/%d", c.ID))
	if !strings.Contains(r.Body, "aucun groupe d&#39;annonces : la campagne ne fait que du SEO") || strings.Contains(r.Body, "no ad group: the campaign runs on SEO only") {
		t.Errorf("the sea.ads gate is not in French:\n%s", r.Body)
	}
	d := a.displayCampaign(t)
	r = b.get(fmt.Sprintf("/campaigns/%d", d.ID))
	if !strings.Contains(r.Body, "la campagne ne cible aucun emplacement : choisissez-les dans son onglet Display") {
		t.Errorf("the display.creatives gate is not in French:\n%s", r.Body)
	}
	// English for an English browser, from the same code.
	b.acceptLanguage = "en"
	if r := b.get(fmt.Sprintf("/campaigns/%d", d.ID)); !strings.Contains(r.Body, "the campaign targets no placement") {
		t.Errorf("the display.creatives gate is not in English")
	}
}

// The partners page and the commissions ledger speak French: field
// errors of a partner, of a commission decision.
func TestAffiliationInFrench(t *testing.T) {
	a := newTestApp(t, withAffiliation(new(*affiliation.Service)))
	b := a.browser(accounts.Marketer)
	b.acceptLanguage = "fr-FR,fr;q=0.9"
	b.get("/partners")
	r := b.post("/partners", url.Values{"name": {"Ma Reduc"}, "email": {"nope"}, "commission": {"abc"}, "cookie_days": {"400"}})
	for _, want := range []string{"&#34;nope&#34; n&#39;est pas une adresse e-mail", "attendu : un nombre entier de jours de 1 à 365"} {
		if r.Status != 422 || !strings.Contains(r.Body, want) {
			t.Errorf("partner error: %d, want %q in\n%s", r.Status, want, r.Body)
		}
	}
	// The CSV import's errors, by line and column.
	b.get("/partners")
	csv := "name,email,commission,color\nMa Reduc,nope,8 %,red\n"
	r = uploadCreative(t, b, "/partners/import", "partners.csv", []byte(csv), nil)
	if r.Status != 422 || !strings.Contains(r.Body, "ligne 1, colonne color, valeur &#34;color&#34; : colonne inconnue ; connues : name,") {
		t.Errorf("import header: %d %s", r.Status, r.Body)
	}
	r = uploadCreative(t, b, "/partners/import", "partners.csv", []byte("name,email,commission\nMa Reduc,nope,8 %\n"), nil)
	if r.Status != 422 || !strings.Contains(r.Body, "ligne 2, colonne email, valeur &#34;nope&#34; : &#34;nope&#34; n&#39;est pas une adresse e-mail") {
		t.Errorf("import row: %d %s", r.Status, r.Body)
	}
}
