package audience

import "github.com/rampe/rampe/platform/retention"

// Retention prunes old consent changes (never a contact's last one: it
// proves the consent in force) and finished contact imports with their
// row reports.
var Retention = []retention.Rule{
	{Kind: retention.Audit, Table: "consent_events", At: "at",
		Keep: "id IN (SELECT MAX(id) FROM consent_events GROUP BY contact_id)"},
	{Kind: retention.Imports, Table: "contact_imports", At: "finished_at", Batch: 20},
}
