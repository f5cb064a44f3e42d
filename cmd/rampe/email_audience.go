package main

import (
	"context"

	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/channels/email/audience"
)

// emailAudience adapts the contacts domain to what the e-mail channel's
// sender asks of an audience (email.Audience, owned by the consumer).
type emailAudience struct{ svc *audience.Service }

var _ email.Audience = emailAudience{}

func (a emailAudience) Mailable(ctx context.Context, listID, segmentID, afterID uint64, limit int) ([]email.Recipient, error) {
	cs, err := a.svc.Mailable(ctx, audience.Spec{ListID: listID, SegmentID: segmentID}, afterID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]email.Recipient, len(cs))
	for i, c := range cs {
		out[i] = email.Recipient{ID: c.ID, Email: c.Email, Name: c.Name, Locale: c.Locale, TimeZone: c.TimeZone, Vars: c.Vars()}
	}
	return out, nil
}

func (a emailAudience) Count(ctx context.Context, listID, segmentID uint64) (email.Counts, error) {
	c, err := a.svc.Count(ctx, audience.Spec{ListID: listID, SegmentID: segmentID})
	return email.Counts{Mailable: c.Mailable, Excluded: c.Excluded}, err
}

func (a emailAudience) Suppressed(ctx context.Context, emails []string) (map[string]bool, error) {
	return a.svc.Suppressed(ctx, emails)
}

func (a emailAudience) Suppress(ctx context.Context, email, reason, source, ip string) error {
	return a.svc.Suppress(ctx, email, reason, source, ip)
}

func (a emailAudience) ListName(ctx context.Context, listID uint64) (string, error) {
	return a.svc.ListName(ctx, listID)
}
