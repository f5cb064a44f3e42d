package uploads

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/lease"
	"github.com/rampe/rampe/platform/queue"
)

// Importer is what a domain does with the files uploaded to it (a catalog,
// a contact list): the import runs recorded by the domain, keyed by id.
type Importer interface {
	// Running reports whether run id still waits for its import (false
	// once it finished, or when it is gone).
	Running(ctx context.Context, id uint64) (bool, error)
	// Import reads r into run id with the options of payload, recording
	// progress and outcome; committed tells whether its transaction
	// committed (a stopping worker rolls back).
	Import(ctx context.Context, id uint64, r io.Reader, payload []byte) (committed bool, err error)
	// Fail marks run id failed with msg, when nothing was imported.
	Fail(ctx context.Context, id uint64, msg string)
	// Restart puts run id back to running with its report emptied, for a
	// run that starts over.
	Restart(ctx context.Context, id uint64)
}

// The outcomes an import gets from here, stored in English after "nothing
// imported: " and read back in the reader's language by the domain's Say.
var (
	msgGone      = i18n.Key("the uploaded file is no longer in the upload store; import it again")
	msgAbandoned = i18n.Key("the import was started several times and never finished (the worker running it stopped each time); import the file again")
	// Restarted is the message of an import that starts over.
	Restarted = i18n.Key("interrupted (a worker stopped); queued again")
)

// Enqueuer delivers tasks; an existing TaskID is not an error.
type Enqueuer interface {
	Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (created bool, err error)
}

// Job is an uploaded file waiting for its import or being imported: the
// database's record of the task, so that a queue that lost the task (Redis
// flushed, or restarted empty) gets it back (Recover), and a worker that
// died in the middle of it hands it to another. The row goes when the
// import ends.
type Job struct {
	ID      uint64 `gorm:"primaryKey"`
	Kind    string // the task type, e.g. catalog:import
	RunID   uint64 // the domain's import run
	Key     string // the file in the upload store
	Payload []byte // the domain's options
	// Queued counts the tasks queued for it: each has the task id
	// Kind:RunID:Queued, so one queued again after a loss is new to asynq
	// even while the id of the lost one is kept as completed.
	Queued int
	// Owner and BeatAt are the attempt running it and its last sign of
	// life: another attempt (a task queued again, a duplicate) leaves the
	// job alone while the beat is fresh.
	Owner     string
	BeatAt    *time.Time
	CreatedAt time.Time
}

// TableName keeps the table's name stable.
func (Job) TableName() string { return "upload_jobs" }

// Migrations of the upload_jobs table.
var Migrations = []db.Migration{
	{ID: "2026120350_upload_jobs", SQL: `CREATE TABLE upload_jobs (id {{id}}, kind VARCHAR(40) NOT NULL, run_id {{bigint}} NOT NULL, key VARCHAR(300) NOT NULL,
  payload {{blob}}, queued INTEGER NOT NULL DEFAULT 1, owner VARCHAR(40) NOT NULL DEFAULT '', beat_at {{ts}}, created_at {{ts}} NOT NULL);
CREATE UNIQUE INDEX upload_jobs_run ON upload_jobs (kind, run_id)`},
}

// Jobs runs the imports of uploaded files as asynq tasks, one path for
// every kind: the web node that received a file stores it in the upload
// store, records the job and queues its task; a worker reads the file from
// there and hands it to the kind's Importer. What it guarantees:
//   - a task lost with Redis is queued again from the database (Recover,
//     at a Redis loss and every minute);
//   - a worker killed in the middle of an import leaves a job whose beat
//     stops: it is queued again once the beat is older than Stale;
//   - two attempts never import one file at once (the beat is a lease);
//   - a worker that stops rolls the import back and the task starts over;
//   - a file that kills every worker that reads it is failed after
//     MaxQueued tasks, not retried forever.
type Jobs struct {
	DB      *gorm.DB
	Uploads Store
	Tasks   Enqueuer
	Clock   clock.Clock
	// Stale is how old a beat is before its import counts as abandoned
	// (default 2 min; the beat is written every Stale/6).
	Stale time.Duration
	// MaxQueued bounds the tasks queued for one file (default 5).
	MaxQueued int

	importers map[string]Importer
}

// Handle declares the Importer of kind (the task type).
func (j *Jobs) Handle(kind string, im Importer) {
	if j.importers == nil {
		j.importers = map[string]Importer{}
	}
	j.importers[kind] = im
}

func (j *Jobs) now() time.Time { return clock.Or(j.Clock).Now() }

func (j *Jobs) stale() time.Duration {
	if j.Stale > 0 {
		return j.Stale
	}
	return 2 * time.Minute
}

func (j *Jobs) maxQueued() int {
	if j.MaxQueued > 0 {
		return j.MaxQueued
	}
	return 5
}

