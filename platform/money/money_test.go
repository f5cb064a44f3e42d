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
