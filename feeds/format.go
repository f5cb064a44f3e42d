package feeds

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
)

// part is one batch of products, formatted by a worker: the bytes of its
// items and what they counted.
type part struct {
	seq                              int
	buf                              *bytes.Buffer
	read, written, skipped, warnings int64
	byRule                           map[string]int
	issues                           []Issue
	pending                          []pendingLine // promoted items, of which keep chooses the lines
	reads                            []scopedRead  // products in a promotion's scope, in order
	scoped                           []int         // the promotions of reads
}

// formatter formats the batches of a generation on several goroutines and
// writes the parts to out in the batches' order, so the feed is the same
// bytes whatever the number of workers.
type formatter struct {
	f       *Feed
	promos  *landing.Index
	now     time.Time
	workers int
	caps    issueCaps
	prices  *priceSink // where the promoted products' lines go
	lines   gateLines
}

func newFormatter(f *Feed, promos *landing.Index, now time.Time) *formatter {
	return &formatter{f: f, promos: promos, now: now, workers: min(runtime.GOMAXPROCS(0), 4), caps: issueCaps{full: map[string]bool{}},
		lines: newGateLines(promos.Promotions())}
}

type job struct {
	seq      int
	products []catalog.Product
}

// run formats every batch of in, gives the batches back to free, writes
// the items to out and merges the counts into r; tick is called between
// parts.
func (fm *formatter) run(ctx context.Context, in <-chan []catalog.Product, free chan<- []catalog.Product, out io.Writer, r *Run, tick func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	jobs, parts := make(chan job), make(chan *part, fm.workers)
	// A worker takes a buffer before a job, so the part the writer waits
	// for always has one: buffers bound the memory, never the progress.
	bufs := make(chan *bytes.Buffer, 2*fm.workers+1)
	for range cap(bufs) {
		bufs <- new(bytes.Buffer)
	}
	g.Go(func() error {
		defer close(jobs)
		seq := 0
		for batch := range in {
			select {
			case jobs <- job{seq, batch}:
				seq++
			case <-gctx.Done():
				free <- batch[:0]
				return gctx.Err()
			}
		}
		return nil
	})
	var workers sync.WaitGroup
	for range fm.workers {
		workers.Add(1)
		g.Go(func() error {
			defer workers.Done()
			return fm.work(gctx, jobs, bufs, free, parts)
		})
	}
	go func() {
		workers.Wait()
		close(parts)
	}()
	werr := fm.write(parts, bufs, out, r, tick)
	if werr != nil {
		cancel() // stop the workers, and let them finish before returning
		for range parts {
		}
	}
	if err := g.Wait(); werr == nil {
		return err
	}
	return werr
}

// work formats jobs until there are none left.
func (fm *formatter) work(ctx context.Context, jobs <-chan job, bufs chan *bytes.Buffer, free chan<- []catalog.Product, parts chan<- *part) error {
	b := newBuilder(fm.f, fm.promos, fm.now)
	var it Item
	var problems []Problem
	for {
		var buf *bytes.Buffer
		select {
		case buf = <-bufs:
		case <-ctx.Done():
			return ctx.Err()
		}
		j, ok := <-jobs
		if !ok {
			return nil
		}
		buf.Reset()
		enc, err := newEncoder(fm.f, buf)
		if err != nil {
			return err
		}
		p := &part{seq: j.seq, buf: buf, byRule: map[string]int{}}
		for i := range j.products {
			prod := &j.products[i]
			if !b.match.matches(prod) {
				continue
			}
			p.read++
			problems = b.build(prod, &it, problems[:0])
			rec := p.scope(b.scoped)
			if p.record(prod.SKU, problems, &fm.caps) {
				p.skipped++
				p.addRead(rec)
				continue
			}
			if err := enc.Item(&it); err != nil {
				return err
			}
			p.written++
			if it.Promoted {
				rec.line = int32(len(p.pending))
				p.pending = append(p.pending, pendingLine{sku: prod.SKU, price: it.Price, sale: it.SalePrice, onSale: it.OnSale,
					from: it.SaleFrom, until: it.SaleUntil})
			}
			p.addRead(rec)
		}
		if err := enc.Close(); err != nil {
			return err
		}
		free <- j.products[:0]
		select {
		case parts <- p:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// write takes the parts in order, writes their bytes and merges their
// counts.
func (fm *formatter) write(parts <-chan *part, bufs chan<- *bytes.Buffer, out io.Writer, r *Run, tick func()) error {
	waiting := map[int]*part{}
	next := 0
	kept := map[string]int{}
	for p := range parts {
		waiting[p.seq] = p
		for {
			p, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			next++
			if _, err := out.Write(p.buf.Bytes()); err != nil {
				return err
			}
			bufs <- p.buf
			fm.merge(p, r, kept)
			tick()
		}
	}
	return nil
}

// merge adds a part's counts to the run and keeps its problems up to the
// limits: the first MaxIssuesPerRule of each rule, MaxIssues in all.
func (fm *formatter) merge(p *part, r *Run, kept map[string]int) {
	r.ItemsRead += p.read
	r.Written += p.written
	r.Skipped += p.skipped
	r.Warnings += p.warnings
	for rule, n := range p.byRule {
		r.ByRule[rule] += n
	}
	for _, is := range p.issues {
		if len(r.issues) >= MaxIssues {
			fm.caps.set("")
			break
		}
		if kept[is.Rule] >= MaxIssuesPerRule {
			continue
		}
		r.issues = append(r.issues, is)
		if kept[is.Rule]++; kept[is.Rule] == MaxIssuesPerRule {
			fm.caps.set(is.Rule)
		}
	}
	fm.prices.put(fm.lines.keep(p))
}

// record counts an item's problems by rule and keeps them with their item
// unless their rule already has all the examples a run stores. It reports
// whether one of them blocks the item.
func (p *part) record(sku string, problems []Problem, caps *issueCaps) (blocked bool) {
	for _, pr := range problems {
		p.byRule[pr.Rule]++
		sev := "warning"
		if pr.Blocking {
			sev, blocked = "error", true
		} else {
			p.warnings++
		}
		if caps.isFull(pr.Rule) {
			continue
		}
		// Copies: an issue outlives the batch whose text its values slice.
		p.issues = append(p.issues, Issue{SKU: strings.Clone(sku), Rule: pr.Rule, Field: pr.Field, Value: strings.Clone(truncate(pr.Value, 300)),
			Severity: sev, Message: strings.Clone(pr.Message)})
	}
	return blocked
}

// issueCaps are the rules whose examples are all kept already (the writer
// sets them in batch order, so workers skip only what it would drop).
type issueCaps struct {
	mu   sync.RWMutex
	full map[string]bool // "": every rule
}

func (c *issueCaps) set(rule string) {
	c.mu.Lock()
	c.full[rule] = true
	c.mu.Unlock()
}

func (c *issueCaps) isFull(rule string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.full[rule] || c.full[""]
}
