package main

import (
	"context"
	"os"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/platform/mailer"
)

// newEmail wires the e-mail channel: its sender on smtp.url (the
// catch-all's port is set by startMail), its DKIM key, and its audience.
func newEmail(st *stack) (*email.Channel, error) {
	cfg := st.cfg
	s := &email.Sender{DB: st.db, Campaigns: st.campaigns, Messages: &email.Messages{DB: st.db, Clock: st.clock}, Audience: audience.ForEmail{Service: st.audience},
		Offers: st.landing, Clicks: st.clicks, Tasks: st.tasks, BaseURL: cfg.PublicBaseURL, Secret: st.secret, Pool: cfg.EmailPoolSize,
		MaxRate: cfg.EmailMaxRate, UnsubscribeMailto: cfg.EmailMailto, Clock: st.clock}
	if cfg.SMTPURL != "" {
		s.SMTP, _ = mailer.ParseURL(cfg.SMTPURL)
		s.SMTP.Timeout = cfg.SMTPTimeout
	}
	if cfg.DKIMKeyFile != "" {
		pem, err := os.ReadFile(cfg.DKIMKeyFile)
		if err != nil {
			return nil, fail("email.dkim_key_file: %v", err)
		}
		if s.DKIM, err = email.LoadDKIMKey(cfg.DKIMDomain, cfg.DKIMSelector, pem); err != nil {
			return nil, fail("email.dkim_key_file %s: %v", cfg.DKIMKeyFile, err)
		}
	}
	s.Capacity = func(ctx context.Context, c *campaigns.Campaign) (email.Headroom, error) {
		h, err := st.loadcheck.Headroom(ctx, c)
		return email.Headroom{Sustained: h.Sustained, Safety: h.Safety, Others: h.Others, CheckID: h.CheckID}, err
	}
	return &email.Channel{Sender: s, LinkHosts: cfg.EmailLinkHosts}, nil
}
