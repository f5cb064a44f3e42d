// Package channels defines what an acquisition channel is to Rampe: its
// name, the readiness gates it registers, and what it does outside Rampe on
// each lifecycle move of a campaign — launch (the campaign goes live), halt
// (a live campaign is paused, cancelled or ended) and resume (a paused one
// goes live again). One sub-package per channel implements it; cmd/rampe
// registers them with Register, and campaigns sees only its ChannelActor
// interface. The moves are recorded with their transition and run by a job
// (campaigns.RunMoves), retried until they succeed, and shown on the
// campaign page.
package channels

import (
	"context"
	"fmt"

	"github.com/rampe/rampe/campaigns"
)

// Channel is one acquisition channel. Each move must be idempotent (it
// may run twice: a retry, a worker killed after acting but before the
// move was recorded) and quick: long work, such as sending e-mails, is
// enqueued as jobs of the channel's own, and halt stops them. The string
// each move returns says in a few words what it did, for the campaign page.
type Channel interface {
	Name() campaigns.Channel
	// RegisterGates adds the channel's readiness gates.
	RegisterGates(reg *campaigns.Registry)
	Launch(ctx context.Context, c *campaigns.Campaign) (string, error)
	Halt(ctx context.Context, c *campaigns.Campaign, reason string) (string, error)
	Resume(ctx context.Context, c *campaigns.Campaign) (string, error)
}

// Register wires channels into the campaigns service: their gates into its
// registry, their moves as its channel actors. A channel registered twice
// is a wiring mistake.
func Register(s *campaigns.Service, chs ...Channel) error {
	for _, ch := range chs {
		if _, dup := s.Actors[ch.Name()]; dup {
			return fmt.Errorf("channels: %s registered twice", ch.Name())
		}
		ch.RegisterGates(s.Gates)
		s.Actors[ch.Name()] = actor{ch}
	}
	return nil
}

// actor adapts a Channel to campaigns.ChannelActor.
type actor struct{ ch Channel }

func (a actor) Move(ctx context.Context, c *campaigns.Campaign, m campaigns.Move, reason string) (string, error) {
	switch m {
	case campaigns.MoveLaunch:
		return a.ch.Launch(ctx, c)
	case campaigns.MoveHalt:
		return a.ch.Halt(ctx, c, reason)
	case campaigns.MoveResume:
		return a.ch.Resume(ctx, c)
	}
	return "", fmt.Errorf("channels: %s: unknown move %q", a.ch.Name(), m)
}
