package affiliation

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/rampe/rampe/platform/money"
	"github.com/rampe/rampe/platform/sheet"
)

// ledgerPage is how many lines EachLedger reads at a time.
const ledgerPage = 1000

// EachLedger hands every line a filter keeps to fn, newest orders first,
// a page at a time (keyset on the order's time and id): an export holds
// every commission, however many, in the memory of one page.
func (s *Service) EachLedger(ctx context.Context, f LedgerFilter, fn func([]LedgerLine) error) error {
	var after *LedgerLine
	for {
		q := s.ledgerQuery(ctx, f).Select("commissions.*, conversions.order_id, conversions.amount AS order_amount, conversions.at, conversions.campaign_id, partners.name AS partner")
		if after != nil {
			q = q.Where("conversions.at < ? OR (conversions.at = ? AND conversions.id < ?)", after.At, after.At, after.ConversionID)
		}
		var page []LedgerLine
		if err := q.Order("conversions.at DESC, conversions.id DESC").Limit(ledgerPage).Scan(&page).Error; err != nil {
			return err
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if len(page) < ledgerPage {
			return nil
		}
		last := page[len(page)-1]
		after = &last
	}
}

// ExportLedger writes every line a filter keeps as CSV (ExportCSV's
// columns), streaming.
func (s *Service) ExportLedger(ctx context.Context, w io.Writer, f LedgerFilter) error {
	cw := sheet.NewWriter(w)
	cw.Write(ledgerHeader)
	err := s.EachLedger(ctx, f, func(lines []LedgerLine) error {
		for _, l := range lines {
			cw.Write(ledgerRow(l))
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

var ledgerHeader = []string{"order_id", "date", "amount", "commission", "currency", "status", "partner", "campaign_id"}

func ledgerRow(l LedgerLine) []string {
	return []string{l.OrderID, l.At.UTC().Format(time.RFC3339), money.Plain(l.OrderAmount, l.Currency), money.Plain(l.Amount, l.Currency), l.Currency, l.Status,
		l.Partner, strconv.FormatUint(l.CampaignID, 10)}
}
