package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/i18n"
)

// frenchBrowser is a signed-in browser whose Accept-Language is French.
func (a *testApp) frenchBrowser(role accounts.Role) *browser {
	b := a.browser(role)
	b.acceptLanguage = "fr-FR,fr;q=0.9"
	return b
}

// wantAll fails t for each text page lacks.
func wantAll(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("%s lacks %q", what, w)
			if testing.Verbose() {
				t.Log(page)
			}
		}
	}
}

// TestFrenchReadinessReasonsAlertsAndScheduleDialog: the gate messages of
// the checklist, the Schedule confirmation, the status reason written at
// scheduling and a re-check's alert read French to a French reader and
// English to an English one, while the API keeps English.
func TestFrenchReadinessReasonsAlertsAndScheduleDialog(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	fr := a.frenchBrowser(accounts.Marketer)
	fr.get("/campaigns/new")
	res := fr.post("/campaigns", formValues("Soldes d'hiver"))
	loc := res.Header.Get("Location")
	id, _ := strconv.ParseUint(strings.TrimPrefix(loc, "/campaigns/"), 10, 64)
	page := fr.get(loc).Body
	wantAll(t, "French checklist", page,
		"aucune page d&#39;atterrissage n&#39;est liée à la campagne", // landing.published
		"aucune promotion n&#39;est liée",                             // promotions.published
		"canaux avec un budget et leurs prévisions au-dessus de zéro", // channels.configured, plural
		"période du ", // schedule.valid
		`data-confirm="Ces contrôles échouent maintenant`, "Programmer quand même ?")
	if strings.Contains(page, "no landing page is linked") || strings.Contains(page, "Schedule anyway?") {
		t.Error("the French checklist still shows English sentences")
	}
	if res := fr.post(loc+"/schedule", url.Values{}); res.Status != http.StatusSeeOther {
		t.Fatalf("schedule: %d", res.Status)
	}
	c, err := a.Campaigns.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Campaigns.Recheck(ctx, id, c.ScheduleVersion, "T-24h"); err != nil {
		t.Fatal(err)
	}
	page = fr.get(loc).Body
	wantAll(t, "French campaign page after scheduling", page, "programmée pour une mise en ligne le ", "n&#39;est pas prête : landing.published échec : aucune page")
	wantAll(t, "French campaigns list", fr.get("/campaigns").Body, "programmée pour une mise en ligne le ")
	wantAll(t, "French alerts", fr.get("/alerts").Body, "Soldes d&#39;hiver commence dans ", "n&#39;est pas prête")

	en := a.browser(accounts.Viewer)
	en.acceptLanguage = "en-US"
	wantAll(t, "English campaign page", en.get(loc).Body, "scheduled to go live at ", "no landing page is linked to the campaign", "is not ready: landing.published fail")
	api := a.api("GET", "/api/v1"+loc, accounts.Viewer, "")
	if !strings.Contains(api.Body, `"status_reason":"scheduled to go live at `) {
		t.Errorf("the API's status reason is not English: %.600s", api.Body)
	}
}