// Queue stores the uploaded file r (size bytes, or -1) under a new key,
// records the job of run id and queues its task. When a step fails, the
// run is failed with the reason and what was stored is removed.
func (j *Jobs) Queue(ctx context.Context, kind string, id uint64, r io.Reader, size int64, payload []byte) error {
	im, ok := j.importers[kind]
	if !ok {
		return fmt.Errorf("uploads: no importer for %q", kind)
	}
	prefix, _, _ := strings.Cut(kind, ":")
	key := NewKey(prefix, j.now())
	err := j.Uploads.Put(ctx, key, r, size)
	if err == nil {
		job := &Job{Kind: kind, RunID: id, Key: key, Payload: payload, Queued: 1, CreatedAt: j.now()}
		if err = j.DB.WithContext(ctx).Create(job).Error; err == nil {
			if _, err = j.enqueue(ctx, job); err != nil {
				j.DB.WithContext(context.WithoutCancel(ctx)).Delete(job)
			}
		}
		if err != nil {
			j.Uploads.Remove(context.WithoutCancel(ctx), key)
		}
	}
	if err != nil {
		im.Fail(context.WithoutCancel(ctx), id, "nothing imported: the file could not be queued for import: "+err.Error())
		return fmt.Errorf("uploads: queue the import: %w", err)
	}
	return nil
}

type payload struct {
	Job uint64 `json:"job"`
}

// enqueue queues the job's task; created is false when asynq still holds a
// task of the same id (pending, active, waiting for a retry).
func (j *Jobs) enqueue(ctx context.Context, job *Job) (created bool, err error) {
	b, _ := json.Marshal(payload{Job: job.ID})
	return j.Tasks.Enqueue(ctx, asynq.NewTask(job.Kind, b), asynq.TaskID(fmt.Sprintf("%s:%d:%d", job.Kind, job.RunID, job.Queued)),
		asynq.Queue("default"), asynq.MaxRetry(3), asynq.Timeout(2*time.Hour), asynq.Retention(time.Hour))
}

// Register installs the handler of every kind declared with Handle.
func (j *Jobs) Register(mux *asynq.ServeMux) {
	for kind := range j.importers {
		mux.HandleFunc(kind, func(ctx context.Context, t *asynq.Task) error {
			var p payload
			if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Job == 0 {
				return fmt.Errorf("uploads: bad %s payload %q: %w", kind, t.Payload(), asynq.SkipRetry)
			}
			return j.Run(ctx, p.Job)
		})
	}
}

// finish removes the job and its file: the import ended one way or another.
func (j *Jobs) finish(ctx context.Context, job *Job) {
	ctx = context.WithoutCancel(ctx)
	j.Uploads.Remove(ctx, job.Key)
	j.DB.WithContext(ctx).Delete(&Job{}, job.ID)
}

// Run runs job id, as its task does on a worker: the import when no other
// attempt holds it, nothing when it ended. The error is the task's: nil
// once the import has an outcome (the outcome is the import's).
func (j *Jobs) Run(ctx context.Context, id uint64) error {
	job, err := db.Take[Job](j.DB.WithContext(ctx), gorm.ErrRecordNotFound, id)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil // finished by an earlier attempt
	}
	if err != nil {
		return err
	}
	im, ok := j.importers[job.Kind]
	if !ok {
		return fmt.Errorf("uploads: no importer for %q: %w", job.Kind, asynq.SkipRetry)
	}
	if running, err := im.Running(ctx, job.RunID); err != nil {
		return err
	} else if !running {
		j.finish(ctx, job)
		return nil
	}
	owner, ok, err := j.claim(ctx, job)
	if err != nil || !ok {
		return err // another attempt holds it: nothing to do here
	}
	stopBeat := j.beat(ctx, job.ID, owner)
	defer stopBeat()
	r, err := j.Uploads.Open(ctx, job.Key)
	if errors.Is(err, ErrNotFound) {
		im.Fail(ctx, job.RunID, "nothing imported: "+msgGone)
		j.finish(ctx, job)
		return fmt.Errorf("uploads: %s %d: %w: %w", job.Kind, job.RunID, err, asynq.SkipRetry)
	}
	if err != nil {
		if queue.LastAttempt(ctx) {
			im.Fail(ctx, job.RunID, "nothing imported: the uploaded file could not be read: "+err.Error())
			j.finish(ctx, job)
		} else {
			j.release(ctx, job.ID, owner)
		}
		return err // retried
	}
	defer r.Close()
	committed, err := im.Import(ctx, job.RunID, r, job.Payload)
	if ctx.Err() != nil && !committed {
		// The worker is stopping: the transaction was rolled back, and the
		// task goes back to the queue to start over.
		im.Restart(context.WithoutCancel(ctx), job.RunID)
		j.release(ctx, job.ID, owner)
		return ctx.Err()
	}
	j.finish(ctx, job)
	if err != nil {
		slog.Info("uploads: import finished with errors", "kind", job.Kind, "run", job.RunID, "err", err)
	}
	return nil // the outcome is the import's, not the task's
}

