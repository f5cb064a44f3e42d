// Package validation is the shape every domain gives its input errors: a
// list of fields, each with a sentence saying what is wrong, so that forms
// show each message beside its field and the API names the field.
package validation

import (
	"fmt"
	"strings"

	"github.com/rampe/rampe/platform/i18n"
)

// FieldError names the field that is wrong. Msg is the English sentence
// (the API's and the logs'); Message, when set, writes it in the reader's
// language.
type FieldError struct {
	Field   string       `json:"field"`
	Msg     string       `json:"message"`
	Message i18n.Message `json:"-"`
}

// Fieldf builds a field error from an English fmt format, the catalog key
// of its translations (platform/i18n).
func Fieldf(field, format string, args ...any) FieldError {
	return FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Message: i18n.M(format, args...)}
}

// Field is Fieldf as a pointer, the error a domain function returns for
// one wrong field (errors.As(err, &fe) with fe *FieldError).
func Field(field, format string, args ...any) *FieldError {
	e := Fieldf(field, format, args...)
	return &e
}

// Text writes the message in lang.
func (e FieldError) Text(lang string) string {
	if e.Message.Format == "" {
		return e.Msg
	}
	return e.Message.Text(lang)
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// Errors lists every wrong field of one input.
type Errors []FieldError

func (v Errors) Error() string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = f.Error()
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Text writes every wrong field in lang, for a page that shows the list
// whole.
func (v Errors) Text(lang string) string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = f.Field + ": " + f.Text(lang)
	}
	return strings.Join(parts, "; ")
}

// Msg is the message for a field as a form shows it (write it with the
// template function text), nil when the field is fine.
func (v Errors) Msg(field string) any {
	for _, f := range v {
		if f.Field == field {
			if f.Message.Format == "" {
				return f.Msg
			}
			return f.Message
		}
	}
	return nil
}

// For returns the message for a field, for forms ("" when it is fine).
func (v Errors) For(field string) string {
	for _, f := range v {
		if f.Field == field {
			return f.Msg
		}
	}
	return ""
}

// Under is the messages of a field and of its parts ("alternates" covers
// "alternates.2"), each named by its field, in the reader's language (nil
// when all are fine), for a form that shows a list's errors together.
func (v Errors) Under(field string) any {
	var items []any
	for _, f := range v {
		if f.Field == field || strings.HasPrefix(f.Field, field+".") {
			items = append(items, i18n.M("%s: %s", f.Field, f))
		}
	}
	if len(items) == 0 {
		return nil
	}
	return i18n.Join{Parts: items, Sep: "; "}
}
