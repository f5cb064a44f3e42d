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

// A stored number written with %f reads back as a number, written as the
// reader's language writes it.
func TestParseReadsFloatsBack(t *testing.T) {
	m := Parse("11.9 requests/s", []string{"%.1f requests/s"})
	if got := m.Text(EN); got != "11.9 requests/s" {
		t.Errorf("en: %q", got)
	}
	if got := T(FR, "%.1f", m.Args...); got != "11,9" {
		t.Errorf("fr: %q, want 11,9", got)
	}
}
