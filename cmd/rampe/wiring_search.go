package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/rampe/rampe/channels/search"
	"github.com/rampe/rampe/landing"
)

// newSearch wires the SEO / SEA channel: its audit fetches links with the
// load checks' allow-listed client, IndexNow is on when
// seo.indexnow_endpoint is set, and every publish of a landing page is
// audited in the background for the page editor.
func newSearch(st *stack, m *landing.Module) *search.Channel {
	cfg := st.cfg
	pol := &st.loadcheck.Policy
	ch := &search.Channel{DB: st.db, Pages: m.Pages, Renderer: m.Server, Offers: m.Server, BaseURL: cfg.PublicBaseURL, Clock: st.clock,
		Auditor: &search.Auditor{Client: pol.LinkClient(), Allowed: pol.CheckTarget, WeightBudget: int64(cfg.SEOPageWeightKB) << 10, Clock: st.clock}}
	if cfg.SEOIndexNowEndpoint != "" {
		ch.IndexNow = &search.IndexNow{Endpoint: cfg.SEOIndexNowEndpoint, Key: IndexNowKey(st), BaseURL: cfg.PublicBaseURL,
			Client: pol.LinkClient(), Allowed: pol.CheckTarget}
	}
	prev := m.Pages.Changed
	m.Pages.Changed = func(ctx context.Context, id uint64, slug, change string) {
		if prev != nil {
			prev(ctx, id, slug, change)
		}
		if strings.HasPrefix(change, "v") {
			// The audit fetches every link of the page (seconds): the
			// publish answers at once, the editor shows the audit after.
			go func() {
				actx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				if _, err := ch.AuditPage(actx, id, false); err != nil {
					slog.Warn("search: audit at publish", "page_id", id, "err", err)
				}
			}()
		}
	}
	return ch
}

// IndexNowKey is seo.indexnow_key, or one derived from the secret.
func IndexNowKey(st *stack) string {
	if st.cfg.SEOIndexNowKey != "" {
		return st.cfg.SEOIndexNowKey
	}
	return search.IndexNowKey(st.secret)
}
