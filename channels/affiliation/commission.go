package affiliation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/lease"
	"github.com/rampe/rampe/platform/money"
	"github.com/rampe/rampe/platform/validation"
)

// Commission states: pending through the return window, then approved
// (or rejected: refund, cancel, fraud), then paid.
const (
	CommissionPending  = "pending"
	CommissionApproved = "approved"
	CommissionRejected = "rejected"
	CommissionPaid     = "paid"
)

// Commission is what a partner earns on a conversion.
type Commission struct {
	ConversionID uint64 `gorm:"primaryKey"`
	PartnerID    uint64
	Amount       int64
	Currency     string
	Status       string
	ApproveAfter time.Time
	DecidedBy    string
	Note         string
	UpdatedAt    time.Time
}

// Compute is a partner's commission on an order: each line at the rule of
// its product type (a percentage of the line's net amount, rounded half
// up), plus the largest fixed amount of the rules met (fixed rules are per
// order, counted once, and only in their own currency). An order without
// lines is one line at the base rule.
func Compute(p *Partner, amount int64, cur string, items []Item) int64 {
	if len(items) == 0 {
		items = []Item{{Amount: amount, Quantity: 1}}
	}
	var pct, fixed int64
	for _, it := range items {
		r := p.RuleFor(it.ProductType)
		switch r.Kind {
		case CommissionPercent:
			pct += (it.Amount*r.Value + 5000) / 10000
		case CommissionFixed:
			if cur == p.Currency && r.Value > fixed {
				fixed = r.Value
			}
		}
	}
	return pct + fixed
}

func (s *Service) createCommission(tx *gorm.DB, c *Conversion, p *Partner, now time.Time) error {
	if p == nil {
		return nil
	}
	var items []Item
	json.Unmarshal([]byte(c.Items), &items)
	cm := Commission{ConversionID: c.ID, PartnerID: p.ID, Amount: Compute(p, c.Amount, c.Currency, items), Currency: c.Currency,
		Status: CommissionPending, ApproveAfter: c.At.Add(s.ReturnWindow), UpdatedAt: now}
	if c.Status != ConversionConfirmed {
		cm.Status, cm.Note = CommissionRejected, "order "+c.Status
	}
	return tx.Create(&cm).Error
}

// updateCommission follows a refund, a cancel or a new amount: a commission
// not yet paid is rejected (refund, cancel) or computed again; a paid one
// keeps its status and says what happened, for the claw-back.
func (s *Service) updateCommission(tx *gorm.DB, c *Conversion, now time.Time) error {
	var cm Commission
	err := tx.Where("conversion_id = ?", c.ID).Take(&cm).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	cm.UpdatedAt = now
	switch {
	case cm.Status == CommissionPaid && c.Status != ConversionConfirmed:
		cm.Note = fmt.Sprintf("order %s after the commission was paid: claim it back", c.Status)
	case c.Status != ConversionConfirmed:
		cm.Status, cm.Note, cm.DecidedBy = CommissionRejected, "order "+c.Status, "shop"
	case cm.Status == CommissionPending || cm.Status == CommissionApproved:
		var p Partner
		if err := tx.Take(&p, cm.PartnerID).Error; err != nil {
			return err
		}
		var items []Item
		json.Unmarshal([]byte(c.Items), &items)
		cm.Amount = Compute(&p, c.Amount, c.Currency, items)
		cm.Note = "amount changed to " + money.Format(c.Amount, c.Currency)
	}
	return tx.Save(&cm).Error
}

// LedgerLine is a commission with its order.
type LedgerLine struct {
	Commission
	OrderID     string
	OrderAmount int64
	At          time.Time
	CampaignID  uint64
	Partner     string
}

// LedgerFilter selects ledger lines; zero values select everything.
type LedgerFilter struct {
	PartnerID  uint64
	CampaignID uint64
	Status     string
	From, To   time.Time // order time, [From, To)
}

