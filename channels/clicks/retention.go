package clicks

import "github.com/rampe/rampe/platform/retention"

// Retention prunes old clicks (the links stay).
var Retention = []retention.Rule{
	{Kind: retention.Events, Table: "clicks", At: "at", NoID: true, Batch: 5000},
}
