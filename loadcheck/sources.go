package loadcheck

import (
	"context"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
)

// CampaignSource is what load checks read of the campaigns (a
// *campaigns.Service): a campaign, and the plan's combined forecast over
// a window.
type CampaignSource interface {
	Get(ctx context.Context, id uint64) (*campaigns.Campaign, error)
	PlanCurve(ctx context.Context, from time.Time, hours int) ([]campaigns.HourPoint, error)
}

// PageSource is what load checks read of the landing pages (a
// *landing.Pages): a page, and the published versions whose content is
// that of a version (a check of one counts for all).
type PageSource interface {
	Get(ctx context.Context, id uint64) (*landing.Page, error)
	SameContent(ctx context.Context, versionID uint64) ([]uint64, error)
}
