package email

import (
	"context"
	"strings"
)

// commit writes a group of outcomes in one statement, and suppresses the
// addresses the server refused for good.
func (s *Sender) commit(ctx context.Context, group []*result) error {
	now := s.now()
	pg := s.DB.Dialector.Name() == "postgres"
	var sb strings.Builder
	sb.WriteString("WITH v(id, status, answer, sent_at, not_before) AS (VALUES ")
	args := make([]any, 0, 5*len(group))
	for i, r := range group {
		if i > 0 {
			sb.WriteString(", ")
		}
		if pg && i == 0 {
			// PostgreSQL types a VALUES list by its first row.
			sb.WriteString("(CAST(? AS BIGINT), CAST(? AS VARCHAR), CAST(? AS TEXT), CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ))")
		} else {
			sb.WriteString("(?, ?, ?, ?, ?)")
		}
		var sentAt any
		if r.status == DeliverySent {
			sentAt = now
		}
		var nb any
		if r.notBefore != nil {
			nb = *r.notBefore
		}
		answer := r.answer
		if len(answer) > 1000 {
			answer = answer[:1000]
		}
		args = append(args, r.d.ID, r.status, strings.ToValidUTF8(answer, "?"), sentAt, nb)
	}
	sb.WriteString(") UPDATE email_deliveries SET status = v.status, answer = v.answer, sent_at = v.sent_at, not_before = v.not_before, " +
		"attempts = email_deliveries.attempts + 1, runner = '' FROM v WHERE email_deliveries.id = v.id")
	if err := s.DB.WithContext(ctx).Exec(sb.String(), args...).Error; err != nil {
		return err
	}
	for _, r := range group {
		if r.bounce {
			if err := s.Audience.Suppress(ctx, r.d.Email, "bounced", "smtp bounce", ""); err != nil {
				return err
			}
			r.bounce = false // a retried commit does not suppress twice
		}
	}
	return nil
}
