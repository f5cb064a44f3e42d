package audience

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// ListInput creates or renames a list.
type ListInput struct {
	Name        string `json:"name"`
	DoubleOptIn *bool  `json:"double_opt_in"` // default true
}

func newToken() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateList makes a list with a fresh unguessable subscription token.
func (s *Service) CreateList(ctx context.Context, in ListInput) (*List, error) {
	name, err := cleanText(in.Name, 100)
	if err != nil || name == "" {
		msg := "is required"
		if err != nil {
			msg = err.Error()
		}
		return nil, validation.Errors{{Field: "name", Msg: msg}}
	}
	l := &List{Name: name, Token: newToken(), DoubleOptIn: in.DoubleOptIn == nil || *in.DoubleOptIn, CreatedAt: s.now()}
	if err := s.DB.WithContext(ctx).Create(l).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, validation.Errors{{Field: "name", Msg: "a list named " + name + " exists"}}
		}
		return nil, fmt.Errorf("audience: create list: %w", err)
	}
	return l, nil
}

// GetList loads a list with its member count.
func (s *Service) GetList(ctx context.Context, id uint64) (*List, error) {
	l, err := db.Take[List](s.DB.WithContext(ctx), ErrNotFound, id)
	if err != nil {
		return nil, err
	}
	err = s.DB.WithContext(ctx).Model(&member{}).Where("list_id = ?", id).Count(&l.Members).Error
	return l, err
}

// ListName is a list's name ("" for list 0, every contact).
func (s *Service) ListName(ctx context.Context, id uint64) (string, error) {
	if id == 0 {
		return "", nil
	}
	l, err := db.Take[List](s.DB.WithContext(ctx), ErrNotFound, id)
	if err != nil {
		return "", err
	}
	return l.Name, nil
}

// ListByToken loads a list by its public token.
func (s *Service) ListByToken(ctx context.Context, token string) (*List, error) {
	if token == "" || len(token) > 40 {
		return nil, ErrNotFound
	}
	return db.Take[List](s.DB.WithContext(ctx).Where("token = ?", token), ErrNotFound)
}

// Lists returns every list by name, with member counts.
func (s *Service) Lists(ctx context.Context) ([]List, error) {
	var out []List
	if err := s.DB.WithContext(ctx).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("audience: lists: %w", err)
	}
	var counts []struct {
		ListID uint64
		N      int64
	}
	if err := s.DB.WithContext(ctx).Model(&member{}).Select("list_id, COUNT(*) AS n").Group("list_id").Scan(&counts).Error; err != nil {
		return nil, err
	}
	by := map[uint64]int64{}
	for _, c := range counts {
		by[c.ListID] = c.N
	}
	for i := range out {
		out[i].Members = by[out[i].ID]
	}
	return out, nil
}

// AddMember puts a contact in a list (twice is once).
func (s *Service) AddMember(ctx context.Context, listID, contactID uint64) error {
	return addMember(s.DB.WithContext(ctx), listID, contactID, s.now())
}

func addMember(tx *gorm.DB, listID, contactID uint64, at time.Time) error {
	return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&member{ListID: listID, ContactID: contactID, CreatedAt: at}).Error
}

// RemoveMember takes a contact out of a list.
func (s *Service) RemoveMember(ctx context.Context, listID, contactID uint64) error {
	return s.DB.WithContext(ctx).Where("list_id = ? AND contact_id = ?", listID, contactID).Delete(&member{}).Error
}

// ListsOf returns the lists a contact belongs to.
func (s *Service) ListsOf(ctx context.Context, contactID uint64) ([]List, error) {
	var out []List
	return out, s.DB.WithContext(ctx).Where("id IN (SELECT list_id FROM list_members WHERE contact_id = ?)", contactID).Order("name").Find(&out).Error
}

// Filter is one condition of a segment: Field is email, name, locale,
// country, time_zone, status or a custom attribute's name.
type Filter struct {
	Field  string   `json:"field"`
	Op     string   `json:"op"` // eq, neq, contains, in, exists
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"` // for in
}

// Ops are the filter operators.
var Ops = []string{"eq", "neq", "contains", "in", "exists"}

// Fields are the built-in filter fields.
var Fields = []string{"email", "name", "locale", "country", "time_zone", "status"}

// Segment is a named audience: an optional list narrowed by filters, all
// of which must hold.
type Segment struct {
	ID        uint64    `gorm:"primaryKey" json:"id"`
	Name      string    `json:"name"`
	ListID    uint64    `json:"list_id"`
	Filters   []Filter  `gorm:"serializer:json" json:"filters"`
	CreatedAt time.Time `json:"created_at"`
}

// SegmentInput creates a segment.
type SegmentInput struct {
	Name    string   `json:"name"`
	ListID  uint64   `json:"list_id"`
	Filters []Filter `json:"filters"`
}

