package feeds

import (
	"testing"

	"github.com/rampe/rampe/platform/i18n"
)

// Why a generation ran reads in the reader's language.
func TestRunReasonsReadInTheReadersLanguage(t *testing.T) {
	for reason, fr := range map[string]string{
		"campaign live (campaign 3)": "campagne en ligne (campagne 3)",
		"by ana@shop.example":        "par ana@shop.example",
		"by ana@shop.example (API)":  "par ana@shop.example (API)",
		"catalog changed":            "catalogue modifié",
	} {
		r := &Run{Reason: reason}
		if got := r.SayReason().Text(i18n.FR); got != fr {
			t.Errorf("%q: %q, want %q", reason, got, fr)
		}
		if got := r.SayReason().Text(i18n.EN); got != reason {
			t.Errorf("%q in English: %q", reason, got)
		}
	}
}
