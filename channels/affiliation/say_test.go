package affiliation

import (
	"testing"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// What a halt switched, with why, reads in the reader's language on the
// campaign page (the move) and on the Affiliation tab (the plan's note).
func TestSwitchNotesReadInTheReadersLanguage(t *testing.T) {
	note := "3 partner links to the fallback http://shop.example/, 0 codes stopped (paused)"
	if got, want := (&Plan{SwitchNote: note}).SayNote().Text(i18n.FR), "3 liens partenaires vers la page de repli http://shop.example/, 0 codes arrêtés (en pause)"; got != want {
		t.Errorf("note: %q, want %q", got, want)
	}
	if got := (&Plan{SwitchNote: note}).SayNote().Text(i18n.EN); got != note {
		t.Errorf("note en: %q", got)
	}
	mv := campaigns.ChannelMove{Detail: "switched " + note}
	if got, want := mv.Say().Text(i18n.FR), "3 liens partenaires basculés vers la page de repli http://shop.example/, 0 codes arrêtés (en pause)"; got != want {
		t.Errorf("move: %q, want %q", got, want)
	}
}