// checkFilters validates and normalises filters, naming the wrong one.
func checkFilters(fs []Filter) ([]Filter, validation.Errors) {
	var ve validation.Errors
	if len(fs) > 20 {
		return nil, validation.Errors{{Field: "filters", Msg: "at most 20 filters"}}
	}
	out := make([]Filter, 0, len(fs))
	for i, f := range fs {
		name := fmt.Sprintf("filters[%d]", i)
		f.Field = strings.ToLower(strings.TrimSpace(f.Field))
		if !oneOf(f.Field, Fields) {
			n, err := AttrName(f.Field)
			if err != nil {
				ve = append(ve, validation.Fieldf(name+".field", "%q is neither %s nor a custom attribute name", f.Field, strings.Join(Fields, ", ")))
				continue
			}
			f.Field = n
		}
		if !oneOf(f.Op, Ops) {
			ve = append(ve, validation.Fieldf(name+".op", "unknown operator %q (want %s)", f.Op, strings.Join(Ops, ", ")))
			continue
		}
		if f.Op == "in" && len(f.Values) == 0 && f.Value != "" {
			for _, v := range strings.Split(f.Value, ",") {
				if v = strings.TrimSpace(v); v != "" {
					f.Values = append(f.Values, v)
				}
			}
			f.Value = ""
		}
		switch {
		case f.Op == "in" && (len(f.Values) == 0 || len(f.Values) > 100):
			ve = append(ve, validation.Fieldf(name+".values", "give 1 to 100 values"))
		case (f.Op == "eq" || f.Op == "neq" || f.Op == "contains") && len(f.Value) > MaxAttrValue:
			ve = append(ve, validation.Fieldf(name+".value", "longer than %d characters", MaxAttrValue))
		case f.Op == "contains" && f.Value == "":
			ve = append(ve, validation.Fieldf(name+".value", "is required"))
		case f.Field == "status" && f.Op != "exists" && !allStatuses(f.Value, f.Values):
			ve = append(ve, validation.Fieldf(name+".value", "unknown status (want %s)", strings.Join(Statuses, ", ")))
		}
		out = append(out, f)
	}
	return out, ve
}

func allStatuses(v string, vs []string) bool {
	if len(vs) == 0 {
		vs = []string{v}
	}
	for _, x := range vs {
		if !validStatus(x) {
			return false
		}
	}
	return true
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// CreateSegment validates and stores a segment.
func (s *Service) CreateSegment(ctx context.Context, in SegmentInput) (*Segment, error) {
	var ve validation.Errors
	name, err := cleanText(in.Name, 100)
	if err != nil || name == "" {
		var why any = i18n.M("is required")
		if err != nil {
			why = err
		}
		ve = append(ve, validation.Fieldf("name", "%s", why))
	}
	fs, fve := checkFilters(in.Filters)
	ve = append(ve, fve...)
	if in.ListID != 0 {
		if _, err := s.GetList(ctx, in.ListID); errors.Is(err, ErrNotFound) {
			ve = append(ve, validation.Fieldf("list_id", "no list %d", in.ListID))
		} else if err != nil {
			return nil, err
		}
	}
	if len(ve) > 0 {
		return nil, ve
	}
	seg := &Segment{Name: name, ListID: in.ListID, Filters: fs, CreatedAt: s.now()}
	if err := s.DB.WithContext(ctx).Create(seg).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, validation.Errors{{Field: "name", Msg: "a segment named " + name + " exists"}}
		}
		return nil, fmt.Errorf("audience: create segment: %w", err)
	}
	return seg, nil
}

// Segments lists every segment by name.
func (s *Service) Segments(ctx context.Context) ([]Segment, error) {
	var out []Segment
	return out, s.DB.WithContext(ctx).Order("name").Find(&out).Error
}

// GetSegment loads a segment.
func (s *Service) GetSegment(ctx context.Context, id uint64) (*Segment, error) {
	return db.Take[Segment](s.DB.WithContext(ctx), ErrNotFound, id)
}

// DeleteSegment removes a segment.
func (s *Service) DeleteSegment(ctx context.Context, id uint64) error {
	res := s.DB.WithContext(ctx).Delete(&Segment{}, id)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// PreviewFilters validates filters for a count preview.
func PreviewFilters(fs []Filter) ([]Filter, error) {
	out, ve := checkFilters(fs)
	if len(ve) > 0 {
		return nil, ve
	}
	return out, nil
}

// filterSQL turns a filter into a condition on contacts, in the engine's
// dialect; values are always bound parameters. Text comparisons ignore case.
func filterSQL(pg bool, f Filter) (string, []any) {
	var expr string
	var args []any
	if oneOf(f.Field, Fields) {
		expr = f.Field
		if f.Field == "email" {
			expr = "email_key"
		}
	} else if pg {
		expr, args = "COALESCE(contacts.attrs::jsonb ->> ?, '')", []any{f.Field}
	} else {
		expr, args = "COALESCE(json_extract(contacts.attrs, ?), '')", []any{"$." + f.Field}
	}
	lower := "LOWER(" + expr + ")"
	switch f.Op {
	case "eq":
		return lower + " = ?", append(args, strings.ToLower(f.Value))
	case "neq":
		return lower + " <> ?", append(args, strings.ToLower(f.Value))
	case "contains":
		return lower + ` LIKE ? ESCAPE '\'`, append(args, "%"+likeEscape(strings.ToLower(f.Value))+"%")
	case "in":
		vs := make([]string, len(f.Values))
		for i, v := range f.Values {
			vs[i] = strings.ToLower(v)
		}
		return lower + " IN ?", append(args, vs)
	default: // exists
		return expr + " <> ''", args
	}
}
