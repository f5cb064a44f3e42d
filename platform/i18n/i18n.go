// Package i18n writes Rampe's user-visible texts in English (the default)
// and French. The English text is the key, written as a fmt format
// ("%d campaigns"); French catalogs (locales/fr/AREA.json, one flat JSON
// object per area, embedded) map it to the French format, and a plural entry
// {"one": …, "other": …} is chosen on the format's first integer argument
// (locales/en holds the English plural forms). Domain code builds messages
// with Errorf or M — their Error/String stay English for logs and API
// clients — and the web layer writes them with Text(lang, v). Numbers given
// to a message are written as the language writes them (1,500 / 1 500).
package i18n

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The languages Rampe speaks; EN is the default.
const (
	EN = "en"
	FR = "fr"
)

// Langs lists the supported languages, the default first.
var Langs = []string{EN, FR}

// Names are the languages as their speakers write them (for a language picker).
var Names = map[string]string{EN: "English", FR: "Français"}

var tags = map[string]language.Tag{EN: language.English, FR: language.French}

// Supported reports whether lang is one Rampe speaks.
func Supported(lang string) bool { _, ok := tags[lang]; return ok }

// Message is a user-visible text not yet written in a language: an English
// fmt format (the catalog key) and its arguments.
type Message struct {
	Format string
	Args   []any
}

// M builds a message; it is written in a language by Text.
func M(format string, args ...any) Message { return Message{Format: format, Args: args} }

// String is the English text.
func (m Message) String() string { return Text(EN, m) }

// Text writes the message in lang.
func (m Message) Text(lang string) string { return T(lang, m.Format, m.Args...) }

// Error is an error whose message can be written in every language; its
// Error() is the English text (unlocalised numbers), as logs and API clients
// have always read it. It unwraps to the errors among its arguments (%w).
type Error struct{ Message }

// Errorf is fmt.Errorf for a message users read: the format is the catalog key.
func Errorf(format string, args ...any) error { return &Error{Message{Format: format, Args: args}} }

func (e *Error) Error() string { return fmt.Errorf(e.Format, e.Args...).Error() }

// Unwrap returns the errors among the arguments.
func (e *Error) Unwrap() []error {
	var out []error
	for _, a := range e.Args {
		if err, ok := a.(error); ok {
			out = append(out, err)
		}
	}
	return out
}

// Localizer is anything that writes itself in a language (a Message, an
// Error, a list of field errors…); Text uses it.
type Localizer interface{ Text(lang string) string }

// Text writes v in lang: a Message, an error built by Errorf (found through
// wrapping, so "campaigns: %w" of one shows the user its translated part), a
// Localizer, a string (its translation when it is a key of the catalog, else
// itself, so a campaign's name is shown as typed); any other error or value
// as it prints itself.
func Text(lang string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case Localizer:
		return x.Text(lang)
	case string:
		if _, ok := Catalogs[lang][x]; ok {
			return T(lang, x)
		}
		if _, ok := Catalogs[EN][x]; ok {
			return T(lang, x)
		}
		return x
	case error:
		var l Localizer
		if errors.As(x, &l) {
			return l.Text(lang)
		}
		return x.Error()
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// T writes the format in lang with its arguments; arguments that are
// messages or errors are written in lang too. A key given no argument is a
// plain text, not a format: "Open rate (22 % or 0.22)" is written as is.
func T(lang string, format string, args ...any) string {
	if len(args) == 0 {
		if e, ok := Catalogs[lang][format]; ok && e.Plural == nil {
			return e.Text
		}
		return format
	}
	p := printers[lang]
	if p == nil {
		p = printers[EN]
	}
	copied := false
	for i, a := range args {
		switch a.(type) {
		case Localizer, error:
			if !copied {
				args, copied = append([]any(nil), args...), true
			}
			args[i] = Text(lang, a)
		}
	}
	return p.Sprintf(normalize(format), args...)
}

// normalize makes a key printable: %w (for Error's wrapping) prints as %v.
func normalize(format string) string {
	if !strings.Contains(format, "%w") {
		return format
	}
	return strings.ReplaceAll(format, "%w", "%v")
}

var printers map[string]*message.Printer
