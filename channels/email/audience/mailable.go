package audience

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/db"
)

// Spec is a campaign's audience: a list (0: every contact), optionally
// narrowed by a segment.
type Spec struct{ ListID, SegmentID uint64 }

// Counts of an audience: who will be mailed, and the members left out by
// reason (unsubscribed, bounced, complained, pending, suppressed).
type Counts struct {
	Mailable int64            `json:"mailable"`
	Excluded map[string]int64 `json:"excluded"`
}

// audience selects the contacts of a spec (list membership and segment
// filters), before consent and suppression.
func (s *Service) audience(ctx context.Context, sp Spec) (*gorm.DB, error) {
	tx := s.DB.WithContext(ctx).Model(&Contact{})
	var filters []Filter
	listID := sp.ListID
	if sp.SegmentID != 0 {
		seg, err := s.GetSegment(ctx, sp.SegmentID)
		if err != nil {
			return nil, fmt.Errorf("audience: segment %d: %w", sp.SegmentID, err)
		}
		filters = seg.Filters
		if listID == 0 {
			listID = seg.ListID
		} else if seg.ListID != 0 && seg.ListID != listID {
			// A segment of another list narrows to both lists' members.
			tx = tx.Where("EXISTS (SELECT 1 FROM list_members m2 WHERE m2.list_id = ? AND m2.contact_id = contacts.id)", seg.ListID)
		}
	}
	return s.narrow(tx, listID, filters), nil
}

func (s *Service) narrow(tx *gorm.DB, listID uint64, filters []Filter) *gorm.DB {
	if listID != 0 {
		tx = tx.Where("EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = ? AND m.contact_id = contacts.id)", listID)
	}
	pg := db.IsPostgres(s.DB)
	for _, f := range filters {
		cond, args := filterSQL(pg, f)
		tx = tx.Where(cond, args...)
	}
	return tx
}

const notSuppressed = "NOT EXISTS (SELECT 1 FROM email_suppressions x WHERE x.email_key = contacts.email_key)"

// Mailable returns a keyset page, by id after afterID, of the contacts of
// sp that may be mailed: status opted_in or confirmed, not suppressed. A
// page holds at most limit contacts (1,000 when 0, never more than
// 10,000); an empty page is the end.
func (s *Service) Mailable(ctx context.Context, sp Spec, afterID uint64, limit int) ([]Contact, error) {
	switch {
	case limit <= 0:
		limit = 1000
	case limit > 10000:
		limit = 10000
	}
	tx, err := s.audience(ctx, sp)
	if err != nil {
		return nil, err
	}
	var out []Contact
	err = tx.Where("contacts.id > ?", afterID).Where("status IN ?", []string{OptedIn, Confirmed}).Where(notSuppressed).
		Order("contacts.id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("audience: mailable: %w", err)
	}
	return out, nil
}

// Count counts the mailable contacts of sp and the members it leaves out,
// by reason: their status, or "suppressed" for an address suppressed while
// its status still says it may be mailed.
func (s *Service) Count(ctx context.Context, sp Spec) (Counts, error) {
	tx, err := s.audience(ctx, sp)
	if err != nil {
		return Counts{}, err
	}
	return s.count(tx)
}

// Preview counts what a segment being written would select.
func (s *Service) Preview(ctx context.Context, listID uint64, filters []Filter) (Counts, error) {
	fs, err := PreviewFilters(filters)
	if err != nil {
		return Counts{}, err
	}
	return s.count(s.narrow(s.DB.WithContext(ctx).Model(&Contact{}), listID, fs))
}

func (s *Service) count(tx *gorm.DB) (Counts, error) {
	var rows []struct {
		Status     string
		Suppressed bool
		N          int64
	}
	err := tx.Select("status, CASE WHEN " + notSuppressed + " THEN FALSE ELSE TRUE END AS suppressed, COUNT(*) AS n").
		Group("status, suppressed").Scan(&rows).Error
	if err != nil {
		return Counts{}, fmt.Errorf("audience: count: %w", err)
	}
	c := Counts{Excluded: map[string]int64{}}
	for _, r := range rows {
		switch {
		case MailableStatus(r.Status) && !r.Suppressed:
			c.Mailable += r.N
		case MailableStatus(r.Status):
			c.Excluded["suppressed"] += r.N
		default:
			c.Excluded[r.Status] += r.N
		}
	}
	return c, nil
}

// Total is every member of the audience, mailable or not.
func (c Counts) Total() int64 {
	n := c.Mailable
	for _, v := range c.Excluded {
		n += v
	}
	return n
}
