package loadcheck

import "github.com/rampe/rampe/platform/retention"

// Retention prunes finished checks, never the last passing check of a
// page (the landing.load_checked gate and the e-mail rate read it) nor a
// campaign's last check (its readiness names it).
var Retention = []retention.Rule{
	{Kind: retention.LoadChecks, Table: "load_checks", At: "finished_at", Batch: 200,
		Keep: "id IN (SELECT MAX(id) FROM load_checks WHERE status = '" + Passed + "' GROUP BY page_id)" +
			" OR id IN (SELECT MAX(id) FROM load_checks WHERE campaign_id IS NOT NULL GROUP BY campaign_id)"},
}
