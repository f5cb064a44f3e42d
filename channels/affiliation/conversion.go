package affiliation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"

	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/platform/money"
	"github.com/rampe/rampe/platform/validation"
)

// Conversion states.
const (
	ConversionConfirmed = "confirmed"
	ConversionRefunded  = "refunded"
	ConversionCancelled = "cancelled"
)

// Conversion is an order of the shop, attributed to a partner or not.
type Conversion struct {
	ID           uint64 `gorm:"primaryKey"`
	OrderID      string
	Amount       int64 // net amount, minor units
	Currency     string
	Items        string // JSON of []Item
	ClickID      string
	Code         string
	At           time.Time
	Status       string
	PartnerID    uint64
	CampaignID   uint64
	AttributedBy string // "click", "code" or "" (not attributed)
	Source       string // "api" or "pixel"
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Item is one line of an order.
type Item struct {
	SKU         string `json:"sku"`
	ProductType string `json:"product_type"`
	Quantity    int    `json:"quantity"`
	Amount      int64  `json:"amount"` // the line's net amount, minor units
}

// ConversionInput is what the shop posts (API) or its pixel carries.
type ConversionInput struct {
	OrderID  string   `json:"order_id"`
	Amount   int64    `json:"amount"`
	Currency string   `json:"currency"`
	Items    []Item   `json:"items"`
	ClickID  string   `json:"click_id"`
	ClickIDs []string `json:"click_ids"` // every click id the visitor's cookie holds, any order
	Code     string   `json:"code"`
	At       string   `json:"at"`     // RFC 3339; empty: now
	Status   string   `json:"status"` // "", confirmed, refunded or cancelled
}

// MaxAmount bounds an order (minor units): above, it is a mistake.
const MaxAmount = 1_000_000_000_00

func (in *ConversionInput) validate(now time.Time) (*Conversion, []string, error) {
	var errs validation.Errors
	add := func(f, format string, args ...any) {
		errs = append(errs, validation.Fieldf(f, format, args...))
	}
	c := &Conversion{OrderID: strings.TrimSpace(in.OrderID), Amount: in.Amount, Currency: strings.ToUpper(strings.TrimSpace(in.Currency)),
		Code: strings.TrimSpace(in.Code), Status: strings.ToLower(strings.TrimSpace(in.Status)), At: now}
	if c.OrderID == "" || len(c.OrderID) > 100 || strings.IndexFunc(c.OrderID, unicode.IsControl) >= 0 {
		add("order_id", "is required: at most 100 characters, no control characters")
	}
	if c.Amount < 0 || c.Amount > MaxAmount {
		add("amount", "want the order's net amount in minor units (cents), 0 to %d, got %d", int64(MaxAmount), in.Amount)
	}
	if !money.Valid(c.Currency) {
		add("currency", "%q is not an ISO 4217 currency code", in.Currency)
	}
	if c.Status == "" {
		c.Status = ConversionConfirmed
	}
	if c.Status != ConversionConfirmed && c.Status != ConversionRefunded && c.Status != ConversionCancelled {
		add("status", "want confirmed, refunded or cancelled, got %q", in.Status)
	}
	if len(c.Code) > 50 {
		add("code", "at most 50 characters")
	}
	if strings.TrimSpace(in.At) != "" {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(in.At))
		switch {
		case err != nil:
			add("at", "%q is not an RFC 3339 time (2026-12-11T10:00:00+01:00)", in.At)
		case t.After(now.Add(5 * time.Minute)):
			add("at", "%s is in the future", in.At)
		default:
			c.At = t.UTC()
		}
	}
	if len(in.Items) > 1000 {
		add("items", "at most 1,000 lines")
	}
	var sum int64
	for i, it := range in.Items {
		if it.Amount < 0 || it.Amount > MaxAmount || it.Quantity < 0 || it.Quantity > 1_000_000 || len(it.SKU) > 100 || len(it.ProductType) > 500 {
			add(fmt.Sprintf("items[%d]", i), "want sku (≤ 100), product_type, quantity ≥ 0 and amount in minor units ≥ 0")
		}
		sum += it.Amount
	}
	if len(in.Items) > 0 && sum > c.Amount && c.Status == ConversionConfirmed {
		add("items", "the lines add up to %d, more than the order's amount %d", sum, c.Amount)
	}
	ids := in.ClickIDs
	if in.ClickID != "" {
		ids = append([]string{in.ClickID}, ids...)
	}
	if len(ids) > 50 {
		add("click_ids", "at most 50 click ids")
	}
	for _, id := range ids {
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
			add("click_id", "%q is not a click id (32 hex characters, the rampe_click parameter)", id)
			break
		}
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	items, _ := json.Marshal(in.Items)
	c.Items = string(items)
	return c, ids, nil
}

