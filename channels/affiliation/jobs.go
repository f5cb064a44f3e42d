package affiliation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/rampe/rampe/platform/money"
)

// Task types of the affiliation channel.
const (
	TypePostback = "affiliation:postback"
	TypeKits     = "affiliation:kits"
)

// Enqueuer delivers tasks; an existing TaskID is not an error.
type Enqueuer interface {
	Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (created bool, err error)
}

// Postback is one call to a partner's postback URL, retried until it
// succeeds (or gives up), logged with its attempts.
type Postback struct {
	ID           uint64 `gorm:"primaryKey"`
	ConversionID uint64
	PartnerID    uint64
	URL          string
	Attempts     int
	Status       string // queued, done, failed
	LastError    string
	ResponseCode int
	// NextAttemptAt is when a failed postback is tried again (nil when
	// done, failed for good, or not tried yet).
	NextAttemptAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// PostbackRetries is how many times a postback is tried again.
const PostbackRetries = 8

// Jobs enqueues and runs the channel's background work.
type Jobs struct {
	Service *Service
	Tasks   Enqueuer
}

// EnqueuePostback records a postback for a conversion's partner (when it
// has a postback URL) and queues it.
func (j *Jobs) EnqueuePostback(ctx context.Context, c *Conversion) {
	s := j.Service
	p, err := s.Partner(ctx, c.PartnerID)
	if err != nil || p.PostbackURL == "" {
		return
	}
	var cm Commission
	s.DB.WithContext(ctx).Where("conversion_id = ?", c.ID).Take(&cm)
	status := cm.Status
	if status == "" {
		status = c.Status
	}
	u := fillTemplate(p.PostbackURL, map[string]string{"click_id": c.ClickID, "order_id": c.OrderID, "amount": money.Plain(c.Amount, c.Currency),
		"currency": c.Currency, "commission": money.Plain(cm.Amount, c.Currency), "status": status})
	pb := Postback{ConversionID: c.ID, PartnerID: p.ID, URL: u, Status: "queued", CreatedAt: s.now(), UpdatedAt: s.now()}
	if err := s.DB.WithContext(ctx).Create(&pb).Error; err != nil {
		slog.Error("affiliation: record postback", "conversion_id", c.ID, "err", err)
		return
	}
	b, _ := json.Marshal(map[string]uint64{"postback_id": pb.ID})
	if _, err := j.Tasks.Enqueue(ctx, asynq.NewTask(TypePostback, b), asynq.TaskID("postback:"+strconv.FormatUint(pb.ID, 10)),
		asynq.MaxRetry(PostbackRetries), asynq.Timeout(30*time.Second), asynq.Retention(24*time.Hour)); err != nil {
		slog.Warn("affiliation: enqueue postback", "postback_id", pb.ID, "err", err)
	}
}

// enqueueAttempt queues a postback's next attempt for its NextAttemptAt
// (now when unset), one task per attempt.
func (j *Jobs) enqueueAttempt(ctx context.Context, pb *Postback) error {
	b, _ := json.Marshal(map[string]uint64{"postback_id": pb.ID})
	at := j.Service.now()
	if pb.NextAttemptAt != nil {
		at = *pb.NextAttemptAt
	}
	_, err := j.Tasks.Enqueue(ctx, asynq.NewTask(TypePostback, b), asynq.TaskID(fmt.Sprintf("postback:%d:%d", pb.ID, pb.Attempts)),
		asynq.ProcessAt(at), asynq.MaxRetry(PostbackRetries), asynq.Timeout(30*time.Second), asynq.Retention(24*time.Hour))
	return err
}

// RetryPostback queues a postback's next attempt again (the sweep of lost
// tasks), logging what it cannot.
func (j *Jobs) RetryPostback(ctx context.Context, pb *Postback) {
	if err := j.enqueueAttempt(ctx, pb); err != nil {
		slog.Warn("affiliation: requeue postback", "postback_id", pb.ID, "err", err)
	}
}

// EnqueueKits queues the sending of a campaign's kits (once a minute at
// most per campaign and reason).
func (j *Jobs) EnqueueKits(ctx context.Context, campaignID uint64, reason string) {
	b, _ := json.Marshal(map[string]uint64{"campaign_id": campaignID})
	id := fmt.Sprintf("kits:%d:%s:%d", campaignID, reason, j.Service.now().Truncate(time.Minute).Unix())
	if _, err := j.Tasks.Enqueue(ctx, asynq.NewTask(TypeKits, b), asynq.TaskID(id), asynq.MaxRetry(10), asynq.Timeout(5*time.Minute), asynq.Retention(time.Hour)); err != nil {
		slog.Warn("affiliation: enqueue kits", "campaign_id", campaignID, "err", err)
	}
}

// Register installs the handlers.
func (j *Jobs) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypePostback, func(ctx context.Context, t *asynq.Task) error {
		var p struct {
			PostbackID uint64 `json:"postback_id"`
		}
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.PostbackID == 0 {
			return fmt.Errorf("affiliation: bad payload %q: %w", t.Payload(), asynq.SkipRetry)
		}
		err := j.Service.DeliverPostback(ctx, p.PostbackID, false)
		if err == nil || errors.Is(err, asynq.SkipRetry) {
			return err
		}
		// Failed: the next attempt is a task of its own, due at the
		// postback's NextAttemptAt (the log shows it); when it cannot be
		// queued, asynq retries this one instead.
		var pb Postback
		if lerr := j.Service.DB.WithContext(ctx).Take(&pb, p.PostbackID).Error; lerr != nil {
			return lerr
		}
		if pb.Status != "queued" || pb.NextAttemptAt == nil {
			return fmt.Errorf("affiliation: postback %d gave up after %d attempts: %v: %w", pb.ID, pb.Attempts, err, asynq.SkipRetry)
		}
		if qerr := j.enqueueAttempt(ctx, &pb); qerr != nil {
			return qerr
		}
		return fmt.Errorf("affiliation: postback %d attempt %d: %v; next at %s: %w", pb.ID, pb.Attempts, err, pb.NextAttemptAt.Format(time.RFC3339), asynq.SkipRetry)
	})
	mux.HandleFunc(TypeKits, func(ctx context.Context, t *asynq.Task) error {
		var p struct {
			CampaignID uint64 `json:"campaign_id"`
		}
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.CampaignID == 0 {
			return fmt.Errorf("affiliation: bad payload %q: %w", t.Payload(), asynq.SkipRetry)
		}
		n, err := j.Service.SendKits(ctx, p.CampaignID)
		slog.Info("affiliation: kits sent", "campaign_id", p.CampaignID, "sent", n, "err", err)
		return err
	})
}

