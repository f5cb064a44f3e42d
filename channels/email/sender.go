package email

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/lease"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/queue"
)

// Recipient is a contact as a send needs it.
type Recipient struct {
	ID       uint64
	Email    string
	Name     string
	Locale   string
	TimeZone string
	Vars     map[string]string // personalisation fields
}

// Counts are an audience's mailable contacts and the ones left out, by
// why (unsubscribed, bounced, complained, pending, suppressed).
type Counts struct {
	Mailable int64            `json:"mailable"`
	Excluded map[string]int64 `json:"excluded"`
}

// Audience is who a campaign's e-mail goes to: the contacts of a list,
// narrowed by a segment, minus every suppressed address. It is the
// contacts domain's API, adapted by the wiring.
type Audience interface {
	Mailable(ctx context.Context, listID, segmentID, afterID uint64, limit int) ([]Recipient, error)
	Count(ctx context.Context, listID, segmentID uint64) (Counts, error)
	// Suppressed says which of emails may no longer be mailed.
	Suppressed(ctx context.Context, emails []string) (map[string]bool, error)
	Suppress(ctx context.Context, email, reason, source, ip string) error
	ListName(ctx context.Context, listID uint64) (string, error)
}

// Offer is what the message shows of the campaign's landing page at the
// send instant: its address and products at the price in force.
type Offer = landing.Offer

// OfferLine is one product of an offer.
type OfferLine = landing.OfferLine

// Offers reads a campaign's landing page (the landing domain).
type Offers interface {
	Offer(ctx context.Context, c *campaigns.Campaign, at time.Time) (*Offer, error)
}

// Clicks is the tracked-click redirector (channels/clicks).
type Clicks interface {
	Track(ctx context.Context, c *campaigns.Campaign, dests []string) ([]uint64, error)
	Token(linkID, recipientID uint64) string
	// Clickers lists the recipients who clicked one of the campaign's
	// e-mail links.
	Clickers(ctx context.Context, campaignID uint64) (map[uint64]bool, error)
}

// CampaignReader reads campaigns.
type CampaignReader interface {
	Get(ctx context.Context, id uint64) (*campaigns.Campaign, error)
}

// Sender is the e-mail channel's engine: it freezes a send's recipients
// into a ledger and mails them through a pool of SMTP connections, as a
// job on the email queue that halt stops within a second.
type Sender struct {
	DB        *gorm.DB
	Campaigns CampaignReader
	Messages  *Messages
	Audience  Audience
	Offers    Offers
	Clicks    Clicks
	Tasks     campaigns.Enqueuer
	SMTP      mailer.Config
	DKIM      *DKIMKey // nil: messages are not signed
	BaseURL   string
	Secret    []byte
	// Pool is the number of SMTP connections of a running send.
	Pool int
	// MaxRate caps messages per second (email.max_rate); 0: no cap but
	// the landing page's capacity.
	MaxRate float64
	// Capacity tells how much traffic the campaign's landing page can
	// take besides what the other campaigns bring (nil: no cap).
	Capacity CapacityFunc
	// UnsubscribeMailto is the address of List-Unsubscribe's mailto
	// (email.unsubscribe_mailto); empty: the message's sender.
	UnsubscribeMailto string
	// Retries are the waits between attempts at a deferred recipient
	// (nil: DefaultRetries).
	Retries []time.Duration
	// DownWait is how long a send waits to try again a server it could
	// not reach (0: DefaultDownWait).
	DownWait time.Duration
	Clock    clock.Clock

	runnerOnce sync.Once
	runner     string // this process's name in send leases
}

func (s *Sender) now() time.Time { return clock.Or(s.Clock).Now() }

// TypeSend runs one send.
const TypeSend = "email:send"

// Queue is the asynq queue of sends: a worker runs it apart, so a long
// send never holds a go-live back.
const Queue = "email"

type sendPayload struct {
	SendID uint64 `json:"send_id"`
}

// id names this process in the leases it takes (sends run side by side).
func (s *Sender) id() string {
	s.runnerOnce.Do(func() {
		var b [8]byte
		rand.Read(b[:])
		s.runner = hex.EncodeToString(b[:])
	})
	return s.runner
}

// Register adds the send handler to a mux.
func (s *Sender) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeSend, func(ctx context.Context, t *asynq.Task) error {
		var p sendPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("email: bad send payload: %v: %w", err, asynq.SkipRetry)
		}
		return s.Run(ctx, p.SendID)
	})
}

// NewServer is the worker of the email queue: sends run there, a few at a
// time, each with its pool of connections.
func NewServer(conn *queue.Conn, poll, delayed time.Duration, concurrency int) *asynq.Server {
	return queue.NewServer(conn, queue.ServerConfig{Concurrency: concurrency, PollInterval: poll, DelayedInterval: delayed, ShutdownTimeout: 10 * time.Second,
		Queues: map[string]int{Queue: 1}})
}

// enqueue queues a send's job, at a time or now. Its ID names the send
// and the instant: a second enqueue of the same is refused by asynq, a
// later one (a resume) is not; two jobs of one send are harmless (the
// send's lease lets one run).
func (s *Sender) enqueue(ctx context.Context, sendID uint64, at time.Time) error {
	b, _ := json.Marshal(sendPayload{SendID: sendID})
	opts := []asynq.Option{asynq.Queue(Queue), asynq.MaxRetry(1000), asynq.Timeout(0), asynq.Retention(time.Hour),
		asynq.TaskID(fmt.Sprintf("email-send:%d:%d", sendID, at.Unix()))}
	if at.After(s.now()) {
		opts = append(opts, asynq.ProcessAt(at))
	}
	_, err := s.Tasks.Enqueue(ctx, asynq.NewTask(TypeSend, b), opts...)
	return err
}

