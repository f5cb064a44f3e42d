package search

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampe/rampe/loadcheck"
)

// site is a real HTTP server on 127.0.0.1 with the pages an audited
// page links to.
func site(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "gone", http.StatusNotFound) })
	mux.HandleFunc("/img.jpg", func(w http.ResponseWriter, _ *http.Request) { w.Write(make([]byte, 30<<10)) })
	var self string
	mux.HandleFunc("/en", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<html><head><link rel="alternate" hreflang="fr" href="%s/fr"><link rel="alternate" hreflang="en" href="%s/en"></head></html>`, self, self)
	})
	mux.HandleFunc("/de", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<html><head><link rel="alternate" hreflang="de" href="%s/de"></head></html>`, self)
	})
	srv := httptest.NewServer(mux)
	self = srv.URL
	t.Cleanup(srv.Close)
	return srv
}

// goodPage passes every rule; each case below breaks one.
func goodPage(base string) string {
	return `<!doctype html><html><head><title>Soldes d'hiver : le salon à prix doux</title>
<meta name="description" content="Chaises, tables et lampes du salon à prix réduits pendant toute la durée des soldes d'hiver.">
<link rel="canonical" href="` + base + `/fr">
<link rel="alternate" hreflang="fr" href="` + base + `/fr"><link rel="alternate" hreflang="en" href="` + base + `/en">
</head><body><h1>Soldes</h1><img src="/img.jpg" alt="Chaise"><a href="/ok">ok</a><a href="/moved">moved</a>
<a href="mailto:x@example.com">mail</a><a href="#top">top</a></body></html>`
}

func auditor(srv *httptest.Server) *Auditor {
	p := &loadcheck.Policy{AllowedHosts: []string{strings.TrimPrefix(srv.URL, "http://")}}
	return &Auditor{Client: p.LinkClient(), Allowed: p.CheckTarget, WeightBudget: 100 << 10}
}

func rules(a *Audit) string {
	var out []string
	for _, f := range a.Findings {
		out = append(out, string(f.Level)+":"+f.Rule)
	}
	return strings.Join(out, " ")
}

func TestAuditRulesOneByOne(t *testing.T) {
	srv := site(t)
	au := auditor(srv)
	base := srv.URL
	good := goodPage(base)
	ctx := context.Background()
	if a := au.Audit(ctx, Target{URL: base + "/fr", HTML: []byte(good), Running: true}); len(a.Findings) != 0 || a.Links != 4 || a.Bytes != int64(len(good))+30<<10 {
		t.Fatalf("the good page: %+v", a)
	}
	repl := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("%q not in the page", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	cases := []struct {
		name, html string
		running    bool
		declared   string
		budget     int64
		want       string
		says       string
	}{
		{"short title", repl("Soldes d'hiver : le salon à prix doux", "Soldes"), true, "", 0, "warn:title", "6 characters"},
		{"long title", repl("Soldes d'hiver : le salon à prix doux", strings.Repeat("é", 61)), true, "", 0, "warn:title", "61 characters"},
		{"no title", repl("<title>Soldes d'hiver : le salon à prix doux</title>", ""), true, "", 0, "fail:title", "no title"},
		{"short description", repl("Chaises, tables et lampes du salon à prix réduits pendant toute la durée des soldes d'hiver.", "Chaises."), true, "", 0, "warn:description", "8 characters"},
		{"no description", repl(`<meta name="description"`, `<meta name="keywords"`), true, "", 0, "warn:description", "no meta description"},
		{"two h1", repl("<h1>Soldes</h1>", "<h1>Soldes</h1><h1>Encore</h1>"), true, "", 0, "fail:h1", "2 h1"},
		{"no h1", repl("<h1>Soldes</h1>", "<h2>Soldes</h2>"), true, "", 0, "fail:h1", "0 h1"},
		{"relative canonical", repl(`href="`+base+`/fr">`+"\n<link rel=\"alternate\"", `href="/fr">`+"\n<link rel=\"alternate\""), true, "", 0, "fail:canonical", "not an absolute"},
		{"canonical elsewhere", repl(`<link rel="canonical" href="`+base+`/fr">`, `<link rel="canonical" href="https://other.example/x">`), true, "", 0, "fail:canonical", "points neither"},
		{"canonical declared", repl(`<link rel="canonical" href="`+base+`/fr">`, `<link rel="canonical" href="https://other.example/x">`), true, "https://other.example/x", 0, "", ""},
		{"no canonical", repl(`<link rel="canonical" href="`+base+`/fr">`, ""), true, "", 0, "fail:canonical", "no canonical"},
		{"noindex while running", repl("</head>", `<meta name="robots" content="noindex, follow"></head>`), true, "", 0, "fail:noindex", "while its campaign runs"},
		{"noindex at publish", repl("</head>", `<meta name="ROBOTS" content="NOINDEX"></head>`), false, "", 0, "warn:noindex", "not to index"},
		{"image without alt", repl(`alt="Chaise"`, ""), true, "", 0, "fail:img_alt", "1 of 1 images"},
		{"broken link", repl(`<a href="/ok">`, `<a href="/gone">`), true, "", 0, "fail:links", "HTTP 404"},
		{"link not allow-listed", repl(`<a href="/ok">`, `<a href="https://unlisted.example/">`), true, "", 0, "warn:links", "not allow-listed"},
		{"too heavy", good, true, "", 20 << 10, "fail:weight", "budget"},
		{"hreflang not reciprocal", repl(`hreflang="en" href="`+base+`/en"`, `hreflang="de" href="`+base+`/de"`), true, "", 0, "fail:hreflang", "/de does not link back"},
		{"hreflang without itself", repl(`<link rel="alternate" hreflang="fr" href="`+base+`/fr">`, ""), true, "", 0, "warn:hreflang", "not itself"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a2 := *au
			if tc.budget > 0 {
				a2.WeightBudget = tc.budget
			}
			a := a2.Audit(ctx, Target{URL: base + "/fr", Declared: tc.declared, HTML: []byte(tc.html), Running: tc.running})
			if rules(a) != tc.want {
				t.Fatalf("findings %q, want %q: %+v", rules(a), tc.want, a.Findings)
			}
			if tc.says != "" && !strings.Contains(a.Findings[0].Message, tc.says) {
				t.Fatalf("message %q does not say %q", a.Findings[0].Message, tc.says)
			}
		})
	}
}

