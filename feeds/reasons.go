package feeds

import "github.com/rampe/rampe/platform/i18n"

// A generation's reason is stored in English ("catalog changed", "by
// ana@shop.example", "campaign live (campaign 3)"); reasonFormats read it
// back, its words in the reader's language.
var reasonFormats = []string{
	i18n.Key("by %s"), i18n.Key("by %s (API)"), i18n.Key("%s (campaign %d)"),
	// the reasons written whole, and the campaign moves of the comparators
	i18n.Key("created"), i18n.Key("definition changed"), i18n.Key("schedule"), i18n.Key("catalog changed"),
	i18n.Key("promotion published or unpublished"), i18n.Key("promotion window boundary"), i18n.Key("demo"),
	i18n.Key("command line"), i18n.Key("campaign live"), i18n.Key("campaign halted"), i18n.Key("campaign resumed"),
}

// SayReason is why the generation ran, in the reader's language.
func (r *Run) SayReason() i18n.Message { return i18n.Parse(r.Reason, reasonFormats) }
