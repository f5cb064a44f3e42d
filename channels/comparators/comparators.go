// Package comparators is the price-comparator channel: the comparator feeds
// a campaign links must carry its promotions while it runs and stop
// carrying them when it stops. Its gate is comparators.feeds_fresh (the
// feeds package's); on every move it asks for a fresh generation of each
// linked feed, so that comparators fetch prices in force at that instant.
package comparators

import (
	"context"
	"fmt"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
)

// Feeds is what the channel needs of the feeds domain.
type Feeds interface {
	// Enqueue asks for a generation of one feed at an instant; asking
	// twice in one minute for the same reason is one generation.
	Enqueue(ctx context.Context, feedID uint64, reason string, at time.Time)
}

// Channel is the comparators channel.
type Channel struct {
	Feeds Feeds
	// RegisterGate registers comparators.feeds_fresh (feeds.RegisterGate).
	RegisterGate func(reg *campaigns.Registry)
	Clock        clock.Clock
}

func (ch Channel) now() time.Time { return clock.Or(ch.Clock).Now() }

// Name is the channel's name.
func (Channel) Name() campaigns.Channel { return campaigns.Comparators }

// RegisterGates adds comparators.feeds_fresh.
func (ch Channel) RegisterGates(reg *campaigns.Registry) {
	if ch.RegisterGate != nil {
		ch.RegisterGate(reg)
	}
}

// Launch regenerates the linked feeds with the prices now in force.
func (ch Channel) Launch(ctx context.Context, c *campaigns.Campaign) (string, error) {
	return ch.regenerate(ctx, c, "campaign live")
}

// Halt regenerates the linked feeds: a promotion that ends with the
// campaign leaves them.
func (ch Channel) Halt(ctx context.Context, c *campaigns.Campaign, _ string) (string, error) {
	return ch.regenerate(ctx, c, "campaign halted")
}

// Resume regenerates the linked feeds again.
func (ch Channel) Resume(ctx context.Context, c *campaigns.Campaign) (string, error) {
	return ch.regenerate(ctx, c, "campaign resumed")
}

func (ch Channel) regenerate(ctx context.Context, c *campaigns.Campaign, why string) (string, error) {
	if len(c.FeedIDs) == 0 {
		return "no feed linked", nil
	}
	now := ch.now()
	for _, id := range c.FeedIDs {
		ch.Feeds.Enqueue(ctx, id, fmt.Sprintf("%s (campaign %d)", why, c.ID), now)
	}
	if len(c.FeedIDs) == 1 {
		return "1 feed regenerating", nil
	}
	return fmt.Sprintf("%d feeds regenerating", len(c.FeedIDs)), nil
}

// The details of the comparators' moves, read back in the reader's language.
func init() {
	campaigns.DescribeMoves(
		"no feed linked",
		"1 feed regenerating",
		"%d feeds regenerating",
	)
}
