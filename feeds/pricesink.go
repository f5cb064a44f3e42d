package feeds

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/db"
)

// priceSink stores a run's price lines while the generation goes on, a
// batch's lines at a time: kept until the end, they held about a hundred
// bytes per promoted product (and, through their SKUs, the text each batch
// was read into), 937 MiB for a million promoted products. The channel's
// capacity bounds what waits; a slow database slows the generation down
// rather than letting lines pile up.
type priceSink struct {
	in   chan []PriceLine
	done chan struct{}
	err  error
	n    int64
}

func newPriceSink(ctx context.Context, g *gorm.DB, runID uint64) *priceSink {
	ps := &priceSink{in: make(chan []PriceLine, 4), done: make(chan struct{})}
	go func() {
		defer close(ps.done)
		w := &priceWriter{g: g, runID: runID, pg: db.IsPostgres(g)}
		defer w.close()
		for lines := range ps.in {
			if ps.err != nil {
				continue // drain: the generation fails with ps.err
			}
			ps.err = w.write(ctx, lines)
			ps.n += int64(len(lines))
		}
	}()
	return ps
}

// priceRows is how many lines one INSERT carries: six parameters each,
// under the few hundred the pure-Go SQLite driver binds fastest (see
// db.InsertBatch).
const priceRows = 50

// priceWriter inserts price lines with one prepared multi-row statement on
// one connection, a transaction per batch: through gorm, building and
// parsing an INSERT per 25 rows cost 9 µs a line, as much as the rest of
// the generation of a promoted product.
type priceWriter struct {
	g     *gorm.DB
	runID uint64
	pg    bool
	conn  *sql.Conn
	full  *sql.Stmt
	copy  bool // PostgreSQL through pgx: COPY
}

var priceColumns = []string{"run_id", "sku", "price", "sale_price", "sale_starts_at", "sale_ends_at"}

// copyLines writes a batch of lines with one COPY (PostgreSQL, through
// pgx's CopyFrom on the connection reached by database/sql's Conn.Raw and
// pgx's stdlib.Conn.Conn, both documented API): a statement per batch,
// atomic, instead of a bound 50-row INSERT per 50 lines — the price lines
// of a million promoted products were a third of a generation's time.
func (w *priceWriter) copyLines(ctx context.Context, lines []PriceLine) error {
	return w.conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn) // open checked it
		runID := int64(w.runID)
		_, err := pc.Conn().CopyFrom(ctx, pgx.Identifier{"feed_prices"}, priceColumns, pgx.CopyFromSlice(len(lines), func(i int) ([]any, error) {
			l := &lines[i]
			return []any{runID, l.SKU, l.Price, l.SalePrice, l.SaleStartsAt, l.SaleEndsAt}, nil
		}))
		return err
	})
}

func (w *priceWriter) insertSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO feed_prices (run_id, sku, price, sale_price, sale_starts_at, sale_ends_at) VALUES ")
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range 6 {
			if c > 0 {
				b.WriteByte(',')
			}
			if w.pg {
				fmt.Fprintf(&b, "$%d", r*6+c+1)
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// open takes the writer's connection and chooses how it writes: COPY on
// PostgreSQL through pgx, the prepared INSERT otherwise.
func (w *priceWriter) open(ctx context.Context) error {
	sqlDB, err := w.g.DB()
	if err != nil {
		return err
	}
	if w.conn, err = sqlDB.Conn(ctx); err != nil {
		return err
	}
	if w.pg {
		if err := w.conn.Raw(func(dc any) error { _, w.copy = dc.(*stdlib.Conn); return nil }); err != nil {
			return err
		}
	}
	if !w.copy {
		w.full, err = w.conn.PrepareContext(ctx, w.insertSQL(priceRows))
	}
	return err
}

func (w *priceWriter) write(ctx context.Context, lines []PriceLine) error {
	if w.conn == nil {
		if err := w.open(ctx); err != nil {
			return err
		}
	}
	if w.copy {
		return w.copyLines(ctx, lines)
	}
	tx, err := w.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	args := make([]any, 0, 6*priceRows)
	for lo := 0; lo < len(lines); lo += priceRows {
		chunk := lines[lo:min(lo+priceRows, len(lines))]
		args = args[:0]
		for i := range chunk {
			l := &chunk[i]
			args = append(args, w.runID, l.SKU, l.Price, nullable(l.SalePrice), nullable(l.SaleStartsAt), nullable(l.SaleEndsAt))
		}
		if len(chunk) == priceRows {
			_, err = tx.StmtContext(ctx, w.full).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, w.insertSQL(len(chunk)), args...)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (w *priceWriter) close() {
	if w.full != nil {
		w.full.Close()
	}
	if w.conn != nil {
		w.conn.Close()
	}
}

// nullable is v, or an untyped nil for a nil pointer (NULL).
func nullable[T any](v *T) any {
	if v == nil {
		return nil
	}
	return *v
}

// put hands lines over; the sink owns them from then on.
func (ps *priceSink) put(lines []PriceLine) {
	if ps != nil && len(lines) > 0 {
		ps.in <- lines
	}
}

// close waits until every line handed over is stored, and tells how it went.
func (ps *priceSink) close() error {
	close(ps.in)
	<-ps.done
	return ps.err
}

// slots bounds the generations a process runs at once.
type slots struct {
	once sync.Once
	ch   chan struct{}
}

func (s *slots) acquire(ctx context.Context, n int) error {
	s.once.Do(func() { s.ch = make(chan struct{}, max(n, 1)) })
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *slots) release() { <-s.ch }
