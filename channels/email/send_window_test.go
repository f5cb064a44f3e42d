package email

import (
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/i18n"
)

// A send planned outside its campaign's window is refused naming the
// window, its dates as the reader writes them: the page that shows the
// error in French reads "dim. 20 déc. 2026, 10:00 CET", never the English
// day and month names.
func TestSendOutsideTheWindowNamesItInTheReadersLanguage(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	starts := time.Date(2026, 12, 20, 10, 0, 0, 0, loc)
	at := starts.AddDate(1, 0, 0)
	err := checkSend(&SendInput{Label: "Relance", At: &at}, starts, starts.AddDate(0, 0, 7), loc)
	if err == nil {
		t.Fatal("a send a year after the end was accepted")
	}
	fr := i18n.Text(i18n.FR, err)
	for _, want := range []string{"dim. 20 déc. 2026, 10:00 CET", "dim. 27 déc. 2026, 10:00 CET"} {
		if !strings.Contains(fr, want) {
			t.Errorf("French %q lacks %q", fr, want)
		}
	}
	if strings.Contains(fr, "Sun") || strings.Contains(fr, "Dec") {
		t.Errorf("French %q has English dates", fr)
	}
	if en := i18n.Text(i18n.EN, err); !strings.Contains(en, "Sun 20 Dec 2026, 10:00 CET → Sun 27 Dec 2026, 10:00 CET") {
		t.Errorf("English %q", en)
	}
}