// Attribution says who an order is credited to.
type Attribution struct {
	PartnerID, CampaignID uint64
	By                    string // click, code or ""
	ClickID               string
}

// Attribute applies the rule: the last click (of a person, not a bot)
// within its partner's cookie window before the order wins; without one,
// a partner's promo code wins; else nobody. A click after the order, or
// older than its partner's window, does not count. The clicks are read
// from the database once every node has written them (clicksOf).
func (s *Service) Attribute(ctx context.Context, clickIDs []string, code string, at time.Time) (Attribution, error) {
	if len(clickIDs) > 0 {
		all, err := s.clicksOf(ctx, clickIDs)
		if err != nil {
			return Attribution{}, err
		}
		cl := all[:0:0]
		for _, c := range all {
			if c.PartnerID != 0 && c.UAClass != clicks.BotClass {
				cl = append(cl, c)
			}
		}
		sort.SliceStable(cl, func(i, j int) bool { return cl[i].At.After(cl[j].At) })
		for _, c := range cl {
			if c.At.After(at) {
				continue
			}
			p, err := s.Partner(ctx, c.PartnerID)
			if err != nil {
				continue
			}
			if at.Sub(c.At) > time.Duration(p.CookieDays)*24*time.Hour {
				continue
			}
			var l clicks.Link
			if err := s.DB.WithContext(ctx).Take(&l, c.LinkID).Error; err != nil {
				return Attribution{}, err
			}
			return Attribution{PartnerID: p.ID, CampaignID: l.CampaignID, By: "click", ClickID: c.ClickID}, nil
		}
	}
	if code != "" {
		var m Member
		err := s.DB.WithContext(ctx).Where("LOWER(code) = LOWER(?) AND code <> ''", code).Take(&m).Error
		if err == nil {
			return Attribution{PartnerID: m.PartnerID, CampaignID: m.CampaignID, By: "code"}, nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return Attribution{}, err
		}
	}
	return Attribution{}, nil
}

// clicksOf reads the clicks of the ids given, bots' included. A node
// writes its clicks a moment after they happen (clicks.Settle at most, in
// batches); this node's are written first, and a click made on another
// node may not be in the database yet. A click id carries the time it was
// made: while one of the ids asked for is missing and younger than
// clicks.Settle, the database is read again, every settlePoll, until it
// appears or is older than that — an order within seconds of its click,
// on whichever node, is attributed as if the clicks were written at once.
// Ids older than that, or not made by Rampe, are not waited for.
func (s *Service) clicksOf(ctx context.Context, ids []string) ([]clicks.Click, error) {
	if err := s.Links.Flush(ctx); err != nil {
		return nil, err
	}
	var wait *time.Timer
	for {
		var cl []clicks.Click
		if err := s.DB.WithContext(ctx).Where("click_id IN ?", ids).Find(&cl).Error; err != nil {
			return nil, err
		}
		left := unsettled(ids, cl, s.now())
		if left <= 0 {
			return cl, nil
		}
		if wait == nil {
			wait = time.NewTimer(left) // real time: s.Clock may be a test's fixed clock
			defer wait.Stop()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wait.C:
			return cl, nil
		case <-time.After(settlePoll):
		}
	}
}

