// Package money parses and formats amounts in integer minor units of an ISO
// 4217 currency. Money never goes through a float.
package money

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Valid tells whether code is an ISO 4217 currency code.
func Valid(code string) bool {
	_, err := currency.ParseISO(code)
	return err == nil && len(code) == 3
}

// Exponent returns the number of minor-unit digits of an ISO 4217 currency.
func Exponent(code string) int {
	unit, err := currency.ParseISO(code)
	if err != nil {
		return 2
	}
	scale, _ := currency.Standard.Rounding(unit)
	return scale
}

// Format renders minor units as a decimal amount with the currency code.
func Format(minor int64, cur string) string {
	exp := Exponent(cur)
	neg := minor < 0
	if neg {
		minor = -minor
	}
	div := int64(math.Pow10(exp))
	whole := strconv.FormatInt(minor/div, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if exp > 0 {
		out += fmt.Sprintf(".%0*d", exp, minor%div)
	}
	if neg {
		out = "-" + out
	}
	return out + " " + cur
}

// Plain renders minor units as a plain decimal for form fields.
func Plain(minor int64, cur string) string {
	return string(AppendPlain(nil, minor, Exponent(cur)))
}

// AppendPlain appends minor units as a plain decimal with exp digits after
// the point ("1234.50" for 123450 and 2): Plain without its allocations, for
// the million prices of a feed.
func AppendPlain(dst []byte, minor int64, exp int) []byte {
	u := uint64(minor)
	if minor < 0 {
		dst = append(dst, '-')
		u = uint64(-minor)
	}
	if exp <= 0 {
		return strconv.AppendUint(dst, u, 10)
	}
	div := uint64(1)
	for range exp {
		div *= 10
	}
	dst = strconv.AppendUint(dst, u/div, 10)
	dst = append(dst, '.')
	var tmp [20]byte
	frac := strconv.AppendUint(tmp[:0], u%div, 10)
	for i := len(frac); i < exp; i++ {
		dst = append(dst, '0')
	}
	return append(dst, frac...)
}

// FormatIn writes an amount as lang writes it: "€1,500.00" in English,
// "1 500,00 €" in French (narrow no-break space between thousands, no-break
// space before the symbol); the currency's symbol as that language knows it
// ("$US" in French), its code when it has none.
func FormatIn(lang string, minor int64, cur string) string {
	exp := Exponent(cur)
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-minor)
	}
	div := uint64(1)
	for range exp {
		div *= 10
	}
	group, point := ",", "."
	if lang == "fr" {
		group, point = "\u202f", ","
	}
	whole := strconv.FormatUint(u/div, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	sym := symbol(lang, cur)
	// "CHF 1.00" but "€1.00": a symbol ending in a letter takes a space.
	r, _ := utf8.DecodeLastRuneInString(sym)
	letters := unicode.IsLetter(r)
	if lang != "fr" {
		b.WriteString(sym)
		if letters {
			b.WriteByte(' ')
		}
	}
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteByte(whole[i])
	}
	if exp > 0 {
		fmt.Fprintf(&b, "%s%0*d", point, exp, u%div)
	}
	if lang == "fr" {
		b.WriteString("\u00a0" + sym)
	}
	return b.String()
}

// symbol is the currency's symbol in lang, its code when unknown.
func symbol(lang, cur string) string {
	unit, err := currency.ParseISO(cur)
	if err != nil {
		return cur
	}
	tag := language.English
	if lang == "fr" {
		tag = language.French
	}
	return message.NewPrinter(tag).Sprint(currency.Symbol(unit))
}

// Amount is an amount to write in a message (i18n.M): each language writes
// it its own way ("€126.31", "126,31 €").
type Amount struct {
	Minor    int64
	Currency string
}

// Text writes the amount in lang.
func (a Amount) Text(lang string) string { return FormatIn(lang, a.Minor, a.Currency) }

// String is the English text.
func (a Amount) String() string { return FormatIn("en", a.Minor, a.Currency) }
