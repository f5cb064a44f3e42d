// Package money parses and formats amounts in integer minor units of an ISO
// 4217 currency. Money never goes through a float.
package money

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/text/currency"
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
