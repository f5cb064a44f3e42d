package web

import (
	"errors"
	"regexp"
	"strconv"

	"github.com/rampe/rampe/channels/display"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// Domain errors name a field by its key ("from", "max_cpc", "keywords
// line 2"); a page names it by the label its form shows ("From address",
// "Max CPC", "Keywords, line 2"). inputLabels maps the keys of the forms
// whose errors are listed together to their labels (English catalog
// keys); a key with a number is looked up by its words, the number kept.
var inputLabels = map[string]string{
	// e-mail message and sends
	"from":         i18n.Key("From address"),
	"from_name":    i18n.Key("Sender name"),
	"reply_to":     i18n.Key("Reply-to address"),
	"subject":      i18n.Key("Subject"),
	"preheader":    i18n.Key("Preheader"),
	"list_id":      i18n.Key("List"),
	"segment_id":   i18n.Key("Segment"),
	"format":       i18n.Key("Format"),
	"body":         i18n.Key("Body"),
	"proof_to":     i18n.Key("Proof addresses"),
	"label":        i18n.Key("Label"),
	"at":           i18n.Key("When"),
	"local_time":   i18n.Key("Local hour"),
	"utm_source":   "utm_source",
	"utm_campaign": "utm_campaign",
	// search
	"name":         i18n.Key("Name"),
	"max_cpc":      i18n.Key("Max CPC"),
	"headlines":    i18n.Key("Headlines"),
	"descriptions": i18n.Key("Descriptions"),
	// display
	"file":            i18n.Key("Image"),
	"alt":             i18n.Key("Alt text"),
	"click_url":       i18n.Key("Click URL"),
	"rotation_weight": i18n.Key("Rotation weight"),
	"freq_cap":        i18n.Key("Frequency cap"),
	"placements":      i18n.Key("Placements"),
	"size":            i18n.Key("Size"),
	"key":             i18n.Key("Key"),
	"site":            i18n.Key("Site"),
	// affiliation
	"fallback_url": i18n.Key("Fallback URL"),
	"partner_id":   i18n.Key("Partner"),
	"code":         i18n.Key("Code"),
	"promotion_id": i18n.Key("Promotion"),
	"sku":          i18n.Key("SKU"),
	"campaign":     i18n.Key("Campaign"),
	"landing page": i18n.Key("Landing page"),
}

// numberedInputLabels are the labels of fields named with a number.
var numberedInputLabels = map[string]string{
	"keywords line": i18n.Key("Keywords, line %d"),
	"headline":      i18n.Key("Headline %d"),
	"description":   i18n.Key("Description %d"),
	"path":          i18n.Key("Path %d"),
}

var numberedField = regexp.MustCompile(`^(.*) (\d+)$`)

// inputLabel is the label of a field key in lang; the key itself when no
// form labels it.
func inputLabel(lang, field string) string {
	if l, ok := inputLabels[field]; ok {
		return i18n.T(lang, l)
	}
	if m := numberedField.FindStringSubmatch(field); m != nil {
		if l, ok := numberedInputLabels[m[1]]; ok {
			n, _ := strconv.Atoi(m[2])
			return i18n.T(lang, l, n)
		}
	}
	return field
}

// fieldIssue is one field's error: its key and what is wrong.
type fieldIssue struct {
	field string
	msg   any // a Localizer or a string
}

// fieldIssues lists the field errors err holds: a list of field errors,
// one field error (of validation, display or an e-mail template); none
// for any other error.
func fieldIssues(err error) []fieldIssue {
	var ve validation.Errors
	var fe *validation.FieldError
	var de *display.FieldError
	var te *email.TemplateError
	switch {
	case errors.As(err, &ve):
		out := make([]fieldIssue, len(ve))
		for i, f := range ve {
			out[i] = fieldIssue{f.Field, f}
		}
		return out
	case errors.As(err, &fe):
		return []fieldIssue{{fe.Field, *fe}}
	case errors.As(err, &de):
		return []fieldIssue{{de.Field, de.Msg}}
	case errors.As(err, &te):
		return []fieldIssue{{te.Field, te}}
	}
	return nil
}

// labelledErrors is a refused form's errors as a page's banner lists them,
// each named by its field's label ("From address: … ; Subject: required").
// Msg is one field's message alone, to show beside that field.
type labelledErrors struct{ err error }

// Text writes every field's error with its label in lang; an error that
// names no field is written as it is.
func (f labelledErrors) Text(lang string) string {
	issues := fieldIssues(f.err)
	if len(issues) == 0 {
		return i18n.Text(lang, f.err)
	}
	parts := make([]any, len(issues))
	for i, it := range issues {
		parts[i] = i18n.M("%s: %s", inputLabel(lang, it.field), it.msg)
	}
	return i18n.Join{Parts: parts, Sep: "; "}.Text(lang)
}

// Msg is the message of a field (of its numbered parts too: "keywords"
// covers "keywords line 2", each then named by its label), nil when the
// field is fine.
func (f labelledErrors) Msg(field string) any {
	var parts []any
	for _, it := range fieldIssues(f.err) {
		switch {
		case it.field == field:
			parts = append(parts, it.msg)
		case len(it.field) > len(field) && it.field[:len(field)] == field && it.field[len(field)] == ' ':
			parts = append(parts, labelledIssue(it))
		}
	}
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	return i18n.Join{Parts: parts, Sep: "; "}
}

// labelledIssue is an issue written with its field's label.
type labelledIssue fieldIssue

func (l labelledIssue) Text(lang string) string {
	return i18n.T(lang, "%s: %s", inputLabel(lang, l.field), l.msg)
}
