package audience

import (
	"context"

	"github.com/rampe/rampe/channels/email"
)

// ForEmail is the audience as the e-mail channel's sender reads it
// (email.Audience, owned by the consumer).
type ForEmail struct{ Service *Service }

var _ email.Audience = ForEmail{}

func (x ForEmail) Mailable(ctx context.Context, listID, segmentID, afterID uint64, limit int) ([]email.Recipient, error) {
	list, err := x.Service.Mailable(ctx, Spec{ListID: listID, SegmentID: segmentID}, afterID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]email.Recipient, len(list))
	for i, c := range list {
		out[i] = email.Recipient{ID: c.ID, Email: c.Email, Name: c.Name, Locale: c.Locale, TimeZone: c.TimeZone, Vars: c.Vars()}
	}
	return out, nil
}

func (x ForEmail) Count(ctx context.Context, listID, segmentID uint64) (email.Counts, error) {
	n, err := x.Service.Count(ctx, Spec{ListID: listID, SegmentID: segmentID})
	return email.Counts{Mailable: n.Mailable, Excluded: n.Excluded}, err
}

func (x ForEmail) Suppressed(ctx context.Context, emails []string) (map[string]bool, error) {
	return x.Service.Suppressed(ctx, emails)
}

func (x ForEmail) Suppress(ctx context.Context, addr, reason, source, ip string) error {
	return x.Service.Suppress(ctx, addr, reason, source, ip)
}

func (x ForEmail) ListName(ctx context.Context, listID uint64) (string, error) {
	return x.Service.ListName(ctx, listID)
}
