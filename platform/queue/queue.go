// Package queue connects Rampe to Redis and asynq: a real Redis when a URL is
// configured, otherwise an in-process miniredis for the single-process mode.
// Domain packages register their own task handlers on the Mux it builds; the
// queues are critical, default and low, weighted 6/3/1.
package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/rampe/rampe/platform/lease"
)

// Queue names.
const (
	Critical = "critical"
	Default  = "default"
	Low      = "low"
)

// Weights of the queues for a worker.
var Weights = map[string]int{Critical: 6, Default: 3, Low: 1}

// Conn is a Redis connection, embedded or remote.
type Conn struct {
	Redis    redis.UniversalClient
	Embedded bool
	mini     *miniredis.Miniredis
}

// Connect opens url, or starts an in-process Redis when url is empty.
func Connect(ctx context.Context, url string) (*Conn, error) {
	if url == "" {
		// The in-process Redis listens on a loopback port, where any local
		// user could reach it: it demands a password only this process
		// knows, so nobody else can read or write the job queues.
		pw := make([]byte, 24)
		if _, err := rand.Read(pw); err != nil {
			return nil, fmt.Errorf("queue: in-process redis password: %w", err)
		}
		password := hex.EncodeToString(pw)
		m := miniredis.NewMiniRedis()
		m.RequireAuth(password)
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("queue: start in-process redis: %w", err)
		}
		slog.Warn("queue: no redis.url configured; using an in-process Redis. This mode is for a single process: web and worker must run in this same process, and queued tasks live only in memory (the reconciler re-creates them from the database at start)", "addr", m.Addr())
		return &Conn{Redis: redis.NewClient(&redis.Options{Addr: m.Addr(), Password: password}), Embedded: true, mini: m}, nil
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("queue: redis.url: %w", err)
	}
	c := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("queue: redis at %s unreachable: %w", opt.Addr, err)
	}
	return &Conn{Redis: c}, nil
}

// Addr is the address of the Redis server (the embedded one's too).
func (c *Conn) Addr() string {
	if c.mini != nil {
		return c.mini.Addr()
	}
	if rc, ok := c.Redis.(*redis.Client); ok {
		return rc.Options().Addr
	}
	return ""
}

// Ping checks that Redis answers.
func (c *Conn) Ping(ctx context.Context) error { return c.Redis.Ping(ctx).Err() }

// Close closes the client and stops the embedded server.
func (c *Conn) Close() error {
	err := c.Redis.Close()
	if c.mini != nil {
		c.mini.Close()
	}
	return err
}

// Ahead is how long before an instant a task must be due for an idle
// worker to be holding it by that instant: asynq moves due scheduled
// tasks to their queue every delayed, and an idle worker looks at its
// queues every poll/2 to 3·poll/2 (jitter), so a due task may wait up to
// delayed + 1.5 polls; one more second covers a busy Redis or worker. A
// task that must start at an exact instant is made due this much earlier
// and its handler waits for the instant itself: its lateness then no
// longer depends on how often workers poll (which costs CPU in Redis and
// here).
func Ahead(poll, delayed time.Duration) time.Duration {
	return delayed + poll*3/2 + time.Second
}

// ServerConfig tunes a worker.
type ServerConfig struct {
	Concurrency int
	// PollInterval is how often an idle worker looks for a queued task.
	PollInterval time.Duration
	// DelayedInterval is how often due scheduled tasks and retries are
	// moved to their queue (0: PollInterval).
	DelayedInterval time.Duration
	ShutdownTimeout time.Duration
	// Queues served, by weight (nil: Rampe's main queues, Weights).
	Queues map[string]int
}

// NewServer builds an asynq server on conn with Rampe's queues.
func NewServer(conn *Conn, sc ServerConfig) *asynq.Server {
	queues := sc.Queues
	if queues == nil {
		queues = Weights
	}
	delayed := sc.DelayedInterval
	if delayed <= 0 {
		delayed = sc.PollInterval
	}
	return asynq.NewServerFromRedisClient(conn.Redis, asynq.Config{
		Concurrency:              sc.Concurrency,
		Queues:                   queues,
		TaskCheckInterval:        sc.PollInterval,
		DelayedTaskCheckInterval: delayed,
		ShutdownTimeout:          sc.ShutdownTimeout,
		Logger:                   slogLogger{},
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			slog.Error("queue: task failed", "job", t.Type(), "err", err)
		}),
	})
}

var jobsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "rampe_jobs_total", Help: "Tasks processed by type and result.",
}, []string{"type", "result"})

var jobSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name: "rampe_job_duration_seconds", Help: "Task processing time.",
	Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
}, []string{"type"})

func init() { prometheus.MustRegister(jobsTotal, jobSeconds) }

// NewMux returns a ServeMux that counts every task in Prometheus.
func NewMux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Use(func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			start := time.Now()
			err := next.ProcessTask(ctx, t)
			result := "ok"
			if err != nil {
				result = "error"
			}
			jobsTotal.WithLabelValues(t.Type(), result).Inc()
			jobSeconds.WithLabelValues(t.Type()).Observe(time.Since(start).Seconds())
			return err
		})
	})
	return mux
}

// Enqueue enqueues t and treats an existing task with the same TaskID as
// success: deterministic IDs make enqueuing twice harmless.
func Enqueue(ctx context.Context, c *asynq.Client, t *asynq.Task, opts ...asynq.Option) (created bool, err error) {
	_, err = c.EnqueueContext(ctx, t, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("queue: enqueue %s: %w", t.Type(), err)
	}
	return true, nil
}

type slogLogger struct{}

func (slogLogger) Debug(args ...any) { slog.Debug(fmt.Sprint(args...), "component", "asynq") }
func (slogLogger) Info(args ...any)  { slog.Info(fmt.Sprint(args...), "component", "asynq") }
func (slogLogger) Warn(args ...any)  { slog.Warn(fmt.Sprint(args...), "component", "asynq") }
func (slogLogger) Error(args ...any) { slog.Error(fmt.Sprint(args...), "component", "asynq") }
func (slogLogger) Fatal(args ...any) { slog.Error(fmt.Sprint(args...), "component", "asynq") }

// Client enqueues tasks; an existing TaskID counts as already enqueued.
type Client struct{ C *asynq.Client }

// NewClient returns a client on conn.
func NewClient(conn *Conn) *Client { return &Client{C: asynq.NewClientFromRedisClient(conn.Redis)} }

// Enqueue implements the domain packages' Enqueuer.
func (c *Client) Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (bool, error) {
	return Enqueue(ctx, c.C, t, opts...)
}

// MarkerKey is a key Rampe keeps in Redis for as long as Redis keeps its
// data: when it is gone, Redis was flushed or restarted empty, and every
// queued task with it.
const MarkerKey = "rampe:marker"

// WatchLoss notices a Redis that lost its data: every interval it checks
// MarkerKey, and when the key is missing it calls onLost (the reconciler,
// which re-creates the tasks from the database) and sets the key again once
// onLost succeeded. The key is set at once when the watch starts: the
// process reconciles at start anyway. A Redis that does not answer is
// checked again at the next interval. It returns when ctx ends.
func WatchLoss(ctx context.Context, rdb redis.UniversalClient, every time.Duration, onLost func(context.Context) error) {
	rdb.Set(ctx, MarkerKey, time.Now().UTC().Format(time.RFC3339), 0)
	lease.Every(ctx, every, func(ctx context.Context) {
		n, err := rdb.Exists(ctx, MarkerKey).Result()
		if err != nil || n > 0 {
			return
		}
		slog.Warn("queue: Redis lost its data (flushed or restarted empty); re-creating the tasks from the database now")
		if err := onLost(ctx); err != nil {
			slog.Error("queue: re-creating tasks after a Redis loss failed; trying again", "err", err)
			return
		}
		rdb.Set(ctx, MarkerKey, time.Now().UTC().Format(time.RFC3339), 0)
	})
}

// LastAttempt tells whether the task running in ctx will not be retried
// after this attempt (false outside a task): what the attempt holds must
// then be released for good.
func LastAttempt(ctx context.Context) bool {
	n, ok1 := asynq.GetRetryCount(ctx)
	max, ok2 := asynq.GetMaxRetry(ctx)
	return ok1 && ok2 && n >= max
}
