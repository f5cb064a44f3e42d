package display

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// Channel is the display channel: launch turns the campaign's creatives
// on in the tags of the placements it targets, halt turns them off (the
// tags fall back to other live campaigns or the house creative), resume
// turns them on again. Every web node follows at once on the change
// notice (PollInterval when a notice is lost), plus a rebuild.
type Channel struct{ Service *Service }

// Name of the channel.
func (Channel) Name() campaigns.Channel { return campaigns.Display }

// Launch turns the campaign's creatives on.
func (ch Channel) Launch(ctx context.Context, c *campaigns.Campaign) (string, error) {
	return ch.turn(ctx, c, true, "creatives on")
}

// Halt turns them off.
func (ch Channel) Halt(ctx context.Context, c *campaigns.Campaign, _ string) (string, error) {
	return ch.turn(ctx, c, false, "creatives off")
}

// Resume turns them on again.
func (ch Channel) Resume(ctx context.Context, c *campaigns.Campaign) (string, error) {
	return ch.turn(ctx, c, true, "creatives on again")
}

func (ch Channel) turn(ctx context.Context, c *campaigns.Campaign, live bool, what string) (string, error) {
	if err := ch.Service.setLive(ctx, c.ID, live); err != nil {
		return "", err
	}
	ids, err := ch.Service.Targets(ctx, c.ID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s in %d placements", what, len(ids)), nil
}

// RegisterGates adds display.creatives.
func (ch Channel) RegisterGates(reg *campaigns.Registry) {
	reg.Register(campaigns.GateFunc{GateName: "display.creatives", ForChannels: []campaigns.Channel{campaigns.Display}, Fn: ch.Service.creativesGate})
}

// creativesGate: the campaign targets placements, each has a creative of
// its size, every creative is within the weight limit, and every click
// URL is on the campaign's landing page.
func (s *Service) creativesGate(ctx context.Context, c *campaigns.Campaign, _ time.Time) campaigns.Result {
	pending := func(err error) campaigns.Result {
		return campaigns.Result{Outcome: campaigns.Pending, Msg: i18n.M("could not tell: %v", err)}
	}
	ids, err := s.Targets(ctx, c.ID)
	if err != nil {
		return pending(err)
	}
	if len(ids) == 0 {
		return campaigns.Result{Outcome: campaigns.Fail, Msg: i18n.M("the campaign targets no placement: choose them on its Display tab")}
	}
	var places []Placement
	if err := s.DB.WithContext(ctx).Where("id IN ?", ids).Order("key").Find(&places).Error; err != nil {
		return pending(err)
	}
	crs, err := s.Creatives(ctx, &c.ID)
	if err != nil {
		return pending(err)
	}
	land, err := s.LandingURL(ctx, c)
	if err != nil {
		return pending(err)
	}
	measured := map[string]any{"placements": len(places), "creatives": len(crs)}
	have := map[Size]bool{}
	var problems []i18n.Message
	heaviest := 0
	for _, cr := range crs {
		have[cr.Dim()] = true
		heaviest = max(heaviest, cr.Size)
		if cr.Size > s.maxBytes() {
			problems = append(problems, i18n.M("creative %q weighs %s, over %s", cr.Name, kb(cr.Size), kb(s.maxBytes())))
		}
		if land == "" {
			continue
		}
		if !onPage(cr.ClickURL, land) {
			problems = append(problems, i18n.M("creative %q clicks to %s, not the campaign's landing page %s", cr.Name, cr.ClickURL, land))
		}
	}
	measured["heaviest_bytes"] = heaviest
	if land == "" {
		problems = append(problems, i18n.M("the campaign has no landing page for its creatives to click to"))
	}
	for _, p := range places {
		if !have[p.Size()] {
			problems = append(problems, i18n.M("placement %s (%s) has no creative of its size", p.Key, p.Size().String()))
		}
	}
	if len(problems) > 0 {
		// Sorted as English reads them, so the order is the same in
		// every language.
		sort.Slice(problems, func(i, j int) bool { return problems[i].String() < problems[j].String() })
		items := make([]any, len(problems))
		for i, p := range problems {
			items[i] = p
		}
		return campaigns.Result{Outcome: campaigns.Fail, Measured: measured, Msg: i18n.Join{Parts: items, Sep: "; "}}
	}
	return campaigns.Result{Outcome: campaigns.Pass, Measured: measured,
		Msg: i18n.M("%d creatives cover the %d targeted placements, the heaviest %s, all clicking to %s", len(crs), len(places), kb(heaviest), land)}
}

// onPage tells whether link leads to page: same scheme, host and path
// (the query may add UTM).
func onPage(link, page string) bool {
	l, err1 := url.Parse(link)
	p, err2 := url.Parse(page)
	if err1 != nil || err2 != nil {
		return false
	}
	return l.Scheme == p.Scheme && strings.EqualFold(l.Host, p.Host) && strings.TrimSuffix(l.Path, "/") == strings.TrimSuffix(p.Path, "/")
}

// The details of display's moves, read back in the reader's language.
func init() {
	campaigns.DescribeMoves(
		"creatives on in %d placements",
		"creatives off in %d placements",
		"creatives on again in %d placements",
	)
}
