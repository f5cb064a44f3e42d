package email

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/lease"
)

// leaseTTL is how long a send's runner may go without a heartbeat before
// another takes the send over.
const leaseTTL = 15 * time.Second

// Run runs one send: it takes the send's lease (one runner per send in
// the whole deployment), freezes its recipients if not done yet, then
// mails them. It returns when the send is finished, halted, or waiting
// for deferred recipients (its job is queued again for them).
func (s *Sender) Run(ctx context.Context, sendID uint64) error {
	sd, err := s.GetSend(ctx, sendID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c, err := s.Campaigns.Get(ctx, sd.CampaignID)
	if err != nil {
		return err
	}
	// A send is due only while its campaign is live: a halted one waits
	// for the resume, which queues it again.
	if c.Status != campaigns.Live {
		return nil
	}
	now := s.now()
	if sd.Status == SendPlanned {
		if sd.At != nil && sd.At.After(now) {
			return s.enqueue(ctx, sd.ID, *sd.At)
		}
		if err := s.DB.WithContext(ctx).Model(&Send{}).Where("id = ? AND status = ?", sd.ID, SendPlanned).
			Updates(map[string]any{"status": SendPreparing, "started_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		sd.Status = SendPreparing
	}
	if sd.Status != SendPreparing && sd.Status != SendSending {
		return nil
	}
	var tok [8]byte
	rand.Read(tok[:])
	me := s.id() + ":" + hex.EncodeToString(tok[:4])
	res := s.DB.WithContext(ctx).Model(&Send{}).
		Where("id = ? AND status IN ? AND (runner = '' OR heartbeat_at IS NULL OR heartbeat_at < ?)", sd.ID, []string{SendPreparing, SendSending}, now.Add(-leaseTTL)).
		Updates(map[string]any{"runner": me, "heartbeat_at": now})
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error // another runner has it
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopBeat := lease.Beat(runCtx, time.Second/2, func(ctx context.Context) error {
		return s.heartbeat(ctx, cancel, sd.ID, sd.CampaignID, me)
	})
	defer func() {
		stopBeat()
		// Whatever was claimed and not sent goes back to the queue.
		bg := context.WithoutCancel(ctx)
		s.DB.WithContext(bg).Model(&Delivery{}).Where("send_id = ? AND status = ? AND runner = ?", sd.ID, DeliveryClaimed, me).
			Updates(map[string]any{"status": DeliveryQueued, "runner": ""})
		s.DB.WithContext(bg).Model(&Send{}).Where("id = ? AND runner = ?", sd.ID, me).Updates(map[string]any{"runner": ""})
	}()
	// Rows a dead runner had claimed: it may have sent the one in flight on
	// each connection, not the others.
	if err := s.DB.WithContext(ctx).Model(&Delivery{}).Where("send_id = ? AND status = ? AND runner <> ?", sd.ID, DeliveryClaimed, me).
		Updates(map[string]any{"status": DeliveryQueued, "runner": ""}).Error; err != nil {
		return err
	}
	msg, err := s.Messages.Get(ctx, c.ID)
	if err != nil {
		return s.fail(ctx, sd, fmt.Errorf("the campaign's message: %w", err))
	}
	if !sd.Frozen {
		if err := s.freeze(runCtx, sd, c, msg); err != nil {
			if runCtx.Err() != nil {
				return nil
			}
			return s.fail(ctx, sd, err)
		}
	}
	return s.deliver(runCtx, ctx, sd, c, msg, me)
}

// fail records why a send cannot go on; the job retries it.
func (s *Sender) fail(ctx context.Context, sd *Send, err error) error {
	s.DB.WithContext(context.WithoutCancel(ctx)).Model(&Send{}).Where("id = ?", sd.ID).Updates(map[string]any{"error": err.Error(), "updated_at": s.now()})
	return err
}

// heartbeat renews the lease (every half second, through lease.Beat) and
// stops the run (cancel) as soon as the send is paused or stopped, its
// campaign no longer live, or the lease lost.
func (s *Sender) heartbeat(ctx context.Context, cancel func(), sendID, campaignID uint64, me string) error {
	res := s.DB.WithContext(ctx).Model(&Send{}).Where("id = ? AND runner = ? AND status IN ?", sendID, me, []string{SendPreparing, SendSending}).
		Update("heartbeat_at", s.now())
	if res.Error == nil && res.RowsAffected == 0 {
		cancel()
		return nil
	}
	if c, err := s.Campaigns.Get(ctx, campaignID); err == nil && c.Status != campaigns.Live {
		cancel()
	}
	if res.Error != nil {
		return fmt.Errorf("email: heartbeat of send %d: %w", sendID, res.Error)
	}
	return nil
}

// freezeBatch is how many recipients one transaction writes to the ledger.
const freezeBatch = 1000

// freeze writes a ledger row per recipient of the send, in batches, from
// where a previous run stopped. Recipients who clicked already are left
// out when the send says so; with a local time, each row waits for its
// hour in the recipient's zone.
func (s *Sender) freeze(ctx context.Context, sd *Send, c *campaigns.Campaign, msg *Message) error {
	var clicked map[uint64]bool
	if sd.SkipClicked && s.Clicks != nil {
		var err error
		if clicked, err = s.Clicks.Clickers(ctx, c.ID); err != nil {
			return err
		}
	}
	base := s.now()
	if sd.At != nil && sd.At.After(base) {
		base = *sd.At
	}
	for {
		batch, err := s.Audience.Mailable(ctx, msg.ListID, msg.SegmentID, sd.PreparedAfter, freezeBatch)
		if err != nil {
			return fmt.Errorf("read the audience: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		rows := make([]Delivery, 0, len(batch))
		for _, r := range batch {
			if clicked[r.ID] {
				continue
			}
			vars, _ := json.Marshal(r.Vars)
			d := Delivery{SendID: sd.ID, ContactID: r.ID, Email: r.Email, Name: r.Name, Vars: string(vars), Status: DeliveryQueued}
			if sd.LocalTime != "" {
				at := localInstant(base, sd.LocalTime, r.TimeZone, c.Location())
				d.NotBefore = &at
			}
			rows = append(rows, d)
		}
		last := batch[len(batch)-1].ID
		err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if len(rows) > 0 {
				if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error; err != nil {
					return err
				}
			}
			return tx.Model(&Send{}).Where("id = ?", sd.ID).Updates(map[string]any{"prepared_after": last, "updated_at": s.now()}).Error
		})
		if err != nil {
			return fmt.Errorf("write the ledger: %w", err)
		}
		sd.PreparedAfter = last
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	var n int64
	if err := s.DB.WithContext(ctx).Model(&Delivery{}).Where("send_id = ?", sd.ID).Count(&n).Error; err != nil {
		return err
	}
	sd.Frozen, sd.Recipients, sd.Status = true, int(n), SendSending
	return s.DB.WithContext(ctx).Model(&Send{}).Where("id = ? AND status = ?", sd.ID, SendPreparing).
		Updates(map[string]any{"frozen": true, "recipients": n, "status": SendSending, "updated_at": s.now()}).Error
}

// localInstant is the first hh:mm in a recipient's zone (fallback when
// unknown or invalid) at or after base. time.Date normalises a wall time
// that a DST change skips, and picks the first of one it repeats.
func localInstant(base time.Time, hhmm, zone string, fallback *time.Location) time.Time {
	loc := fallback
	if l, err := clock.Location(zone); err == nil { // cached: called per recipient
		loc = l
	}
	var h, m int
	fmt.Sscanf(hhmm, "%d:%d", &h, &m)
	b := base.In(loc)
	t := time.Date(b.Year(), b.Month(), b.Day(), h, m, 0, 0, loc)
	if t.Before(base) {
		t = time.Date(b.Year(), b.Month(), b.Day()+1, h, m, 0, 0, loc)
	}
	return t.UTC()
}

// deliver mails the send's queued recipients through the pool until none
// is left to send now, the run is halted, or ctx ends.
func (s *Sender) deliver(ctx, outer context.Context, sd *Send, c *campaigns.Campaign, msg *Message, me string) error {
	limit, reason, err := s.rateFor(ctx, c, sd.Recipients)
	if err != nil {
		return s.fail(outer, sd, err)
	}
	capped := 0.0 // stored for no cap
	if limit != rate.Inf {
		capped = float64(limit)
	}
	s.DB.WithContext(ctx).Model(&Send{}).Where("id = ?", sd.ID).Updates(map[string]any{"rate": capped, "rate_reason": reason})
	var lim *rate.Limiter
	if limit > 0 {
		lim = rate.NewLimiter(limit, max(1, s.pool()))
	}
	ed, err := s.newEditions(ctx, c, msg, sd)
	if err != nil {
		return s.fail(outer, sd, err)
	}
	rec := newRecorder(s, sd.ID)
	go rec.run(outer)
	work := make(chan Delivery, 4*s.pool())
	var wg sync.WaitGroup
	var down errorBox
	for i := 0; i < s.pool(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.connection(ctx, work, ed, rec, lim, &down)
		}()
	}
	next, claimErr := s.claimAll(ctx, sd, me, work, &down)
	close(work)
	wg.Wait()
	rec.close()
	if claimErr != nil && ctx.Err() == nil {
		return s.fail(outer, sd, claimErr)
	}
	if ctx.Err() != nil { // halted, lease lost or shutting down
		return nil
	}
	if e := down.get(); e != nil {
		next = s.now().Add(s.downWait())
		s.fail(outer, sd, fmt.Errorf("SMTP server %s:%d unreachable: %w; trying again at %s UTC", s.SMTP.Host, s.SMTP.Port, e, next.Format("15:04:05")))
		return s.enqueue(outer, sd.ID, next)
	}
	s.DB.WithContext(outer).Model(&Send{}).Where("id = ? AND error <> ''", sd.ID).Update("error", "")
	if !next.IsZero() {
		return s.enqueue(outer, sd.ID, next)
	}
	p, err := s.Progress(outer, sd.ID)
	if err != nil {
		return err
	}
	if p.Remaining() > 0 {
		return s.enqueue(outer, sd.ID, s.now().Add(time.Second))
	}
	now := s.now()
	return s.DB.WithContext(outer).Model(&Send{}).Where("id = ? AND status = ?", sd.ID, SendSending).
		Updates(map[string]any{"status": SendDone, "finished_at": now, "updated_at": now}).Error
}

func (s *Sender) pool() int { return max(1, s.Pool) }

type errorBox struct {
	mu  sync.Mutex
	err error
}

func (b *errorBox) set(err error) { b.mu.Lock(); b.err = err; b.mu.Unlock() }
func (b *errorBox) get() error    { b.mu.Lock(); defer b.mu.Unlock(); return b.err }

// claimBatch is how many recipients one claim takes.
const claimBatch = 200

// claimAll claims queued recipients in batches and hands them to the
// connections, leaving out (skipped) addresses suppressed since the
// freeze. It returns when nothing is left to send now: next is when the
// earliest deferred or local-time recipient comes due (zero: none).
func (s *Sender) claimAll(ctx context.Context, sd *Send, me string, work chan<- Delivery, down *errorBox) (next time.Time, err error) {
	for ctx.Err() == nil && down.get() == nil {
		now := s.now()
		var batch []Delivery
		err := s.DB.WithContext(ctx).Where("send_id = ? AND status IN ? AND (not_before IS NULL OR not_before <= ?)", sd.ID,
			[]string{DeliveryQueued, DeliveryDeferred}, now).Order("id").Limit(claimBatch).Find(&batch).Error
		if err != nil {
			return time.Time{}, err
		}
		if len(batch) == 0 {
			var d Delivery
			err := s.DB.WithContext(ctx).Where("send_id = ? AND status IN ?", sd.ID, []string{DeliveryQueued, DeliveryDeferred}).
				Order("not_before").Limit(1).Find(&d).Error
			if err != nil || d.ID == 0 || d.NotBefore == nil {
				return time.Time{}, err
			}
			if d.NotBefore.Sub(now) < 5*time.Second {
				select {
				case <-ctx.Done():
				case <-time.After(d.NotBefore.Sub(now)):
				}
				continue
			}
			return *d.NotBefore, nil
		}
		ids := make([]uint64, len(batch))
		emails := make([]string, len(batch))
		for i, d := range batch {
			ids[i], emails[i] = d.ID, d.Email
		}
		suppressed, err := s.Audience.Suppressed(ctx, emails)
		if err != nil {
			return time.Time{}, err
		}
		var skip []uint64
		for _, d := range batch {
			if suppressed[d.Email] {
				skip = append(skip, d.ID)
			}
		}
		if len(skip) > 0 {
			if err := s.DB.WithContext(ctx).Model(&Delivery{}).Where("id IN ?", skip).
				Updates(map[string]any{"status": DeliverySkipped, "answer": "suppressed after the recipients were frozen"}).Error; err != nil {
				return time.Time{}, err
			}
		}
		if err := s.DB.WithContext(ctx).Model(&Delivery{}).Where("id IN ? AND status IN ?", ids, []string{DeliveryQueued, DeliveryDeferred}).
			Updates(map[string]any{"status": DeliveryClaimed, "runner": me}).Error; err != nil {
			return time.Time{}, err
		}
		for _, d := range batch {
			if suppressed[d.Email] {
				continue
			}
			select {
			case work <- d:
			case <-ctx.Done():
				return time.Time{}, nil
			}
		}
	}
	return time.Time{}, nil
}
