package search

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
)

// storedAudit is a page's latest audit.
type storedAudit struct {
	PageID    uint64 `gorm:"primaryKey"`
	Slug      string
	CheckedAt time.Time
	Findings  Audit `gorm:"serializer:json"`
}

func (storedAudit) TableName() string { return "seo_audits" }

// AuditPage audits the published version of a page as visitors get it,
// and keeps the result for the page editor. running says a campaign on
// the SEO channel runs on it (noindex then fails).
func (ch *Channel) AuditPage(ctx context.Context, pageID uint64, running bool) (*Audit, error) {
	p, err := ch.Pages.Get(ctx, pageID)
	if err != nil {
		return nil, err
	}
	r, err := ch.Renderer.Get(ctx, p.Slug)
	if errors.Is(err, landing.ErrNotFound) {
		return nil, fmt.Errorf("search: page /l/%s is not published: %w", p.Slug, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	a := ch.Auditor.Audit(ctx, Target{URL: ch.BaseURL + "/l/" + p.Slug, Declared: p.CanonicalURL, HTML: r.HTML, Running: running})
	row := storedAudit{PageID: pageID, Slug: p.Slug, CheckedAt: a.CheckedAt, Findings: *a}
	err = ch.DB.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "page_id"}}, UpdateAll: true}).Create(&row).Error
	return a, err
}

// LatestAudit is the page's last audit (nil when never audited).
func (ch *Channel) LatestAudit(ctx context.Context, pageID uint64) (*Audit, error) {
	var row storedAudit
	err := ch.DB.WithContext(ctx).Take(&row, "page_id = ?", pageID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &row.Findings, nil
}

func pending(err error) campaigns.Result {
	return campaigns.Result{Outcome: campaigns.Pending, Msg: i18n.M("could not tell: %v", err)}
}

// summary lists findings, each in the reader's language.
func summary(fs []Finding) i18n.Join {
	items := make([]any, len(fs))
	for i, f := range fs {
		items[i] = f
	}
	return i18n.Join{Parts: items, Sep: "; "}
}

// pageGate is seo.page: the audit of the campaign's published landing
// page, noindex failing.
func (ch *Channel) pageGate(ctx context.Context, c *campaigns.Campaign, _ time.Time) campaigns.Result {
	if c.LandingPageID == nil {
		return campaigns.Result{Outcome: campaigns.Fail, Msg: i18n.M("the campaign has no landing page to audit")}
	}
	a, err := ch.AuditPage(ctx, *c.LandingPageID, true)
	if errors.Is(err, ErrNotFound) {
		return campaigns.Result{Outcome: campaigns.Fail, Msg: i18n.M("the landing page is not published: nothing for search engines to index")}
	}
	if err != nil {
		return pending(err)
	}
	measured := map[string]any{"links": a.Links, "bytes": a.Bytes, "fails": len(a.Fails()), "warns": len(a.Warns())}
	if f := a.Fails(); len(f) > 0 {
		return campaigns.Result{Outcome: campaigns.Fail, Measured: measured, Msg: summary(f)}
	}
	if w := a.Warns(); len(w) > 0 {
		return campaigns.Result{Outcome: campaigns.Warn, Measured: measured, Msg: summary(w)}
	}
	return campaigns.Result{Outcome: campaigns.Pass, Measured: measured,
		Msg: i18n.M("title, description, h1, canonical, images and %d links check out; %d KB", a.Links, (a.Bytes+1023)>>10)}
}

// adsGate is sea.ads: every ad within its limits once filled with the
// landing page's prices at the campaign's start, no typed price, every
// ad group with keywords and ads, the landing page published.
func (ch *Channel) adsGate(ctx context.Context, c *campaigns.Campaign, _ time.Time) campaigns.Result {
	groups, err := ch.AdGroups(ctx, c.ID)
	if err != nil {
		return pending(err)
	}
	if len(groups) == 0 {
		return campaigns.Result{Outcome: campaigns.Warn, Msg: i18n.M("no ad group: the campaign runs on SEO only; add ad groups on its Search page for paid search")}
	}
	if c.LandingPageID == nil {
		return campaigns.Result{Outcome: campaigns.Fail, Msg: i18n.M("the ads have no landing page to lead to")}
	}
	refs, err := ch.Pages.PublishedRefs(ctx, []uint64{*c.LandingPageID})
	if err != nil {
		return pending(err)
	}
	if len(refs) == 0 {
		return campaigns.Result{Outcome: campaigns.Fail, Msg: i18n.M("the ads' final URL, the landing page, is not published")}
	}
	offer, err := ch.Offers.Offer(ctx, c, c.StartsAt)
	if err != nil {
		return pending(err)
	}
	prices := PricesOf(offer)
	ads, kws := 0, 0
	var problems []any
	for _, g := range groups {
		kws += len(g.Keywords)
		if len(g.Keywords) == 0 {
			problems = append(problems, i18n.M("ad group %q has no keyword", g.Name))
		}
		if len(g.Ads) == 0 {
			problems = append(problems, i18n.M("ad group %q has no ad", g.Name))
		}
		for i, a := range g.Ads {
			ads++
			for _, e := range CheckAd(&a, prices) {
				problems = append(problems, i18n.M("ad group %q, ad %d, %s: %s", g.Name, i+1, e.Field, e))
			}
		}
	}
	measured := map[string]any{"ad_groups": len(groups), "ads": ads, "keywords": kws}
	if len(problems) > 0 {
		return campaigns.Result{Outcome: campaigns.Fail, Measured: measured, Msg: i18n.Join{Parts: problems[:min(len(problems), 5)], Sep: "; "}}
	}
	return campaigns.Result{Outcome: campaigns.Pass, Measured: measured,
		Msg: i18n.M("%d ads in %d ad groups with %d keywords within limits; prices are the landing page's at the start; final URL %s", ads, len(groups), kws, offer.LandingURL)}
}
