package notify

import "github.com/rampe/rampe/platform/retention"

// Retention prunes alert deliveries that are over (sent or given up).
var Retention = []retention.Rule{
	{Kind: retention.Events, Table: "notify_deliveries", At: "created_at", Keep: "status = '" + Pending + "'"},
}
