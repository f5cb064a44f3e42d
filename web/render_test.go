package web

import "testing"

// TestPagesParseInEveryLanguage parses every template set as the server
// does at start-up.
func TestPagesParseInEveryLanguage(t *testing.T) {
	p, err := loadPages("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for lang, set := range p.byLang {
		if len(set) == 0 {
			t.Errorf("%s: no page", lang)
		}
	}
}