// start makes a planned or paused send go: now when its instant has
// come, else at its instant.
func (s *Sender) start(ctx context.Context, sd *Send) error {
	now := s.now()
	to := SendPreparing
	if sd.Frozen {
		to = SendSending
	}
	at := now
	if sd.At != nil && sd.At.After(now) {
		at = *sd.At
	}
	if sd.Status == SendPlanned && at.After(now) {
		// Stays planned until its instant: the job moves it then.
		return s.enqueue(ctx, sd.ID, at)
	}
	up := map[string]any{"status": to, "updated_at": now, "error": ""}
	if sd.StartedAt == nil {
		up["started_at"] = now
	}
	if err := s.DB.WithContext(ctx).Model(&Send{}).Where("id = ? AND status IN ?", sd.ID, []string{SendPlanned, SendPaused}).Updates(up).Error; err != nil {
		return err
	}
	return s.enqueue(ctx, sd.ID, now)
}

// Launch is the channel's move when its campaign goes live (or resumes):
// every send due goes, later ones are queued for their instant.
func (s *Sender) Launch(ctx context.Context, c *campaigns.Campaign) (string, error) {
	if _, err := s.Messages.Get(ctx, c.ID); err != nil {
		if err == ErrNotFound {
			return "no message written: nothing to send", nil
		}
		return "", err
	}
	if err := s.ensureLaunchSend(ctx, c.ID); err != nil {
		return "", err
	}
	sends, err := s.Sends(ctx, c.ID)
	if err != nil {
		return "", err
	}
	going, later := 0, 0
	for i := range sends {
		sd := &sends[i]
		if sd.Status != SendPlanned && sd.Status != SendPaused {
			continue
		}
		if err := s.start(ctx, sd); err != nil {
			return "", fmt.Errorf("email: start send %d: %w", sd.ID, err)
		}
		if sd.Status == SendPlanned && sd.At != nil && sd.At.After(s.now()) {
			later++
		} else {
			going++
		}
	}
	return fmt.Sprintf("%d send(s) going, %d planned later", going, later), nil
}

// Halt is the channel's move when a live campaign stops: a pause or a
// block pauses its sends (resume goes on), an end or a cancel stops them
// for good. A running send notices within a second.
func (s *Sender) Halt(ctx context.Context, c *campaigns.Campaign, reason string) (string, error) {
	cur, err := s.Campaigns.Get(ctx, c.ID)
	if err != nil {
		return "", err
	}
	// A pause or a block pauses what runs; a send still planned stays
	// planned (it is due only while the campaign is live: the resume
	// queues it for its instant again). An end or a cancel stops all.
	open, to := []string{SendPreparing, SendSending}, SendPaused
	if cur.Status == campaigns.Ended || cur.Status == campaigns.Cancelled {
		open, to = []string{SendPlanned, SendPreparing, SendSending, SendPaused}, SendStopped
	}
	if _, err := s.setStatus(ctx, c.ID, open, to); err != nil {
		return "", err
	}
	return s.summary(ctx, c.ID, to)
}

// summary says where a campaign's sends stand: "paused at 14:02:11, 41 % sent".
func (s *Sender) summary(ctx context.Context, campaignID uint64, status string) (string, error) {
	sends, err := s.Sends(ctx, campaignID)
	if err != nil {
		return "", err
	}
	var sent, total int64
	for _, sd := range sends {
		p, err := s.Progress(ctx, sd.ID)
		if err != nil {
			return "", err
		}
		sent += p.Sent
		total += p.Total
	}
	pct := int64(0)
	if total > 0 {
		pct = int64(math.Round(float64(sent) * 100 / float64(total)))
	}
	return fmt.Sprintf("%s at %s UTC, %d %% sent (%d of %d)", status, s.now().Format("15:04:05"), pct, sent, total), nil
}

// Resume is the channel's move when a paused campaign goes live again.
func (s *Sender) Resume(ctx context.Context, c *campaigns.Campaign) (string, error) {
	return s.Launch(ctx, c)
}

// Reconcile queues the job of every send that should be running but
// whose runner is gone (a worker killed, Redis lost): the database is the
// truth, a send is never forgotten.
func (s *Sender) Reconcile(ctx context.Context) (int, error) {
	var sends []Send
	stale := s.now().Add(-leaseTTL)
	err := s.DB.WithContext(ctx).Where("status IN ? AND (heartbeat_at IS NULL OR heartbeat_at < ?)", []string{SendPreparing, SendSending}, stale).Find(&sends).Error
	if err != nil {
		return 0, err
	}
	for _, sd := range sends {
		if err := s.enqueue(ctx, sd.ID, s.now().Truncate(leaseTTL)); err != nil {
			slog.Warn("email: reconcile send", "send_id", sd.ID, "err", err)
		}
	}
	return len(sends), nil
}

// RunReconciler reconciles sends now and every interval until ctx ends.
func (s *Sender) RunReconciler(ctx context.Context, every time.Duration) {
	reconcile := func(ctx context.Context) {
		if _, err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("email: reconcile", "err", err)
		}
	}
	reconcile(ctx)
	lease.Every(ctx, every, reconcile)
}

// The details of e-mail's moves, read back in the reader's language.
func init() {
	campaigns.DescribeMoves(
		"no message written: nothing to send",
		"%d send(s) going, %d planned later",
		"%s at %s UTC, %d %% sent (%d of %d)",
	)
}
