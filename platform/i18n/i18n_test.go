package i18n

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestPluralsAndNumbers(t *testing.T) {
	cats := map[string]map[string]Entry{
		EN: {"%d campaigns": {Plural: map[string]string{"one": "%d campaign", "other": "%d campaigns"}}},
		FR: {
			"%d campaigns":            {Plural: map[string]string{"one": "%d campagne", "other": "%d campagnes"}},
			"Sent to %s, %d messages": {Plural: map[string]string{"one": "Envoyé à %s, un message", "other": "Envoyé à %s, %d messages"}},
			"Campaigns":               {Text: "Campagnes"},
		},
	}
	cats[EN]["Sent to %s, %d messages"] = Entry{Plural: map[string]string{"one": "Sent to %s, %d message", "other": "Sent to %s, %d messages"}}
	ps, err := buildPrinters(cats)
	if err != nil {
		t.Fatal(err)
	}
	saved := printers
	printers = ps
	defer func() { printers = saved }()
	nbsp := func(s string) string { return strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(s) }
	for _, c := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{EN, "%d campaigns", []any{1}, "1 campaign"},
		{EN, "%d campaigns", []any{2}, "2 campaigns"},
		{EN, "%d campaigns", []any{0}, "0 campaigns"},
		{EN, "%d campaigns", []any{1500}, "1,500 campaigns"},
		{FR, "%d campaigns", []any{1}, "1 campagne"},
		{FR, "%d campaigns", []any{0}, "0 campagne"},
		{FR, "%d campaigns", []any{2}, "2 campagnes"},
		{FR, "%d campaigns", []any{1500}, "1 500 campagnes"},
		{FR, "Sent to %s, %d messages", []any{"a@b", 1}, "Envoyé à a@b, un message"},
		{FR, "Sent to %s, %d messages", []any{"a@b", 3}, "Envoyé à a@b, 3 messages"},
		{EN, "Sent to %s, %d messages", []any{"a@b", 1}, "Sent to a@b, 1 message"},
		{FR, "Campaigns", nil, "Campagnes"},
		{FR, "Not in any catalog %d", []any{7}, "Not in any catalog 7"},
		{"de", "Campaigns", nil, "Campaigns"},
	} {
		if got := nbsp(T(c.lang, c.key, c.args...)); got != c.want {
			t.Errorf("T(%s, %q, %v) = %q, want %q", c.lang, c.key, c.args, got, c.want)
		}
	}
}

