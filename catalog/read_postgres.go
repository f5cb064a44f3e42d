package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"
)

// copyable tells whether f's products can be read with COPY, which takes
// no parameters: a SKU list is better asked for with them.
func copyable(f *Filter) bool { return len(f.SKUs) == 0 }

// copyQuery is the COPY statement of a range of ids: only integers go into
// it, and the filter is applied to the products as they are read.
func copyQuery(from, to int64) string {
	// The text format: PostgreSQL writes it faster than the binary one.
	return "COPY (SELECT id, price, " + strings.Join(packedColumns, ", ") + " FROM products WHERE id >= " + strconv.FormatInt(from, 10) +
		" AND id < " + strconv.FormatInt(to, 10) + " ORDER BY id) TO STDOUT"
}

// copyRange reads the products with from <= id < to with COPY … TO STDOUT
// in text format, the way psql's \copy reads them, decoding the rows as
// the driver hands them over.
func (s *Store) copyRange(ctx context.Context, _ *Filter, from, to int64, out []Product) ([]Product, error) {
	sqlDB, err := s.DB.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	d := &copyDecoder{batch: out}
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("catalog: COPY needs the pgx driver, not %T", dc)
		}
		_, err := c.Conn().PgConn().CopyTo(ctx, d, copyQuery(from, to))
		return err
	})
	if err != nil {
		return nil, err
	}
	return d.batch, d.finish()
}

// copyDecoder reads PostgreSQL's COPY text format as it is written to it:
// a line per row, fields separated by tabs, backslash escapes. PostgreSQL
// sends a row per message, but nothing here depends on it: a partial line
// waits for the next write.
type copyDecoder struct {
	pending []byte
	batch   []Product
}

const copyFields = 2 + 15

func (d *copyDecoder) Write(p []byte) (int, error) {
	buf := p
	if len(d.pending) > 0 {
		d.pending = append(d.pending, p...)
		buf = d.pending
	}
	used := 0
	for {
		i := bytes.IndexByte(buf[used:], '\n')
		if i < 0 {
			break
		}
		prod, err := decodeLine(buf[used : used+i])
		if err != nil {
			return 0, err
		}
		used += i + 1
		d.batch = append(d.batch, prod)
	}
	rest := buf[used:]
	if len(d.pending) > 0 {
		d.pending = append(d.pending[:0], rest...)
	} else if len(rest) > 0 {
		d.pending = append(d.pending, rest...)
	}
	return len(p), nil
}

// decodeLine decodes one row: id, price and the packed text columns.
func decodeLine(line []byte) (p Product, err error) {
	// One string per product; its fields are slices of it.
	all := string(line)
	var fields [copyFields]string
	n := 0
	for n < copyFields-1 {
		i := strings.IndexByte(all, '\t')
		if i < 0 {
			return p, fmt.Errorf("catalog: COPY row has %d fields, want %d", n+1, copyFields)
		}
		fields[n], all = all[:i], all[i+1:]
		n++
	}
	if strings.IndexByte(all, '\t') >= 0 {
		return p, fmt.Errorf("catalog: COPY row has more than %d fields", copyFields)
	}
	fields[n] = all
	id, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil {
		return p, fmt.Errorf("catalog: COPY id %q: %w", fields[0], err)
	}
	price, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return p, fmt.Errorf("catalog: COPY price %q: %w", fields[1], err)
	}
	p.ID, p.Price = id, price
	dst := textFields(&p)
	for i, f := range fields[2:] {
		if f == `\N` {
			return p, fmt.Errorf("catalog: COPY column %s is NULL", packedColumns[i])
		}
		*dst[i] = unescapeCopy(f)
	}
	return p, nil
}

// unescapeCopy undoes the backslash escapes of COPY's text format.
func unescapeCopy(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// finish checks that the stream ended with a whole row.
func (d *copyDecoder) finish() error {
	if len(d.pending) > 0 {
		return errors.New("catalog: COPY stream ended in the middle of a row")
	}
	return nil
}
