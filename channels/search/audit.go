package search

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
)

// Level separates what holds a campaign (Fail) from advice (Warn).
type Level string

// Audit levels.
const (
	Fail Level = "fail"
	Warn Level = "warn"
)

// Finding is one rule an audited page breaks. Message is English (gates,
// API, logs); Format and Args write it in the reader's language (Text).
type Finding struct {
	Rule    string `json:"rule"`
	Level   Level  `json:"level"`
	Message string `json:"message"`
	Format  string `json:"format,omitempty"`
	Args    []any  `json:"args,omitempty"`
}

// Text writes the finding in lang. Arguments read back from JSON are
// float64: whole ones are given back as ints for %d.
func (f Finding) Text(lang string) string {
	if f.Format == "" {
		return f.Message
	}
	args := make([]any, len(f.Args))
	for i, a := range f.Args {
		if v, ok := a.(float64); ok && v == float64(int64(v)) {
			a = int64(v)
		}
		args[i] = a
	}
	return i18n.T(lang, f.Format, args...)
}

// Audit is the SEO audit of one page.
type Audit struct {
	URL       string    `json:"url"`
	CheckedAt time.Time `json:"checked_at"`
	Findings  []Finding `json:"findings"`
	Links     int       `json:"links"`
	Bytes     int64     `json:"bytes"`
}

// Fails and Warns split the findings.
func (a *Audit) Fails() []Finding { return a.level(Fail) }

// Warns are the findings that do not hold a campaign.
func (a *Audit) Warns() []Finding { return a.level(Warn) }

func (a *Audit) level(l Level) []Finding {
	var out []Finding
	for _, f := range a.Findings {
		if f.Level == l {
			out = append(out, f)
		}
	}
	return out
}

// Title and description lengths outside these bounds are a warning
// (characters, as search engines truncate them in results).
const (
	TitleMin, TitleMax = 30, 60
	MetaMin, MetaMax   = 70, 160
)

// Auditor audits landing pages. Client fetches links, images and hreflang
// alternates: the load checks' allow-listed client (loadcheck.Policy),
// which does not follow redirects; Allowed refuses a URL that is not
// allow-listed before any request (it is then reported, not fetched).
type Auditor struct {
	Client  *http.Client
	Allowed func(ctx context.Context, rawURL string) error
	// WeightBudget is seo.page_weight_kb in bytes: the HTML and its
	// images together.
	WeightBudget int64
	// MaxLinks bounds the URLs fetched per audit (200 when 0).
	MaxLinks int
	Clock    clock.Clock
}

// Target is the page an audit looks at.
type Target struct {
	// URL is where visitors see the page; Declared is the canonical URL
	// its author declared ("" if none).
	URL, Declared string
	HTML          []byte
	// Running: a campaign runs (or is about to) on the page: noindex
	// then fails instead of warning.
	Running bool
}

