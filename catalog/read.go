package catalog

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/db"
)

// The catalog is streamed in ranges of ids, by two readers side by side;
// Stream hands the ranges over in order, so products arrive by id.
const readers = 2

// Filter narrows a Stream; its zero value lets every product through.
// The database applies what it can; the rest is tested as products are
// read, so a stream holds exactly the products the filter describes.
type Filter struct {
	Availability []string // values kept; empty: all
	SKUs         []string // SKUs kept; empty: all
	PriceMin     *int64
	PriceMax     *int64
}

func (f *Filter) empty() bool {
	return len(f.Availability) == 0 && len(f.SKUs) == 0 && f.PriceMin == nil && f.PriceMax == nil
}

// maxSQLSKUs is the longest SKU list a statement carries; a longer one is
// tested as the products are read.
const maxSQLSKUs = 1000

// keep is a Filter compiled for a million products.
type keep struct {
	f    *Filter
	skus map[string]bool
}

func (f *Filter) compile() *keep {
	k := &keep{f: f}
	if len(f.SKUs) > 0 {
		k.skus = make(map[string]bool, len(f.SKUs))
		for _, s := range f.SKUs {
			k.skus[s] = true
		}
	}
	return k
}

func (k *keep) matches(p *Product) bool {
	switch {
	case len(k.f.Availability) > 0 && !slices.Contains(k.f.Availability, p.Availability),
		k.skus != nil && !k.skus[p.SKU],
		k.f.PriceMin != nil && p.Price < *k.f.PriceMin,
		k.f.PriceMax != nil && p.Price > *k.f.PriceMax:
		return false
	}
	return true
}

// apply drops from batch, in place, the products k does not keep.
func (k *keep) apply(batch []Product) []Product {
	out := batch[:0]
	for i := range batch {
		if k.matches(&batch[i]) {
			out = append(out, batch[i])
		}
	}
	return out
}

// StreamPlan is how a caller of Stream sizes its batches: a batch spans
// width ids, so it holds at most width products, and inFlight batches keep
// the readers busy (each product about 2 KB with what a feed makes of it).
// PostgreSQL pays a statement per range on the server, so its ranges are
// larger: about 12 % faster, for 10 MB more.
func (s *Store) StreamPlan() (width, inFlight int) {
	if db.IsPostgres(s.DB) {
		return 2000, 6
	}
	return 1000, 8
}

