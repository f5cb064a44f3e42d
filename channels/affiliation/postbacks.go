package affiliation

import (
	"context"
	"github.com/rampe/rampe/platform/i18n"
	"time"

	"github.com/rampe/rampe/platform/validation"
)

// PostbackAttempts is how many times a postback is tried in all: the
// first call and PostbackRetries more.
const PostbackAttempts = PostbackRetries + 1

// PostbackDelay is the wait after the attempt-th failed call before the
// next one: 30 s, 2 min, 8 min, 32 min, then 2 h 8 min, then 6 h (about
// 21 h over the eight retries, long enough for a partner's outage).
func PostbackDelay(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < 6*time.Hour; i++ {
		d *= 4
	}
	return min(d, 6*time.Hour)
}

// PostbackEntry is a postback as its log shows it: with its conversion's
// order and its partner's name.
type PostbackEntry struct {
	ID            uint64     `json:"id"`
	ConversionID  uint64     `json:"conversion_id"`
	OrderID       string     `json:"order_id"`
	PartnerID     uint64     `json:"partner_id"`
	Partner       string     `json:"partner"`
	URL           string     `json:"url"`
	Status        string     `json:"status"` // queued, done, failed
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"last_error"`
	ResponseCode  int        `json:"response_code"`
	NextAttemptAt *time.Time `json:"next_attempt_at"` // while queued after a failed attempt
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// SayError is the last error in the reader's language.
func (e PostbackEntry) SayError() i18n.Message {
	return i18n.Parse(e.LastError, []string{"could not reach the partner: %s", "the partner answered %d"})
}

// PostbackFilter narrows the postback log (zero values: any).
type PostbackFilter struct {
	PartnerID    uint64
	ConversionID uint64
	Status       string
	Limit        int // 100 when 0, at most 1,000
}

// PostbackStatuses a filter may name.
var PostbackStatuses = []string{"queued", "done", "failed"}

// PostbackLog lists postbacks, newest first.
func (s *Service) PostbackLog(ctx context.Context, f PostbackFilter) ([]PostbackEntry, error) {
	if f.Status != "" && !contains(PostbackStatuses, f.Status) {
		return nil, validation.Errors{validation.Fieldf("status", "want queued, done or failed, got %q", f.Status)}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := s.DB.WithContext(ctx).Order("id DESC").Limit(min(limit, 1000))
	if f.PartnerID != 0 {
		q = q.Where("partner_id = ?", f.PartnerID)
	}
	if f.ConversionID != 0 {
		q = q.Where("conversion_id = ?", f.ConversionID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var pbs []Postback
	if err := q.Find(&pbs).Error; err != nil {
		return nil, err
	}
	convIDs, partIDs := map[uint64]bool{}, map[uint64]bool{}
	for _, pb := range pbs {
		convIDs[pb.ConversionID], partIDs[pb.PartnerID] = true, true
	}
	orders, names := map[uint64]string{}, map[uint64]string{}
	var convs []Conversion
	if err := s.DB.WithContext(ctx).Select("id", "order_id").Where("id IN ?", keys(convIDs)).Find(&convs).Error; err != nil {
		return nil, err
	}
	for _, c := range convs {
		orders[c.ID] = c.OrderID
	}
	var parts []Partner
	if err := s.DB.WithContext(ctx).Select("id", "name").Where("id IN ?", keys(partIDs)).Find(&parts).Error; err != nil {
		return nil, err
	}
	for _, p := range parts {
		names[p.ID] = p.Name
	}
	out := make([]PostbackEntry, len(pbs))
	for i, pb := range pbs {
		out[i] = PostbackEntry{ID: pb.ID, ConversionID: pb.ConversionID, OrderID: orders[pb.ConversionID], PartnerID: pb.PartnerID, Partner: names[pb.PartnerID],
			URL: pb.URL, Status: pb.Status, Attempts: pb.Attempts, LastError: pb.LastError, ResponseCode: pb.ResponseCode,
			NextAttemptAt: pb.NextAttemptAt, CreatedAt: pb.CreatedAt, UpdatedAt: pb.UpdatedAt}
	}
	return out, nil
}

func keys(m map[uint64]bool) []uint64 {
	out := make([]uint64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	if len(out) == 0 {
		out = append(out, 0) // IN () is not SQL
	}
	return out
}

// requeueStale queues again the postbacks whose next attempt is more
// than grace overdue: their task was lost (a Redis restart); the
// database says they are due.
func (s *Service) requeueStale(ctx context.Context, grace time.Duration) (int, error) {
	if s.RetryPostback == nil {
		return 0, nil
	}
	var pbs []Postback
	if err := s.DB.WithContext(ctx).Where("status = ? AND next_attempt_at IS NOT NULL AND next_attempt_at < ?", "queued", s.now().Add(-grace)).
		Order("id").Limit(1000).Find(&pbs).Error; err != nil {
		return 0, err
	}
	for i := range pbs {
		s.RetryPostback(ctx, &pbs[i])
	}
	return len(pbs), nil
}
