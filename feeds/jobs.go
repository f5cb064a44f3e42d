package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"

	"github.com/rampe/rampe/platform/lease"
)

// TypeGenerate regenerates one feed.
const TypeGenerate = "feed:generate"

// Enqueuer delivers tasks; an existing TaskID is not an error.
type Enqueuer interface {
	Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (created bool, err error)
}

type genPayload struct {
	FeedID uint64 `json:"feed_id"`
	Reason string `json:"reason"`
	// Asked is when the generation was asked for: a generation that
	// started since covers it, and the task then has nothing to do.
	Asked time.Time `json:"asked"`
}

// Jobs enqueues and runs generations.
type Jobs struct {
	Service *Service
	Tasks   Enqueuer
}

// Enqueue asks for a generation of one feed. Requests within the same
// minute for the same reason collapse into one task. A failure to queue is
// logged (the scheduler's next tick asks again); Request reports it.
func (j *Jobs) Enqueue(ctx context.Context, feedID uint64, reason string, at time.Time) {
	if err := j.enqueue(ctx, feedID, reason, at); err != nil {
		slog.Warn("feeds: enqueue generation", "feed_id", feedID, "reason", reason, "err", err)
	}
}

// Request queues a generation asked for by someone (UI, API) for now, on
// whichever worker takes it: no web node generates a feed itself, and a
// shutdown of the node that asked never cuts one in half. The task ID
// holds `by` (the UI and API pass "by <e-mail>"), so the same person's
// requests within one minute collapse into one generation; two people
// asking in the same minute get two, the second finding the feed fresh.
func (j *Jobs) Request(ctx context.Context, feedID uint64, by string) error {
	err := j.enqueue(ctx, feedID, by, j.Service.now())
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil // the same request, queued a moment ago
	}
	return err
}

func (j *Jobs) enqueue(ctx context.Context, feedID uint64, reason string, at time.Time) error {
	// A task due later (a promotion boundary) is covered only by a
	// generation that starts at its instant or after.
	asked := at
	if j.Service != nil && j.Service.now().After(asked) {
		asked = j.Service.now()
	}
	b, _ := json.Marshal(genPayload{FeedID: feedID, Reason: reason, Asked: asked})
	id := fmt.Sprintf("feed:%d:%s:%d", feedID, reason, at.Truncate(time.Minute).Unix())
	_, err := j.Tasks.Enqueue(ctx, asynq.NewTask(TypeGenerate, b), asynq.TaskID(id), asynq.ProcessAt(at), asynq.Queue("default"),
		asynq.MaxRetry(5), asynq.Timeout(2*time.Hour), asynq.Retention(time.Hour))
	return err
}

// EnqueueAll asks for a generation of every feed (catalog import, promotion
// published or unpublished).
func (j *Jobs) EnqueueAll(ctx context.Context, reason string) {
	list, err := j.Service.List(ctx)
	if err != nil {
		slog.Error("feeds: list feeds", "err", err)
		return
	}
	now := j.Service.now()
	for _, f := range list {
		j.Enqueue(ctx, f.ID, reason, now)
	}
}

// Register installs the generation handler.
func (j *Jobs) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeGenerate, func(ctx context.Context, t *asynq.Task) error {
		var p genPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.FeedID == 0 {
			return fmt.Errorf("feeds: bad payload %q: %w", t.Payload(), asynq.SkipRetry)
		}
		if covered, err := j.covered(ctx, p); err != nil || covered {
			return err
		}
		_, err := j.Service.Generate(ctx, p.FeedID, p.Reason, nil)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case errors.Is(err, ErrBusy):
			return err // retried after the running one ends
		}
		return err
	})
}

// Tick enqueues what is due at now: feeds whose cron expression fired since
// their last generation, and every feed when a promotion window opened or
// closed since it was generated (so sale prices appear and disappear on
// time).
func (j *Jobs) Tick(ctx context.Context, now time.Time) error {
	list, err := j.Service.List(ctx)
	if err != nil {
		return err
	}
	promos, err := j.Service.Promotions.Published(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	// Catalog imports (from any process, the CLI included) and promotion
	// publishes are noticed from the database, whatever happened to the
	// task their trigger enqueued.
	v, err := j.Service.Catalog.Version(ctx)
	if err != nil {
		return err
	}
	catalogChanged := v.Newest
	promosChanged, err := j.Service.Promotions.LastChanged(ctx)
	if err != nil {
		return err
	}
	for _, f := range list {
		since := f.CreatedAt
		if f.GeneratedAt != nil {
			since = *f.GeneratedAt
		}
		// A generation running now covers what changed before it began:
		// asking again every tick while it runs queued one run per minute
		// of a long generation (9 runs for 3 feeds after one import).
		if g := f.GeneratingSince; g != nil && g.After(since) && now.Sub(*g) < time.Hour {
			since = *g
		}
		if f.Cron != "" {
			if sched, err := cron.ParseStandard(f.Cron); err == nil {
				if next := sched.Next(since); !next.After(now) {
					j.Enqueue(ctx, f.ID, "schedule", now)
					continue
				}
			}
		}
		if catalogChanged.After(since) {
			j.Enqueue(ctx, f.ID, "catalog changed", now)
			continue
		}
		if promosChanged.After(since) {
			j.Enqueue(ctx, f.ID, "promotion published or unpublished", now)
			continue
		}
		for _, p := range promos {
			for _, b := range []time.Time{p.StartsAt, p.EndsAt} {
				switch {
				case b.After(since) && !b.After(now):
					j.Enqueue(ctx, f.ID, "promotion window boundary", now)
				case b.After(now) && !b.After(now.Add(BoundaryLookahead)):
					// Due at the boundary itself, not at the next tick: a
					// feed without effective dates (idealo) changes then.
					j.Enqueue(ctx, f.ID, "promotion window boundary", b)
				}
			}
		}
	}
	return nil
}

// BoundaryLookahead is how far ahead Tick queues the generations due at a
// promotion window's opening or closing: more than the scheduler's 30 s.
const BoundaryLookahead = time.Minute

// RunScheduler ticks every interval until ctx ends.
func (j *Jobs) RunScheduler(ctx context.Context, interval time.Duration) {
	tick := func(ctx context.Context) {
		if err := j.Tick(ctx, j.Service.now()); err != nil {
			slog.Error("feeds: scheduler", "err", err)
		}
	}
	tick(ctx)
	lease.Every(ctx, interval, tick)
}

// covered tells whether a generation that began after the task was asked
// for has done its work already (asked before the generation that ran
// meanwhile started): then the task has nothing left to do.
func (j *Jobs) covered(ctx context.Context, p genPayload) (bool, error) {
	if p.Asked.IsZero() {
		return false, nil
	}
	f, err := j.Service.Get(ctx, p.FeedID)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if f.GeneratedAt != nil && f.GeneratedAt.After(p.Asked) {
		slog.Debug("feeds: generation already covered by a later one", "feed", f.Name, "asked", p.Asked, "generated", *f.GeneratedAt)
		return true, nil
	}
	return false, nil
}