// ledgerQuery is the commissions a filter keeps, joined to their
// conversions and partners.
func (s *Service) ledgerQuery(ctx context.Context, f LedgerFilter) *gorm.DB {
	q := s.DB.WithContext(ctx).Table("commissions").
		Joins("JOIN conversions ON conversions.id = commissions.conversion_id").Joins("JOIN partners ON partners.id = commissions.partner_id")
	if f.PartnerID != 0 {
		q = q.Where("commissions.partner_id = ?", f.PartnerID)
	}
	if f.CampaignID != 0 {
		q = q.Where("conversions.campaign_id = ?", f.CampaignID)
	}
	if f.Status != "" {
		q = q.Where("commissions.status = ?", f.Status)
	}
	if !f.From.IsZero() {
		q = q.Where("conversions.at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("conversions.at < ?", f.To)
	}
	return q
}

// Total is the commissions of one status in one currency: amounts in
// different currencies are never added together.
type Total struct {
	Status   string `json:"status"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"` // minor units
	Count    int    `json:"count"`
}

// CommissionStatuses in the order of their life.
var CommissionStatuses = []string{CommissionPending, CommissionApproved, CommissionRejected, CommissionPaid}

// Totals sums every commission the filter keeps (not only a page of
// them) by status and currency, statuses in the order of their life,
// currencies alphabetically.
func (s *Service) Totals(ctx context.Context, f LedgerFilter) ([]Total, error) {
	var out []Total
	err := s.ledgerQuery(ctx, f).Select("commissions.status AS status, commissions.currency AS currency, SUM(commissions.amount) AS amount, COUNT(*) AS count").
		Group("commissions.status, commissions.currency").Scan(&out).Error
	rank := map[string]int{}
	for i, st := range CommissionStatuses {
		rank[st] = i + 1
	}
	sort.Slice(out, func(i, j int) bool {
		if rank[out[i].Status] != rank[out[j].Status] {
			return rank[out[i].Status] < rank[out[j].Status]
		}
		return out[i].Currency < out[j].Currency
	})
	return out, err
}

// Decide moves a commission: approve (a pending one, after its return
// window), reject (pending or approved), pay (an approved one).
func (s *Service) Decide(ctx context.Context, conversionID uint64, action, by, note string) (*Commission, error) {
	var cm Commission
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("conversion_id = ?", conversionID).Take(&cm).Error; err != nil {
			return ErrNotFound
		}
		now := s.now()
		switch action {
		case "approve":
			if cm.Status != CommissionPending {
				return validation.Errors{validation.Fieldf("action", "only a pending commission can be approved; this one is %s", i18n.M(cm.Status))}
			}
			if now.Before(cm.ApproveAfter) {
				return validation.Errors{validation.Fieldf("action", "the return window runs until %s (UTC): approve it after", cm.ApproveAfter.Format("2 Jan 2006 15:04"))}
			}
			cm.Status = CommissionApproved
		case "reject":
			if cm.Status != CommissionPending && cm.Status != CommissionApproved {
				return validation.Errors{validation.Fieldf("action", "only a pending or approved commission can be rejected; this one is %s", i18n.M(cm.Status))}
			}
			cm.Status = CommissionRejected
		case "pay":
			if cm.Status != CommissionApproved {
				return validation.Errors{validation.Fieldf("action", "only an approved commission can be paid; this one is %s", i18n.M(cm.Status))}
			}
			cm.Status = CommissionPaid
		default:
			return validation.Errors{validation.Fieldf("action", "want approve, reject or pay, got %q", action)}
		}
		if len(note) > 500 {
			note = note[:500]
		}
		cm.DecidedBy, cm.UpdatedAt = by, now
		if note != "" {
			cm.Note = note
		}
		return tx.Save(&cm).Error
	})
	if err != nil {
		return nil, err
	}
	if s.Postbacks != nil {
		if c, err := s.Conversion(ctx, conversionID); err == nil {
			s.Postbacks(ctx, c)
		}
	}
	return &cm, nil
}

// ApproveDue approves every pending commission whose return window is
// over; it returns how many.
func (s *Service) ApproveDue(ctx context.Context) (int64, error) {
	res := s.DB.WithContext(ctx).Model(&Commission{}).Where("status = ? AND approve_after <= ?", CommissionPending, s.now()).
		Updates(map[string]any{"status": CommissionApproved, "decided_by": "return window", "updated_at": s.now()})
	return res.RowsAffected, res.Error
}

// RunBackground approves due commissions and sends the kits a plan
// change left unsent (a lost job, an SMTP server that was down) now and
// every interval until ctx ends.
func (s *Service) RunBackground(ctx context.Context, every time.Duration) {
	s.background(ctx)
	lease.Every(ctx, every, s.background)
}

// background is one round of RunBackground.
func (s *Service) background(ctx context.Context) {
	if n, err := s.SendDueKits(ctx); err != nil {
		slog.Warn("affiliation: send due kits", "sent", n, "err", err)
	}
	if n, err := s.requeueStale(ctx, 10*time.Minute); err != nil {
		slog.Warn("affiliation: requeue lost postbacks", "err", err)
	} else if n > 0 {
		slog.Info("affiliation: lost postbacks queued again", "postbacks", n)
	}
	if n, err := s.ApproveDue(ctx); err != nil {
		slog.Warn("affiliation: approve due commissions", "err", err)
	} else if n > 0 {
		slog.Info("affiliation: commissions approved after their return window", "commissions", n)
	}
}
