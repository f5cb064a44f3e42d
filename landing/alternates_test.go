package landing

import (
	"reflect"
	"strings"
	"testing"
)

// Alternates are validated line by line: a BCP 47 tag or x-default named
// once, exactly one target, an absolute URL or a slug.
func TestAlternatesAreValidated(t *testing.T) {
	base := PageInput{Slug: "soldes", Title: "Soldes"}
	cases := []struct {
		name string
		alts []Alternate
		want string // field: message part; "" when accepted
	}{
		{"url and page", []Alternate{{Lang: "en-gb", URL: "https://shop.example/uk"}, {Lang: "de", Slug: "ausverkauf"}, {Lang: "X-Default", Slug: "soldes"}}, ""},
		{"not a tag", []Alternate{{Lang: "english", URL: "https://shop.example/en"}}, `alternates.0: "english" is not a language tag`},
		{"empty tag", []Alternate{{Lang: "", URL: "https://shop.example/en"}}, "alternates.0"},
		{"twice", []Alternate{{Lang: "en", URL: "https://a.example/"}, {Lang: "EN", URL: "https://b.example/"}}, "alternates.1: en is declared twice (lines 1 and 2)"},
		{"no target", []Alternate{{Lang: "en"}}, "alternates.0: en: give the URL"},
		{"both", []Alternate{{Lang: "en", URL: "https://a.example/", Slug: "sale"}}, "alternates.0: give a URL or a page, not both"},
		{"relative URL", []Alternate{{Lang: "en", URL: "ftp://a.example/"}}, `alternates.0: "ftp://a.example/" must be an absolute http(s) URL`},
		{"bad slug", []Alternate{{Lang: "en", Slug: "Sale Page"}}, `alternates.0: "Sale Page" is neither an absolute http(s) URL nor the slug of a page`},
	}
	for _, tc := range cases {
		in := base
		in.Alternates = tc.alts
		p, err := BuildPage(in)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		case tc.want == "" && (p.Alternates[0].Lang != "en-GB" || p.Alternates[2].Lang != XDefault):
			t.Errorf("%s: tags not canonical: %+v", tc.name, p.Alternates)
		}
	}
	many := make([]Alternate, MaxAlternates+1)
	in := base
	in.Alternates = many
	if _, err := BuildPage(in); err == nil || !strings.Contains(err.Error(), "at most 30 alternates") {
		t.Errorf("too many: %v", err)
	}
}

func TestAlternatesTextRoundTrips(t *testing.T) {
	got := ParseAlternates("en-GB https://shop.example/uk/sale\r\n\n  de /l/ausverkauf \nfr\n")
	want := []Alternate{{Lang: "en-GB", URL: "https://shop.example/uk/sale"}, {Lang: "de", Slug: "ausverkauf"}, {Lang: "fr"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v", got)
	}
	if back := ParseAlternates(AlternatesText(want)); !reflect.DeepEqual(back, want) {
		t.Fatalf("%+v", back)
	}
}
