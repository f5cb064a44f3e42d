package email

import (
	"strings"
	"testing"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// Why a send goes at its rate reads in the reader's language, its numbers
// as that language writes them; the stored English is unchanged.
func TestSendRateReasonReadsInTheReadersLanguage(t *testing.T) {
	c := &campaigns.Campaign{ChannelList: ",email,", Forecast: map[campaigns.Channel]map[string]float64{campaigns.Email: {"open_rate": 0.5, "click_rate": 0.4}}}
	_, why := capacityRate(c, Headroom{Sustained: 27, Safety: 1.5, Others: 11.9, CheckID: 2}, 10)
	if why != "check #2 sustained 27 req/s ÷ 1.5, minus 11.9 req/s of overlapping campaigns, leaves 6.1 req/s: the page takes the whole send at once" {
		t.Fatalf("stored English: %q", why)
	}
	sd := Send{RateReason: why}
	if got := sd.SayRate().Text(i18n.EN); got != why {
		t.Errorf("en: %q", got)
	}
	fr := sd.SayRate().Text(i18n.FR)
	if !strings.HasPrefix(fr, "le test n° 2 a tenu 27 req/s ÷ 1,5, moins 11,9 req/s des campagnes simultanées, il reste 6,1 req/s : la page absorbe") {
		t.Errorf("fr: %q", fr)
	}
	if got := (Send{RateReason: rateNone}).SayRate().Text(i18n.FR); got != "aucun plafond : ni test de charge ni email.max_rate" {
		t.Errorf("fr, no cap: %q", got)
	}
}
