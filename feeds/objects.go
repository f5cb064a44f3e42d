package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/lease"
	"github.com/rampe/rampe/platform/objstore"
)

// Objects stores feed files in an S3-compatible bucket (feeds.storage_url),
// for several nodes without a shared disk. A file is uploaded under a key of
// its own (feeds/{feed}/{name}/{random}); Commit points the feed's file at
// that key in the database (table feed_files), which every node reads: the
// commit is atomic for all of them. The object it replaced is listed in
// feed_stale_objects and deleted after the grace period, so a node that was
// already streaming it finishes. Open streams the object through the node
// (no redirect: comparators keep one host, the ETag and the gzip choice).
type Objects struct {
	DB     *gorm.DB
	Bucket *objstore.Bucket
	// Grace is how long a replaced object stays (objstore.DefaultGrace
	// when 0).
	Grace time.Duration
	Clock clock.Clock
}

// fileRef is the pointer of one feed file to its current object.
type fileRef struct {
	FeedID     uint64 `gorm:"primaryKey;autoIncrement:false"`
	Name       string `gorm:"primaryKey"`
	ObjectKey  string
	Size       int64
	ModifiedAt time.Time
}

func (fileRef) TableName() string { return "feed_files" }

// staleObject is an object replaced by a newer one, deleted after the grace.
type staleObject struct {
	ID          uint64 `gorm:"primaryKey"`
	ObjectKey   string
	DeleteAfter time.Time
}

func (staleObject) TableName() string { return "feed_stale_objects" }

func (o *Objects) now() time.Time { return clock.Or(o.Clock).Now() }

func (o *Objects) grace() time.Duration {
	if o.Grace > 0 {
		return o.Grace
	}
	return objstore.DefaultGrace
}

// Create implements Storage: the upload starts at once and reads what is
// written, part by part.
func (o *Objects) Create(ctx context.Context, feedID uint64, name string) (Pending, error) {
	key := fmt.Sprintf("feeds/%d/%s/%s", feedID, name, NewToken())
	pr, pw := io.Pipe()
	p := &pendingObject{o: o, ctx: ctx, feedID: feedID, name: name, key: key, pw: pw, done: make(chan error, 1)}
	go func() {
		err := o.Bucket.Put(ctx, key, pr, -1, "application/octet-stream")
		pr.CloseWithError(err) // a writer blocked on a failed upload returns
		p.done <- err
	}()
	return p, nil
}

type pendingObject struct {
	o         *Objects
	ctx       context.Context
	feedID    uint64
	name      string
	key       string
	pw        *io.PipeWriter
	written   int64
	done      chan error
	finished  bool  // the upload's outcome was read from done
	uploadErr error // that outcome
}

func (p *pendingObject) Write(b []byte) (int, error) {
	n, err := p.pw.Write(b)
	p.written += int64(n)
	if err != nil {
		return n, fmt.Errorf("feeds: upload %s: %w", p.key, err)
	}
	return n, nil
}

var errObjectAborted = errors.New("feeds: file aborted")

// Finish completes the upload without making it visible: the slow part
// of a commit, which can fail (Generate finishes the feed and its .gz
// before it commits either, so that they are replaced together).
func (p *pendingObject) Finish() error {
	if !p.finished {
		p.pw.Close()
		p.uploadErr, p.finished = <-p.done, true
	}
	if p.uploadErr != nil {
		return fmt.Errorf("feeds: upload %s: %w", p.key, p.uploadErr)
	}
	return nil
}

// Commit finishes the upload, then points the feed's file at it.
func (p *pendingObject) Commit() error {
	if err := p.Finish(); err != nil {
		return err
	}
	ctx := context.WithoutCancel(p.ctx)
	if err := p.o.point(ctx, fileRef{FeedID: p.feedID, Name: p.name, ObjectKey: p.key, Size: p.written, ModifiedAt: p.o.now()}); err != nil {
		p.o.Bucket.Remove(ctx, p.key)
		return err
	}
	if n, err := p.o.SweepStale(ctx); err != nil {
		slog.Warn("feeds: delete replaced objects", "err", err)
	} else if n > 0 {
		slog.Debug("feeds: deleted replaced objects", "objects", n)
	}
	return nil
}

// Abort stops the upload (an unfinished multipart upload is aborted) and
// deletes what may have been stored.
func (p *pendingObject) Abort() {
	if !p.finished {
		p.pw.CloseWithError(errObjectAborted)
		p.uploadErr, p.finished = <-p.done, true
	}
	if p.uploadErr == nil {
		p.o.Bucket.Remove(context.WithoutCancel(p.ctx), p.key)
	}
}