// settlePoll is how often attribution reads again the clicks it waits for.
const settlePoll = 100 * time.Millisecond

// unsettled is how long the ids missing from found may still take to be
// written (0: none is missing, or all are older than clicks.Settle).
func unsettled(ids []string, found []clicks.Click, now time.Time) time.Duration {
	have := make(map[string]bool, len(found))
	for _, c := range found {
		have[c.ClickID] = true
	}
	var left time.Duration
	for _, id := range ids {
		made, ok := clicks.IssuedAt(id)
		if !ok || have[id] {
			continue
		}
		if d := made.Add(clicks.Settle).Sub(now); d > left && d <= clicks.Settle+clicks.Skew {
			left = d
		}
	}
	return left
}

// RecordConversion stores an order, idempotently by order id: the same
// order posted again changes nothing; a refund or a cancel (or a new
// amount) updates it and its commission. It returns the conversion and
// whether it was created.
func (s *Service) RecordConversion(ctx context.Context, in ConversionInput, source string) (*Conversion, bool, error) {
	now := s.now()
	c, ids, err := in.validate(now)
	if err != nil {
		return nil, false, err
	}
	c.Source = source
	// Attribution reads clicks and partners before the transaction: a new
	// order needs it, and the transaction stays short.
	var exists int64
	if err := s.DB.WithContext(ctx).Model(&Conversion{}).Where("order_id = ?", c.OrderID).Count(&exists).Error; err != nil {
		return nil, false, err
	}
	var partner *Partner
	if exists == 0 {
		a, err := s.Attribute(ctx, ids, c.Code, c.At)
		if err != nil {
			return nil, false, err
		}
		c.PartnerID, c.CampaignID, c.AttributedBy, c.ClickID = a.PartnerID, a.CampaignID, a.By, a.ClickID
		if c.ClickID == "" && len(ids) > 0 {
			c.ClickID = ids[0]
		}
		if a.PartnerID != 0 {
			if partner, err = s.Partner(ctx, a.PartnerID); err != nil {
				return nil, false, err
			}
		}
	}
	var created, changed bool
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old Conversion
		err := tx.Where("order_id = ?", c.OrderID).Take(&old).Error
		switch {
		case err == nil:
			if old.Status == c.Status && old.Amount == c.Amount {
				*c = old
				return nil
			}
			if old.Currency != c.Currency {
				return validation.Errors{validation.Fieldf("currency", "order %s was recorded in %s", c.OrderID, old.Currency)}
			}
			old.Status, old.Amount, old.UpdatedAt = c.Status, c.Amount, now
			if c.Items != "[]" && c.Items != "null" {
				old.Items = c.Items
			}
			*c, changed = old, true
			if err := tx.Save(c).Error; err != nil {
				return err
			}
			return s.updateCommission(tx, c, now)
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		case exists > 0 || (c.PartnerID != 0 && partner == nil):
			return errors.New("affiliation: the order changed while being recorded; post it again")
		}
		c.CreatedAt, c.UpdatedAt = now, now
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		created = true
		return s.createCommission(tx, c, partner, now)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) { // the same order posted twice at once: the other one recorded it
		var cur Conversion
		if s.DB.WithContext(ctx).Where("order_id = ?", c.OrderID).Take(&cur).Error == nil {
			return &cur, false, nil
		}
	}
	if err != nil {
		return nil, false, err
	}
	if (created || changed) && c.PartnerID != 0 && s.Postbacks != nil {
		s.Postbacks(ctx, c)
	}
	return c, created, nil
}

// Conversion reads one conversion.
func (s *Service) Conversion(ctx context.Context, id uint64) (*Conversion, error) {
	var c Conversion
	if err := s.DB.WithContext(ctx).Take(&c, id).Error; err != nil {
		return nil, ErrNotFound
	}
	return &c, nil
}

// Conversions lists a campaign's conversions, newest first.
func (s *Service) Conversions(ctx context.Context, campaignID uint64, limit int) ([]Conversion, error) {
	var out []Conversion
	err := s.DB.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, err
}