// DeliverPostback calls a postback's URL through the allow-listed client
// (checked again now: a host may have been rebound). A 2xx answer is
// done; anything else is an error, and the postback is tried again at
// NextAttemptAt (PostbackDelay) until PostbackAttempts calls; last makes
// this attempt the final one.
func (s *Service) DeliverPostback(ctx context.Context, id uint64, last bool) error {
	var pb Postback
	if err := s.DB.WithContext(ctx).Take(&pb, id).Error; err != nil {
		return fmt.Errorf("affiliation: postback %d: %v: %w", id, err, asynq.SkipRetry)
	}
	if pb.Status == "done" {
		return nil
	}
	code, err := s.callPostback(ctx, pb.URL)
	pb.Attempts++
	pb.ResponseCode, pb.UpdatedAt, pb.LastError, pb.NextAttemptAt = code, s.now(), "", nil
	switch {
	case err == nil:
		pb.Status = "done"
	case last || pb.Attempts >= PostbackAttempts || errors.Is(err, asynq.SkipRetry):
		pb.Status, pb.LastError = "failed", err.Error()
	default:
		next := s.now().Add(PostbackDelay(pb.Attempts))
		pb.LastError, pb.NextAttemptAt = err.Error(), &next
	}
	if uerr := s.DB.WithContext(ctx).Save(&pb).Error; uerr != nil {
		return uerr
	}
	slog.Info("affiliation: postback", "postback_id", pb.ID, "partner_id", pb.PartnerID, "attempt", pb.Attempts, "status", code, "err", err)
	return err
}

// The postback errors the log keeps in English, read back in the
// reader's language on the partner's page (PostbackEntry.SayError).
const (
	postbackUnreachable = "could not reach the partner: %v"
	postbackAnswered    = "the partner answered %d"
)

func (s *Service) callPostback(ctx context.Context, raw string) (int, error) {
	if s.Outbound == nil {
		return 0, fmt.Errorf("no outbound client: %w", asynq.SkipRetry)
	}
	if err := s.Outbound.CheckTarget(ctx, raw); err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "Rampe-Postback/1")
	res, err := s.outboundClient().Do(req)
	if err != nil {
		return 0, fmt.Errorf(postbackUnreachable, err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return res.StatusCode, fmt.Errorf(postbackAnswered, res.StatusCode)
	}
	return res.StatusCode, nil
}

// PostbacksOf lists a conversion's postbacks.
func (s *Service) PostbacksOf(ctx context.Context, conversionID uint64) ([]Postback, error) {
	var out []Postback
	err := s.DB.WithContext(ctx).Where("conversion_id = ?", conversionID).Order("id").Find(&out).Error
	return out, err
}