func TestErrorStaysEnglishAndTranslates(t *testing.T) {
	saved := printers
	ps, err := buildPrinters(map[string]map[string]Entry{FR: {
		"no campaign #%s": {Text: "aucune campagne n° %s"},
		"save: %w":        {Text: "enregistrement : %w"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	printers = ps
	defer func() { printers = saved }()

	base := Errorf("no campaign #%s", "12")
	wrapped := Errorf("save: %w", base)
	if wrapped.Error() != "save: no campaign #12" {
		t.Errorf("Error() = %q", wrapped.Error())
	}
	if !errors.Is(wrapped, base) {
		t.Error("Errorf does not unwrap its %w argument")
	}
	if got := Text(FR, wrapped); got != "enregistrement : aucune campagne n° 12" {
		t.Errorf("Text(fr) = %q", got)
	}
	// Plain Go wrapping keeps the translatable part reachable.
	if got := Text(FR, fmt.Errorf("campaigns: %w", base)); got != "aucune campagne n° 12" {
		t.Errorf("Text(fr, wrapped by fmt) = %q", got)
	}
	if got := Text(FR, errors.New("disk full")); got != "disk full" {
		t.Errorf("Text(fr, plain error) = %q", got)
	}
	if got := Text(FR, M("no campaign #%s", "3")); got != "aucune campagne n° 3" {
		t.Errorf("Text(fr, M) = %q", got)
	}
	if got := M("no campaign #%s", "3").String(); got != "no campaign #3" {
		t.Errorf("M.String = %q", got)
	}
	if Text(FR, nil) != "" {
		t.Error("Text(nil) is not empty")
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct{ pref, accept, want string }{
		{"", "fr-FR,fr;q=0.9,en;q=0.8", FR},
		{"", "en-US,en;q=0.9", EN},
		{"", "fr-CA", FR},
		{"", "de-DE,de;q=0.9", EN},
		{"", "de-DE,fr;q=0.5", FR},
		{"", "", EN},
		{"", "garbage;;;q=x", EN},
		{"en", "fr-FR", EN},
		{"fr", "en-US", FR},
		{"xx", "fr-FR", FR},
	} {
		if got := Match(c.pref, c.accept); got != c.want {
			t.Errorf("Match(%q, %q) = %q, want %q", c.pref, c.accept, got, c.want)
		}
	}
}

func TestBrokenCatalogsAreRefused(t *testing.T) {
	for name, body := range map[string]string{
		"not json":         `{"a": `,
		"number":           `{"a": 3}`,
		"plural, no other": `{"%d a": {"one": "x"}}`,
		"unknown form":     `{"%d a": {"one": "x", "other": "y", "plenty": "z"}}`,
	} {
		_, err := readCatalogs(fstest.MapFS{"locales/fr/x.json": {Data: []byte(body)}})
		if err == nil || !strings.Contains(err.Error(), "locales/fr/x.json") {
			t.Errorf("%s: err = %v, want one naming the file", name, err)
		}
	}
	_, err := readCatalogs(fstest.MapFS{
		"locales/fr/a.json": {Data: []byte(`{"Save": "Enregistrer"}`)},
		"locales/fr/b.json": {Data: []byte(`{"Save": "Sauver"}`)},
	})
	if err == nil || !strings.Contains(err.Error(), `"Save"`) {
		t.Errorf("a key in two areas: err = %v", err)
	}
	_, err = readCatalogs(fstest.MapFS{"locales/de/a.json": {Data: []byte(`{}`)}})
	if err == nil {
		t.Error("an unknown language is accepted")
	}
	_, err = buildPrinters(map[string]map[string]Entry{FR: {"no number %s": {Plural: map[string]string{"other": "x %s"}}}})
	if err == nil {
		t.Error("a plural without an integer verb is accepted")
	}
}

func TestCheckEntry(t *testing.T) {
	for _, c := range []struct {
		key  string
		e    Entry
		okay bool
	}{
		{"%d of %d sent", Entry{Text: "%d sur %d envoyés"}, true},
		{"%s to %s", Entry{Text: "%[2]s depuis %[1]s"}, true},
		{"%s to %s", Entry{Text: "%s vers"}, false},
		{"%d sent", Entry{Text: "%s envoyés"}, false},
		{"100%% sure %s", Entry{Text: "sûr à 100 %% %s"}, true},
		{"%d items", Entry{Plural: map[string]string{"one": "un article", "other": "%d articles"}}, true},
		{"%d items", Entry{Plural: map[string]string{"one": "%d article", "other": "articles"}}, false},
		{"%d items", Entry{Plural: map[string]string{"one": "%s article", "other": "%d articles"}}, false},
		{"failed: %w", Entry{Text: "échec : %v"}, true},
	} {
		if got := checkEntry(c.key, c.e); (got == "") != c.okay {
			t.Errorf("checkEntry(%q, %+v) = %q, want ok=%v", c.key, c.e, got, c.okay)
		}
	}
}

func TestFormatTime(t *testing.T) {
	at := time.Date(2026, 2, 2, 15, 4, 0, 0, time.UTC)
	for _, c := range []struct{ lang, layout, want string }{
		{EN, "Mon 2 Jan 2006, 15:04 MST", "Mon 2 Feb 2026, 15:04 UTC"},
		{FR, "Mon 2 Jan 2006, 15:04 MST", "lun. 2 févr. 2026, 15:04 UTC"},
		{FR, "Monday 2 January 2006", "lundi 2 février 2026"},
		{FR, "January 2006", "février 2026"},
		{FR, "02/01/2006", "02/02/2026"},
	} {
		if got := FormatTime(c.lang, at, c.layout); got != c.want {
			t.Errorf("FormatTime(%s, %q) = %q, want %q", c.lang, c.layout, got, c.want)
		}
	}
}
