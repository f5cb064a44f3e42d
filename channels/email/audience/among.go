package audience

import (
	"context"
	"fmt"
)

// SuppressedAmong says which of emails are on the suppression list: a
// send checks each batch of its frozen recipients before mailing them.
// Addresses that do not parse are not suppressed (they were checked when
// they were imported).
func (s *Service) SuppressedAmong(ctx context.Context, emails []string) (map[string]bool, error) {
	keys := make([]string, 0, len(emails))
	byKey := make(map[string][]string, len(emails))
	for _, e := range emails {
		_, key, err := NormalizeEmail(e)
		if err != nil {
			continue
		}
		keys = append(keys, key)
		byKey[key] = append(byKey[key], e)
	}
	out := map[string]bool{}
	for lo := 0; lo < len(keys); lo += 500 {
		var hit []string
		if err := s.DB.WithContext(ctx).Model(&Suppression{}).Where("email_key IN ?", keys[lo:min(lo+500, len(keys))]).
			Pluck("email_key", &hit).Error; err != nil {
			return nil, fmt.Errorf("audience: suppressions: %w", err)
		}
		for _, k := range hit {
			for _, e := range byKey[k] {
				out[e] = true
			}
		}
	}
	return out, nil
}