// TestFrenchLoadCheckVerdictAndKinds: a check that meets a closed port
// fails, and its page speaks French: the verdict, the broken threshold and
// the kind of failure.
func TestFrenchLoadCheckVerdictAndKinds(t *testing.T) {
	a := newTestApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := "http://" + ln.Addr().String() + "/l/x"
	ln.Close() // nobody listens there any more
	store := a.LoadChecksStore()
	c := &loadcheck.Check{PageID: 1, PageVersionID: 1, URL: target, TargetRate: 2.5, Steps: loadcheck.DefaultSteps, StepSeconds: 1,
		Thresholds: loadcheck.DefaultThresholds, Status: loadcheck.Queued, CreatedAt: time.Now().UTC()}
	if err := store.DB.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	if err := a.checks.Run(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Get(context.Background(), c.ID)
	if got.Status != loadcheck.Failed {
		t.Fatalf("status %s: %s", got.Status, got.Reason)
	}
	page := a.frenchBrowser(accounts.Viewer).get(fmt.Sprintf("/loadchecks/%d", c.ID)).Body
	wantAll(t, "French check page", page, "palier 1 sur 4", "de la cible) : ", "taux d&#39;erreur 100,0 % &gt; 1,0 %",
		"cible 2,5 req/s", `<td class="num">0,625</td>`) // numbers as French writes them, in the header and the steps table
	if !strings.Contains(page, "connexion refusée") && !strings.Contains(page, "adresse refusée par la liste d&#39;autorisation") {
		t.Errorf("French check page names no failure kind in French: %.3000s", page)
	}
	wantAll(t, "French checks list", a.frenchBrowser(accounts.Viewer).get("/loadchecks").Body, "palier 1 sur 4")
	if !strings.HasPrefix(got.Reason, "step 1 of 4") {
		t.Errorf("the stored English reason changed: %q", got.Reason)
	}
}

// TestFrenchImportProblemsAndFeedIssues: the problems of a catalog import,
// of a contact import and of a feed's products are stored in English and
// read in French.
func TestFrenchImportProblemsAndFeedIssues(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	csv := "sku,title,price,link\nA-1,Chaise,abc,https://shop.example/a\nA-2,Table,12.00,https://shop.example/b\nA-3,Lampe,,https://shop.example/c\n"
	imp, err := a.Catalog.StartImport(ctx, "cat.csv", "csv", int64(len(csv)), false, "test")
	if err != nil {
		t.Fatal(err)
	}
	a.Catalog.RunImport(ctx, imp, strings.NewReader(csv), catalog.Options{Format: "csv"})
	fr := a.frenchBrowser(accounts.Marketer)
	wantAll(t, "French catalog import", fr.get(fmt.Sprintf("/imports/%d", imp.ID)).Body,
		"rien n&#39;a été importé : 2 lignes invalides sur 3", "pas un prix (exemple : 19,90)", "est obligatoire")

	contacts := "email;name;country\nann@shop.example;Ann;FR\nbad;Bad;XX\n"
	run, err := a.Audience.StartImport(ctx, "c.csv", "csv", int64(len(contacts)), audience.ImportOptions{Partial: true}, "test")
	if err != nil {
		t.Fatal(err)
	}
	a.Audience.RunImport(ctx, run, strings.NewReader(contacts), audience.ImportOptions{Format: "csv", Partial: true})
	wantAll(t, "French contact import", fr.get(fmt.Sprintf("/contacts/imports/%d", run.ID)).Body,
		"1 contact importé ou mis à jour ; 1 ligne invalide ignorée (voir le rapport)",
		"pas une adresse e-mail (attendu : nom@domaine.example)", "pas un code pays ISO 3166 (p. ex. FR)")

	a.seedPage(t) // two products with no GTIN nor MPN
	fr.get("/feeds/new")
	res := fr.post("/feeds", url.Values{"name": {"idealo-fr"}, "format": {"idealo_csv"}, "availability": {"in_stock", "out_of_stock"}, "title_template": {"{title}"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create feed: %d %s", res.Status, res.Body)
	}
	feedID, _ := strconv.ParseUint(strings.TrimPrefix(res.Header.Get("Location"), "/feeds/"), 10, 64)
	if _, err := a.Feeds.Generate(ctx, feedID, "test", nil); err != nil {
		t.Fatal(err)
	}
	want := "ni GTIN ni MPN : envoyé avec identifier_exists=no"
	wantAll(t, "French product page", fr.get("/products/W-1").Body, want)
	wantAll(t, "French feed page", fr.get(fmt.Sprintf("/feeds/%d", feedID)).Body, want, "2 articles écrits, 0 écarté, 2 avertissements")
}

// TestFrenchFieldErrorsOfAccountsNotifyAndEmail: the field errors of the
// users page, of the password page, of the alert preferences and of the
// tokens page come in French.
func TestFrenchFieldErrorsOfAccountsNotifyAndEmail(t *testing.T) {
	a := newTestApp(t)
	admin := a.frenchBrowser(accounts.Admin)
	admin.get("/users")
	res := admin.post("/users", url.Values{"email": {"pas-une-adresse"}, "name": {"X"}, "role": {"marketer"}, "password": {"correct-horse-battery"}})
	wantAll(t, "French users form", res.Body, "&#34;pas-une-adresse&#34; n&#39;est pas une adresse e-mail")
	res = admin.post("/users", url.Values{"email": {"new@shop.example"}, "name": {"X"}, "role": {"marketer"}, "password": {"court"}})
	wantAll(t, "French users form", res.Body, "doit faire au moins 10 caractères")

	admin.get("/settings/password")
	res = admin.post("/settings/password", url.Values{"current": {"wrong-password!"}, "password": {"another-long-one"}, "confirm": {"another-long-one"}})
	wantAll(t, "French password form", res.Body, "n&#39;est pas votre mot de passe actuel")

	admin.get("/settings/notifications")
	res = admin.post("/settings/notifications", url.Values{"webhook_url": {"ftp://hooks.example/x"}})
	wantAll(t, "French alert preferences", res.Body, "schéma &#34;ftp&#34; : utilisez https")

	admin.get("/settings/tokens")
	res = admin.post("/settings/tokens", url.Values{"name": {""}})
	wantAll(t, "French tokens form", res.Body, "donnez au jeton un nom de 1 à 100 caractères")
}

// TestFrenchCapacityChartLabels: the capacity chart's day titles, built in
// Go, are French.
func TestFrenchCapacityChartLabels(t *testing.T) {
	a := newTestApp(t)
	a.createCampaign(t, "Soldes")
	page := a.frenchBrowser(accounts.Viewer).get("/capacity").Body
	wantAll(t, "French capacity chart", page, " : pic de ", " req/s à ")
	if strings.Contains(page, ": peak ") {
		t.Error("the French capacity chart still says peak")
	}
}

// TestFrenchErrorPages: an error page reads in the user's language — a
// fixed message of the catalog and one built at run time alike — while the
// API answers the same errors in English.
func TestFrenchErrorPages(t *testing.T) {
	a := newTestApp(t)
	fr := a.frenchBrowser(accounts.Viewer)
	res := fr.get("/campaigns/987654")
	wantAll(t, "French 404 of a campaign", res.Body, "aucune campagne avec cet identifiant")
	res = fr.get("/nulle-part")
	wantAll(t, "French 404 of a path", res.Body, "il n&#39;y a pas de page à /nulle-part")
	if res.Status != 404 {
		t.Fatalf("a path nothing answers: %d", res.Status)
	}
	api := a.api("GET", "/api/v1/nowhere", accounts.Viewer, "")
	wantAll(t, "API 404", api.Body, "no such API endpoint: GET /api/v1/nowhere")
	api = a.api("GET", "/api/v1/campaigns/987654", accounts.Viewer, "")
	wantAll(t, "API 404 of a campaign", api.Body, "no campaign")
}

// TestFrenchChannelMoveDetails: what a channel did outside Rampe, stored in
// English by the channel, reads in French on the campaign page.
func TestFrenchChannelMoveDetails(t *testing.T) {
	a := newTestApp(t)
	id := a.createCampaign(t, "Soldes d'hiver")
	now := time.Now().UTC()
	if err := a.Campaigns.DB.Create(&campaigns.ChannelMove{CampaignID: id, TransitionID: 1, Channel: campaigns.Email, Move: campaigns.MoveHalt, Status: campaigns.MoveDone,
		Detail: "paused at 14:02:11 UTC, 41 % sent (2050 of 5000)", RequestedAt: now, UpdatedAt: now, DoneAt: &now}).Error; err != nil {
		t.Fatal(err)
	}
	page := a.frenchBrowser(accounts.Viewer).get(fmt.Sprintf("/campaigns/%d", id))
	wantAll(t, "French move details", page.Body, "<strong>arrêté</strong>", i18n.T(i18n.FR, "paused")+" à 14:02:11 UTC, 41 % envoyés (2")
	// Parts joined by "; " read back one by one.
	search := campaigns.ChannelMove{Detail: "page in the sitemap; ads export #7"}
	if got := search.Say().Text(i18n.FR); got != "page dans le sitemap ; export d'annonces n° 7" {
		t.Errorf("search move detail in French: %q", got)
	}
}
