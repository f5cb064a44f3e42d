package feeds

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

const (
	chunkSize   = 256 << 10
	chunksInUse = 8 // 2 MiB in flight at most
)

// fanout hands what the formatter writes to one goroutine per destination —
// the plain file, the gzip compressor — so formatting, compressing and
// writing run side by side. A chunk returns to the pool once every
// destination is done with it; memory stays at chunksInUse chunks.
type fanout struct {
	cur  *chunk
	free chan *chunk
	outs []chan *chunk
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
	bad  atomic.Bool
	n    int64
}

type chunk struct {
	b    []byte
	refs atomic.Int32
}

func newFanout(dst ...io.Writer) *fanout {
	f := &fanout{free: make(chan *chunk, chunksInUse)}
	for range chunksInUse {
		f.free <- &chunk{b: make([]byte, 0, chunkSize)}
	}
	for _, w := range dst {
		ch := make(chan *chunk, chunksInUse)
		f.outs = append(f.outs, ch)
		f.wg.Add(1)
		go f.drain(w, ch)
	}
	return f
}

// drain writes the chunks of one destination; after an error it keeps
// releasing them so the others are not blocked, and Write reports it.
func (f *fanout) drain(w io.Writer, ch <-chan *chunk) {
	defer f.wg.Done()
	for c := range ch {
		if !f.bad.Load() {
			if _, err := w.Write(c.b); err != nil {
				f.fail(err)
			}
		}
		if c.refs.Add(-1) == 0 {
			c.b = c.b[:0]
			f.free <- c
		}
	}
}

func (f *fanout) fail(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
	f.bad.Store(true)
}

func (f *fanout) firstErr() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Write copies p into chunks and sends each full one to every destination.
func (f *fanout) Write(p []byte) (int, error) {
	if f.bad.Load() {
		return 0, f.firstErr()
	}
	n := len(p)
	for len(p) > 0 {
		if f.cur == nil {
			f.cur = <-f.free
		}
		k := copy(f.cur.b[len(f.cur.b):cap(f.cur.b)], p)
		f.cur.b = f.cur.b[:len(f.cur.b)+k]
		p = p[k:]
		if len(f.cur.b) == cap(f.cur.b) {
			f.send()
		}
	}
	f.n += int64(n)
	return n, nil
}

func (f *fanout) send() {
	c := f.cur
	f.cur = nil
	c.refs.Store(int32(len(f.outs)))
	for _, ch := range f.outs {
		ch <- c
	}
}

// Close sends what is left, waits for every destination and returns the
// first error. It does not close the destinations.
func (f *fanout) Close() error {
	if f.cur != nil && len(f.cur.b) > 0 {
		f.send()
	}
	for _, ch := range f.outs {
		close(ch)
	}
	f.wg.Wait()
	return f.firstErr()
}

// errAborted stops a fanout whose generation failed elsewhere.
var errAborted = errors.New("feeds: generation aborted")

// Abort makes the destinations skip what is still queued, then waits.
func (f *fanout) Abort() {
	f.fail(errAborted)
	f.Close()
}
