package audience

import (
	"context"
	"fmt"
	"log/slog"

	"gorm.io/gorm"
)

// merge moves the staged rows into contacts in one transaction: later
// duplicates dropped, suppressed addresses forced to their suppression,
// existing contacts updated (an empty cell keeps the stored value), new
// ones inserted, a consent event per status change, list membership, and
// the suppression of rows that say unsubscribed, bounced or complained.
func (s *Service) merge(ctx context.Context, stage uint64, opt ImportOptions) (int64, error) {
	now := s.now()
	note := opt.Note
	if note == "" {
		note = "import"
	}
	note = truncate(note, 300)
	var n int64
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		steps := []struct {
			what string
			sql  string
			args []any
		}{
			{"drop duplicates", `DELETE FROM staged_contacts WHERE import_id = ? AND line > (SELECT MIN(line) FROM staged_contacts f
				WHERE f.import_id = staged_contacts.import_id AND f.email_key = staged_contacts.email_key)`, []any{stage}},
			{"keep suppressions", `UPDATE staged_contacts SET suppressed = TRUE,
				status = CASE WHEN status IN ? THEN status ELSE (SELECT reason FROM email_suppressions x WHERE x.email_key = staged_contacts.email_key) END
				WHERE import_id = ? AND EXISTS (SELECT 1 FROM email_suppressions x WHERE x.email_key = staged_contacts.email_key)`, []any{SuppressReasons, stage}},
			{"find existing", `UPDATE staged_contacts SET existing = TRUE,
				previous = (SELECT c.status FROM contacts c WHERE c.email_key = staged_contacts.email_key)
				WHERE import_id = ? AND EXISTS (SELECT 1 FROM contacts c WHERE c.email_key = staged_contacts.email_key)`, []any{stage}},
			{"record changes", `INSERT INTO consent_events (contact_id, status, previous, source, ip, note, at)
				SELECT c.id, s.status, s.previous, 'import', '', ?, ? FROM staged_contacts s JOIN contacts c ON c.email_key = s.email_key
				WHERE s.import_id = ? AND s.existing AND s.status <> '' AND s.status <> s.previous`, []any{note, now, stage}},
			{"update contacts", `UPDATE contacts SET email = s.email,
				name = CASE WHEN s.name <> '' THEN s.name ELSE contacts.name END,
				locale = CASE WHEN s.locale <> '' THEN s.locale ELSE contacts.locale END,
				country = CASE WHEN s.country <> '' THEN s.country ELSE contacts.country END,
				time_zone = CASE WHEN s.time_zone <> '' THEN s.time_zone ELSE contacts.time_zone END,
				attrs = CASE WHEN s.attrs <> '{}' THEN s.attrs ELSE contacts.attrs END,
				status = CASE WHEN s.status <> '' THEN s.status ELSE contacts.status END, updated_at = ?
				FROM staged_contacts s WHERE s.import_id = ? AND s.existing AND s.email_key = contacts.email_key`, []any{now, stage}},
			{"insert contacts", `INSERT INTO contacts (email, email_key, name, locale, country, time_zone, attrs, status, created_at, updated_at)
				SELECT email, email_key, name, locale, country, time_zone, attrs, CASE WHEN status <> '' THEN status ELSE ? END, ?, ?
				FROM staged_contacts WHERE import_id = ? AND NOT existing ORDER BY line`, []any{opt.DefaultStatus, now, now, stage}},
			{"record new contacts", `INSERT INTO consent_events (contact_id, status, previous, source, ip, note, at)
				SELECT c.id, c.status, '', 'import', '', ?, ? FROM staged_contacts s JOIN contacts c ON c.email_key = s.email_key
				WHERE s.import_id = ? AND NOT s.existing`, []any{note, now, stage}},
			{"suppress", `INSERT INTO email_suppressions (email_key, reason, source, created_at)
				SELECT email_key, status, 'import', ? FROM staged_contacts WHERE import_id = ? AND NOT suppressed AND status IN ?
				ON CONFLICT (email_key) DO NOTHING`, []any{now, stage, SuppressReasons}},
		}
		if opt.ListID != 0 {
			steps = append(steps, struct {
				what string
				sql  string
				args []any
			}{"join the list", `INSERT INTO list_members (list_id, contact_id, created_at)
				SELECT ?, c.id, ? FROM staged_contacts s JOIN contacts c ON c.email_key = s.email_key WHERE s.import_id = ?
				ON CONFLICT (list_id, contact_id) DO NOTHING`, []any{opt.ListID, now, stage}})
		}
		for _, st := range steps {
			if err := tx.Exec(st.sql, st.args...).Error; err != nil {
				return fmt.Errorf("%s: %w", st.what, err)
			}
		}
		return tx.Table("staged_contacts").Where("import_id = ?", stage).Count(&n).Error
	})
	if err != nil {
		return 0, fmt.Errorf("audience: merge import: %w", err)
	}
	slog.Info("audience: import committed", "contacts", n, "list", opt.ListID)
	return n, nil
}
