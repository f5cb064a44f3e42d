package web

import "github.com/rampe/rampe/platform/i18n"

// dynamicKeys are the words templates write from data ({{t (print .Status)}}:
// statuses, outcomes, roles, kinds, actions), declared here so that the
// missing-key test of platform/i18n sees them.
var dynamicKeys = []string{
	// campaign statuses, as badges and as filter tabs and action buttons
	i18n.Key("draft"), i18n.Key("scheduled"), i18n.Key("live"), i18n.Key("ended"), i18n.Key("blocked"), i18n.Key("paused"), i18n.Key("cancelled"),
	i18n.Key("Draft"), i18n.Key("Scheduled"), i18n.Key("Live"), i18n.Key("Ended"), i18n.Key("Blocked"), i18n.Key("Paused"), i18n.Key("Cancelled"),
	i18n.Key("Schedule"), i18n.Key("Pause"), i18n.Key("Resume"), i18n.Key("Unschedule"), i18n.Key("Cancel"),
	// gate outcomes
	i18n.Key("pass"), i18n.Key("fail"), i18n.Key("warn"), i18n.Key("pending"),
	// load checks, imports, feed runs, sends, promotions
	i18n.Key("queued"), i18n.Key("running"), i18n.Key("passed"), i18n.Key("failed"), i18n.Key("aborted"), i18n.Key("done"),
	i18n.Key("planned"), i18n.Key("preparing"), i18n.Key("sending"), i18n.Key("sent"), i18n.Key("published"), i18n.Key("archived"),
	// consent
	i18n.Key("opted_in"), i18n.Key("confirmed"), i18n.Key("unsubscribed"), i18n.Key("bounced"), i18n.Key("complained"), i18n.Key("suppressed"),
	// roles, alert kinds, sign-in lock kinds, feed issue severities, promotion scopes
	i18n.Key("admin"), i18n.Key("marketer"), i18n.Key("viewer"),
	i18n.Key("dependency"), i18n.Key("account"), i18n.Key("address"), i18n.Key("error"), i18n.Key("warning"),
	i18n.Key("all"), i18n.Key("skus"), i18n.Key("brand"), i18n.Key("product_type"),
}
