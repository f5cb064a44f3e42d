package catalog

import "github.com/rampe/rampe/platform/retention"

// Retention prunes finished catalog imports with their row reports.
var Retention = []retention.Rule{
	{Kind: retention.Imports, Table: "imports", At: "finished_at", Batch: 20},
}
