package web

import (
	"fmt"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// gateTitles say each built-in gate in plain words, beside its name.
var gateTitles = map[string]string{
	"schedule.valid":          i18n.Key("Dates are valid"),
	"channels.configured":     i18n.Key("Every channel has a budget and a forecast"),
	"landing.published":       i18n.Key("Landing page is published"),
	"promotions.published":    i18n.Key("Promotions are published for the whole window"),
	"landing.load_checked":    i18n.Key("Landing page is load-checked at the traffic expected"),
	"comparators.feeds_fresh": i18n.Key("Comparator feeds are fresh and show the promoted prices"),
	"email.audience":          i18n.Key("The e-mail has an audience to send to"),
	"email.message":           i18n.Key("The e-mail message is written and renders"),
	"email.sender":            i18n.Key("The e-mail has a sender it may use"),
	"affiliation.partners":    i18n.Key("Active partners take part"),
	"affiliation.codes":       i18n.Key("Partner codes are on published promotions"),
	"affiliation.kit_sent":    i18n.Key("Partners got their kit in time"),
	"display.creatives":       i18n.Key("Creatives cover the targeted placements"),
	"seo.page":                i18n.Key("The landing page is fit for search engines"),
	"sea.ads":                 i18n.Key("Ad groups and ads are ready"),
}

func gateTitle(name string) string {
	if t, ok := gateTitles[name]; ok {
		return t
	}
	return name
}

// gateFix is where a failing gate is fixed.
type gateFix struct{ URL, Label string }

// fixFor points a gate of campaign c at the page where it is fixed (nil
// when none is known).
func fixFor(name string, c *campaigns.Campaign) *gateFix {
	if c == nil {
		return nil
	}
	edit := fmt.Sprintf("/campaigns/%d/edit", c.ID)
	switch name {
	case "schedule.valid":
		return &gateFix{edit, i18n.Key("Change the dates")}
	case "channels.configured":
		return &gateFix{edit, i18n.Key("Set budgets and forecasts")}
	case "landing.published":
		if c.LandingPageID == nil {
			return &gateFix{edit, i18n.Key("Link a landing page")}
		}
		return &gateFix{fmt.Sprintf("/pages/%d", *c.LandingPageID), i18n.Key("Publish the landing page")}
	case "promotions.published":
		if len(c.PromotionIDs) == 1 {
			return &gateFix{fmt.Sprintf("/promotions/%d", c.PromotionIDs[0]), i18n.Key("Open the promotion")}
		}
		return &gateFix{"/promotions", i18n.Key("Open the promotions")}
	case "landing.load_checked":
		if c.LandingPageID == nil {
			return &gateFix{edit, i18n.Key("Link a landing page")}
		}
		return &gateFix{fmt.Sprintf("/campaigns/%d#loadchecks", c.ID), i18n.Key("Run a load check")}
	case "comparators.feeds_fresh":
		if len(c.FeedIDs) == 0 {
			return &gateFix{edit, i18n.Key("Link a feed")}
		}
		return &gateFix{fmt.Sprintf("/feeds/%d", c.FeedIDs[0]), i18n.Key("Generate the feed")}
	}
	return nil
}
