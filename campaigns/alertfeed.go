package campaigns

import "context"

// AlertsAfter returns alerts raised after the one with id afterID, oldest
// first: the feed that notifications read, in order and without a gap.
func (s *Service) AlertsAfter(ctx context.Context, afterID uint64, limit int) ([]Alert, error) {
	var out []Alert
	err := s.DB.WithContext(ctx).Where("id > ?", afterID).Order("id").Limit(limit).Find(&out).Error
	return out, err
}

// LastAlertID is the id of the newest alert, or 0.
func (s *Service) LastAlertID(ctx context.Context) (uint64, error) {
	var id uint64
	err := s.DB.WithContext(ctx).Model(&Alert{}).Select("COALESCE(MAX(id), 0)").Scan(&id).Error
	return id, err
}
