package landing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PartnerCodes resolves a code that is no promotion's own (the affiliation
// channel): the promotion it is tied to, and whether it may be used now —
// a partner's code works only while its campaign is live.
type PartnerCodes interface {
	ResolveCode(ctx context.Context, code string, at time.Time) (promotionID uint64, usable bool, why string, found bool, err error)
}

// CodeCheck is the answer of a code check at checkout.
type CodeCheck struct {
	Code      string     `json:"code"`
	Valid     bool       `json:"valid"`
	Promotion *Promotion `json:"promotion,omitempty"`
	Partner   bool       `json:"partner_code"`
	Reason    string     `json:"reason"`
}

// WithCode lists the promotions whose own code is code (case aside).
func (s *Promotions) WithCode(ctx context.Context, code string) ([]Promotion, error) {
	var out []Promotion
	err := s.DB.WithContext(ctx).Where("LOWER(code) = LOWER(?) AND code <> ''", strings.TrimSpace(code)).Order("id").Find(&out).Error
	return out, err
}

// CheckCode tells whether code gives a reduction at instant at: a
// promotion's own code while the promotion is active, or a partner's code
// while its campaign is live and its promotion active.
func (s *Promotions) CheckCode(ctx context.Context, code string, at time.Time) (*CodeCheck, error) {
	code = strings.TrimSpace(code)
	out := &CodeCheck{Code: code}
	if code == "" || len(code) > 50 {
		out.Reason = "no such code"
		return out, nil
	}
	own, err := s.WithCode(ctx, code)
	if err != nil {
		return nil, err
	}
	for i := range own {
		p := &own[i]
		if p.ActiveAt(at) {
			out.Valid, out.Promotion, out.Reason = true, p, fmt.Sprintf("gives %s (%s)", p.Label(), p.Name)
			return out, nil
		}
	}
	if len(own) > 0 {
		out.Promotion, out.Reason = &own[0], fmt.Sprintf("promotion %q is not active now", own[0].Name)
		return out, nil
	}
	if s.PartnerCodes == nil {
		out.Reason = "no such code"
		return out, nil
	}
	id, usable, why, found, err := s.PartnerCodes.ResolveCode(ctx, code, at)
	if err != nil || !found {
		out.Reason = "no such code"
		return out, err
	}
	out.Partner = true
	p, err := s.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		out.Reason = "the code's promotion no longer exists"
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Promotion = p
	switch {
	case !usable:
		out.Reason = why
	case !p.ActiveAt(at):
		out.Reason = fmt.Sprintf("promotion %q is not active now", p.Name)
	default:
		out.Valid, out.Reason = true, fmt.Sprintf("gives %s (%s)", p.Label(), p.Name)
	}
	return out, nil
}
