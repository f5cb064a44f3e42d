package main

import (
	"context"
	"errors"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/display"
	"github.com/rampe/rampe/landing"
)

// newDisplay wires the display channel: creatives in the database, the
// serving generation in Redis, clicks through the shared redirector, and
// the landing page's public URL for the default click.
func newDisplay(st *stack) *display.Service {
	cfg := st.cfg
	return &display.Service{DB: st.db, Clicks: st.clicks, Bus: st.conn.Redis, BaseURL: cfg.PublicBaseURL, MaxBytes: cfg.DisplayMaxBytes,
		PollInterval: cfg.DisplayPollInterval, Clock: st.clock,
		LandingURL: func(ctx context.Context, c *campaigns.Campaign) (string, error) {
			if c.LandingPageID == nil {
				return "", nil
			}
			p, err := st.pages.Get(ctx, *c.LandingPageID)
			if errors.Is(err, landing.ErrNotFound) {
				return "", nil
			}
			if err != nil {
				return "", err
			}
			return cfg.PublicBaseURL + "/l/" + p.Slug, nil
		}}
}
