package web

import (
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

func TestMeasuredValuesNeverReadNil(t *testing.T) {
	c := &campaigns.Campaign{TimeZone: "Europe/Paris"}
	var none *time.Time
	at := time.Date(2026, 11, 12, 19, 0, 0, 0, time.UTC)
	got := measured(i18n.EN, map[string]any{"a_nil": nil, "b_ptr": none, "c_at": at, "d_text": "2026-11-12T19:00:00Z", "e_list": []string{},
		"f_ids": []any{float64(3), float64(4)}, "g_rate": 12.5, "h_empty": ""}, c)
	want := "a_nil: none · b_ptr: none · c_at: Thu 12 Nov 2026, 20:00 CET · d_text: Thu 12 Nov 2026, 20:00 CET · e_list: none · f_ids: 3, 4 · g_rate: 12.5 · h_empty: none"
	if got != want {
		t.Fatalf("measured =\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "<nil>") {
		t.Fatal("<nil> shown")
	}
}

// The measured values of a gate are named by labels and written as the
// reader's language writes numbers; the sentences the gate's message
// already says show as a count.
func TestMeasuredValuesAreLabelledAndLocalized(t *testing.T) {
	c := &campaigns.Campaign{TimeZone: "Europe/Paris"}
	m := map[string]any{"forecast_peak_rps": 5.2, "needed_rps": 7.9, "peak_campaigns": float64(1500000), "excluded_bounced": float64(200),
		"missing": []any{"Display: forecast impressions missing"}}
	for lang, want := range map[string]string{
		i18n.EN: "left out (bounced): 200 · forecast peak (req/s): 5.2 · channels to set up: 1 · needed (req/s): 7.9 · campaigns at the peak: 1,500,000",
		i18n.FR: "exclus (rejeté) : 200 · pic prévu (req/s) : 5,2 · canaux à configurer : 1 · nécessaire (req/s) : 7,9 · campagnes au pic : 1\u00a0500\u00a0000",
	} {
		if got := measured(lang, m, c); got != want {
			t.Errorf("%s:\n%q\nwant\n%q", lang, got, want)
		}
	}
}

func TestChoicesKeepWhatTheCatalogLacks(t *testing.T) {
	got := choices([]string{"Lumen", "Nordik"}, "Nordik\nMaison\n")
	want := []choice{{"Lumen", false}, {"Nordik", true}, {"Maison", true}}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
}
