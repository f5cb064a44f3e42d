package i18n

import (
	"strings"
	"time"
)

// Key marks a string as a catalog key where it is declared (a table of
// labels written later with T or {{t}}), so the missing-key test sees it.
func Key(s string) string { return s }

var (
	frDays       = [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frDaysShort  = [7]string{"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."}
	frMonths     = [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	frMonthShort = [12]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}
)

// nameTokens are the layout elements that write a name, longest first.
var nameTokens = []string{"Monday", "Mon", "January", "Jan"}

// FormatTime is t.Format(layout) with the day and month names in lang
// ("Mon 2 Jan" → "lun. 2 janv."); the rest of the layout is Go's.
func FormatTime(lang string, t time.Time, layout string) string {
	if lang != FR {
		return t.Format(layout)
	}
	var b strings.Builder
	for layout != "" {
		at, tok := len(layout), ""
		for _, k := range nameTokens {
			if i := strings.Index(layout, k); i >= 0 && (i < at || i == at && len(k) > len(tok)) {
				at, tok = i, k
			}
		}
		if at > 0 {
			b.WriteString(t.Format(layout[:at]))
		}
		switch tok {
		case "Monday":
			b.WriteString(frDays[t.Weekday()])
		case "Mon":
			b.WriteString(frDaysShort[t.Weekday()])
		case "January":
			b.WriteString(frMonths[t.Month()-1])
		case "Jan":
			b.WriteString(frMonthShort[t.Month()-1])
		}
		layout = layout[min(len(layout), at+len(tok)):]
	}
	return b.String()
}

// WeekdayName is a day's short name in lang ("Mon", "lun.").
func WeekdayName(lang string, d time.Weekday) string {
	if lang == FR {
		return frDaysShort[d]
	}
	return d.String()[:3]
}