// point replaces the pointer of ref's file in one transaction, and lists the
// object it pointed at for deletion after the grace. A feed has one
// generation at a time (feeds.generating_since); should two overlap, the
// pointer moves only from the object it was read at (compare and swap),
// so every replaced object is listed once and none is left behind.
func (o *Objects) point(ctx context.Context, ref fileRef) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var swapped bool
		err = o.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var old fileRef
			err := tx.Where("feed_id = ? AND name = ?", ref.FeedID, ref.Name).Take(&old).Error
			switch {
			case errors.Is(err, gorm.ErrRecordNotFound):
				// Nothing inserted: another commit came first; read again.
				res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ref)
				swapped = res.Error == nil && res.RowsAffected == 1
				return res.Error
			case err != nil:
				return err
			}
			res := tx.Model(&fileRef{}).Where("feed_id = ? AND name = ? AND object_key = ?", ref.FeedID, ref.Name, old.ObjectKey).
				Updates(map[string]any{"object_key": ref.ObjectKey, "size": ref.Size, "modified_at": ref.ModifiedAt})
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			swapped = true
			return tx.Create(&staleObject{ObjectKey: old.ObjectKey, DeleteAfter: ref.ModifiedAt.Add(o.grace())}).Error
		})
		if err != nil || swapped {
			return err
		}
	}
	return fmt.Errorf("feeds: point %d/%s at %s: other commits kept replacing it", ref.FeedID, ref.Name, ref.ObjectKey)
}

// SweepStale deletes the replaced objects whose grace is over (a hundred
// per call) and forgets them. Every commit runs it; several nodes running
// it at once delete an object twice, which is harmless.
func (o *Objects) SweepStale(ctx context.Context) (int, error) {
	var due []staleObject
	if err := o.DB.WithContext(ctx).Where("delete_after <= ?", o.now()).Order("id").Limit(100).Find(&due).Error; err != nil {
		return 0, err
	}
	n := 0
	for _, s := range due {
		if err := o.Bucket.Remove(ctx, s.ObjectKey); err != nil {
			return n, fmt.Errorf("feeds: delete object %s: %w", s.ObjectKey, err)
		}
		if err := o.DB.WithContext(ctx).Delete(&staleObject{}, s.ID).Error; err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// RunSweeper deletes replaced objects whose grace is over every interval
// until ctx ends (workers run it: commits sweep too, but a deployment whose
// feeds stop changing would keep the last replaced objects otherwise).
func (o *Objects) RunSweeper(ctx context.Context, every time.Duration) {
	lease.Every(ctx, every, func(ctx context.Context) {
		if _, err := o.SweepStale(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("feeds: delete replaced objects", "err", err)
		}
	})
}

// Open implements Storage: the current object of the file, read as it is
// sent. Its size and time come from the pointer, the same on every node.
func (o *Objects) Open(ctx context.Context, feedID uint64, name string) (*Stored, error) {
	var ref fileRef
	err := o.DB.WithContext(ctx).Where("feed_id = ? AND name = ?", feedID, name).Take(&ref).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoFile
	}
	if err != nil {
		return nil, err
	}
	// The body is read after the handler returned: the read must not end
	// with the request's context.
	obj, err := o.Bucket.Get(context.WithoutCancel(ctx), ref.ObjectKey)
	if err == nil {
		// The request goes out here, not at the first read: an object
		// missing behind its pointer is an error before any header is
		// sent, never a 200 cut short.
		_, err = obj.Stat()
	}
	if err != nil {
		return nil, fmt.Errorf("feeds: object %s: %w", ref.ObjectKey, objstore.NotFound(err))
	}
	return &Stored{ReadSeekCloser: obj, Size: ref.Size, ModTime: ref.ModifiedAt}, nil
}

var objectsMigration = `
CREATE TABLE feed_files (feed_id {{bigint}} NOT NULL REFERENCES feeds(id) ON DELETE CASCADE, name VARCHAR(80) NOT NULL,
  object_key VARCHAR(300) NOT NULL, size {{bigint}} NOT NULL, modified_at {{ts}} NOT NULL, PRIMARY KEY (feed_id, name));
CREATE TABLE feed_stale_objects (id {{id}}, object_key VARCHAR(300) NOT NULL, delete_after {{ts}} NOT NULL);
CREATE INDEX feed_stale_objects_due ON feed_stale_objects (delete_after)`
