package campaigns

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestDuplicateKeepsThePlanAsAFutureDraft(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := newService(t, time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC))
	src, err := s.Create(ctx, Input{Name: "Soldes", Channels: []string{"email"}, TimeZone: "Europe/Paris",
		StartsAt: "2026-11-02T08:00", EndsAt: "2026-11-04T20:00", Budgets: map[string]int64{"email": 500},
		Forecast: map[string]map[string]float64{"email": {"audience": 1000, "open_rate": 0.2, "click_rate": 0.1}}, PromotionIDs: []uint64{7}}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	cp, err := s.Duplicate(ctx, src.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, cp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Copy of Soldes" || got.Status != Draft || got.CreatedBy != "bob" || got.Budgets[Email] != 500 ||
		got.Forecast[Email]["audience"] != 1000 || len(got.PromotionIDs) != 1 || got.PromotionIDs[0] != 7 {
		t.Fatalf("copy: %+v", got)
	}
	// Three weeks later, same weekday and local hours, across the end of
	// summer time already passed.
	if ls := got.LocalStart().Format("Mon 2006-01-02 15:04"); ls != "Mon 2026-11-23 08:00" {
		t.Fatalf("start %s", ls)
	}
	if d := got.EndsAt.Sub(got.StartsAt); d != src.EndsAt.Sub(src.StartsAt) {
		t.Fatalf("length %v", d)
	}
	if cp2, _ := s.Duplicate(ctx, cp.ID, "bob"); !cp2.StartsAt.Equal(cp.StartsAt) {
		t.Fatalf("a future window is kept: %v", cp2.StartsAt)
	}
	if n := copyName("en", strings.Repeat("é", 200)); len([]rune(n)) != 200 {
		t.Fatalf("long name: %d", len([]rune(n)))
	}
	// Duplicated from a French page, the copy is named in French.
	if fr, err := s.DuplicateIn(ctx, src.ID, "bob", "fr"); err != nil || fr.Name != "Copie de Soldes" {
		t.Fatalf("French copy: %v %+v", err, fr)
	}
}