// Hostile or broken HTML is audited, never trusted: scripts are not run,
// javascript: links are not fetched, garbage still parses.
func TestAuditHostileHTML(t *testing.T) {
	srv := site(t)
	au := auditor(srv)
	for _, doc := range []string{"", "<<<>>>\x00", `<a href="javascript:alert(1)">x</a><script>document.write("<h1>")</script>`,
		strings.Repeat("<div>", 100000)} {
		a := au.Audit(context.Background(), Target{URL: srv.URL + "/fr", HTML: []byte(doc), Running: true})
		if len(a.Fails()) == 0 || a.Links != 0 {
			t.Errorf("%.30q: %+v", doc, a)
		}
	}
}

// A finding read back from the database is written in the reader's
// language with its numbers.
func TestFindingTextAfterStorage(t *testing.T) {
	a := (&Auditor{}).Audit(context.Background(), Target{URL: "https://s.example/l/x", HTML: []byte("<title>Court</title><h1>x</h1>")})
	b, _ := json.Marshal(a)
	var back Audit
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	var title Finding
	for _, f := range back.Findings {
		if f.Rule == "title" {
			title = f
		}
	}
	if title.Text("fr") != "le titre fait 5 caractères ; les moteurs de recherche affichent au mieux de 30 à 60" || title.Text("en") != title.Message {
		t.Fatalf("%q / %q", title.Text("fr"), title.Text("en"))
	}
}

// A list of links cut short says how many more in the reader's language,
// after storage too ("et 3 autres", not "and 3 more").
func TestLinksCutShortCountTheRestInTheReadersLanguage(t *testing.T) {
	srv := site(t)
	var links strings.Builder
	for i := range 8 {
		fmt.Fprintf(&links, `<a href="https://unlisted%d.example/">x</a>`, i)
	}
	html := strings.Replace(goodPage(srv.URL), `<a href="/ok">ok</a>`, links.String(), 1)
	a := auditor(srv).Audit(context.Background(), Target{URL: srv.URL + "/fr", HTML: []byte(html)})
	b, _ := json.Marshal(a)
	var back Audit
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, f := range back.Findings {
		if f.Rule == "links" && f.Level == Warn {
			found = true
			if fr := f.Text("fr"); !strings.HasSuffix(fr, "https://unlisted4.example/ et 3 autres") || strings.Contains(fr, "more") {
				t.Errorf("fr: %q", fr)
			}
			if en := f.Text("en"); !strings.HasSuffix(en, "https://unlisted4.example/ and 3 more") {
				t.Errorf("en: %q", en)
			}
		}
	}
	if !found {
		t.Fatalf("no warning on the links: %s", rules(&back))
	}
}
