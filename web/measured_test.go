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
	want := "a_nil=none · b_ptr=none · c_at=Thu 12 Nov 2026, 20:00 CET · d_text=Thu 12 Nov 2026, 20:00 CET · e_list=none · f_ids=3, 4 · g_rate=12.5 · h_empty=none"
	if got != want {
		t.Fatalf("measured =\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "<nil>") {
		t.Fatal("<nil> shown")
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
