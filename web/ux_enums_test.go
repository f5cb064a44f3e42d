package web

import (
	"context"
	"fmt"
	"html/template"
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
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/mailer/mailertest"
)

// langs are the two languages each page is read in: the browser's
// Accept-Language, and what the page must and must not say.
var langs = []struct{ name, accept string }{{"en", "en-US,en;q=0.9"}, {"fr", "fr-FR,fr;q=0.9"}}

// emailCampaign makes a campaign on the e-mail channel, its window from an
// hour ago to two days ahead.
func (a *testApp) emailCampaign(t *testing.T) *campaigns.Campaign {
	t.Helper()
	page := a.seedPage(t)
	camp, err := a.Campaigns.Create(context.Background(), campaigns.Input{Name: "Soldes d'hiver", Channels: []string{"email"}, StartsAt: time.Now().Add(-time.Hour).Format(time.RFC3339),
		EndsAt: time.Now().Add(48 * time.Hour).Format(time.RFC3339), Budgets: map[string]int64{"email": 100}, LandingPageID: &page.ID,
		Forecast: map[string]map[string]float64{"email": {"audience": 3, "open_rate": 0.3, "click_rate": 0.1}}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return camp
}

// A refused message names every wrong field by its label, shows each
// error beside its field, keeps what was typed, and says in the reader's
// language which line of the body is wrong and how.
func TestEmailFormErrorsAreLabelledAndKept(t *testing.T) {
	srv := mailertest.Start(t)
	var sender *email.Sender
	a := newTestApp(t, withEmail(t, srv, &sender))
	camp := a.emailCampaign(t)
	b := a.browser(accounts.Marketer)
	want := map[string][]string{
		"en": {"Nothing was saved: From address: &#34;pas-une-adresse&#34; is not an e-mail address; Subject: required; Body: line 1: unclosed {{ … }}: {{.first_name}",
			`<p class="err">required</p>`},
		"fr": {"Rien n&#39;a été enregistré : Adresse d&#39;expéditeur : &#34;pas-une-adresse&#34; n&#39;est pas une adresse e-mail ; Objet : obligatoire ; Corps : ligne 1 : {{ … }} non fermé : {{.first_name}",
			`<p class="err">obligatoire</p>`},
	}
	for _, l := range langs {
		b.acceptLanguage = l.accept
		b.get(fmt.Sprintf("/campaigns/%d/email", camp.ID))
		r := b.post(fmt.Sprintf("/campaigns/%d/email", camp.ID), url.Values{"from": {"pas-une-adresse"}, "subject": {""},
			"body": {"Bonjour {{.first_name}, nos soldes commencent !"}, "format": {"markdown"}})
		if r.Status != 422 {
			t.Fatalf("%s: %d", l.name, r.Status)
		}
		r.says(t, l.name, append(want[l.name], `name="from" type="email" value="pas-une-adresse"`), "from:", "subject:", "bad character", "U+007D")
	}
}

// A refused send names its fields by their labels, beside each field, in
// the reader's language.
func TestSendFormErrorsAreLabelled(t *testing.T) {
	srv := mailertest.Start(t)
	var sender *email.Sender
	a := newTestApp(t, withEmail(t, srv, &sender))
	camp := a.emailCampaign(t)
	b := a.browser(accounts.Marketer)
	want := map[string][]string{
		"en": {"Send not added: Local hour: &#34;9h&#34;: want HH:MM, 00:00 to 23:59; When: must fall inside the campaign&#39;s window"},
		"fr": {"Envoi non ajouté : Heure locale : &#34;9h&#34; : attendu HH:MM, de 00:00 à 23:59 ; Quand : doit tomber dans la période de la campagne"},
	}
	for _, l := range langs {
		b.acceptLanguage = l.accept
		b.get(fmt.Sprintf("/campaigns/%d/email", camp.ID))
		r := b.post(fmt.Sprintf("/campaigns/%d/sends", camp.ID), url.Values{"label": {"Relance"}, "at": {"2020-12-01T10:00"}, "local_time": {"9h"}})
		if r.Status != 422 {
			t.Fatalf("%s: %d", l.name, r.Status)
		}
		for _, w := range want[l.name] {
			if !strings.Contains(r.Body, w) {
				t.Errorf("%s: want %q in\n%s", l.name, w, r.Body)
			}
		}
		if strings.Contains(r.Body, "local_time:") || strings.Contains(r.Body, "at: ") || strings.Count(r.Body, `<p class="err">`) != 2 {
			t.Errorf("%s: field keys, or not one error beside each field", l.name)
		}
	}
}

// A refused ad group names its fields by their labels in the banner and
// beside each field, in the reader's language: no field key, no English.
func TestAdGroupErrorsAreLabelled(t *testing.T) {
	a := newTestApp(t)
	p := a.seedPage(t)
	c := a.searchCampaign(t, p.ID)
	b := a.browser(accounts.Marketer)
	want := map[string][]string{
		"en": {"Nothing was saved: Max CPC: &#34;beaucoup&#34; is not an amount above 0 in EUR; Keywords, line 1: &#34;[cadeau noël&#34; holds a character",
			`<p class="err">&#34;beaucoup&#34; is not an amount above 0 in EUR</p>`, "Keywords, line 2: &#34;abc&#34; is not a max CPC in EUR"},
		"fr": {"Rien n&#39;a été enregistré : CPC max : &#34;beaucoup&#34; n&#39;est pas un montant supérieur à 0 en EUR ; Mots-clés, ligne 1 : &#34;[cadeau noël&#34; contient un caractère",
			`<p class="err">&#34;beaucoup&#34; n&#39;est pas un montant supérieur à 0 en EUR</p>`, "Mots-clés, ligne 2 : &#34;abc&#34; n&#39;est pas un CPC max en EUR"},
	}
	for _, l := range langs {
		b.acceptLanguage = l.accept
		b.get(fmt.Sprintf("/campaigns/%d/search", c.ID))
		r := b.post(fmt.Sprintf("/campaigns/%d/adgroups", c.ID), url.Values{"name": {"Noël"}, "max_cpc": {"beaucoup"}, "keywords": {"[cadeau noël\n\"idée cadeau\" @ abc\n"}})
		if r.Status != 422 {
			t.Fatalf("%s: %d", l.name, r.Status)
		}
		r.says(t, l.name, want[l.name], "invalid input", "max_cpc:", "keywords line")
	}
}

// The display tab names a refused file by its field's label, and says
// what it saved, in the reader's language.
func TestDisplayTabSpeaksTheReadersLanguage(t *testing.T) {
	a := newTestApp(t)
	c := a.displayCampaign(t)
	b := a.browser(accounts.Marketer)
	path := fmt.Sprintf("/campaigns/%d/display", c.ID)
	bad := display.Banner(display.Size{W: 123, H: 45}, sale, plain, "x")
	good := display.Banner(display.Size{W: 300, H: 250}, sale, plain, "-50 %")
	want := map[string][]string{
		"en": {"Nothing was saved: Image: the image is 123×45 px", `<p class="err">the image is 123×45 px`, "Creative added.", "Placements and frequency cap saved.", "<title>Display — "},
		"fr": {"Rien n&#39;a été enregistré : Image : l&#39;image fait 123×45 px", `<p class="err">l&#39;image fait 123×45 px`, "Création ajoutée.", "Emplacements et plafond de répétition enregistrés.", "<title>Display — "},
	}
	for _, l := range langs {
		b.acceptLanguage = l.accept
		b.get(path)
		r := uploadCreative(t, b, path+"/creatives", "bad.png", bad, map[string]string{"alt": "Soldes"})
		if r.Status != 422 || strings.Contains(r.Body, "file:") {
			t.Errorf("%s: %d, or the field's key shown", l.name, r.Status)
		}
		page := r.Body
		if r := uploadCreative(t, b, path+"/creatives", "good.png", good, map[string]string{"alt": "Soldes"}); r.Status != 303 {
			t.Fatalf("%s: good upload %d", l.name, r.Status)
		}
		page += b.get(path).Body
		if r := b.post(path, url.Values{"freq_cap": {"3"}}); r.Status != 303 {
			t.Fatalf("%s: settings %d %s", l.name, r.Status, r.Body)
		}
		page += b.get(path).Body
		for _, w := range want[l.name] {
			if !strings.Contains(page, w) {
				t.Errorf("%s: want %q", l.name, w)
			}
		}
	}
}

// An affiliate code with no promotion chosen says plainly that a code
// needs one of the campaign's promotions, beside the promotion, the code
// kept; a campaign without promotion says so beside the code field, with
// the way to link one.
func TestAffiliateCodeNeedsAPromotion(t *testing.T) {
	ctx := context.Background()
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	pr, err := a.Landing.Promotions.Create(ctx, landing.PromotionInput{Name: "Noël -10 %", Kind: "percent", Value: "10", Scope: "all", StartsAt: future(1), EndsAt: future(40)})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, promos []uint64) uint64 {
		c, err := a.Campaigns.Create(ctx, campaigns.Input{Name: name, Channels: []string{"affiliation"}, TimeZone: "Europe/Paris", StartsAt: future(3), EndsAt: future(10),
			Currency: "EUR", Budgets: map[string]int64{"affiliation": 1000}, Forecast: map[string]map[string]float64{"affiliation": {"impressions": 1000, "ctr": 0.01}},
			PromotionIDs: promos}, "ana")
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	with, without := mk("Noël", []uint64{pr.ID}), mk("Sans promo", nil)
	p, err := aff.CreatePartner(ctx, affiliation.PartnerInput{Name: "Ma Reduc", Email: "team@mareduc.example", Commission: "8 %"})
	if err != nil {
		t.Fatal(err)
	}
	b := a.browser(accounts.Marketer)
	want := map[string][]string{
		"en": {"Nothing was saved: Promotion: choose the promotion the code is for: a code needs one of the campaign&#39;s promotions",
			`<p class="err">choose the promotion the code is for`},
		"fr": {"Rien n&#39;a été enregistré : Promotion : choisissez la promotion du code : un code a besoin de l&#39;une des promotions de la campagne",
			`<p class="err">choisissez la promotion du code`},
	}
	hint := map[string]string{"en": "this campaign has none: link one on <a href=\"/campaigns/%d/edit\">the campaign&#39;s edit page</a>",
		"fr": "cette campagne n&#39;en a aucune : liez-en une dans <a href=\"/campaigns/%d/edit\">la page de modification de la campagne</a>"}
	for _, l := range langs {
		b.acceptLanguage = l.accept
		tab := fmt.Sprintf("/campaigns/%d/affiliation", with)
		b.get(tab)
		r := b.post(tab+"/partners", url.Values{"partner_id": {fmt.Sprint(p.ID)}, "code": {"SNEAK10"}, "promotion_id": {"0"}})
		if r.Status != 422 {
			t.Fatalf("%s: %d", l.name, r.Status)
		}
		r.says(t, l.name, append(want[l.name], `name="code" size="14" value="SNEAK10"`), "promotion_id:", "#0", "n° 0")
		if r := b.get(fmt.Sprintf("/campaigns/%d/affiliation", without)); !strings.Contains(r.Body, fmt.Sprintf(hint[l.name], without)) {
			t.Errorf("%s: no hint beside the code of a campaign without promotion", l.name)
		}
	}
}

// Codes are kept in URLs and form values; the pages show their words, in
// English as in French.
func TestCodesShowAsWords(t *testing.T) {
	ctx := context.Background()
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	csv := "sku,title,price,link,availability,condition\nW-1,Chaise,120.00,https://shop.example/w1,in_stock,new\n"
	if _, err := a.Catalog.Import(ctx, strings.NewReader(csv), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := aff.CreatePartner(ctx, affiliation.PartnerInput{Name: "Ma Reduc", Network: "other", Email: "team@mareduc.example", Commission: "8 %"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Audience.CreateSegment(ctx, audience.SegmentInput{Name: "Fidèles", Filters: []audience.Filter{{Field: "loyalty", Op: "eq", Value: "gold"}}}); err != nil {
		t.Fatal(err)
	}
	b := a.browser(accounts.Admin)
	pages := []string{"/products", "/products/W-1", "/contacts", "/users", "/partners", "/segments"}
	want := map[string][]string{
		"en": {`<option value="in_stock" >in stock</option>`, `>in stock</span>`, "<dd>new</dd>", "(in stock)", `<option value="opted_in" >opted in</option>`, `<option value="marketer" >marketer</option>`,
			`<option value="viewer" >viewer</option>`, `<td>other</td>`, ">active</span>", "loyalty is gold", `<option value="neq" >is not</option>`},
		"fr": {`<option value="in_stock" >en stock</option>`, `>en stock</span>`, "<dd>neuf</dd>", "(en stock)", `<option value="opted_in" >abonné</option>`,
			`<option value="viewer" >lecteur</option>`, `<td>autre</td>`, ">actif</span>", "loyalty est égal à gold", `<option value="neq" >est différent de</option>`,
			`<option value="marketer" >marketeur</option>`, "/contacts?status=opted_in", "Rôle de admin@shop.example"},
	}
	for _, l := range langs {
		b.acceptLanguage = l.accept
		var all strings.Builder
		for _, p := range pages {
			r := b.get(p)
			if r.Status != 200 {
				t.Fatalf("%s %s: %d", l.name, p, r.Status)
			}
			all.WriteString(r.Body)
		}
		body := all.String()
		for _, w := range want[l.name] {
			if !strings.Contains(body, w) {
				t.Errorf("%s: want %q", l.name, w)
			}
		}
		for _, raw := range []string{">in_stock<", "(in_stock)", ">opted_in <", ">opted_in<", "loyalty eq gold", "all contacts"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s: a page shows the code %q", l.name, raw)
			}
		}
	}
}

// The campaign page writes what is left of the window in days and hours,
// the forecasts with the form's labels (rates as percentages, big numbers
// grouped), the measured values with labels, and gives the channels' gates
// titles, in English as in French.
func TestCampaignPageReadsAsWords(t *testing.T) {
	ctx := context.Background()
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	c, err := a.Campaigns.Create(ctx, campaigns.Input{Name: "Noël", Channels: []string{"affiliation"}, TimeZone: "Europe/Paris",
		StartsAt: time.Now().Add(-time.Hour).Format(time.RFC3339), EndsAt: time.Now().Add(49*time.Hour + 30*time.Minute).Format(time.RFC3339), Currency: "EUR",
		Budgets: map[string]int64{"affiliation": 1000}, Forecast: map[string]map[string]float64{"affiliation": {"impressions": 1500000, "ctr": 0.12}}}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	b := a.browser(accounts.Marketer)
	b.get(fmt.Sprintf("/campaigns/%d", c.ID))
	b.post(fmt.Sprintf("/campaigns/%d/check", c.ID), url.Values{})
	want := map[string][]string{
		"en": {"2 days 1 h left", "Impressions per day: 1,500,000", "Click-through rate: 12 %", "Active partners take part", "Partner codes are on published promotions",
			"Partners got their kit in time", "channels: 1"},
		"fr": {"reste 2 jours 1 h", "Impressions par jour : 1\u00a0500\u00a0000", "Taux de clic : 12 %", "Des partenaires actifs participent",
			"Les codes partenaires portent sur des promotions publiées", "Les partenaires ont reçu leur kit à temps", "canaux : 1"},
	}
	for _, l := range langs {
		b.acceptLanguage = l.accept
		r := b.get(fmt.Sprintf("/campaigns/%d", c.ID))
		escaped := make([]string, len(want[l.name]))
		for i, w := range want[l.name] {
			escaped[i] = strings.ReplaceAll(w, "'", "&#39;")
		}
		r.says(t, l.name, escaped, "impressions: ", "ctr: ", "1.5e+06", "channels=1", "h0m", "<b>affiliation.codes</b>")
	}
}

// The channels card says each send's state in the reader's language.
func TestChannelsCardSaysSendsInWords(t *testing.T) {
	srv := mailertest.Start(t)
	var sender *email.Sender
	a := newTestApp(t, withEmail(t, srv, &sender))
	camp := a.emailCampaign(t)
	if _, err := sender.AddSend(context.Background(), camp.ID, email.SendInput{Label: "Relance"}); err != nil {
		t.Fatal(err)
	}
	b := a.browser(accounts.Marketer)
	for lang, want := range map[string]string{"en-US": "Relance: planned, 0 % (0 of 0 sent)", "fr-FR": "Relance : prévu, 0 % (0 sur 0 envoyés)"} {
		b.acceptLanguage = lang
		if r := b.get(fmt.Sprintf("/campaigns/%d", camp.ID)); !strings.Contains(r.Body, want) {
			t.Errorf("%s: want %q", lang, want)
		}
	}
}

// The page editor's promotions show their status in words, the partners'
// import button says what it does, and a campaign duplicated from a French
// page is named in French.
func TestMoreWordsInTheReadersLanguage(t *testing.T) {
	ctx := context.Background()
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	if _, err := a.Landing.Promotions.Create(ctx, landing.PromotionInput{Name: "Noël -10 %", Kind: "percent", Value: "10", Scope: "all", StartsAt: future(1), EndsAt: future(40)}); err != nil {
		t.Fatal(err)
	}
	id := a.createCampaign(t, "Rentrée")
	b := a.browser(accounts.Marketer)
	want := map[string][]string{
		"en": {"Noël -10 % (draft)", ">Import the file</button>", `value="Copy of Rentrée"`},
		"fr": {"Noël -10 % (brouillon)", ">Importer le fichier</button>", `value="Copie de Rentrée"`},
	}
	for _, l := range langs {
		b.acceptLanguage = l.accept
		body := b.get("/pages/new").Body + b.get("/partners").Body
		r := b.post(fmt.Sprintf("/campaigns/%d/duplicate", id), url.Values{})
		if r.Status != 303 {
			t.Fatalf("%s: duplicate %d", l.name, r.Status)
		}
		body += b.get(r.Header.Get("Location")).Body
		for _, w := range want[l.name] {
			if !strings.Contains(body, strings.ReplaceAll(w, "'", "&#39;")) {
				t.Errorf("%s: want %q", l.name, w)
			}
		}
	}
}

// A send's time left reads as people write it ("1 h 30 min"), not as Go's
// "1h30m0s".
func TestDurationFuncWritesWords(t *testing.T) {
	for lang, want := range map[string]string{"en": "about 1 h 30 min left", "fr": "encore 1 h 30 min environ"} {
		tpl := template.Must(template.New("x").Funcs(funcs).Funcs(langFuncs(lang, time.UTC)).Parse(`{{t "about %s left" (duration .)}}`))
		var b strings.Builder
		if err := tpl.Execute(&b, 90*time.Minute+400*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("%s: %q, want %q", lang, b.String(), want)
		}
	}
}