type parsed struct {
	titles       []string
	descriptions []string
	h1           int
	canonicals   []string
	noindex      bool
	imgs         []string // src of every img
	imgsNoAlt    int
	links        []string
	alternates   map[string]string // hreflang → href
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func parse(doc []byte) (*parsed, error) {
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	p := &parsed{alternates: map[string]string{}}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Title:
				p.titles = append(p.titles, text(n))
			case atom.H1:
				p.h1++
			case atom.Img:
				src, _ := attr(n, "src")
				p.imgs = append(p.imgs, src)
				if _, ok := attr(n, "alt"); !ok {
					p.imgsNoAlt++
				}
			case atom.A:
				if h, ok := attr(n, "href"); ok {
					p.links = append(p.links, h)
				}
			case atom.Meta:
				name, _ := attr(n, "name")
				content, _ := attr(n, "content")
				switch strings.ToLower(name) {
				case "description":
					p.descriptions = append(p.descriptions, strings.TrimSpace(content))
				case "robots", "googlebot", "bingbot":
					if strings.Contains(strings.ToLower(content), "noindex") || strings.Contains(strings.ToLower(content), "none") {
						p.noindex = true
					}
				}
			case atom.Link:
				rel, _ := attr(n, "rel")
				href, _ := attr(n, "href")
				for _, r := range strings.Fields(strings.ToLower(rel)) {
					switch r {
					case "canonical":
						p.canonicals = append(p.canonicals, strings.TrimSpace(href))
					case "alternate":
						if lang, ok := attr(n, "hreflang"); ok {
							p.alternates[strings.ToLower(lang)] = strings.TrimSpace(href)
						}
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return p, nil
}

// Audit runs every rule on t. Rules that read the page only come first;
// then links, images and hreflang alternates are fetched, a few at a time.
func (a *Auditor) Audit(ctx context.Context, t Target) *Audit {
	out := &Audit{URL: t.URL, CheckedAt: a.now(), Bytes: int64(len(t.HTML))}
	add := func(rule string, l Level, m i18n.Message) {
		args := make([]any, len(m.Args))
		for i, a := range m.Args {
			if err, ok := a.(error); ok {
				a = err.Error()
			}
			args[i] = a
		}
		out.Findings = append(out.Findings, Finding{Rule: rule, Level: l, Message: fmt.Sprintf(m.Format, m.Args...), Format: m.Format, Args: args})
	}
	p, err := parse(t.HTML)
	if err != nil {
		add("html", Fail, i18n.M("the page does not parse as HTML: %v", err))
		return out
	}
	checkStatic(p, t, add)
	base, _ := url.Parse(t.URL)
	a.checkFetched(ctx, p, t, base, out, add)
	sort.SliceStable(out.Findings, func(i, j int) bool { return out.Findings[i].Level == Fail && out.Findings[j].Level != Fail })
	return out
}

func (a *Auditor) now() time.Time { return clock.Or(a.Clock).Now() }

type addFunc func(rule string, l Level, m i18n.Message)

// checkStatic applies the rules that need nothing but the page.
func checkStatic(p *parsed, t Target, add addFunc) {
	switch {
	case len(p.titles) == 0 || p.titles[0] == "":
		add("title", Fail, i18n.M("the page has no title"))
	case len(p.titles) > 1:
		add("title", Fail, i18n.M("the page has %d titles; keep one", len(p.titles)))
	default:
		if n := utf8.RuneCountInString(p.titles[0]); n < TitleMin || n > TitleMax {
			add("title", Warn, i18n.M("the title is %d characters long; search engines show %d to %d best", n, TitleMin, TitleMax))
		}
	}
	switch {
	case len(p.descriptions) == 0 || p.descriptions[0] == "":
		add("description", Warn, i18n.M("the page has no meta description: search engines will pick a snippet themselves"))
	case len(p.descriptions) > 1:
		add("description", Warn, i18n.M("the page has %d meta descriptions; keep one", len(p.descriptions)))
	default:
		if n := utf8.RuneCountInString(p.descriptions[0]); n < MetaMin || n > MetaMax {
			add("description", Warn, i18n.M("the meta description is %d characters long; search engines show %d to %d best", n, MetaMin, MetaMax))
		}
	}
	if p.h1 != 1 {
		add("h1", Fail, i18n.M("the page has %d h1 headings; it needs exactly one (a Markdown \"# \" line in the body adds one)", p.h1))
	}
	checkCanonical(p, t, add)
	if p.noindex {
		if t.Running {
			add("noindex", Fail, i18n.M("the page tells search engines not to index it (robots noindex) while its campaign runs"))
		} else {
			add("noindex", Warn, i18n.M("the page tells search engines not to index it (robots noindex)"))
		}
	}
	if p.imgsNoAlt > 0 {
		add("img_alt", Fail, i18n.M("%d of %d images have no alt text", p.imgsNoAlt, len(p.imgs)))
	}
}

func checkCanonical(p *parsed, t Target, add addFunc) {
	switch {
	case len(p.canonicals) == 0:
		add("canonical", Fail, i18n.M("the page has no canonical link"))
		return
	case len(p.canonicals) > 1:
		add("canonical", Fail, i18n.M("the page has %d canonical links; search engines ignore them all", len(p.canonicals)))
		return
	}
	c := p.canonicals[0]
	u, err := url.Parse(c)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("canonical", Fail, i18n.M("the canonical link %q is not an absolute http(s) URL", c))
		return
	}
	if c != t.URL && (t.Declared == "" || c != t.Declared) {
		add("canonical", Fail, i18n.M("the canonical link %s points neither at the page (%s) nor at its declared canonical URL", c, t.URL))
	}
}

// resolve makes ref absolute against base; "" for what is not fetched
// (fragments, mailto:, tel:, javascript:, data:).
func resolve(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.HasPrefix(ref, "#") {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref // reported as broken by the fetch
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	u.Fragment = ""
	return u.String()
}

type fetched struct {
	status  int
	bytes   int64
	body    []byte // kept for hreflang alternates only
	err     error
	refused bool
}

// checkFetched fetches links, images and alternates, a few at a time.
func (a *Auditor) checkFetched(ctx context.Context, p *parsed, t Target, base *url.URL, out *Audit, add addFunc) {
	kinds := map[string]string{} // url → "link" | "img" | "alternate"
	var order []string
	want := func(u, kind string) {
		if u == "" {
			return
		}
		if _, ok := kinds[u]; !ok {
			order = append(order, u)
			kinds[u] = kind
		} else if kind != "link" {
			kinds[u] = kind
		}
	}
	for _, l := range p.links {
		want(resolve(base, l), "link")
	}
	for _, s := range p.imgs {
		want(resolve(base, s), "img")
	}
	langs := make([]string, 0, len(p.alternates))
	for lang := range p.alternates {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	selfListed := false
	for _, lang := range langs {
		u := resolve(base, p.alternates[lang])
		if u == t.URL || (t.Declared != "" && u == t.Declared) {
			selfListed = true
			continue
		}
		want(u, "alternate")
	}
	limit := a.MaxLinks
	if limit <= 0 {
		limit = 200
	}
	if len(order) > limit {
		add("links", Warn, i18n.M("the page has %d links and images; only the first %d were checked", len(order), limit))
		order = order[:limit]
	}
	out.Links = len(order)
	res := make([]fetched, len(order))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, u := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res[i] = a.fetch(ctx, u, kinds[u])
		}()
	}
	wg.Wait()
	var refused, broken []string
	total := int64(len(t.HTML))
	for i, u := range order {
		r := res[i]
		switch {
		case r.refused:
			refused = append(refused, u)
			continue
		case r.err != nil:
			broken = append(broken, fmt.Sprintf("%s (%v)", u, r.err))
			continue
		case r.status < 200 || r.status > 399:
			broken = append(broken, fmt.Sprintf("%s (HTTP %d)", u, r.status))
			continue
		}
		switch kinds[u] {
		case "img":
			total += r.bytes
		case "alternate":
			if !linksBack(r.body, u, t) {
				add("hreflang", Fail, i18n.M("the alternate %s does not link back to this page with hreflang: alternates must be reciprocal", u))
			}
		}
	}
	out.Bytes = total
	if len(p.alternates) > 0 && !selfListed {
		add("hreflang", Warn, i18n.M("the page lists hreflang alternates but not itself; add its own language with its own URL"))
	}
	if len(broken) > 0 {
		if shown, more := first(broken, 5); more > 0 {
			add("links", Fail, i18n.M("%d links do not answer 2xx or 3xx: %s and %d more", len(broken), shown, more))
		} else {
			add("links", Fail, i18n.M("%d links do not answer 2xx or 3xx: %s", len(broken), shown))
		}
	}
	if len(refused) > 0 {
		if shown, more := first(refused, 5); more > 0 {
			add("links", Warn, i18n.M("%d links were not checked: their hosts are not allow-listed (loadcheck.allowed_hosts): %s and %d more", len(refused), shown, more))
		} else {
			add("links", Warn, i18n.M("%d links were not checked: their hosts are not allow-listed (loadcheck.allowed_hosts): %s", len(refused), shown))
		}
	}
	if a.WeightBudget > 0 && total > a.WeightBudget {
		add("weight", Fail, i18n.M("the page and its images weigh %d KB; the budget (seo.page_weight_kb) is %d KB", total>>10, a.WeightBudget>>10))
	}
}

// first lists at most n of s, and says how many more there are (a count
// the message writes in the reader's language).
func first(s []string, n int) (string, int) {
	if len(s) <= n {
		return strings.Join(s, ", "), 0
	}
	return strings.Join(s[:n], ", "), len(s) - n
}

// linksBack tells whether an alternate's HTML lists the audited page as
// one of its hreflang alternates.
func linksBack(doc []byte, altURL string, t Target) bool {
	p, err := parse(doc)
	if err != nil {
		return false
	}
	base, _ := url.Parse(altURL)
	for _, href := range p.alternates {
		if u := resolve(base, href); u == t.URL || (t.Declared != "" && u == t.Declared) {
			return true
		}
	}
	return false
}

// maxAlternate bounds what is read of an alternate page.
const maxAlternate = 2 << 20

func (a *Auditor) fetch(ctx context.Context, u, kind string) fetched {
	if a.Allowed != nil {
		if err := a.Allowed(ctx, u); err != nil {
			return fetched{refused: true, err: err}
		}
	}
	if a.Client == nil {
		return fetched{refused: true}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fetched{err: err}
	}
	req.Header.Set("User-Agent", "Rampe-SEO-audit/1")
	resp, err := a.Client.Do(req)
	if err != nil {
		return fetched{err: err}
	}
	defer resp.Body.Close()
	f := fetched{status: resp.StatusCode}
	switch kind {
	case "img":
		limit := a.WeightBudget + 1
		if limit <= 1 {
			limit = 50 << 20
		}
		f.bytes, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, limit))
	case "alternate":
		f.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxAlternate))
	}
	return f
}

// KB is the page's weight with its images, in KB rounded up.
func (a *Audit) KB() int64 { return (a.Bytes + 1023) >> 10 }
