package money

import (
	"github.com/rampe/rampe/platform/i18n"

	"errors"
	"strconv"
	"strings"
	"unicode"
)

// The refusals of this file, in one place (for translation).
const (
	msgNotAmount   = "%q is not an amount: write it as 1 500,00 or 1,500.00 or 1500 (in %s)"
	msgNegative    = "%q: an amount must not be negative"
	msgTooBig      = "%q is beyond the largest amount supported"
	msgOtherCur    = "%q is in %s, not in %s"
	msgNotNumber   = "%q is not a number: write it as 1 500,5 or 1,500.5 or 1500"
	msgNotRate     = "%q is not a rate: write it as 22 %% or 22%% or 0.22"
	msgRateRange   = "%q: a rate is from 0 %% to 100 %%"
	msgRateNoUnit  = "%q is ambiguous: write 22 %% for twenty-two percent, or 0.22"
	msgNotDecimals = "%q has more decimals than %s has (%d)"
)

// spaces people and spreadsheets put between thousands.
var spaces = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "\u2009", "", "_", "", "'", "")

// symbols of the currencies Rampe's merchants use, and their codes.
var symbols = map[string]string{"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "CHF": "CHF", "Fr.": "CHF"}

// stripCurrency removes a currency sign or code typed before or after the
// amount ("1 500,00 €", "EUR 1500", "€1,500") and returns the code it
// names ("" when none).
func stripCurrency(s string) (rest, code string) {
	s = strings.TrimSpace(s)
	for sym, c := range symbols {
		if t, ok := strings.CutSuffix(s, sym); ok {
			return strings.TrimSpace(t), c
		}
		if t, ok := strings.CutPrefix(s, sym); ok {
			return strings.TrimSpace(t), c
		}
	}
	// An ISO code: three letters at either end.
	if len(s) > 3 {
		if c := s[len(s)-3:]; isCode(c) {
			return strings.TrimSpace(s[:len(s)-3]), strings.ToUpper(c)
		}
		if c := s[:3]; isCode(c) {
			return strings.TrimSpace(s[3:]), strings.ToUpper(c)
		}
	}
	return s, ""
}

func isCode(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) || r > unicode.MaxASCII {
			return false
		}
	}
	return Valid(strings.ToUpper(s))
}

// decimal splits a number typed by a person into its whole digits and its
// decimals, reading "," and "." as either separator. With both, the last
// one is the decimal point ("1.500,00", "1,500.00"). With one kind only, it
// separates thousands when repeated ("1.500.000"), or once with exactly
// three digits after it and a whole part that is not 0 ("1,500", "1.500")
// when maxDecimals < 3 — as shops write prices; otherwise it is the
// decimal point ("2,5", "0,125", "1500.50").
func decimal(s string, maxDecimals int) (whole, frac string, ok bool) {
	s = spaces.Replace(s)
	last := strings.LastIndexAny(s, ".,")
	switch {
	case last < 0:
		whole = s
	case strings.ContainsRune(s[:last], rune(s[last]^('.'^','))): // both kinds
		if strings.ContainsRune(s[:last], rune(s[last])) {
			return "", "", false // "1.2,3.4": no decimal point can be told
		}
		whole, frac = s[:last], s[last+1:]
	default:
		before, after := s[:last], s[last+1:]
		repeated := strings.ContainsRune(before, rune(s[last]))
		zero := strings.Trim(before, "0") == ""
		if repeated || (len(after) == 3 && !zero && maxDecimals < 3) {
			whole = s
		} else {
			whole, frac = before, after
		}
	}
	whole = strings.NewReplacer(",", "", ".", "").Replace(whole)
	if whole == "" && frac != "" {
		whole = "0"
	}
	if whole == "" || !digits(whole) || !digits(frac) {
		return "", "", false
	}
	return whole, frac, true
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Parse turns an amount typed by a person — "1 500,00 €", "1500",
// "1,500.00", "EUR 12.5" — into minor units of cur. A currency sign or code
// other than cur's is refused, as are negative amounts and more decimals
// than the currency has. Money never goes through a float.
func Parse(s, cur string) (int64, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, nil
	}
	rest, code := stripCurrency(in)
	if code != "" && !strings.EqualFold(code, cur) {
		return 0, i18n.Errorf(msgOtherCur, in, code, cur)
	}
	if strings.HasPrefix(rest, "-") {
		return 0, i18n.Errorf(msgNegative, in)
	}
	exp := Exponent(cur)
	whole, frac, ok := decimal(strings.TrimPrefix(rest, "+"), exp)
	if !ok {
		return 0, i18n.Errorf(msgNotAmount, in, cur)
	}
	if len(frac) > exp {
		return 0, i18n.Errorf(msgNotDecimals, in, cur, exp)
	}
	for len(frac) < exp {
		frac += "0"
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 13 {
		return 0, i18n.Errorf(msgTooBig, in)
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil && whole+frac != "" {
		return 0, i18n.Errorf(msgNotAmount, in, cur)
	}
	return n, nil
}

// ErrEmpty is returned by ParseNumber and ParseRate for blank input.
var ErrEmpty = errors.New("money: empty")

// ParseNumber reads a count or measure typed by a person: "150 000",
// "1,500.5", "1 500,5", "2.5", "2,5". It is for forecasts and rates, not
// money (see Parse).
func ParseNumber(s string) (float64, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, ErrEmpty
	}
	neg := strings.HasPrefix(in, "-")
	whole, frac, ok := decimal(strings.TrimPrefix(in, "-"), 2)
	if !ok {
		return 0, i18n.Errorf(msgNotNumber, in)
	}
	txt := whole
	if frac != "" {
		txt += "." + frac
	}
	v, err := strconv.ParseFloat(txt, 64)
	if err != nil {
		return 0, i18n.Errorf(msgNotNumber, in)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// ParseRate reads a rate typed as a percentage ("22%", "22 %", "12,5 %")
// or as a fraction ("0.22", "0,22") and returns the fraction (0.22). A bare
// number above 1 ("22") is refused as ambiguous, saying how to write it;
// so is a rate outside 0–100 %.
func ParseRate(s string) (float64, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, ErrEmpty
	}
	num, pct := strings.CutSuffix(in, "%")
	v, err := ParseNumber(num)
	if err != nil {
		return 0, i18n.Errorf(msgNotRate, in)
	}
	if pct {
		v /= 100
	} else if v > 1 {
		return 0, i18n.Errorf(msgRateNoUnit, in)
	}
	if v < 0 || v > 1 {
		return 0, i18n.Errorf(msgRateRange, in)
	}
	return v, nil
}
