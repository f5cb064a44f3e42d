package web

import (
	"context"
	"strings"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// Messages of the campaign page's readiness, in one place (for translation).
var (
	msgScheduleWarn  = i18n.Key("These gates fail now, so the campaign would be blocked at go-live unless they are fixed by then:\n%s\nSchedule anyway?")
	msgScheduledWarn = i18n.Key("Scheduled, but %d gates fail now: %s. Rampe checks again before go-live and blocks the campaign if they still fail.")
)

// finalReadiness is the readiness an ended or cancelled campaign was left
// with, read from its audit log: the gate answers of its latest transition
// that recorded some. It is shown instead of a live checklist, which would
// judge a finished campaign against today.
type finalReadiness struct {
	Transition *campaigns.Transition
	Ready      bool
}

func finalFrom(hist []campaigns.Transition) *finalReadiness {
	for i := len(hist) - 1; i >= 0; i-- {
		// History is oldest first; the latest answers are the final ones.
		if len(hist[i].Gates) > 0 {
			ready := true
			for _, g := range hist[i].Gates {
				if g.Outcome == campaigns.Fail || g.Outcome == campaigns.Pending {
					ready = false
				}
			}
			return &finalReadiness{Transition: &hist[i], Ready: ready}
		}
	}
	return &finalReadiness{}
}

// finished tells whether a campaign's readiness no longer matters.
func finished(st campaigns.Status) bool { return st == campaigns.Ended || st == campaigns.Cancelled }

// scheduleWarning is the confirmation the Schedule button asks for when
// gates fail now, naming them ("" when every gate passes).
func scheduleWarning(lang string, rep *campaigns.Report) string {
	names := failingTitles(lang, rep)
	if len(names) == 0 {
		return ""
	}
	return i18n.T(lang, msgScheduleWarn, "• "+strings.Join(names, "\n• "))
}

// failingTitles are the gates of rep that fail, by their title in lang
// and their name.
func failingTitles(lang string, rep *campaigns.Report) []string {
	if rep == nil {
		return nil
	}
	var out []string
	for _, g := range rep.Failing() {
		out = append(out, i18n.T(lang, gateTitle(g.Gate))+" ("+g.Gate+")")
	}
	return out
}

// draftReadiness evaluates a draft's gates for its page, storing nothing,
// so the checklist and the Schedule warning say the same.
func (s *Server) draftReadiness(ctx context.Context, c *campaigns.Campaign) *campaigns.Report {
	if c.Status != campaigns.Draft {
		return c.Readiness
	}
	if _, rep, err := s.Campaigns.Readiness(ctx, c.ID); err == nil {
		return rep
	}
	return c.Readiness
}
