package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Storage keeps generated feed files. The local directory below is the
// default; several web nodes need a shared one (see the README's note on
// object storage).
type Storage interface {
	// Create starts writing a file that nobody sees until Commit.
	Create(ctx context.Context, feedID uint64, name string) (Pending, error)
	// Open reads the current committed file.
	Open(ctx context.Context, feedID uint64, name string) (*Stored, error)
}

// Pending is a file being written.
type Pending interface {
	io.Writer
	// Commit makes the file visible atomically, replacing the previous one.
	Commit() error
	// Abort discards it; the previous file stays.
	Abort()
}

// Stored is a committed file.
type Stored struct {
	io.ReadSeekCloser
	Size    int64
	ModTime time.Time
}

// ErrNoFile means the feed was never generated.
var ErrNoFile = errors.New("feeds: not generated yet")

// Dir stores feeds under a local directory, one folder per feed.
type Dir struct{ Root string }

type pendingFile struct {
	f    *os.File
	dest string
}

func (d Dir) folder(feedID uint64) string { return filepath.Join(d.Root, fmt.Sprint(feedID)) }

// Create implements Storage.
func (d Dir) Create(_ context.Context, feedID uint64, name string) (Pending, error) {
	dir := d.folder(feedID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("feeds: storage: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-"+name+"-*")
	if err != nil {
		return nil, fmt.Errorf("feeds: storage: %w", err)
	}
	return &pendingFile{f: f, dest: filepath.Join(dir, name)}, nil
}

func (p *pendingFile) Write(b []byte) (int, error) { return p.f.Write(b) }

func (p *pendingFile) Commit() error {
	if err := p.f.Sync(); err != nil {
		p.Abort()
		return err
	}
	if err := p.f.Close(); err != nil {
		os.Remove(p.f.Name())
		return err
	}
	// rename(2) replaces the old file atomically: a reader has either the
	// old or the new file open, never a half-written one.
	return os.Rename(p.f.Name(), p.dest)
}

func (p *pendingFile) Abort() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// Open implements Storage.
func (d Dir) Open(_ context.Context, feedID uint64, name string) (*Stored, error) {
	f, err := os.Open(filepath.Join(d.folder(feedID), filepath.Base(name)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoFile
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Stored{ReadSeekCloser: f, Size: st.Size(), ModTime: st.ModTime()}, nil
}
