package search

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/validation"
)

func TestWidthCountsAsTheAdPlatforms(t *testing.T) {
	for s, want := range map[string]int{"Soldes": 6, "Été à Noël": 10, "夏のセール": 10, "ＡＢＣ": 6, "한국어": 6, "café ☕": 7, "": 0} {
		if got := Width(s); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
}

func ad(h, d []string) *Ad {
	return &Ad{Headlines: h, Descriptions: d, Path1: "soldes", Path2: "salon"}
}

func fields(errs validation.Errors) string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return strings.Join(out, ",")
}

// Limits hold with multi-byte text: 30 "é" (60 bytes) is a full
// headline, 31 is one too many; 15 CJK characters are 30, 16 too many.
func TestAdLimitsWithMultiByteText(t *testing.T) {
	h3 := []string{"Soldes d'hiver", "Salon à prix doux", "Livraison offerte"}
	d2 := []string{"Chaises, tables et lampes du salon à prix réduits.", "Retours gratuits sous 30 jours."}
	prices := Prices{"P1": "80.00 EUR"}
	cases := []struct {
		name string
		ad   *Ad
		want string
	}{
		{"fine", ad(h3, d2), ""},
		{"30 é", ad([]string{strings.Repeat("é", 30), "b", "c"}, d2), ""},
		{"31 é", ad([]string{strings.Repeat("é", 31), "b", "c"}, d2), "headline 1"},
		{"15 CJK", ad([]string{strings.Repeat("夏", 15), "b", "c"}, d2), ""},
		{"16 CJK", ad([]string{"a", strings.Repeat("夏", 16), "c"}, d2), "headline 2"},
		{"90 description", ad(h3, []string{strings.Repeat("ü", 90), "x"}), ""},
		{"91 description", ad(h3, []string{"x", strings.Repeat("ü", 91)}), "description 2"},
		{"2 headlines", ad(h3[:2], d2), "headlines"},
		{"16 headlines", ad(append(h3, strings.Split("a b c d e f g h i j k l m", " ")...), d2), "headlines"},
		{"1 description", ad(h3, d2[:1]), "descriptions"},
		{"5 descriptions", ad(h3, []string{"a", "b", "c", "d", "e"}), "descriptions"},
		{"typed price", ad([]string{"Chaise à 80 €", "b", "c"}, d2), "headline 1"},
		{"typed EUR", ad(h3, []string{"dès 19,99 EUR", "b"}), "description 1"},
		{"placeholder", ad([]string{"Chaise à {price:P1}", "b", "c"}, d2), ""},
		{"placeholder too long once filled", ad([]string{"Notre belle chaise Oslo {price:P1}", "b", "c"}, d2), "headline 1"},
		{"unknown SKU", ad([]string{"Table à {price:P9}", "b", "c"}, d2), "headline 1"},
		{"empty headline", ad([]string{" ", "b", "c"}, d2), "headline 1"},
	}
	for _, tc := range cases {
		if got := fields(CheckAd(tc.ad, prices)); got != tc.want {
			t.Errorf("%s: %q, want %q (%v)", tc.name, got, tc.want, CheckAd(tc.ad, prices))
		}
	}
	a := ad(h3, d2)
	a.Path1, a.Path2 = "soldes/hiver", strings.Repeat("é", 16)
	if got := fields(CheckAd(a, prices)); got != "path 1,path 2" {
		t.Errorf("paths: %q", got)
	}
	a.Path1, a.Path2 = "", "salon"
	if got := fields(CheckAd(a, prices)); got != "path 2" {
		t.Errorf("path 2 alone: %q", got)
	}
	msg := CheckAd(ad([]string{strings.Repeat("é", 31), "b", "c"}, d2), prices)[0].Msg
	if !strings.Contains(msg, "31 characters") || !strings.Contains(msg, "limit is 30") {
		t.Errorf("message %q", msg)
	}
}

