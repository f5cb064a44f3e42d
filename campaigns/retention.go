package campaigns

import "github.com/rampe/rampe/platform/retention"

// Retention prunes the audit log of old transitions (never a campaign's
// last one: an ended campaign's final readiness is read from it), the
// channel moves that are done, and resolved alerts.
var Retention = []retention.Rule{
	{Kind: retention.Audit, Table: "transitions", At: "at",
		Keep: "id IN (SELECT MAX(id) FROM transitions GROUP BY campaign_id)"},
	{Kind: retention.Audit, Table: "channel_moves", At: "done_at"},
	{Kind: retention.Audit, Table: "alerts", At: "resolved_at"},
}