// claim takes the job for this attempt unless another attempt's beat is
// fresh.
func (j *Jobs) claim(ctx context.Context, job *Job) (owner string, ok bool, err error) {
	b := make([]byte, 8)
	rand.Read(b)
	owner = hex.EncodeToString(b)
	now := j.now()
	res := j.DB.WithContext(ctx).Model(&Job{}).Where("id = ? AND (beat_at IS NULL OR beat_at < ?)", job.ID, now.Add(-j.stale())).
		Updates(map[string]any{"owner": owner, "beat_at": now})
	return owner, res.RowsAffected == 1, res.Error
}

// beat keeps the claim fresh while the import runs, every Stale/6.
func (j *Jobs) beat(ctx context.Context, id uint64, owner string) (stop func()) {
	return lease.Beat(ctx, j.stale()/6, func(ctx context.Context) error {
		if err := j.DB.WithContext(ctx).Model(&Job{}).Where("id = ? AND owner = ?", id, owner).Update("beat_at", j.now()).Error; err != nil {
			return fmt.Errorf("uploads: beat of job %d: %w", id, err)
		}
		return nil
	})
}

// release gives the job up for the next attempt.
func (j *Jobs) release(ctx context.Context, id uint64, owner string) {
	j.DB.WithContext(context.WithoutCancel(ctx)).Model(&Job{}).Where("id = ? AND owner = ?", id, owner).
		Updates(map[string]any{"owner": "", "beat_at": nil})
}

// Recover finds the jobs whose task is lost and queues them again:
//   - a job no attempt holds, older than Stale, is queued again under the
//     same task id: asynq refuses it while the task still waits (pending,
//     scheduled, waiting for a retry), so only a task Redis lost comes back;
//   - a job whose beat is older than Stale was abandoned by a worker that
//     died in the middle of it: it is restarted under a new task id, and
//     failed once it was queued MaxQueued times (a file that kills every
//     worker that reads it).
//
// It returns how many tasks it queued.
func (j *Jobs) Recover(ctx context.Context) (int, error) {
	cut := j.now().Add(-j.stale())
	return j.recover(ctx, cut, cut)
}

// RecoverLost is Recover after Redis lost its data: every job no attempt
// holds is queued again at once, whatever its age.
func (j *Jobs) RecoverLost(ctx context.Context) (int, error) {
	return j.recover(ctx, j.now().Add(time.Second), j.now().Add(-j.stale()))
}

func (j *Jobs) recover(ctx context.Context, waiting, beat time.Time) (int, error) {
	n := 0
	var last uint64
	for { // every job, a page of recoverPage at a time (keyset on id)
		var jobs []Job
		err := j.DB.WithContext(ctx).Where("id > ? AND ((beat_at IS NULL AND created_at < ?) OR beat_at < ?)", last, waiting, beat).
			Order("id").Limit(recoverPage).Find(&jobs).Error
		if err != nil {
			return n, fmt.Errorf("uploads: recover: %w", err)
		}
		for i := range jobs {
			queued, err := j.recoverOne(ctx, &jobs[i])
			if err != nil {
				return n, err
			}
			if queued {
				n++
			}
		}
		if len(jobs) < recoverPage {
			return n, nil
		}
		last = jobs[len(jobs)-1].ID
	}
}

// recoverPage is how many jobs one query of recover reads.
const recoverPage = 500

// recoverOne queues job again when its task is lost; true when it did.
func (j *Jobs) recoverOne(ctx context.Context, job *Job) (bool, error) {
	im, ok := j.importers[job.Kind]
	if !ok {
		return false, nil
	}
	if job.BeatAt != nil && !j.restart(ctx, im, job) {
		return false, nil
	}
	created, err := j.enqueue(ctx, job)
	if err != nil {
		return false, fmt.Errorf("uploads: queue %s %d again: %w", job.Kind, job.RunID, err)
	}
	if created {
		slog.Warn("uploads: import queued again (its task was lost or its worker stopped)", "kind", job.Kind, "run", job.RunID, "queued", job.Queued)
	}
	return created, nil
}

// restart takes an abandoned job back for a new task, or fails it when it
// was queued MaxQueued times; false when there is nothing to queue.
func (j *Jobs) restart(ctx context.Context, im Importer, job *Job) bool {
	if job.Queued >= j.maxQueued() {
		im.Fail(ctx, job.RunID, "nothing imported: "+msgAbandoned)
		j.finish(ctx, job)
		return false
	}
	// One recoverer only moves the job on: the update is guarded by the
	// claim it saw.
	res := j.DB.WithContext(ctx).Model(&Job{}).Where("id = ? AND queued = ? AND owner = ?", job.ID, job.Queued, job.Owner).
		Updates(map[string]any{"queued": job.Queued + 1, "owner": "", "beat_at": nil, "created_at": j.now()})
	if res.Error != nil || res.RowsAffected != 1 {
		return false
	}
	im.Restart(ctx, job.RunID)
	job.Queued++
	return true
}

// RunRecover calls Recover every interval until ctx ends.
func (j *Jobs) RunRecover(ctx context.Context, every time.Duration) {
	lease.Every(ctx, every, func(ctx context.Context) {
		if _, err := j.Recover(ctx); err != nil {
			slog.Warn("uploads: recover", "err", err)
		}
	})
}
