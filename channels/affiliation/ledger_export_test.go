package affiliation

import (
	"context"
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
	p, err := s.CreatePartner(ctx, good())
	if err != nil {
		t.Fatal(err)
	}
	n := ledgerPage*2 + 37
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
