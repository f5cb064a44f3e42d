package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
	"unsafe"
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

func (d Dir) folder(feedID uint64) string { return filepath.Join(d.Root, fmt.Sprint(feedID)) }

// Create implements Storage. The file is written with O_DIRECT where the
// file system allows it: a feed is written once and fetched rarely, so it
// goes around the page cache instead of pushing the database's pages out of
// it (and allocating half a gigabyte of cache pages costs more CPU than the
// formatting on some virtual machines).
func (d Dir) Create(_ context.Context, feedID uint64, name string) (Pending, error) {
	dir := d.folder(feedID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("feeds: storage: %w", err)
	}
	tmp := filepath.Join(dir, ".tmp-"+name+"-"+NewToken())
	f, direct, err := createDirect(tmp)
	if err != nil {
		return nil, fmt.Errorf("feeds: storage: %w", err)
	}
	return &pendingFile{f: f, dest: filepath.Join(dir, name), direct: direct, buf: alignedBuffer(fileChunk)}, nil
}

// pendingFile writes a feed file under a temporary name, in whole chunks
// from buf (callers such as a gzip compressor write a few hundred bytes at
// a time). With O_DIRECT, the last partial block is written after O_DIRECT
// is switched off; without it, the kernel is asked to start writing back
// every writebackEvery bytes.
type pendingFile struct {
	f       *os.File
	dest    string
	direct  bool
	buf     []byte // aligned for O_DIRECT, len 0..fileChunk
	written int64
	synced  int64 // bytes handed to the disk already (buffered writes)
}

const (
	fileChunk   = 1 << 20
	directAlign = 4096
	// writebackEvery is how often a buffered pending file asks the kernel
	// to start writing, so the fsync before the rename finds little left.
	writebackEvery = 16 << 20
)

// alignedBuffer returns an empty slice of capacity n whose first byte is
// aligned for O_DIRECT (Go's heap does not move objects).
func alignedBuffer(n int) []byte {
	raw := make([]byte, n+directAlign)
	off := directAlign - int(uintptr(unsafe.Pointer(&raw[0]))%directAlign)
	if off == directAlign {
		off = 0
	}
	return raw[off : off : off+n]
}

func (p *pendingFile) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		k := copy(p.buf[len(p.buf):cap(p.buf)], b)
		p.buf = p.buf[:len(p.buf)+k]
		b = b[k:]
		if len(p.buf) == cap(p.buf) {
			if err := p.flush(len(p.buf)); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// flush writes the first n bytes of buf (with O_DIRECT, a multiple of the
// alignment) and keeps the rest.
func (p *pendingFile) flush(n int) error {
	if err := p.writeOut(p.buf[:n]); err != nil {
		return err
	}
	rest := copy(p.buf, p.buf[n:])
	p.buf = p.buf[:rest]
	return nil
}

// writeOut writes b to the file. A file system that refuses an O_DIRECT
// write gets buffered ones from then on.
func (p *pendingFile) writeOut(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if p.direct {
		_, err := p.f.Write(b)
		if !errors.Is(err, syscall.EINVAL) {
			return err
		}
		if err := p.stopDirect(); err != nil {
			return err
		}
	}
	n, err := p.f.Write(b)
	p.written += int64(n)
	if p.written-p.synced >= writebackEvery {
		startWriteback(p.f, p.synced, p.written-p.synced)
		p.synced = p.written
	}
	return err
}

func (p *pendingFile) stopDirect() error {
	p.direct = false
	return clearDirect(p.f)
}

// finish writes what buf still holds: with O_DIRECT, the aligned part
// directly and the tail with O_DIRECT off.
func (p *pendingFile) finish() error {
	if p.direct {
		if err := p.flush(len(p.buf) / directAlign * directAlign); err != nil {
			return err
		}
		if len(p.buf) > 0 {
			if err := p.stopDirect(); err != nil {
				return err
			}
		}
	}
	return p.flush(len(p.buf))
}

func (p *pendingFile) Commit() error {
	if err := p.finish(); err != nil {
		p.Abort()
		return err
	}
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
