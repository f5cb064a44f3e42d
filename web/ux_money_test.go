package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/display"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/mailer/mailertest"
)

// promotedPage publishes a landing page in lang showing two products under
// a published 15 EUR off promotion active now, and returns its campaign on
// the e-mail channel with a saved message that shows the products.
func (a *testApp) promotedPage(t *testing.T, lang string) *campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	csv := "sku,title,price,brand,link\nM-1,Chaise,120.00,Nordik,https://shop.example/m1\nM-2,Table,80.00,Nordik,https://shop.example/m2\n"
	if _, err := a.Catalog.Import(ctx, strings.NewReader(csv), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	pr, err := a.Landing.Promotions.Create(ctx, landing.PromotionInput{Name: "Nordik", Kind: landing.AmountOff, Value: "15", Scope: landing.ScopeBrand,
		ScopeValue: "Nordik", StartsAt: time.Now().Add(-24 * time.Hour).Format("2006-01-02T15:04"), EndsAt: future(30)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Landing.Promotions.Publish(ctx, pr.ID); err != nil {
		t.Fatal(err)
	}
	p, err := a.Landing.Pages.Create(ctx, landing.PageInput{Slug: "offre-" + lang, Title: "Offre", ProductSKUs: "M-1, M-2", Lang: lang})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Landing.Pages.Publish(ctx, p.ID, "test"); err != nil {
		t.Fatal(err)
	}
	camp, err := a.Campaigns.Create(ctx, campaigns.Input{Name: "Offre " + lang, Channels: []string{"email"}, StartsAt: time.Now().Add(-time.Hour).Format(time.RFC3339),
		EndsAt: time.Now().Add(48 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"email": 100}, LandingPageID: &p.ID,
		Forecast: map[string]map[string]float64{"email": {"audience": 3, "open_rate": 0.3, "click_rate": 0.1}}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	msg := `{"from": "news@shop.example", "subject": "Offre", "body": "Bonjour\n\n{{.products}}"}`
	if r := a.api("PUT", fmt.Sprintf("/api/v1/campaigns/%d/email", camp.ID), accounts.Marketer, msg); r.Status != 200 {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	return camp
}

// The e-mail's product block writes the discount as it writes the prices
// beside it, in the language of the campaign's page: "-15,00 €" next to
// "105,00 €" in French, "-€15.00" next to "€105.00" in English — never
// "-15.00 EUR".
func TestEmailDiscountBadgeSpeaksThePricesLanguage(t *testing.T) {
	srv := mailertest.Start(t)
	var sender *email.Sender
	a := newTestApp(t, withEmail(t, srv, &sender))
	b := a.browser(accounts.Marketer)
	for lang, want := range map[string][]string{
		"fr": {"105,00\u00a0€", "-15,00\u00a0€"},
		"en": {"€105.00", "-€15.00"},
	} {
		camp := a.promotedPage(t, lang)
		for _, part := range []string{"", "&part=text"} {
			pv := b.get(fmt.Sprintf("/campaigns/%d/email/preview?sample=0%s", camp.ID, part))
			if pv.Status != 200 {
				t.Fatalf("%s preview: %d %s", lang, pv.Status, pv.Body)
			}
			wantAll(t, lang+" preview"+part, pv.Body, want...)
			if strings.Contains(pv.Body, "15.00 EUR") {
				t.Errorf("%s preview%s writes the discount as a code: %s", lang, part, pv.Body)
			}
		}
	}
}

// The promotions list and a promotion's page write its offer as the
// reader writes money, and its scope in words: "-15,00 € sur type de
// produit Maison" in French, "-€15.00 on product type Maison" in English.
func TestPromotionOfferAndScopeInTheReadersLanguage(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	pr, err := a.Landing.Promotions.Create(ctx, landing.PromotionInput{Name: "Maison", Kind: landing.AmountOff, Value: "15", Scope: landing.ScopeType,
		ScopeValue: "Maison", StartsAt: future(1), EndsAt: future(30)})
	if err != nil {
		t.Fatal(err)
	}
	fr, en := a.frenchBrowser(accounts.Viewer), a.browser(accounts.Viewer)
	wantAll(t, "French list", fr.get("/promotions").Body, "-15,00\u00a0€", "type de produit Maison")
	wantAll(t, "English list", en.get("/promotions").Body, "-€15.00", "product type Maison")
	wantAll(t, "French page", fr.get(fmt.Sprintf("/promotions/%d", pr.ID)).Body, "-15,00\u00a0€ sur type de produit Maison")
	wantAll(t, "English page", en.get(fmt.Sprintf("/promotions/%d", pr.ID)).Body, "-€15.00 on product type Maison")
	for _, path := range []string{"/promotions", fmt.Sprintf("/promotions/%d", pr.ID)} {
		for _, b := range []*browser{fr, en} {
			if body := b.get(path).Body; strings.Contains(body, "15.00 EUR") || strings.Contains(body, "product_type") {
				t.Errorf("%s (%s) writes a code: %s", path, b.acceptLanguage, body)
			}
		}
	}
}

// The partners page writes a commission and the rules per product type as
// the reader writes money and rates: "4,50 €" and "Mode : 7,5 %" in
// French, "€4.50" and "Mode: 7.5 %" in English; never "4.50 EUR" or
// "Mode=7.50%".
func TestPartnerCommissionsInTheReadersLanguage(t *testing.T) {
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	if r := a.api("POST", "/api/v1/partners", accounts.Marketer, `{"name":"Cashback","email":"cb@cb.example","commission":"4.50","overrides":"Mode=7.5%; Maison > Salon=2"}`); r.Status != 201 {
		t.Fatalf("partner: %d %s", r.Status, r.Body)
	}
	fr, en := a.frenchBrowser(accounts.Viewer).get("/partners").Body, a.browser(accounts.Viewer).get("/partners").Body
	wantAll(t, "French partners", fr, "4,50\u00a0€", "Maison &gt; Salon : 2,00\u00a0€ ; Mode : 7,5\u00a0%")
	wantAll(t, "English partners", en, "€4.50", "Maison &gt; Salon: €2.00; Mode: 7.5\u00a0%")
	for _, page := range []string{fr, en} {
		if strings.Contains(page, "4.50 EUR") || strings.Contains(page, "Mode=7.50%") {
			t.Errorf("the partners page writes codes: %s", page)
		}
	}
}

// zeroPricedFeed imports a product priced 0 and generates a Google feed
// that leaves it out; it returns the feed's page.
func (a *testApp) zeroPricedFeed(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	csv := "sku,title,price,brand,link,image_link,description\nZ-1,Chaise,0.00,Nordik,https://shop.example/z1,https://cdn.example/z1.jpg,Une chaise\n" +
		"Z-2,Table,80.00,Nordik,https://shop.example/z2,https://cdn.example/z2.jpg,Une table\n"
	if _, err := a.Catalog.Import(ctx, strings.NewReader(csv), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	f := &feeds.Feed{Name: "google-fr", Format: feeds.GoogleXML, TitleTemplate: "{title}"}
	if err := a.Feeds.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Feeds.Generate(ctx, f.ID, "test", nil); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("/feeds/%d", f.ID)
}

// A feed's problems show a price as the reader writes money — "0,00 €",
// "€0.00" — on the feed's page and the product's, not the feed's "0.00 EUR".
func TestFeedProblemPriceInTheReadersLanguage(t *testing.T) {
	a := newTestApp(t)
	feed := a.zeroPricedFeed(t)
	fr, en := a.frenchBrowser(accounts.Viewer), a.browser(accounts.Viewer)
	for _, path := range []string{feed, "/products/Z-1"} {
		frPage, enPage := fr.get(path).Body, en.get(path).Body
		wantAll(t, "French "+path, frPage, "price.positive", "0,00\u00a0€")
		wantAll(t, "English "+path, enPage, "price.positive", "€0.00")
		if strings.Contains(frPage, "0.00 EUR") || strings.Contains(enPage, "0.00 EUR") {
			t.Errorf("%s writes the feed's price syntax", path)
		}
	}
}

// A display creative's weight is written as the reader writes numbers and
// sizes: "Ko" with a decimal comma in French (as the readiness check
// writes it), "KB" with a point in English.
func TestCreativeWeightInTheReadersLanguage(t *testing.T) {
	a := newTestApp(t)
	c := a.displayCampaign(t)
	path := fmt.Sprintf("/campaigns/%d/display", c.ID)
	png := display.Banner(display.Size{W: 300, H: 250}, sale, plain, "-50 %")
	if res := uploadCreative(t, a.browser(accounts.Marketer), path+"/creatives", "sale.png", png, map[string]string{"alt": "Soldes"}); res.Status != 303 {
		t.Fatalf("upload: %d %s", res.Status, res.Body)
	}
	kb := float64(len(png)) / 1024
	frKB, enKB := strings.Replace(fmt.Sprintf("%.1f Ko", kb), ".", ",", 1), fmt.Sprintf("%.1f KB", kb)
	fr, en := a.frenchBrowser(accounts.Viewer).get(path).Body, a.browser(accounts.Viewer).get(path).Body
	wantAll(t, "French display tab", fr, "300×250 · "+frKB)
	wantAll(t, "English display tab", en, "300×250 · "+enKB)
}

// A window that ends before it starts is refused, in the campaign and the
// promotion forms, naming the start as the reader writes dates ("dim. 20
// déc. 2026, 10:00 CET" in French); a scope without its value names what
// is missing in the reader's words ("indiquez la marque").
func TestWindowAndScopeErrorsInTheReadersLanguage(t *testing.T) {
	a := newTestApp(t)
	for _, tc := range []struct {
		b                     *browser
		start, brand, product string
	}{
		{a.frenchBrowser(accounts.Marketer), "doit être après le début (dim. 20 déc. 2026, 10:00 CET)", "indiquez la marque", "indiquez le type de produit"},
		{a.browser(accounts.Marketer), "must be after the start (Sun 20 Dec 2026, 10:00 CET)", "name the brand", "name the product type"},
	} {
		tc.b.get("/campaigns/new")
		camp := formValues("Soldes")
		camp.Set("starts_at", "2026-12-20T10:00")
		camp.Set("ends_at", "2026-12-19T10:00")
		res := tc.b.post("/campaigns", camp)
		wantAll(t, tc.b.acceptLanguage+" campaign form", res.Body, tc.start)
		tc.b.get("/promotions/new")
		for scope, want := range map[string]string{"brand": tc.brand, "product_type": tc.product} {
			res = tc.b.post("/promotions", url.Values{"name": {"Soldes"}, "kind": {"percent"}, "value": {"10"}, "scope": {scope},
				"starts_at": {"2026-12-20T10:00"}, "ends_at": {"2026-12-19T10:00"}, "time_zone": {"Europe/Paris"}})
			wantAll(t, tc.b.acceptLanguage+" promotion form", res.Body, tc.start, want)
		}
	}
}

// The hints of French pages write decimals with a comma, as French users
// type them and Rampe reads them: the partner commission errors ("5,00",
// "7,5 %") and the SEA keyword help ("@ 0,80"); English keeps the point.
func TestDecimalHintsInTheReadersLanguage(t *testing.T) {
	for _, tc := range []struct {
		french bool
		wants  []string
	}{
		{true, []string{"un montant par commande (&#34;5,00&#34;)", "supérieur à 0 (5,00)", "8 % ou 7,5 %", "Électronique=2,00", "@ 0,80"}},
		{false, []string{"an amount per order (&#34;5.00&#34;)", "above 0 (5.00)", "8 % or 7.5 %", "Électronique=2.00", "@ 0.80"}},
	} {
		var aff *affiliation.Service
		a := newTestApp(t, withAffiliation(&aff))
		b := a.browser(accounts.Marketer)
		if tc.french {
			b = a.frenchBrowser(accounts.Marketer)
		}
		b.get("/partners")
		var body strings.Builder
		for _, in := range []url.Values{
			{"name": {"A"}, "email": {"a@a.example"}, "commission": {""}},
			{"name": {"B"}, "email": {"b@b.example"}, "commission": {"abc"}, "overrides": {"Mode"}},
			{"name": {"C"}, "email": {"c@c.example"}, "commission": {"150 %"}},
		} {
			body.WriteString(b.post("/partners", in).Body)
		}
		body.WriteString(b.get(fmt.Sprintf("/campaigns/%d/search", a.searchCampaign(t, a.seedPage(t).ID).ID)).Body)
		wantAll(t, b.acceptLanguage+" hints", body.String(), tc.wants...)
	}
}

// Scheduling a campaign whose gates fail says how many, agreeing in
// number ("1 contrôle échoue", "2 contrôles échouent"; "1 gate fails"), in
// a warning banner, not the green one of a success.
func TestScheduledWithFailingGatesIsAWarning(t *testing.T) {
	a := newTestApp(t)
	for _, tc := range []struct {
		french      bool
		lang, want  string
		two, twoArg string
	}{
		{true, i18n.FR, "Programmée, mais 1 contrôle échoue maintenant : ", "Programmée, mais 2 contrôles échouent maintenant : a, b. ", "s'ils échouent encore."},
		{false, i18n.EN, "Scheduled, but 1 gate fails now: ", "Scheduled, but 2 gates fail now: a, b. ", "if they still fail."},
	} {
		b := a.browser(accounts.Marketer)
		if tc.french {
			b = a.frenchBrowser(accounts.Marketer)
		}
		b.get("/campaigns/new")
		loc := b.post("/campaigns", formValues("Sans page")).Header.Get("Location")
		b.post(loc+"/schedule", url.Values{})
		page := b.get(loc).Body
		wantAll(t, b.acceptLanguage+" scheduled", page, `<div class="flash warn" role="status">`+tc.want)
		if strings.Contains(page, "(s)") || strings.Contains(page, `class="flash ok"`) {
			t.Errorf("%s: a shortcut plural or a success banner: %s", b.acceptLanguage, page)
		}
		wantAll(t, tc.lang+" for two gates", i18n.T(tc.lang, msgScheduledWarn, 2, "a, b"), tc.two, tc.twoArg)
	}
}

// A feed run's outcome writes each count with its own plural, in the same
// words as the run's status line ("1 écarté" both times, never "exclu(s)"
// beside "écartés").
func TestFeedRunOutcomeAgreesWithEachCount(t *testing.T) {
	a := newTestApp(t)
	feed := a.zeroPricedFeed(t)
	fr, en := a.frenchBrowser(accounts.Viewer).get(feed).Body, a.browser(accounts.Viewer).get(feed).Body
	wantAll(t, "French feed", fr, "1 article écrit, 1 écarté, 2 avertissements", "· 1 écarté ·")
	wantAll(t, "English feed", en, "1 item written, 1 left out, 2 warnings", "· 1 left out ·")
	if strings.Contains(fr, "(s)") || strings.Contains(fr, "exclu") {
		t.Errorf("the French feed page writes a shortcut plural or another word: %s", fr)
	}
}

// The e-mail audience gate counts who is left out by status, each word
// agreeing with its count: "1 rejeté, 1 en attente, 2 désinscrits" in
// French, not "2 désinscrit".
func TestAudienceLeftOutAgreesWithEachCount(t *testing.T) {
	srv := mailertest.Start(t)
	var sender *email.Sender
	a := newTestApp(t, withEmail(t, srv, &sender))
	(&email.Channel{Sender: sender}).RegisterGates(a.Campaigns.Gates)
	ctx := context.Background()
	no := false
	list, err := a.Audience.CreateList(ctx, audience.ListInput{Name: "Newsletter", DoubleOptIn: &no})
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range []string{"opted_in", "bounced", "unsubscribed", "unsubscribed", "pending"} {
		c, err := a.Audience.Create(ctx, audience.Input{Email: fmt.Sprintf("c%d@example.org", i), Status: st}, audience.Actor{Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Audience.AddMember(ctx, list.ID, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	camp := a.promotedPage(t, "fr")
	msg := fmt.Sprintf(`{"from": "news@shop.example", "subject": "Offre", "list_id": %d, "body": "Bonjour\n\n{{.products}}"}`, list.ID)
	if r := a.api("PUT", fmt.Sprintf("/api/v1/campaigns/%d/email", camp.ID), accounts.Marketer, msg); r.Status != 200 {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	path := fmt.Sprintf("/campaigns/%d", camp.ID)
	fr := a.frenchBrowser(accounts.Marketer)
	fr.get(path)
	fr.post(path+"/readiness", url.Values{})
	wantAll(t, "French checklist", fr.get(path).Body, "1 destinataire joignable ; exclus : 1 rejeté, 1 en attente, 2 désinscrits")
	wantAll(t, "English checklist", a.browser(accounts.Marketer).get(path).Body, "1 mailable recipient; left out: 1 bounced, 1 pending, 2 unsubscribed")
}

// The date columns of the lists name the zone their cells are written in
// (the deployment's, Europe/Paris here), not "UTC" above times in CET.
func TestDateColumnsNameTheZoneOfTheirCells(t *testing.T) {
	var box *email.Outbox
	a := newTestApp(t, func(d *Deps) {
		box = &email.Outbox{DB: d.DB}
		d.Outbox = box
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := box.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cfg, _ := mailer.ParseURL(fmt.Sprintf("smtp://127.0.0.1:%d?tls=none", box.Port()))
	cfg.From = "rampe@shop.example"
	if err := mailer.New(cfg).Send(ctx, mailer.Message{To: "ana@shop.example", Subject: "Hello", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	a.seedPage(t)
	a.zeroPricedFeed(t)
	no := false
	if _, err := a.Audience.CreateList(ctx, audience.ListInput{Name: "Newsletter", DoubleOptIn: &no}); err != nil {
		t.Fatal(err)
	}
	contact, err := a.Audience.Create(ctx, audience.Input{Email: "ann@example.org", Name: "Ann"}, audience.Actor{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Audience.Suppress(ctx, "bob@example.org", "bounced", "test", ""); err != nil {
		t.Fatal(err)
	}
	rows := "email;name\ncleo@example.org;Cléo\n"
	run, err := a.Audience.StartImport(ctx, "c.csv", "csv", int64(len(rows)), audience.ImportOptions{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	a.Audience.RunImport(ctx, run, strings.NewReader(rows), audience.ImportOptions{Format: "csv"})
	pages := map[string][2]string{
		"/pages":                                {"Mis à jour (Europe/Paris)", "Updated (Europe/Paris)"},
		"/feeds":                                {"Dernière génération (Europe/Paris)", "Last generated (Europe/Paris)"},
		"/contacts":                             {"Mis à jour (Europe/Paris)", "Updated (Europe/Paris)"},
		"/lists":                                {"Créée (Europe/Paris)", "Created (Europe/Paris)"},
		"/suppressions":                         {"Depuis (Europe/Paris)", "Since (Europe/Paris)"},
		"/outbox":                               {"Reçu (Europe/Paris)", "Received (Europe/Paris)"},
		"/settings/notifications":               {"En file (Europe/Paris)", "Queued (Europe/Paris)"},
		"/contacts/import":                      {"Quand (Europe/Paris)", "When (Europe/Paris)"},
		fmt.Sprintf("/contacts/%d", contact.ID): {"Quand (Europe/Paris)", "When (Europe/Paris)"},
	}
	fr, en := a.frenchBrowser(accounts.Admin), a.browser(accounts.Admin)
	for path, want := range pages {
		for i, b := range []*browser{fr, en} {
			page := b.get(path)
			wantAll(t, path+" "+b.acceptLanguage, page.Body, want[i])
			if strings.Contains(page.Body, "(UTC)") {
				t.Errorf("%s (%s) still heads a column with UTC", path, b.acceptLanguage)
			}
		}
	}
}

// The Affiliation tab names a partner's links in words, the landing
// page's and a product's, not by their stored labels ("landing").
func TestAffiliationLinksNamedInTheReadersLanguage(t *testing.T) {
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	ctx := context.Background()
	c, err := a.Campaigns.Create(ctx, campaigns.Input{Name: "Noël", Channels: []string{"affiliation"}, TimeZone: "Europe/Paris", StartsAt: future(3), EndsAt: future(10),
		Currency: "EUR", Budgets: map[string]int64{"affiliation": 1000}, Forecast: map[string]map[string]float64{"affiliation": {"impressions": 1000, "ctr": 0.01}}}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	p := a.api("POST", "/api/v1/partners", accounts.Marketer, `{"name":"Ma Reduc","email":"team@mareduc.example","commission":"10 %"}`).json(t)
	res := a.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/affiliation/partners", c.ID), accounts.Marketer, fmt.Sprintf(`{"partner_id":%d}`, int(p["id"].(float64))))
	if res.Status != 200 {
		t.Fatalf("add partner: %d %s", res.Status, res.Body)
	}
	path := fmt.Sprintf("/campaigns/%d/affiliation", c.ID)
	wantAll(t, "French tab", a.frenchBrowser(accounts.Viewer).get(path).Body, "<strong>page d&#39;atterrissage</strong>")
	wantAll(t, "English tab", a.browser(accounts.Viewer).get(path).Body, "<strong>landing page</strong>")
}
