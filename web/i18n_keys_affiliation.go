package web

import "github.com/rampe/rampe/platform/i18n"

// affiliationKeys are the words of the affiliation pages shown from data
// (commission and conversion states, their moves, how a conversion was
// attributed): declared here so the catalog test knows them.
var _ = []string{
	i18n.Key("approved"), i18n.Key("rejected"), i18n.Key("paid"), i18n.Key("refunded"),
	i18n.Key("approve"), i18n.Key("reject"), i18n.Key("pay"), i18n.Key("click"),
}
