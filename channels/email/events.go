package email

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/rampe/rampe/platform/validation"
)

// Event is a bounce or a complaint reported after delivery by a mail
// provider, in the JSON shape of POST /api/v1/email/events (README):
//
//	{"events": [{"type": "bounce", "bounce_type": "hard", "email": "ana@example.org",
//	  "message_id": "<rampe.s12.c34@shop.example>", "at": "2026-12-02T14:00:00Z", "detail": "550 5.1.1 user unknown"}]}
type Event struct {
	Type       string    `json:"type"`        // bounce or complaint
	BounceType string    `json:"bounce_type"` // hard or soft (bounces)
	Email      string    `json:"email"`
	MessageID  string    `json:"message_id"` // optional: ties the event to a send
	At         time.Time `json:"at"`
	Detail     string    `json:"detail"`
}

// EventOutcome says what became of each event, by position.
type EventOutcome struct {
	Index   int    `json:"index"`
	Outcome string `json:"outcome"` // suppressed, recorded, refused
	Why     string `json:"why,omitempty"`
}

// MaxEvents is how many events one request may carry.
const MaxEvents = 1000

var rampeMessageID = regexp.MustCompile(`^<?rampe\.s(\d+)\.c(\d+)@[^>]+>?$`)

// Events applies bounce and complaint events: a hard bounce suppresses
// the address as bounced, a complaint as complained; a soft bounce is
// recorded on its delivery only. An event that names a Rampe message
// marks that delivery. A wrong event is refused by position, the others
// still apply.
func (s *Sender) Events(ctx context.Context, evs []Event) ([]EventOutcome, error) {
	if len(evs) > MaxEvents {
		return nil, validation.Field("events", "%d events: at most %d per request", len(evs), MaxEvents)
	}
	out := make([]EventOutcome, len(evs))
	for i, e := range evs {
		out[i].Index = i
		email, err := checkAddress(fmt.Sprintf("events[%d].email", i), e.Email, true)
		if err != nil {
			out[i].Outcome, out[i].Why = "refused", err.Error()
			continue
		}
		reason := ""
		switch {
		case e.Type == "complaint":
			reason = "complained"
		case e.Type == "bounce" && e.BounceType == "hard":
			reason = "bounced"
		case e.Type == "bounce" && (e.BounceType == "soft" || e.BounceType == ""):
		default:
			out[i].Outcome, out[i].Why = "refused", fmt.Sprintf("events[%d].type: %q/%q: want bounce (hard or soft) or complaint", i, e.Type, e.BounceType)
			continue
		}
		detail, _ := oneLine("detail", e.Detail, 500)
		if m := rampeMessageID.FindStringSubmatch(e.MessageID); m != nil {
			sendID, _ := strconv.ParseUint(m[1], 10, 63)
			contactID, _ := strconv.ParseUint(m[2], 10, 63)
			up := map[string]any{"answer": fmt.Sprintf("%s %s (reported): %s", e.Type, e.BounceType, detail)}
			if reason != "" {
				up["status"] = DeliveryFailed
			}
			if err := s.DB.WithContext(ctx).Model(&Delivery{}).Where("send_id = ? AND contact_id = ?", sendID, contactID).Updates(up).Error; err != nil {
				return nil, err
			}
		}
		if reason == "" {
			out[i].Outcome = "recorded"
			continue
		}
		if err := s.Audience.Suppress(ctx, email, reason, "provider event", ""); err != nil {
			return nil, err
		}
		out[i].Outcome = "suppressed"
	}
	return out, nil
}
