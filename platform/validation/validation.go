// Package validation is the shape every domain gives its input errors: a
// list of fields, each with a sentence saying what is wrong, so that forms
// show each message beside its field and the API names the field.
package validation

import "strings"

// FieldError names the field that is wrong.
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"message"`
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

// For returns the message for a field, for forms ("" when it is fine).
func (v Errors) For(field string) string {
	for _, f := range v {
		if f.Field == field {
			return f.Msg
		}
	}
	return ""
}