// Stream sends the products f lets through, range by range of
// StreamPlan's width in id order, each batch in a slice taken from free
// (emptied, then filled) and sent on out; the caller puts slices back into
// free once done with them, so memory is what the caller allocated,
// whatever the size of the catalog. A range without products is an empty
// batch. Stream fills a product's id, price and text fields (the ones a
// feed is made of), not its cost, stock or updated_at. It returns when
// every range is sent, a read fails or ctx ends, and never closes out.
//
// PostgreSQL reads a range with COPY (as psql's \copy does), SQLite as one
// joined value per range; PostgreSQL with a SKU list (COPY takes no
// parameters), and a SQLite range whose text holds a separator, are read
// with one packed column per row.
func (s *Store) Stream(ctx context.Context, f Filter, free <-chan []Product, out chan<- []Product) error {
	readRange := s.rangeReader(&f)
	var lo, hi sql.NullInt64
	if err := s.filtered(ctx, &f).Select("MIN(id), MAX(id)").Row().Scan(&lo, &hi); err != nil {
		return err
	}
	if !lo.Valid {
		return nil
	}
	var k *keep
	if !f.empty() {
		k = f.compile()
	}
	w, _ := s.StreamPlan()
	width := int64(w)
	n := int((hi.Int64-lo.Int64)/width + 1)
	g, gctx := errgroup.WithContext(ctx)
	var chans [readers]chan []Product
	for r := range readers {
		chans[r] = make(chan []Product, 1)
		g.Go(func() error {
			defer close(chans[r])
			for i := r; i < n; i += readers {
				var buf []Product
				select {
				case buf = <-free:
				case <-gctx.Done():
					return gctx.Err()
				}
				from := lo.Int64 + int64(i)*width
				batch, err := readRange(gctx, &f, from, from+width, buf[:0])
				if err != nil {
					return err
				}
				if k != nil {
					batch = k.apply(batch)
				}
				select {
				case chans[r] <- batch:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		for i := range n {
			batch, ok := <-chans[i%readers]
			if !ok {
				return nil // that reader failed: Wait returns its error
			}
			select {
			case out <- batch:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	err := g.Wait()
	if err != nil && ctx.Err() != nil {
		// The caller ended the stream: a read cut short says so in its
		// driver's words ("failed to connect: … context canceled"), which
		// errors.Is cannot always see through. The caller's reason is the
		// answer.
		return ctx.Err()
	}
	return err
}

// filtered applies the part of f the database can use.
func (s *Store) filtered(ctx context.Context, f *Filter) *gorm.DB {
	q := s.DB.WithContext(ctx).Model(&Product{})
	if len(f.Availability) > 0 {
		q = q.Where("availability IN ?", f.Availability)
	}
	if len(f.SKUs) > 0 && len(f.SKUs) <= maxSQLSKUs {
		q = q.Where("sku IN ?", f.SKUs)
	}
	if f.PriceMin != nil {
		q = q.Where("price >= ?", *f.PriceMin)
	}
	if f.PriceMax != nil {
		q = q.Where("price <= ?", *f.PriceMax)
	}
	return q
}

type rangeFunc func(ctx context.Context, f *Filter, from, to int64, out []Product) ([]Product, error)

// rangeReader is how Stream reads a range of f's products.
func (s *Store) rangeReader(f *Filter) rangeFunc {
	switch {
	case !db.IsPostgres(s.DB):
		return s.readRangeJoined
	case copyable(f):
		return s.copyRange
	default:
		return s.readRange
	}
}

// packedColumns are the text columns Stream reads, in the order unpack
// fills them.
var packedColumns = []string{"sku", "title", "description", "link", "image_link", "additional_image_links", "brand", "gtin", "mpn",
	"condition", "product_type", "google_product_category", "item_group_id", "currency", "availability"}

// textFields are p's fields in the order of packedColumns.
func textFields(p *Product) [15]*string {
	return [...]*string{&p.SKU, &p.Title, &p.Description, &p.Link, &p.ImageLink, &p.AdditionalImageLinks, &p.Brand, &p.GTIN, &p.MPN,
		&p.Condition, &p.ProductType, &p.GoogleProductCategory, &p.ItemGroupID, &p.Currency, &p.Availability}
}

// unitSep joins the packed columns: ASCII's unit separator, which no
// product text carries in practice (and which a product that does carry it
// survives: see unpack). recordSep, ASCII's record separator, joins the
// products of a range read joined.
const (
	unitSep   = '\x1f'
	recordSep = '\x1e'
)

// packedExpr joins the packed columns in one pass (format, in SQLite and
// PostgreSQL alike; a chain of || copies the row once per column).
var packedExpr = "format('" + strings.Repeat("%s"+string(unitSep), len(packedColumns)-1) + "%s', " + strings.Join(packedColumns, ", ") + ")"

// readRange reads the products with from <= id < to, a row each. The text
// columns come packed into one: a driver's cost is per value, and one column
// instead of fifteen cut the pure-Go SQLite driver's reading by about half.
func (s *Store) readRange(ctx context.Context, f *Filter, from, to int64, out []Product) ([]Product, error) {
	// The same statement runs for every range: prepared once (gorm keeps
	// it in a bounded cache), a stream saves a thousand parses.
	rows, err := s.filtered(ctx, f).Session(&gorm.Session{PrepareStmt: true}).Select("id, price, "+packedExpr).
		Where("id >= ? AND id < ?", from, to).Order("id").Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p Product
		var packed string
		if err := rows.Scan(&p.ID, &p.Price, &packed); err != nil {
			return nil, err
		}
		if !unpack(packed, &p) {
			// A text holds the separator itself: read this product plainly.
			if err := s.DB.WithContext(ctx).Take(&p, p.ID).Error; err != nil {
				return nil, err
			}
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// joinedExpr is a range's products as one text: SQLite's group_concat of
// each product's id, price and packed columns.
var joinedExpr = "count(*), group_concat(format('%d" + string(unitSep) + "%d" + string(unitSep) + "%s', id, price, packed), '" + string(recordSep) + "')"

// readRangeJoined reads the products with from <= id < to as one row of one
// text (SQLite): the pure-Go driver's cost is per row and per value, and a
// range of a thousand products read as a single value costs it once. The
// text is trusted only when its separators are exactly those the products
// make, its numbers parse and its ids ascend; otherwise (a text holds a
// separator) the range is read row by row.
func (s *Store) readRangeJoined(ctx context.Context, f *Filter, from, to int64, out []Product) ([]Product, error) {
	n, joined, err := s.joinedRange(ctx, f, from, to)
	if err != nil || n == 0 {
		return out, err
	}
	if batch, ok := splitJoined(joined, n, out); ok {
		return batch, nil
	}
	return s.readRange(ctx, f, from, to, out)
}

// joinedRange is the count and the joined text of the products with
// from <= id < to.
func (s *Store) joinedRange(ctx context.Context, f *Filter, from, to int64) (int64, string, error) {
	inner := s.filtered(ctx, f).Select("id, price, "+packedExpr+" AS packed").Where("id >= ? AND id < ?", from, to).Order("id")
	var n int64
	var joined sql.NullString
	err := s.DB.WithContext(ctx).Session(&gorm.Session{PrepareStmt: true}).Table("(?) AS r", inner).Select(joinedExpr).Row().Scan(&n, &joined)
	return n, joined.String, err
}

// splitJoined parses n products from a range read joined, appending them to
// out; it reports false when the text is not n well-formed products in
// ascending id order.
func splitJoined(s string, n int64, out []Product) ([]Product, bool) {
	if int64(strings.Count(s, string(recordSep))) != n-1 || int64(strings.Count(s, string(unitSep))) != n*int64(len(packedColumns)+1) {
		return out, false
	}
	base := len(out)
	var last int64
	for rec := range strings.SplitSeq(s, string(recordSep)) {
		var p Product
		var err error
		i := strings.IndexByte(rec, unitSep)
		if p.ID, err = strconv.ParseUint(rec[:i], 10, 64); err != nil || int64(p.ID) <= last {
			return out[:base], false
		}
		last = int64(p.ID)
		rec = rec[i+1:]
		i = strings.IndexByte(rec, unitSep)
		if p.Price, err = strconv.ParseInt(rec[:i], 10, 64); err != nil {
			return out[:base], false
		}
		if !unpack(rec[i+1:], &p) {
			return out[:base], false
		}
		out = append(out, p)
	}
	return out, true
}

// unpack splits the packed text columns into p. It reports false when the
// count of separators is not the count of columns, i.e. when a text
// contains the separator.
func unpack(s string, p *Product) bool {
	fields := textFields(p)
	for _, f := range fields[:len(fields)-1] {
		i := strings.IndexByte(s, unitSep)
		if i < 0 {
			return false
		}
		*f, s = s[:i], s[i+1:]
	}
	if strings.IndexByte(s, unitSep) >= 0 {
		return false
	}
	*fields[len(fields)-1] = s
	return true
}
