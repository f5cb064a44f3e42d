package catalog

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/db"
)

// CountCap is where counting the products a search or filter lets through
// stops: past it a page says "more than 1,000", read from at most 1,001
// rows of an index, whatever the size of the catalog.
const CountCap = 1000

// Match is how a search found its products.
type Match string

// The ways a search term matches, tried in this order.
const (
	MatchNone      Match = ""           // no search: the filters alone
	MatchExact     Match = "exact"      // a SKU or a GTIN typed whole
	MatchSKUPrefix Match = "sku_prefix" // the beginning of SKUs, as typed
	MatchTitle     Match = "title"      // a part of the titles, accents and case ignored
)

// minTrigram is the shortest title search an index serves: the trigram
// indexes need three characters. A shorter one reads the products in
// order, is not counted, and on SQLite tells accents apart.
const minTrigram = 3

// Tally is how many products a query lets through: N, or more than N when
// Over; unknown (Known false) for a title search shorter than minTrigram,
// which no index serves, with more than a page of results.
type Tally struct {
	N     int64
	Over  bool
	Known bool
}

// Results is a page of products and how the search matched them.
type Results struct {
	Products []Product
	More     bool
	Match    Match
	Count    Tally
}

// plan is how a query's search reads the products.
type plan struct {
	match  Match
	term   string
	lo, hi string // MatchSKUPrefix: lo <= sku < hi
	dense  bool   // more than CountCap SKUs in [lo, hi): read in id order, not through the SKU index
	// sparse: a title search on SQLite whose filters keep at most
	// CountCap products: those are read through the filters' indexes and
	// each looked up in the trigram table, instead of reading every title
	// that matches to find the few the filters keep (482 ms for a word in
	// every title of 1M and a brand that has none).
	sparse bool
	tally  Tally // when planning counted already
}

// fts tells whether the plan reads SQLite's trigram table.
func (p *plan) fts(s *Store) bool {
	return p.match == MatchTitle && !db.IsPostgres(s.DB) && utf8.RuneCountInString(p.term) >= minTrigram
}

// List returns a page of products ordered by id, and whether more follow.
func (s *Store) List(ctx context.Context, q Query) ([]Product, bool, error) {
	p, err := s.plan(ctx, q)
	if err != nil {
		return nil, false, err
	}
	return s.page(ctx, q, &p)
}

// Search returns a page of products ordered by id and how many match in
// all (exactly up to CountCap, then "more than"): the catalog's count
// when nothing narrows it.
func (s *Store) Search(ctx context.Context, q Query) (*Results, error) {
	p, err := s.plan(ctx, q)
	if err != nil {
		return nil, err
	}
	r := &Results{Match: p.match}
	if r.Products, r.More, err = s.page(ctx, q, &p); err != nil {
		return nil, err
	}
	if q.After == 0 && !r.More {
		// The first page holds them all: counted already (and a search
		// the indexes serve badly is not read twice).
		r.Count = Tally{N: int64(len(r.Products)), Known: true}
		return r, nil
	}
	if r.Count, err = s.tally(ctx, q, &p); err != nil {
		return nil, err
	}
	return r, nil
}

// filters applies q's brand, type and availability.
func filters(sel *gorm.DB, q Query) *gorm.DB {
	if q.Brand != "" {
		sel = sel.Where("products.brand = ?", q.Brand)
	}
	if q.ProductType != "" {
		sel = sel.Where("products.product_type = ?", q.ProductType)
	}
	if q.Availability != "" {
		sel = sel.Where("products.availability = ?", q.Availability)
	}
	return sel
}

// plan decides how q's search matches: an exact SKU or GTIN (among the
// filtered products) first, then SKUs beginning with the term (a term
// without spaces that begins filtered SKUs), then titles.
func (s *Store) plan(ctx context.Context, q Query) (plan, error) {
	t := strings.TrimSpace(q.Search)
	if t == "" {
		return plan{match: MatchNone}, nil
	}
	base := func() *gorm.DB { return filters(s.DB.WithContext(ctx).Model(&Product{}), q) }
	var ids []uint64
	if err := base().Where("(products.sku = ? OR products.gtin = ?)", t, t).Limit(1).Pluck("products.id", &ids).Error; err != nil {
		return plan{}, fmt.Errorf("catalog: search: %w", err)
	}
	if len(ids) > 0 {
		return plan{match: MatchExact, term: t}, nil
	}
	if p, ok, err := s.planPrefix(ctx, q, t, base); ok || err != nil {
		return p, err
	}
	p := plan{match: MatchTitle, term: t}
	if p.fts(s) && (q.Brand != "" || q.ProductType != "" || q.Availability != "") {
		n, err := s.capped(ctx, base())
		if err != nil {
			return plan{}, fmt.Errorf("catalog: search: %w", err)
		}
		p.sparse = n <= CountCap
	}
	return p, nil
}

// planPrefix tells whether t begins SKUs of filtered products. The SKUs
// in its range are counted through the SKU index alone, up to CountCap+1;
// a range of at most CountCap is read through that index (and counted
// with the filters now), a larger one in id order.
func (s *Store) planPrefix(ctx context.Context, q Query, t string, base func() *gorm.DB) (plan, bool, error) {
	lo, hi, ok := prefixRange(t)
	if !ok || strings.ContainsAny(t, " \t") || len(t) > 50 {
		return plan{}, false, nil
	}
	p := plan{match: MatchSKUPrefix, term: t, lo: lo, hi: hi}
	n, err := s.capped(ctx, p.skuRange(s, s.DB.Model(&Product{})))
	if err != nil || n == 0 {
		return plan{}, false, err
	}
	p.dense = n > CountCap
	if !p.dense {
		n, err = s.capped(ctx, p.skuRange(s, base()))
		p.tally = Tally{N: n, Known: true}
		return p, err == nil && n > 0, err
	}
	if q.Brand == "" && q.ProductType == "" && q.Availability == "" {
		p.tally = Tally{N: CountCap, Over: true, Known: true} // counted above
		return p, true, nil
	}
	var ids []uint64
	err = p.skuRange(s, base()).Limit(1).Pluck("products.id", &ids).Error
	return p, err == nil && len(ids) > 0, err
}

