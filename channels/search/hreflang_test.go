package search

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
)

// Pages declare their versions in other languages on the page itself
// (landing.Alternate), the head lists them, and the audit checks that
// they are reciprocal: Rampe pages served over real HTTP on 127.0.0.1,
// two that declare each other and one that does not declare back.
func TestHreflangAlternatesAreReciprocal(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2, err := e.srv.Get(r.Context(), strings.TrimPrefix(r.URL.Path, "/l/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(r2.HTML)
	}))
	t.Cleanup(srv.Close)
	e.srv.BaseURL, e.ch.BaseURL = srv.URL, srv.URL
	p := &loadcheck.Policy{AllowedHosts: []string{strings.TrimPrefix(srv.URL, "http://")}}
	e.ch.Auditor = &Auditor{Client: p.LinkClient(), Allowed: p.CheckTarget, Clock: e.clk}

	page := func(slug, lang string, alts ...landing.Alternate) *landing.Page {
		t.Helper()
		pg, err := e.pages.Create(ctx, landing.PageInput{Slug: slug, Title: "Soldes d'hiver : le salon à prix doux", Lang: lang,
			MetaDescription: "Chaises, tables et lampes du salon à prix réduits pendant toute la durée des soldes d'hiver.", Alternates: alts})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.pages.Publish(ctx, pg.ID, "test"); err != nil {
			t.Fatal(err)
		}
		return pg
	}
	// The English page first: it names the French one, which does not exist yet.
	if _, err := e.pages.Create(ctx, landing.PageInput{Slug: "sale", Title: "Sale", Alternates: []landing.Alternate{{Lang: "fr", Slug: "soldes"}}}); err == nil ||
		!strings.Contains(err.Error(), `alternates.0: no landing page has the slug "soldes"`) {
		t.Fatalf("an alternate naming no page: %v", err)
	}
	de := page("ausverkauf", "", landing.Alternate{Lang: "de", Slug: "ausverkauf"})
	fr := page("soldes", "fr", landing.Alternate{Lang: "de", Slug: "ausverkauf"})
	en := page("sale", "en", landing.Alternate{Lang: "fr", Slug: "soldes"}, landing.Alternate{Lang: "x-default", Slug: "soldes"})
	// The French page declares the English one too, now that it exists.
	in := landing.PageInput{Slug: fr.Slug, Title: fr.Title, MetaDescription: fr.MetaDescription, Lang: "fr",
		Alternates: []landing.Alternate{{Lang: "EN", Slug: "sale"}, {Lang: "de", Slug: "ausverkauf"}}}
	if _, err := e.pages.Update(ctx, fr.ID, in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pages.Publish(ctx, fr.ID, "test"); err != nil {
		t.Fatal(err)
	}
	r, err := e.srv.Get(ctx, "soldes")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<link rel="alternate" hreflang="fr" href="` + srv.URL + `/l/soldes">`, // itself, added
		`<link rel="alternate" hreflang="en" href="` + srv.URL + `/l/sale">`,   // the tag as BCP 47 writes it
		`<link rel="alternate" hreflang="de" href="` + srv.URL + `/l/ausverkauf">`,
	} {
		if !strings.Contains(string(r.HTML), want) {
			t.Errorf("the head lacks %s:\n%s", want, r.HTML)
		}
	}
	hreflang := func(pg *landing.Page) []Finding {
		t.Helper()
		a, err := e.ch.AuditPage(ctx, pg.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		var out []Finding
		for _, f := range a.Findings {
			if f.Rule == "hreflang" {
				out = append(out, f)
			}
		}
		return out
	}
	// English and French declare each other: nothing to say.
	if f := hreflang(en); len(f) != 0 {
		t.Errorf("sale: %+v", f)
	}
	// The French page names the German one, which does not name it back.
	f := hreflang(fr)
	if len(f) != 1 || f[0].Level != Fail || !strings.Contains(f[0].Message, srv.URL+"/l/ausverkauf does not link back") {
		t.Fatalf("soldes: %+v", f)
	}
	if fr := f[0].Text("fr"); !strings.Contains(fr, "ne renvoie pas vers cette page") {
		t.Errorf("in French: %q", fr)
	}
	// A page whose only alternate is itself has nothing to reciprocate.
	if f := hreflang(de); len(f) != 0 {
		t.Errorf("ausverkauf: %+v", f)
	}
}
