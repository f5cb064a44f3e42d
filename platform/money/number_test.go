package money

import (
	"errors"
	"strings"
	"testing"
)

// The ways people type amounts, and what each means in minor units.
func TestParseAsTyped(t *testing.T) {
	for _, tc := range []struct {
		in, cur string
		want    int64
		err     string // a part of the refusal, "" when accepted
	}{
		{"1 500,00 €", "EUR", 150000, ""},
		{"1\u202f500,00\u00a0€", "EUR", 150000, ""},
		{"1500", "EUR", 150000, ""},
		{"1,500.00", "EUR", 150000, ""},
		{"1.500,00", "EUR", 150000, ""},
		{"1,500", "EUR", 150000, ""},
		{"1.500", "EUR", 150000, ""},
		{"1.500.000", "EUR", 150000000, ""},
		{"12,5", "EUR", 1250, ""},
		{"0,50", "EUR", 50, ""},
		{".5", "EUR", 50, ""},
		{"€1,500.50", "EUR", 150050, ""},
		{"EUR 99.90", "EUR", 9990, ""},
		{"99.90 eur", "EUR", 9990, ""},
		{"£20", "GBP", 2000, ""},
		{"1500", "JPY", 1500, ""},
		{"1,234.567", "BHD", 1234567, ""},
		{"", "EUR", 0, ""},
		{"1 500,00 $", "EUR", 0, "in USD, not in EUR"},
		{"-3", "EUR", 0, "must not be negative"},
		{"12abc", "EUR", 0, "write it as 1 500,00"},
		{"1,2,3.4.5", "EUR", 0, "write it as"},
		{"9.999", "JPY", 9999, ""},
		{"9.99", "JPY", 0, "more decimals than JPY"},
		{"12.345", "BHD", 12345, ""},
		{"0.001", "EUR", 0, "more decimals than EUR has (2)"},
		{"99999999999999999999", "EUR", 0, "beyond"},
		{"abc", "EUR", 0, "is not an amount"},
	} {
		got, err := Parse(tc.in, tc.cur)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("Parse(%q, %s) = %d, %v; want %d", tc.in, tc.cur, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Parse(%q, %s) = %d, %v; want a refusal saying %q", tc.in, tc.cur, got, err, tc.err)
		}
	}
}

func TestParseRateAsTyped(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  string
	}{
		{"22%", 0.22, ""},
		{"22 %", 0.22, ""},
		{"22\u202f%", 0.22, ""},
		{"0.22", 0.22, ""},
		{"0,22", 0.22, ""},
		{"12,5 %", 0.125, ""},
		{"100 %", 1, ""},
		{"1", 1, ""},
		{"0", 0, ""},
		{"22", 0, "write 22 % for twenty-two percent, or 0.22"},
		{"120 %", 0, "from 0 % to 100 %"},
		{"-5 %", 0, "from 0 % to 100 %"},
		{"abc", 0, "write it as 22 % or 22% or 0.22"},
		{"%", 0, "is not a rate"},
	} {
		got, err := ParseRate(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseRate(%q) = %v, %v; want a refusal saying %q", tc.in, got, err, tc.err)
		}
	}
	if _, err := ParseRate("  "); !errors.Is(err, ErrEmpty) {
		t.Errorf("blank rate: %v, want ErrEmpty", err)
	}
}

func TestParseNumberAsTyped(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		bad  bool
	}{
		{"150 000", 150000, false}, {"150,000", 150000, false}, {"1,500.5", 1500.5, false}, {"1 500,5", 1500.5, false},
		{"2.5", 2.5, false}, {"2,5", 2.5, false}, {"0,125", 0.125, false}, {"4", 4, false}, {"-2", -2, false},
		{"x", 0, true}, {"1e9", 0, true}, {"", 0, true},
	} {
		got, err := ParseNumber(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v bad=%v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}
