package web

import (
	"errors"
	"strings"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
	"github.com/rampe/rampe/platform/validation"
)

// campaignLabels are the campaign form's labels of the fields that are not
// per channel, by field key; the form and its error summary use the same.
var campaignLabels = map[string]string{
	"name": i18n.Key("Name"), "description": i18n.Key("Description"), "starts_at": i18n.Key("Starts"), "ends_at": i18n.Key("Ends"), "time_zone": i18n.Key("Time zone"),
	"currency": i18n.Key("Currency"), "landing_page_id": i18n.Key("Landing page"), "promotion_ids": i18n.Key("Promotions"), "feed_ids": i18n.Key("Comparator feeds"),
	"channels": i18n.Key("Channels"),
}

// Messages of the campaign form, in one place (for translation).
var (
	msgFixFields   = i18n.M("Please fix the fields below; nothing was saved:")
	msgBudgetLabel = "%s budget"
)

// fieldLabel names a campaign field as the form labels it: "starts_at" →
// "Starts", "budgets.email" → "E-mailing budget",
// "forecast.email.open_rate" → "E-mailing: Open rate (22 % or 0.22)".
func fieldLabel(key string) i18n.Message {
	if l, ok := campaignLabels[key]; ok {
		return i18n.M(l)
	}
	parts := strings.Split(key, ".")
	if len(parts) < 2 {
		return i18n.M(key)
	}
	ch, ok := campaigns.ParseChannel(parts[1])
	if !ok {
		return i18n.M(key)
	}
	switch {
	case parts[0] == "budgets" && len(parts) == 2:
		return i18n.M(msgBudgetLabel, i18n.M(ch.Label()))
	case parts[0] == "forecast" && len(parts) == 3:
		for _, f := range campaigns.ForecastFields[ch] {
			if f.Key == parts[2] {
				return i18n.M("%s: %s", i18n.M(ch.Label()), i18n.M(f.Label))
			}
		}
	}
	return i18n.M(key)
}

// promotionLabels are the promotion form's labels by field key.
var promotionLabels = map[string]string{
	"name": i18n.Key("Name"), "kind": i18n.Key("Kind"), "value": i18n.Key("Value"), "currency": i18n.Key("Currency"), "scope": i18n.Key("Scope"), "scope_value": i18n.Key("SKUs, brand or product type"),
	"starts_at": i18n.Key("Starts"), "ends_at": i18n.Key("Ends"), "time_zone": i18n.Key("Time zone"), "code": i18n.Key("Promo code"),
}

// labelsOf names a form's errors by the labels of its form.
func labelsOf(errs []campaigns.FieldError, labels map[string]string) []labelled {
	out := make([]labelled, len(errs))
	for i, e := range errs {
		l, ok := labels[e.Field]
		if !ok {
			l = e.Field
		}
		out[i] = labelled{i18n.M(l), e}
	}
	return out
}

// labelled are a form's errors named by their labels, for the summary at
// the top of the form.
type labelled struct {
	Label i18n.Message
	Msg   validation.FieldError
}

func labelErrors(errs campaigns.ValidationError) []labelled {
	out := make([]labelled, len(errs))
	for i, e := range errs {
		out[i] = labelled{fieldLabel(e.Field), e}
	}
	return out
}

// parseForecast reads a forecast input as typed: a rate (a field whose
// range ends at 1) as "22 %" or "0.22", any other as "150 000" or "2,5".
func parseForecast(f campaigns.ForecastField, raw string) (float64, error) {
	if f.Max == 1 {
		return money.ParseRate(raw)
	}
	return money.ParseNumber(raw)
}

// isEmpty tells a blank input apart from a wrong one.
func isEmpty(err error) bool { return errors.Is(err, money.ErrEmpty) }

// fieldErr names the field err is about, keeping err's translations (an
// i18n.Errorf error is written in the reader's language).
func fieldErr(field string, err error) validation.FieldError {
	return validation.FieldError{Field: field, Msg: err.Error(), Message: i18n.M("%v", err)}
}
