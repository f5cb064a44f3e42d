package display

import (
	"context"
	"errors"
	"fmt"
	"github.com/rampe/rampe/platform/i18n"
	"regexp"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

var keyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,59}$`)

// PlacementInput is a placement as a form or the API sends it.
type PlacementInput struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Site string `json:"site"`
	Size string `json:"size"` // "300x250"
}

// AddPlacement checks and stores a placement.
func (s *Service) AddPlacement(ctx context.Context, in PlacementInput) (*Placement, error) {
	key := strings.TrimSpace(in.Key)
	if !keyRE.MatchString(key) {
		return nil, &FieldError{"key", i18n.M("%q: 2 to 60 lower-case letters, digits and dashes (it is the tag's URL, /d/KEY.js)", key)}
	}
	name, err := checkText("name", in.Name, 100, true)
	if err != nil {
		return nil, err
	}
	site, err := checkText("site", in.Site, 200, false)
	if err != nil {
		return nil, err
	}
	z, err := ParseSize(in.Size)
	if err != nil {
		return nil, err
	}
	p := &Placement{Key: key, Name: name, Site: site, Width: z.W, Height: z.H, CreatedAt: s.now()}
	res := s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(p)
	if res.Error != nil {
		return nil, fmt.Errorf("display: save placement: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, &FieldError{"key", i18n.M("a placement %q exists already", key)}
	}
	return p, s.Changed(ctx)
}

// Placements lists every placement by key.
func (s *Service) Placements(ctx context.Context) ([]Placement, error) {
	var out []Placement
	return out, s.DB.WithContext(ctx).Order("key").Find(&out).Error
}

// Placement returns one placement.
func (s *Service) Placement(ctx context.Context, id uint64) (*Placement, error) {
	return takeOr[Placement](s.DB.WithContext(ctx), id)
}

// DeletePlacement removes a placement: its tag serves a 404 from then on.
func (s *Service) DeletePlacement(ctx context.Context, id uint64) error {
	res := s.DB.WithContext(ctx).Delete(&Placement{}, id)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return s.Changed(ctx)
}

// Targets are the ids of the placements campaign id targets.
func (s *Service) Targets(ctx context.Context, campaignID uint64) ([]uint64, error) {
	var ids []uint64
	return ids, s.DB.WithContext(ctx).Model(&target{}).Where("campaign_id = ?", campaignID).Order("placement_id").Pluck("placement_id", &ids).Error
}

// Settings are a campaign's display choices.
type Settings struct {
	Placements []uint64 `json:"placements"`
	// FreqCap is the most impressions of the campaign one visitor sees a
	// day (0: no cap).
	FreqCap int `json:"freq_cap"`
}

// Settings returns a campaign's targets and cap.
func (s *Service) Settings(ctx context.Context, campaignID uint64) (Settings, error) {
	var st Settings
	var err error
	if st.Placements, err = s.Targets(ctx, campaignID); err != nil {
		return st, err
	}
	var cs campaignState
	err = s.DB.WithContext(ctx).Take(&cs, campaignID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		err = nil
	}
	st.FreqCap = cs.FreqCap
	return st, err
}

// SetSettings replaces the placements campaign id targets and its cap.
func (s *Service) SetSettings(ctx context.Context, campaignID uint64, st Settings) error {
	if st.FreqCap < 0 || st.FreqCap > 1000 {
		return &FieldError{"freq_cap", i18n.M("%d is outside 0 (no cap) to 1000 impressions a day", st.FreqCap)}
	}
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if len(st.Placements) > 0 {
			var n int64
			if err := tx.Model(&Placement{}).Where("id IN ?", st.Placements).Count(&n).Error; err != nil {
				return err
			}
			if int(n) != len(dedup(st.Placements)) {
				return &FieldError{"placements", i18n.M("a chosen placement does not exist (deleted meanwhile?)")}
			}
		}
		if err := tx.Where("campaign_id = ?", campaignID).Delete(&target{}).Error; err != nil {
			return err
		}
		for _, id := range dedup(st.Placements) {
			if err := tx.Create(&target{CampaignID: campaignID, PlacementID: id}).Error; err != nil {
				return err
			}
		}
		return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "campaign_id"}}, DoUpdates: clause.AssignmentColumns([]string{"freq_cap", "updated_at"})}).
			Create(&campaignState{CampaignID: campaignID, FreqCap: st.FreqCap, UpdatedAt: s.now()}).Error
	})
	if err != nil {
		return err
	}
	return s.Changed(ctx)
}

func dedup(ids []uint64) []uint64 {
	seen := map[uint64]bool{}
	var out []uint64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// setLive turns a campaign's creatives on or off; it reports whether
// anything changed.
func (s *Service) setLive(ctx context.Context, campaignID uint64, live bool) error {
	err := s.DB.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "campaign_id"}}, DoUpdates: clause.AssignmentColumns([]string{"live", "updated_at"})}).
		Create(&campaignState{CampaignID: campaignID, Live: live, UpdatedAt: s.now()}).Error
	if err != nil {
		return fmt.Errorf("display: set campaign %d live=%v: %w", campaignID, live, err)
	}
	return s.Changed(ctx)
}

// Live tells whether a campaign's creatives are on.
func (s *Service) Live(ctx context.Context, campaignID uint64) (bool, error) {
	var cs campaignState
	err := s.DB.WithContext(ctx).Take(&cs, campaignID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	return cs.Live, err
}

func takeOr[T any](q *gorm.DB, id uint64) (*T, error) {
	var v T
	err := q.Take(&v, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}
