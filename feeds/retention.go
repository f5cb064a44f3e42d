package feeds

import "github.com/rampe/rampe/platform/retention"

// Retention prunes finished generations (their issues and price lines go
// with them, ON DELETE CASCADE), never a feed's current one.
var Retention = []retention.Rule{
	{Kind: retention.FeedRuns, Table: "feed_runs", At: "finished_at", Batch: 20,
		Keep: "id IN (SELECT last_run_id FROM feeds WHERE last_run_id IS NOT NULL)"},
}
