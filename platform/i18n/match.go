package i18n

import (
	"html/template"

	"golang.org/x/text/language"
)

var matcher = language.NewMatcher([]language.Tag{language.English, language.French})

// Match picks the language to speak: the user's preference when it is one
// Rampe speaks, else the best of the browser's Accept-Language, else EN.
func Match(preference, acceptLanguage string) string {
	if Supported(preference) {
		return preference
	}
	if acceptLanguage == "" {
		return EN
	}
	tag, _ := language.MatchStrings(matcher, acceptLanguage)
	base, _ := tag.Base()
	if Supported(base.String()) {
		return base.String()
	}
	return EN
}

// Funcs are the template functions bound to lang: t writes a key in lang
// ({{t "Campaigns"}}, {{t "%d of %d sent" .Done .Total}}), lang names it
// (for <html lang>), text
// writes a Message, an error or a string in lang (see Text).
func Funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":    func(format string, args ...any) string { return T(lang, format, args...) },
		"lang": func() string { return lang },
		// text writes a message, an error or a title in lang (see Text).
		"text": func(v any) string { return Text(lang, v) },
	}
}
