package landing

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/text/language"

	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// Alternate is another language version of a page, declared to search
// engines as <link rel="alternate" hreflang=…>: an absolute URL, or
// another Rampe page named by its slug (served at /l/{slug}).
type Alternate struct {
	// Lang is a BCP 47 tag ("en", "en-GB", "de-CH") or x-default.
	Lang string `json:"lang"`
	URL  string `json:"url,omitempty"`
	Slug string `json:"slug,omitempty"`
}

// MaxAlternates bounds the alternates of a page.
const MaxAlternates = 30

// XDefault is the hreflang of the version for every other language.
const XDefault = "x-default"

// canonicalLang checks a hreflang value and writes it as BCP 47 does
// ("EN-gb" → "en-GB"); x-default is taken as is.
func canonicalLang(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, XDefault) {
		return XDefault, true
	}
	if s == "" || len(s) > 35 {
		return "", false
	}
	t, err := language.Parse(s)
	if err != nil {
		return "", false
	}
	return t.String(), true
}

// ParseAlternates reads the form's list, one a line: a language tag and
// a target, an absolute URL or the slug of another page ("/l/" optional):
//
//	en-GB https://shop.example/uk/sale
//	de soldes-hiver-de
//
// It does not validate: BuildPage does.
func ParseAlternates(src string) []Alternate {
	var out []Alternate
	for _, line := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		a := Alternate{Lang: f[0]}
		if len(f) > 1 {
			target := strings.Join(f[1:], " ")
			if strings.Contains(target, "://") {
				a.URL = target
			} else {
				a.Slug = strings.TrimPrefix(target, "/l/")
			}
		}
		out = append(out, a)
	}
	return out
}

// AlternatesText writes alternates back as ParseAlternates reads them.
func AlternatesText(as []Alternate) string {
	var b strings.Builder
	for _, a := range as {
		target := a.URL
		if a.Slug != "" {
			target = a.Slug
		}
		b.WriteString(a.Lang + " " + target + "\n")
	}
	return b.String()
}

// buildAlternates validates the declared alternates: a BCP 47 tag (or
// x-default) named once, and exactly one target, an absolute http(s) URL
// or a well-formed slug. That a slug names a page is checked on save.
func buildAlternates(in []Alternate, add func(f, format string, args ...any)) []Alternate {
	if len(in) > MaxAlternates {
		add("alternates", "at most %d alternates", MaxAlternates)
		return nil
	}
	var out []Alternate
	seen := map[string]int{}
	for i, a := range in {
		f := fmt.Sprintf("alternates.%d", i)
		lang, ok := canonicalLang(a.Lang)
		if !ok {
			add(f, "%q is not a language tag (BCP 47: en, en-GB, de-CH) nor x-default", a.Lang)
			continue
		}
		if j, dup := seen[strings.ToLower(lang)]; dup {
			add(f, "%s is declared twice (lines %d and %d)", lang, j+1, i+1)
			continue
		}
		seen[strings.ToLower(lang)] = i
		u, slug := strings.TrimSpace(a.URL), strings.TrimSpace(a.Slug)
		switch {
		case u != "" && slug != "":
			add(f, "give a URL or a page, not both")
		case u == "" && slug == "":
			add(f, "%s: give the URL of the version in that language, or the slug of a Rampe page", lang)
		case u != "" && !absHTTP(u):
			add(f, "%q must be an absolute http(s) URL", u)
		case slug != "" && (len(slug) > 100 || !slugRE.MatchString(slug)):
			add(f, "%q is neither an absolute http(s) URL nor the slug of a page", slug)
		default:
			out = append(out, Alternate{Lang: lang, URL: u, Slug: slug})
		}
	}
	return out
}

// checkAlternatePages refuses an alternate naming a page that does not
// exist (self names the page being saved, which may be new).
func (s *Pages) checkAlternatePages(ctx context.Context, p *Page) error {
	var errs ValidationError
	for i, a := range p.Alternates {
		if a.Slug == "" || a.Slug == p.Slug {
			continue
		}
		var n int64
		if err := s.DB.WithContext(ctx).Model(&Page{}).Where("slug = ?", a.Slug).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			errs = append(errs, validation.Fieldf(fmt.Sprintf("alternates.%d", i), "no landing page has the slug %q", a.Slug))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// hreflangLink is one alternate as the page's head declares it.
type hreflangLink struct{ Lang, Href string }

// hreflangLinks are the alternates of p with their URLs, the page itself
// added in its own language when the author did not list it (search
// engines want every version to list itself too). None when p declares
// none.
func (s *Server) hreflangLinks(p *Page, self string) []hreflangLink {
	if len(p.Alternates) == 0 {
		return nil
	}
	var out []hreflangLink
	listed, ownLang := false, s.LangOf(p)
	for _, a := range p.Alternates {
		href := a.URL
		if a.Slug != "" {
			href = s.BaseURL + "/l/" + a.Slug
		}
		if href == self || a.Slug == p.Slug || strings.EqualFold(a.Lang, ownLang) {
			listed = true
		}
		out = append(out, hreflangLink{Lang: a.Lang, Href: href})
	}
	if !listed && i18n.Supported(ownLang) {
		out = append([]hreflangLink{{Lang: ownLang, Href: self}}, out...)
	}
	return out
}
