package affiliation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// More commissions than a page of EachLedger, several at one instant (the
// keyset's tie on the order time): the export holds every one, once, newest
// first, and a filter still applies.
func TestExportLedgerHoldsEveryCommission(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	n := ledgerPage*2 + 37
	seedLedger(t, s, n)
	var out strings.Builder
	if err := s.ExportLedger(ctx, &out, LedgerFilter{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != n+1 || lines[0] != strings.Join(ledgerHeader, ",") {
		t.Fatalf("%d lines for %d commissions; first %q", len(lines), n, lines[0])
	}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		order := strings.SplitN(l, ",", 2)[0]
		if seen[order] {
			t.Fatalf("%s exported twice", order)
		}
		seen[order] = true
	}
	if !strings.HasPrefix(lines[1], fmt.Sprintf("CMD-%05d,", n-1)) {
		t.Fatalf("newest first: %q", lines[1])
	}
	out.Reset()
	s.ExportLedger(ctx, &out, LedgerFilter{Status: CommissionApproved})
	if got := strings.Count(out.String(), "\n") - 1; got != (n+1)/2 {
		t.Fatalf("approved only: %d lines, want %d", got, (n+1)/2)
	}
}

// seedLedger stores n approved or pending commissions of one partner,
// three orders a minute (ties on the order time), order CMD-i at minute
// i/3: CMD-(n-1) is the newest.
func seedLedger(t *testing.T, s *Service, n int) {
	t.Helper()
	p, err := s.CreatePartner(context.Background(), good())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	convs := make([]Conversion, n)
	for i := range convs {
		convs[i] = Conversion{OrderID: fmt.Sprintf("CMD-%05d", i), Amount: 10000, Currency: "EUR", Status: "approved", PartnerID: p.ID, CampaignID: 7,
			At: at.Add(time.Duration(i/3) * time.Minute), Source: "api", CreatedAt: at, UpdatedAt: at}
	}
	if err := s.DB.CreateInBatches(convs, 200).Error; err != nil {
		t.Fatal(err)
	}
	coms := make([]Commission, n)
	for i, c := range convs {
		status := CommissionPending
		if i%2 == 0 {
			status = CommissionApproved
		}
		coms[i] = Commission{ConversionID: c.ID, PartnerID: p.ID, Amount: 800, Currency: "EUR", Status: status, ApproveAfter: at, UpdatedAt: at}
	}
	if err := s.DB.CreateInBatches(coms, 200).Error; err != nil {
		t.Fatal(err)
	}
}

// Page after page by keyset, the ledger holds every commission once,
// newest first, ties on the order time included, with a filter too; a
// page asked after a conversion without commission is ErrNoSuchLine.
func TestLedgerPagesThroughEveryCommission(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	n := 250
	seedLedger(t, s, n)
	for _, tc := range []struct {
		f    LedgerFilter
		want int
	}{{LedgerFilter{}, n}, {LedgerFilter{Status: CommissionApproved}, (n + 1) / 2}} {
		seen := map[string]bool{}
		var after uint64
		pages := 0
		for {
			lines, more, err := s.LedgerPage(ctx, tc.f, after, 40)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, l := range lines {
				if seen[l.OrderID] {
					t.Fatalf("%s twice", l.OrderID)
				}
				seen[l.OrderID] = true
			}
			if pages == 1 && lines[0].OrderID != fmt.Sprintf("CMD-%05d", n-1) && tc.f.Status == "" {
				t.Fatalf("newest first: %s", lines[0].OrderID)
			}
			if !more {
				if len(lines) == 40 && len(seen) != tc.want {
					t.Fatalf("a full last page without more")
				}
				break
			}
			after = lines[len(lines)-1].ConversionID
		}
		if len(seen) != tc.want || pages != (tc.want+39)/40 {
			t.Fatalf("%+v: %d lines in %d pages, want %d", tc.f, len(seen), pages, tc.want)
		}
	}
	if _, _, err := s.LedgerPage(ctx, LedgerFilter{}, 999999, 40); !errors.Is(err, ErrNoSuchLine) {
		t.Fatalf("after an unknown conversion: %v", err)
	}
}
