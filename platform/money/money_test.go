package money

import "testing"

func TestAmounts(t *testing.T) {
	cases := []struct {
		in, cur string
		want    int64
		bad     bool
	}{
		{"1500", "EUR", 150000, false},
		{"1 500,50", "EUR", 150050, false},
		{"1,500.5", "EUR", 150050, false},
		{"0.07", "EUR", 7, false},
		{"1500", "JPY", 1500, false},
		{"-3", "EUR", 0, true},
		{"12abc", "EUR", 0, true},
		{"99999999999999999999", "EUR", 0, true},
	}
	for _, tc := range cases {
		got, err := Parse(tc.in, tc.cur)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("Parse(%q, %s) = %d, %v; want %d, bad=%v", tc.in, tc.cur, got, err, tc.want, tc.bad)
		}
	}
	if s := Format(150050, "EUR"); s != "1\u202f500.50 EUR" {
		t.Errorf("FormatAmount = %q", s)
	}
	for _, tc := range []struct {
		minor int64
		cur   string
		want  string
	}{{7, "EUR", "0.07"}, {0, "EUR", "0.00"}, {123450, "EUR", "1234.50"}, {-150, "EUR", "-1.50"}, {1500, "JPY", "1500"},
		{1234567, "BHD", "1234.567"}, {-9223372036854775808, "JPY", "-9223372036854775808"}} {
		if s := Plain(tc.minor, tc.cur); s != tc.want {
			t.Errorf("Plain(%d, %s) = %q, want %q", tc.minor, tc.cur, s, tc.want)
		}
	}
}

func TestFormatIn(t *testing.T) {
	for _, c := range []struct {
		lang  string
		minor int64
		cur   string
		want  string
	}{
		{"en", 150000, "EUR", "€1,500.00"},
		{"fr", 150000, "EUR", "1\u202f500,00\u00a0€"},
		{"fr", 12631, "EUR", "126,31\u00a0€"},
		{"en", 12631, "EUR", "€126.31"},
		{"en", -5, "EUR", "-€0.05"},
		{"fr", -5, "EUR", "-0,05\u00a0€"},
		{"en", 1234567, "JPY", "¥1,234,567"},
		{"en", 100, "CHF", "CHF 1.00"},
		{"fr", 100, "USD", "1,00\u00a0$US"},
		{"en", 100, "XYZ", "XYZ 1.00"},
	} {
		if got := FormatIn(c.lang, c.minor, c.cur); got != c.want {
			t.Errorf("FormatIn(%s, %d, %s) = %q, want %q", c.lang, c.minor, c.cur, got, c.want)
		}
	}
}
