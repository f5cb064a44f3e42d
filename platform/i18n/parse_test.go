package i18n

import "testing"

// A stored English text written with %q reads back with its value once
// quoted, in English and in French.
func TestParseUnquotesQuotedArguments(t *testing.T) {
	format := "unknown status %q (want one of %s)"
	english := `unknown status "abonné" (want one of opted_in, pending)`
	m := Parse(english, []string{format})
	if m.Format != format {
		t.Fatalf("format %q, want %q", m.Format, format)
	}
	if got := m.Text(EN); got != english {
		t.Errorf("en: %s, want %s", got, english)
	}
	if got, want := m.Text(FR), `statut inconnu "abonné" (attendu : l'un de opted_in, pending)`; got != want {
		t.Errorf("fr: %s, want %s", got, want)
	}
	// A value holding a quote is escaped once too.
	if got := Parse(`unknown status "a\"b" (want one of x)`, []string{format}).Text(EN); got != `unknown status "a\"b" (want one of x)` {
		t.Errorf("escaped quote: %s", got)
	}
}
