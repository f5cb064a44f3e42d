package campaigns

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/i18n"
)

// copyFormat names a duplicated campaign (a catalog key: "Copie de %s" in
// French).
var copyFormat = i18n.Key("Copy of %s")

// Duplicate stores a new draft with the plan of campaign id: channels,
// budgets, forecast, landing page, promotions, feeds, time zone. A window
// that has already started is moved by whole weeks until it starts in the
// future, so that the copy keeps its weekday and hours and can be
// scheduled; the copy has no history, readiness or status reason.
func (s *Service) Duplicate(ctx context.Context, id uint64, actor string) (*Campaign, error) {
	return s.DuplicateIn(ctx, id, actor, i18n.EN)
}

// DuplicateIn is Duplicate, the copy named in lang ("Copie de Soldes").
func (s *Service) DuplicateIn(ctx context.Context, id uint64, actor, lang string) (*Campaign, error) {
	src, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c := &Campaign{Name: copyName(lang, src.Name), Description: src.Description, ChannelList: src.ChannelList, TimeZone: src.TimeZone,
		StartsAt: src.StartsAt, EndsAt: src.EndsAt, Currency: src.Currency, Budgets: src.Budgets, Forecast: src.Forecast,
		LandingPageID: src.LandingPageID, Status: Draft, RetryWhileBlocked: src.RetryWhileBlocked, CreatedBy: actor, CreatedAt: now,
		UpdatedAt: now, PromotionIDs: src.PromotionIDs, FeedIDs: src.FeedIDs}
	if !c.StartsAt.After(now) {
		const week = 7 * 24 * time.Hour
		weeks := now.Sub(c.StartsAt)/week + 1
		// Local dates, not durations: a week across a DST change keeps 08:00.
		loc := c.Location()
		days := int(weeks) * 7
		c.StartsAt = c.StartsAt.In(loc).AddDate(0, 0, days).UTC()
		c.EndsAt = c.EndsAt.In(loc).AddDate(0, 0, days).UTC()
	}
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(c).Error; err != nil {
			return fmt.Errorf("campaigns: duplicate %d: %w", id, err)
		}
		return savePromotions(tx, c)
	})
	return c, err
}

// copyName is "Copy of NAME" in lang, cut to the 200 characters a name
// may have.
func copyName(lang, name string) string {
	n := i18n.T(lang, copyFormat, name)
	for utf8.RuneCountInString(n) > 200 {
		_, size := utf8.DecodeLastRuneInString(n)
		n = n[:len(n)-size]
	}
	return n
}