// skuRange is the condition of a SKU prefix: through the SKU index
// (PostgreSQL's byte-ordered one), or for a dense range on SQLite with
// the index turned off (the unary +), so the products are read in id
// order and the first page stops early.
func (p *plan) skuRange(s *Store, sel *gorm.DB) *gorm.DB {
	switch {
	case db.IsPostgres(s.DB):
		return sel.Where(`products.sku COLLATE "C" >= ? AND products.sku COLLATE "C" < ?`, p.lo, p.hi)
	case p.dense:
		return sel.Where(`+products.sku >= ? AND +products.sku < ?`, p.lo, p.hi)
	}
	return sel.Where(`products.sku >= ? AND products.sku < ?`, p.lo, p.hi)
}

// prefixRange is [lo, hi), the strings that begin with t in byte order
// (UTF-8's byte order is its code points'): hi is t with its last
// character the next one.
func prefixRange(t string) (lo, hi string, ok bool) {
	r, size := utf8.DecodeLastRuneInString(t)
	if r == utf8.RuneError || r == utf8.MaxRune {
		return "", "", false
	}
	next := r + 1
	if next == 0xD800 { // surrogates are no characters
		next = 0xE000
	}
	return t, t[:len(t)-size] + string(next), true
}

// matching is the query of the products q and p let through, unordered.
func (s *Store) matching(ctx context.Context, q Query, p *plan) *gorm.DB {
	var sel *gorm.DB
	switch {
	case p.fts(s) && p.sparse:
		// The filtered products drive the join, each looked up in the
		// trigram table by its rowid.
		sel = s.DB.WithContext(ctx).Table("products").Joins("CROSS JOIN products_fts ON products_fts.rowid = products.id").
			Where("products_fts MATCH ?", `"`+strings.ReplaceAll(p.term, `"`, `""`)+`"`)
	case p.fts(s):
		// The trigram table drives the join in rowid order, so a page or a
		// count stops after the rows it needs (an IN list would gather
		// every match first: 160 ms for a word in every title of 200,000).
		sel = s.DB.WithContext(ctx).Table("products_fts").Joins("CROSS JOIN products ON products.id = products_fts.rowid").
			Where("products_fts MATCH ?", `"`+strings.ReplaceAll(p.term, `"`, `""`)+`"`)
	default:
		sel = s.DB.WithContext(ctx).Model(&Product{})
	}
	sel = filters(sel, q)
	switch p.match {
	case MatchExact:
		sel = sel.Where("(products.sku = ? OR products.gtin = ?)", p.term, p.term)
	case MatchSKUPrefix:
		sel = p.skuRange(s, sel)
	case MatchTitle:
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(p.term)) + "%"
		switch {
		case db.IsPostgres(s.DB):
			// Folded then escaped by the database: the pattern is folded
			// exactly as the indexed titles are.
			sel = sel.Where(`rampe_fold(products.title) LIKE '%' || replace(replace(replace(rampe_fold(?), '\', '\\'), '%', '\%'), '_', '\_') || '%' ESCAPE '\'`, p.term)
		case !p.fts(s):
			sel = sel.Where(`LOWER(products.title) LIKE ? ESCAPE '\'`, like)
		}
	}
	return sel
}

// page reads the page of q's products after q.After.
func (s *Store) page(ctx context.Context, q Query, p *plan) ([]Product, bool, error) {
	limit := q.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var out []Product
	if err := s.pageQuery(ctx, q, p, limit+1).Find(&out).Error; err != nil {
		return nil, false, fmt.Errorf("catalog: list: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// pageQuery is the query of n of q's products after q.After, by id.
func (s *Store) pageQuery(ctx context.Context, q Query, p *plan, n int) *gorm.DB {
	key := "products.id"
	if p.fts(s) && !p.sparse {
		key = "products_fts.rowid" // FTS5 serves a rowid range and order itself
	}
	return s.matching(ctx, q, p).Select("products.*").Where(key+" > ?", q.After).Order(key).Limit(n)
}

// tally counts q's products up to CountCap+1; the catalog's count (kept
// between changes) when nothing narrows it.
func (s *Store) tally(ctx context.Context, q Query, p *plan) (Tally, error) {
	switch {
	case p.tally.Known:
		return p.tally, nil
	case p.match == MatchNone && q.Brand == "" && q.ProductType == "" && q.Availability == "":
		n, err := s.Count(ctx)
		return Tally{N: n, Known: true}, err
	case p.match == MatchTitle && utf8.RuneCountInString(p.term) < minTrigram:
		return Tally{}, nil
	}
	n, err := s.capped(ctx, s.matching(ctx, q, p))
	if err != nil {
		return Tally{}, fmt.Errorf("catalog: count: %w", err)
	}
	if n > CountCap {
		return Tally{N: CountCap, Over: true, Known: true}, nil
	}
	return Tally{N: n, Known: true}, nil
}

// capped counts sel's rows up to CountCap+1.
func (s *Store) capped(ctx context.Context, sel *gorm.DB) (int64, error) {
	var n int64
	err := s.DB.WithContext(ctx).Table("(?) AS m", sel.Select("1").Limit(CountCap+1)).Select("COUNT(*)").Row().Scan(&n)
	return n, err
}
