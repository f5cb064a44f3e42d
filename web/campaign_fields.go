package web

import (
	"errors"
	"strings"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/money"
)

// campaignLabels are the campaign form's labels of the fields that are not
// per channel, by field key; the form and its error summary use the same.
var campaignLabels = map[string]string{
	"name": "Name", "description": "Description", "starts_at": "Starts", "ends_at": "Ends", "time_zone": "Time zone",
	"currency": "Currency", "landing_page_id": "Landing page", "promotion_ids": "Promotions", "feed_ids": "Comparator feeds",
	"channels": "Channels",
}

// Messages of the campaign form, in one place (for translation).
const (
	msgFixFields   = "Please fix the field(s) below; nothing was saved:"
	msgBudgetLabel = "budget"
)

// fieldLabel names a campaign field as the form labels it: "starts_at" →
// "Starts", "budgets.email" → "E-mailing budget",
// "forecast.email.open_rate" → "E-mailing: Open rate (22 % or 0.22)".
func fieldLabel(key string) string {
	if l, ok := campaignLabels[key]; ok {
		return l
	}
	parts := strings.Split(key, ".")
	if len(parts) < 2 {
		return key
	}
	ch, ok := campaigns.ParseChannel(parts[1])
	if !ok {
		return key
	}
	switch {
	case parts[0] == "budgets" && len(parts) == 2:
		return ch.Label() + " " + msgBudgetLabel
	case parts[0] == "forecast" && len(parts) == 3:
		for _, f := range campaigns.ForecastFields[ch] {
			if f.Key == parts[2] {
				return ch.Label() + ": " + f.Label
			}
		}
	}
	return key
}

// promotionLabels are the promotion form's labels by field key.
var promotionLabels = map[string]string{
	"name": "Name", "kind": "Kind", "value": "Value", "currency": "Currency", "scope": "Scope", "scope_value": "SKUs, brand or product type",
	"starts_at": "Starts", "ends_at": "Ends", "time_zone": "Time zone", "code": "Promo code",
}

// labelsOf names a form's errors by the labels of its form.
func labelsOf(errs []campaigns.FieldError, labels map[string]string) []labelled {
	out := make([]labelled, len(errs))
	for i, e := range errs {
		l, ok := labels[e.Field]
		if !ok {
			l = e.Field
		}
		out[i] = labelled{l, e.Msg}
	}
	return out
}

// labelled are a form's errors named by their labels, for the summary at
// the top of the form.
type labelled struct{ Label, Msg string }

func labelErrors(errs campaigns.ValidationError) []labelled {
	out := make([]labelled, len(errs))
	for i, e := range errs {
		out[i] = labelled{fieldLabel(e.Field), e.Msg}
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