func TestParseKeywords(t *testing.T) {
	kws, err := ParseKeywords("[chaise oslo]\n\"chaise   scandinave\" @ 0,85\n\nsoldes salon @ 1.20\n", "EUR")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(kws) != "[{chaise oslo exact 0} {chaise scandinave phrase 85} {soldes salon broad 120}]" {
		t.Fatalf("%v", kws)
	}
	for i, k := range kws {
		back, _ := ParseKeywords(KeywordLine(k, "EUR"), "EUR")
		if len(back) != 1 || back[0] != kws[i] {
			t.Errorf("%v → %q → %v", k, KeywordLine(k, "EUR"), back)
		}
	}
	_, err = ParseKeywords("ok\n[]\nchaise @ abc\n"+strings.Repeat("mot ", 11)+"\n"+strings.Repeat("夏", 41)+"\nok\n<script>", "EUR")
	var ve validation.Errors
	if !errors.As(err, &ve) || fields(ve) != "keywords line 2,keywords line 3,keywords line 4,keywords line 5,keywords line 6,keywords line 7" {
		t.Fatalf("%v", err)
	}
}

func adGroup(t *testing.T, e *env, c *campaigns.Campaign) *AdGroup {
	t.Helper()
	ctx := context.Background()
	g, err := e.ch.SaveAdGroup(ctx, c.ID, "EUR", 0, AdGroupInput{Name: "Chaises", MaxCPC: "0.60", Keywords: "[chaise oslo]\n\"chaise scandinave\" @ 0.85\nsoldes salon"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ch.SaveAd(ctx, c.ID, g.ID, 0, AdInput{Headlines: "La chaise Oslo {price:P1}\nSoldes d'hiver\nLivraison offerte",
		Descriptions: "Été comme hiver, des prix doux.\nRetours gratuits sous 30 jours.", Path1: "soldes", Path2: "chaises"}, PricesOf(mustOffer(t, e, c))); err != nil {
		t.Fatal(err)
	}
	return g
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func col(rows [][]string, row int, name string) string {
	for i, h := range rows[0] {
		if h == name {
			return rows[row][i]
		}
	}
	return "<no column " + name + ">"
}

// Launch enables, halt pauses: each move writes a new pair of files the
// ad tools import, parsed back here with the exact headers they expect.
func TestExportsOnEveryMove(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.page(t, "soldes")
	c := e.campaign(t, p.ID)
	adGroup(t, e, c)
	if _, err := e.ch.Launch(ctx, c); err != nil {
		t.Fatal(err)
	}
	list, _ := e.ch.Exports(ctx, c.ID)
	if len(list) != 1 || list[0].Status != "enabled" {
		t.Fatalf("%+v", list)
	}
	ex, _ := e.ch.GetExport(ctx, c.ID, list[0].ID)
	g := readCSV(t, ex.Google)
	wantG := "Campaign,Campaign Type,Campaign Status,Budget,Budget type,Start Date,End Date,Ad Group,Max CPC,Keyword,Criterion Type,Ad type,Final URL," +
		"Headline 1,Headline 2,Headline 3,Headline 4,Headline 5,Headline 6,Headline 7,Headline 8,Headline 9,Headline 10,Headline 11,Headline 12,Headline 13,Headline 14,Headline 15," +
		"Description 1,Description 2,Description 3,Description 4,Path 1,Path 2"
	if strings.Join(g[0], ",") != wantG || len(g) != 1+1+1+3+1 {
		t.Fatalf("google:\n%s", ex.Google)
	}
	name := fmt.Sprintf("Soldes (Rampe #%d)", c.ID)
	// 400.00 EUR over 4 started days (27 Nov 08:00 to 30 Nov 23:59).
	if col(g, 1, "Campaign") != name || col(g, 1, "Campaign Status") != "Enabled" || col(g, 1, "Budget") != "100.00" || col(g, 1, "Budget type") != "Daily" ||
		col(g, 1, "Start Date") != "2026-11-27" || col(g, 1, "End Date") != "2026-11-30" || col(g, 1, "Campaign Type") != "Search" {
		t.Fatalf("campaign row %v", g[1])
	}
	if col(g, 2, "Ad Group") != "Chaises" || col(g, 2, "Max CPC") != "0.60" {
		t.Fatalf("ad group row %v", g[2])
	}
	if col(g, 3, "Keyword") != "chaise oslo" || col(g, 3, "Criterion Type") != "Exact" || col(g, 4, "Criterion Type") != "Phrase" || col(g, 4, "Max CPC") != "0.85" || col(g, 5, "Criterion Type") != "Broad" {
		t.Fatalf("keyword rows %v", g[3:6])
	}
	final := col(g, 6, "Final URL")
	if col(g, 6, "Ad type") != "Responsive search ad" || col(g, 6, "Headline 1") != "La chaise Oslo 100,00\u00a0€" /* the French page writes its prices so */ ||
		col(g, 6, "Description 1") != "Été comme hiver, des prix doux." || col(g, 6, "Path 2") != "chaises" || col(g, 6, "Headline 4") != "" ||
		final != fmt.Sprintf("http://127.0.0.1/l/soldes?utm_campaign=rampe-%d&utm_medium=cpc&utm_source=google&gclid={gclid}", c.ID) {
		t.Fatalf("ad row %q", g[6])
	}
	m := readCSV(t, ex.Microsoft)
	wantM := "Type,Status,Id,Parent Id,Campaign,Ad Group,Client Id,Modified Time,Name,Budget,Budget Type,Campaign Type,Start Date,End Date,Cpc Bid,Keyword,Match Type,Bid,Final Url,Headline,Description,Path 1,Path 2"
	if strings.Join(m[0], ",") != wantM || col(m, 1, "Type") != "Format Version" || col(m, 1, "Name") != "6.0" ||
		col(m, 2, "Type") != "Campaign" || col(m, 2, "Status") != "Active" || col(m, 2, "Budget") != "100.00" || col(m, 2, "Budget Type") != "DailyBudgetStandard" ||
		col(m, 3, "Type") != "Ad Group" || col(m, 3, "Start Date") != "11/27/2026" || col(m, 3, "End Date") != "11/30/2026" || col(m, 3, "Cpc Bid") != "0.60" ||
		col(m, 4, "Match Type") != "Exact" || col(m, 4, "Bid") != "0.60" || col(m, 5, "Bid") != "0.85" || col(m, 7, "Type") != "Responsive Search Ad" ||
		!strings.HasSuffix(col(m, 7, "Final Url"), "&utm_source=bing&msclkid={msclkid}") {
		t.Fatalf("microsoft:\n%s", ex.Microsoft)
	}
	var hs []struct{ Text string }
	if err := json.Unmarshal([]byte(col(m, 7, "Headline")), &hs); err != nil || len(hs) != 3 || hs[1].Text != "Soldes d'hiver" {
		t.Fatalf("headlines %q: %v", col(m, 7, "Headline"), err)
	}
	// A retried launch writes nothing new; halt writes the pause files;
	// the campaign ended, its non-evergreen page leaves the sitemap.
	if _, err := e.ch.Launch(ctx, c); err != nil {
		t.Fatal(err)
	}
	sm := &Sitemap{Ch: e.ch}
	if n, _ := sm.Count(ctx); n != 1 {
		t.Fatalf("sitemap has %d pages after launch", n)
	}
	c.Status = campaigns.Ended
	detail, err := e.ch.Halt(ctx, c, "ended")
	if err != nil || !strings.Contains(detail, "left the sitemap") {
		t.Fatalf("%q %v", detail, err)
	}
	list, _ = e.ch.Exports(ctx, c.ID)
	if len(list) != 2 || list[0].Status != "paused" || list[0].Move != campaigns.MoveHalt {
		t.Fatalf("%+v", list)
	}
	ex, _ = e.ch.GetExport(ctx, c.ID, list[0].ID)
	if g := readCSV(t, ex.Google); col(g, 1, "Campaign Status") != "Paused" {
		t.Fatalf("%v", g[1])
	}
	if m := readCSV(t, ex.Microsoft); col(m, 2, "Status") != "Paused" || col(m, 3, "Status") != "Paused" {
		t.Fatalf("%v", m[2:4])
	}
	if n, _ := sm.Count(ctx); n != 0 {
		t.Fatalf("sitemap has %d pages after the end", n)
	}
	// An evergreen campaign's page stays.
	if err := e.ch.SaveSettings(ctx, Settings{CampaignID: c.ID, Evergreen: true}); err != nil {
		t.Fatal(err)
	}
	c.Status = campaigns.Live
	e.ch.Resume(ctx, c)
	c.Status = campaigns.Ended
	if detail, _ := e.ch.Halt(ctx, c, "ended"); !strings.Contains(detail, "stays") {
		t.Fatalf("%q", detail)
	}
	if n, _ := sm.Count(ctx); n != 1 {
		t.Fatalf("evergreen: sitemap has %d pages", n)
	}
}

func mustOffer(t *testing.T, e *env, c *campaigns.Campaign) *landing.Offer {
	t.Helper()
	o, err := e.srv.Offer(context.Background(), c, c.StartsAt)
	if err != nil || o == nil {
		t.Fatalf("offer: %v", err)
	}
	return o
}

func TestSaveRefusesBadInputAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.campaign(t, e.page(t, "soldes").ID)
	g := adGroup(t, e, c)
	_, err := e.ch.SaveAdGroup(ctx, c.ID, "EUR", 0, AdGroupInput{Name: "Chaises", MaxCPC: "0.60", Keywords: "x"})
	if err == nil || !strings.Contains(err.Error(), "already an ad group") {
		t.Fatalf("duplicate name: %v", err)
	}
	_, err = e.ch.SaveAdGroup(ctx, c.ID, "EUR", g.ID, AdGroupInput{Name: "", MaxCPC: "-1", Keywords: "ok\n[]"})
	var ve validation.Errors
	if !errors.As(err, &ve) || fields(ve) != "name,max_cpc,keywords line 2" {
		t.Fatalf("%v", err)
	}
	_, err = e.ch.SaveAd(ctx, c.ID, g.ID, 0, AdInput{Headlines: "a\nb", Descriptions: "x\ny"}, nil)
	if !errors.As(err, &ve) || fields(ve) != "headlines" {
		t.Fatalf("%v", err)
	}
	other := e.campaign(t, 0)
	if _, err := e.ch.SaveAd(ctx, other.ID, g.ID, 0, AdInput{}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another campaign's ad group: %v", err)
	}
	groups, _ := e.ch.AdGroups(ctx, c.ID)
	if len(groups) != 1 || groups[0].Name != "Chaises" || len(groups[0].Keywords) != 3 || len(groups[0].Ads) != 1 {
		t.Fatalf("%+v", groups)
	}
	if err := e.ch.DeleteAd(ctx, other.ID, groups[0].Ads[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete through another campaign: %v", err)
	}
}

func TestGates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.page(t, "soldes")
	c := e.campaign(t, p.ID)
	if r := e.ch.adsGate(ctx, c, t0); r.Outcome != campaigns.Warn {
		t.Fatalf("no ads: %+v", r)
	}
	g := adGroup(t, e, c)
	if r := e.ch.adsGate(ctx, c, t0); r.Outcome != campaigns.Pass {
		t.Fatalf("%+v", r)
	}
	// A price typed into the database, or a product the page no longer
	// shows, fails the gate.
	e.g.Exec("UPDATE sea_ads SET headlines = ? WHERE ad_group_id = ?", `["Chaise à 80 €","b","c"]`, g.ID)
	if r := e.ch.adsGate(ctx, c, t0); r.Outcome != campaigns.Fail || !strings.Contains(r.Text("en"), "types a price") ||
		!strings.Contains(r.Text("fr"), "groupe d'annonces") || !strings.Contains(r.Text("fr"), "tape un prix") {
		t.Fatalf("%+v\nfr: %s", r, r.Text("fr"))
	}
	e.g.Exec("UPDATE sea_ads SET headlines = ? WHERE ad_group_id = ?", `["Chaise à {price:P2}","b","c"]`, g.ID)
	if r := e.ch.adsGate(ctx, c, t0); r.Outcome != campaigns.Pass {
		t.Fatalf("%+v", r)
	}
	e.g.Exec("UPDATE pages SET product_skus = 'P1' WHERE id = ?", p.ID)
	e.pages.Publish(ctx, p.ID, "test")
	if r := e.ch.adsGate(ctx, c, t0); r.Outcome != campaigns.Fail || !strings.Contains(r.Text("en"), `does not show product "P2"`) {
		t.Fatalf("%+v", r)
	}
	e.pages.Unpublish(ctx, p.ID)
	if r := e.ch.adsGate(ctx, c, t0); r.Outcome != campaigns.Fail || !strings.Contains(r.Text("en"), "not published") ||
		!strings.Contains(r.Text("fr"), "n'est pas publiée") {
		t.Fatalf("%+v\nfr: %s", r, r.Text("fr"))
	}
	if r := e.ch.pageGate(ctx, c, t0); r.Outcome != campaigns.Fail || !strings.Contains(r.Text("en"), "not published") {
		t.Fatalf("%+v", r)
	}
	// The published page as rendered: its product links to the shop are
	// not allow-listed here, a warning.
	e.pages.Publish(ctx, p.ID, "test")
	r := e.ch.pageGate(ctx, c, t0)
	if r.Outcome != campaigns.Warn || !strings.Contains(r.Text("en"), "not allow-listed") || !strings.Contains(r.Text("fr"), "ne sont pas autorisés") {
		t.Fatalf("%+v\nfr: %s", r, r.Text("fr"))
	}
	if a, _ := e.ch.LatestAudit(ctx, p.ID); a == nil || len(a.Warns()) == 0 {
		t.Fatalf("audit not kept: %+v", a)
	}
}

// IndexNow posts the protocol's JSON to a real server on 127.0.0.1; an
// endpoint that is not allow-listed gets no request.
func TestIndexNow(t *testing.T) {
	var got map[string]any
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/indexnow" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			http.Error(w, "bad", 400)
			return
		}
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	p := &loadcheck.Policy{AllowedHosts: []string{strings.TrimPrefix(srv.URL, "http://")}}
	n := &IndexNow{Endpoint: srv.URL + "/indexnow", Key: IndexNowKey([]byte("s")), BaseURL: "https://shop.example", Client: p.LinkClient(), Allowed: p.CheckTarget}
	if len(n.Key) != 32 || n.Key != IndexNowKey([]byte("s")) || n.Key == IndexNowKey([]byte("t")) {
		t.Fatalf("key %q", n.Key)
	}
	if err := n.Notify(context.Background(), []string{"https://shop.example/l/soldes"}); err != nil {
		t.Fatal(err)
	}
	if got["host"] != "shop.example" || got["key"] != n.Key || got["keyLocation"] != "https://shop.example/indexnow.txt" || fmt.Sprint(got["urlList"]) != "[https://shop.example/l/soldes]" {
		t.Fatalf("%v", got)
	}
	status = http.StatusUnprocessableEntity
	if err := n.Notify(context.Background(), []string{"https://shop.example/l/x"}); err == nil || !strings.Contains(err.Error(), "422") {
		t.Fatalf("%v", err)
	}
	got = nil
	n.Endpoint = "http://127.0.0.2:1/indexnow"
	if err := n.Notify(context.Background(), []string{"https://shop.example/l/x"}); err == nil || !strings.Contains(err.Error(), "not allow-listed") || got != nil {
		t.Fatalf("%v %v", err, got)
	}
}

// The file that pauses is written even when the page no longer shows an
// ad's product (the ads cannot be filled): the campaign row, paused.
func TestHaltExportsWhenPricesCannotBeFilled(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.page(t, "soldes")
	c := e.campaign(t, p.ID)
	adGroup(t, e, c)
	if _, err := e.ch.Launch(ctx, c); err != nil {
		t.Fatal(err)
	}
	e.g.Exec("UPDATE pages SET product_skus = 'P2' WHERE id = ?", p.ID)
	e.pages.Publish(ctx, p.ID, "test")
	c.Status = campaigns.Paused
	if _, err := e.ch.Halt(ctx, c, "paused"); err != nil {
		t.Fatal(err)
	}
	list, _ := e.ch.Exports(ctx, c.ID)
	ex, _ := e.ch.GetExport(ctx, c.ID, list[0].ID)
	g := readCSV(t, ex.Google)
	if len(list) != 2 || col(g, 1, "Campaign Status") != "Paused" || len(g) != 3 {
		t.Fatalf("%d exports:\n%s", len(list), ex.Google)
	}
	// Resuming cannot enable ads whose price the page no longer shows.
	c.Status = campaigns.Live
	if _, err := e.ch.Resume(ctx, c); err == nil || !strings.Contains(err.Error(), `"P1"`) {
		t.Fatalf("%v", err)
	}
}

// A price placeholder is written as the landing page writes its prices:
// in the page's language.
func TestPricePlaceholderIsWrittenInThePageLanguage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, c := range []struct{ slug, lang, want string }{
		{"soldes-fr", "fr", "100,00\u00a0€"},
		{"sale-en", "en", "€100.00"},
	} {
		p, err := e.pages.Create(ctx, landing.PageInput{Slug: c.slug, Title: "Winter sale: the living room for less", ProductSKUs: "P1", Lang: c.lang,
			MetaDescription: "Chairs, tables and lamps for the living room at reduced prices for the whole winter sale."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.pages.Publish(ctx, p.ID, "test"); err != nil {
			t.Fatal(err)
		}
		o := mustOffer(t, e, e.campaign(t, p.ID))
		got, err := Fill("Oslo {price:P1}", PricesOf(o))
		if err != nil || got != "Oslo "+c.want || o.Lang != c.lang {
			t.Errorf("%s page: %q (%v), offer lang %q", c.lang, got, err, o.Lang)
		}
	}
}
