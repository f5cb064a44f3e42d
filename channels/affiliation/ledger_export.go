package affiliation

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/rampe/rampe/platform/money"
	"github.com/rampe/rampe/platform/sheet"
)

// ledgerPage is how many lines EachLedger reads at a time.
const ledgerPage = 1000

// ErrNoSuchLine is a page asked for after a conversion that has no line.
var ErrNoSuchLine = errors.New("affiliation: no commission for that conversion")

// ledgerKey is where a page of the ledger starts: after the line of this
// order time and conversion id (newest orders first).
type ledgerKey struct {
	At time.Time
	ID uint64
}

// ledgerPageAfter is at most limit lines a filter keeps after key (nil:
// from the newest).
func (s *Service) ledgerPageAfter(ctx context.Context, f LedgerFilter, key *ledgerKey, limit int) ([]LedgerLine, error) {
	q := s.ledgerQuery(ctx, f).Select("commissions.*, conversions.order_id, conversions.amount AS order_amount, conversions.at, conversions.campaign_id, partners.name AS partner")
	if key != nil {
		q = q.Where("conversions.at < ? OR (conversions.at = ? AND conversions.id < ?)", key.At, key.At, key.ID)
	}
	var page []LedgerLine
	err := q.Order("conversions.at DESC, conversions.id DESC").Limit(limit).Scan(&page).Error
	return page, err
}

// LedgerPage is at most limit lines a filter keeps, newest orders first,
// after the line of conversion afterID (0: from the newest), and whether
// older lines follow: the ledger pages by keyset, however long it is. An
// afterID with no commission is ErrNoSuchLine.
func (s *Service) LedgerPage(ctx context.Context, f LedgerFilter, afterID uint64, limit int) ([]LedgerLine, bool, error) {
	var key *ledgerKey
	if afterID != 0 {
		var at []time.Time
		if err := s.DB.WithContext(ctx).Table("conversions").Joins("JOIN commissions ON commissions.conversion_id = conversions.id").
			Where("conversions.id = ?", afterID).Limit(1).Pluck("conversions.at", &at).Error; err != nil {
			return nil, false, err
		}
		if len(at) == 0 {
			return nil, false, ErrNoSuchLine
		}
		key = &ledgerKey{At: at[0], ID: afterID}
	}
	page, err := s.ledgerPageAfter(ctx, f, key, limit+1)
	if err != nil || len(page) <= limit {
		return page, false, err
	}
	return page[:limit], true, nil
}

// EachLedger hands every line a filter keeps to fn, newest orders first,
// a page at a time (keyset on the order's time and id): an export holds
// every commission, however many, in the memory of one page.
func (s *Service) EachLedger(ctx context.Context, f LedgerFilter, fn func([]LedgerLine) error) error {
	var key *ledgerKey
	for {
		page, err := s.ledgerPageAfter(ctx, f, key, ledgerPage)
		if err != nil {
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
		key = &ledgerKey{At: last.At, ID: last.ConversionID}
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
