package feeds

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
)

// maxGateProducts bounds how many promoted products the gate compares.
const maxGateProducts = 2000

// maxGateProblems is how many problems the gate names.
const maxGateProblems = 10

// RegisterGate adds comparators.feeds_fresh: for a campaign on the
// comparators channel, every linked feed was generated after the last change of the
// campaign's promotions, carries each promoted product (that its filters
// keep) without a blocking error, at the price and sale price a landing page
// shows at the campaign's start (or now, once started).
func RegisterGate(reg *campaigns.Registry, s *Service) {
	reg.Register(campaigns.GateFunc{GateName: "comparators.feeds_fresh", ForChannels: []campaigns.Channel{campaigns.Comparators},
		Fn: func(ctx context.Context, c *campaigns.Campaign, now time.Time) campaigns.Result {
			return s.fresh(ctx, c, now)
		}})
}

func pending(err error) campaigns.Result {
	return campaigns.Answer(campaigns.Pending, i18n.M("could not tell: %s", err), nil)
}

// fresh judges the feeds as of the campaign's start: a feed generated ahead
// of a promotion that opens then carries its sale with the dates it applies
// (Merchant Center's sale_price_effective_date), and is right at the
// instant. The promoted products are read once per evaluation, the feeds'
// price lines and problems once per feed.
//
// The answer depends only on the feeds, the promotions, the instant and the
// campaign's time zone: within a round of evaluations (campaigns.Shared),
// campaigns that share them are judged once, and every campaign's reads of
// a feed, of the catalog's version and of the promotions in force are
// shared too.
func (s *Service) fresh(ctx context.Context, c *campaigns.Campaign, now time.Time) campaigns.Result {
	if len(c.FeedIDs) == 0 {
		return campaigns.Answer(campaigns.Fail, i18n.M("no comparator feed is linked to the campaign"), nil)
	}
	at := now
	if c.StartsAt.After(now) {
		at = c.StartsAt
	}
	key, version, err := s.verdictKey(ctx, c, at)
	if err != nil {
		return pending(err)
	}
	if res, ok := s.gateCache.verdict(key); ok {
		return res
	}
	res, _ := campaigns.Shared(ctx, "feeds.fresh:"+key, func() (campaigns.Result, error) { return s.judge(ctx, c, at, version), nil })
	if res.Outcome == campaigns.Pass || res.Outcome == campaigns.Fail {
		s.gateCache.keepVerdict(key, res)
	}
	return res
}

// deref prints what p points at ("-" for nil), not its address.
func deref[T any](p *T) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// verdictKey names everything the verdict depends on: each feed as it is
// (definition, last run), each linked promotion's change, the promotions
// in force (how many are published, their ids and newest change: only a
// draft can be edited, and publishing or unpublishing changes them), the
// catalog's version, the instant and the time zone. A verdict kept under
// it is what judging again would say.
func (s *Service) verdictKey(ctx context.Context, c *campaigns.Campaign, at time.Time) (string, catalogVersion, error) {
	var b strings.Builder
	for _, id := range c.FeedIDs {
		f, err := campaigns.Shared(ctx, fmt.Sprintf("feeds.feed:%d", id), func() (*Feed, error) { return s.Get(ctx, id) })
		switch {
		case errors.Is(err, ErrNotFound):
			fmt.Fprintf(&b, "f%d:none;", id)
			continue
		case err != nil:
			return "", catalogVersion{}, err
		}
		h := fnv.New64a()
		fmt.Fprintf(h, "%s|%s|%s|%s|%s|%s|%s|%s|%s", f.Name, f.Availability, f.Brands, f.ProductTypes, f.SKUs, deref(f.PriceMin), deref(f.PriceMax), deref(f.LastRunID), deref(f.GeneratedAt))
		fmt.Fprintf(&b, "f%d:%d:%x;", id, f.UpdatedAt.UnixNano(), h.Sum64())
	}
	for _, id := range c.PromotionIDs {
		p, err := landing.SharedPromotion(ctx, s.Promotions, id)
		switch {
		case errors.Is(err, landing.ErrNotFound):
			fmt.Fprintf(&b, "p%d:none;", id)
			continue
		case err != nil:
			return "", catalogVersion{}, err
		}
		fmt.Fprintf(&b, "p%d:%d:%s;", id, p.ChangedAt.UnixNano(), p.Status)
	}
	v, err := campaigns.Shared(ctx, "feeds.catalog_version", func() (catalogVersion, error) { return s.catalogVersion(ctx) })
	if err != nil {
		return "", v, err
	}
	type stamp struct {
		N, IDs  int64
		Changed sql.NullString // a time, as each driver gives an aggregate
	}
	st, err := campaigns.Shared(ctx, "feeds.published_stamp", func() (stamp, error) {
		var st stamp
		err := s.DB.WithContext(ctx).Raw("SELECT COUNT(*), COALESCE(SUM(id), 0), MAX(changed_at) FROM promotions WHERE status = ?", landing.StatusPublished).
			Row().Scan(&st.N, &st.IDs, &st.Changed)
		return st, err
	})
	if err != nil {
		return "", v, err
	}
	fmt.Fprintf(&b, "c%d:%d;pub%d:%d:%s;at%d;%s", v.MaxID, v.Newest.UnixNano(), st.N, st.IDs, st.Changed.String, at.UnixNano(), c.Location())
	return b.String(), v, nil
}

func (s *Service) judge(ctx context.Context, c *campaigns.Campaign, at time.Time, version catalogVersion) campaigns.Result {
	var feeds []Feed
	for _, id := range c.FeedIDs {
		f, err := campaigns.Shared(ctx, fmt.Sprintf("feeds.feed:%d", id), func() (*Feed, error) { return s.Get(ctx, id) })
		if errors.Is(err, ErrNotFound) {
			return campaigns.Answer(campaigns.Fail, i18n.M("linked feed #%s does not exist", strconv.FormatUint(id, 10)), nil)
		}
		if err != nil {
			return pending(err)
		}
		feeds = append(feeds, *f)
	}
	prods, changed, err := s.promoted(ctx, version, c.PromotionIDs)
	if err != nil {
		return pending(err)
	}
	// Indexed once per evaluation (once per round and instant): each SKU
	// list split once, not once per product compared.
	index, err := campaigns.Shared(ctx, fmt.Sprintf("feeds.index:%d", at.UnixNano()), func() (*landing.Index, error) {
		published, err := s.Promotions.Published(ctx, at)
		if err != nil {
			return nil, err
		}
		return landing.NewIndex(published), nil
	})
	if err != nil {
		return pending(err)
	}
	var problems []any
	checked := 0
	when := func(t time.Time) i18n.Time { return i18n.Time{T: t.In(c.Location()), Layout: "2 Jan 15:04 MST"} }
feeds:
	for i := range feeds {
		f := &feeds[i]
		switch {
		case f.LastRunID == nil:
			problems = append(problems, i18n.M("feed %s was never generated", f.Name))
			continue
		case f.GeneratedAt.Before(changed):
			problems = append(problems, i18n.M("feed %s was generated %s, before the last change of a promotion (%s)",
				f.Name, when(*f.GeneratedAt), when(changed)))
			continue
		}
		kept := keptBy(f, prods)
		lines, left, err := s.runFindings(ctx, *f.LastRunID, kept)
		if err != nil {
			return pending(err)
		}
		for _, pr := range kept {
			if len(problems) >= maxGateProblems {
				break feeds
			}
			checked++
			if msg, bad := compare(f, pr, lines[pr.SKU], left[pr.SKU], index, at); bad {
				problems = append(problems, msg)
			}
		}
	}
	m := map[string]any{"feeds": len(feeds), "promoted_products_checked": checked, "as_of": at}
	if len(problems) > 0 {
		english := make([]string, len(problems))
		for i, p := range problems {
			english[i] = i18n.Text(i18n.EN, p)
		}
		m["problems"] = english
		msg := i18n.M("%s", i18n.Join{Parts: problems, Sep: "; "})
		if len(problems) >= maxGateProblems {
			msg = i18n.M("%s (first %d problems)", msg, maxGateProblems)
		}
		return campaigns.Answer(campaigns.Fail, msg, m)
	}
	// Each count with its own plural: "1 flux à jour ; 12 lignes de produits…".
	return campaigns.Answer(campaigns.Pass, i18n.M("%s", i18n.Join{Parts: []any{i18n.M("%d feeds fresh", len(feeds)),
		i18n.M("%d promoted product lines match the landing-page price at %s", checked, when(at))}, Sep: "; "}), m)
}

// promoted reads the products of the campaign's promotions, once each
// (a product in two promotions once), and the last change among them.
func (s *Service) promoted(ctx context.Context, version catalogVersion, ids []uint64) ([]*catalog.Product, time.Time, error) {
	var out []*catalog.Product
	var changed time.Time
	seen := map[string]bool{}
	for _, id := range ids {
		p, err := landing.SharedPromotion(ctx, s.Promotions, id)
		if errors.Is(err, landing.ErrNotFound) {
			continue // promotions.published names it
		}
		if err != nil {
			return nil, changed, err
		}
		if p.ChangedAt.After(changed) {
			changed = p.ChangedAt
		}
		prods, err := s.promotionProducts(ctx, version, p)
		if err != nil {
			return nil, changed, err
		}
		for i := range prods { // shared with the cache: read only
			if !seen[prods[i].SKU] {
				seen[prods[i].SKU] = true
				out = append(out, &prods[i])
			}
		}
	}
	return out, changed, nil
}

func keptBy(f *Feed, prods []*catalog.Product) []*catalog.Product {
	m := f.matcher()
	var out []*catalog.Product
	for _, p := range prods {
		if m.matches(p) {
			out = append(out, p)
		}
	}
	return out
}

// runFindings reads what run wrote for prods: their price lines, and for
// the products without one (left out, or not on sale) the blocking problem
// that left a product out. What the cache does not know is read in queries
// of 500 SKUs, and remembered: a finished run never changes.
func (s *Service) runFindings(ctx context.Context, run uint64, all []*catalog.Product) (map[string]*PriceLine, map[string]string, error) {
	lines, left, prods := s.gateCache.cachedFindings(run, all)
	var missing []string
	for lo := 0; lo < len(prods); lo += 500 {
		skus := make([]string, 0, 500)
		for _, p := range prods[lo:min(lo+500, len(prods))] {
			skus = append(skus, p.SKU)
		}
		var ls []PriceLine
		if err := s.DB.WithContext(ctx).Where("run_id = ? AND sku IN ?", run, skus).Find(&ls).Error; err != nil {
			return nil, nil, err
		}
		for i := range ls {
			lines[ls[i].SKU] = &ls[i]
		}
		for _, sku := range skus {
			if lines[sku] == nil {
				missing = append(missing, sku)
			}
		}
	}
	for lo := 0; lo < len(missing); lo += 500 {
		var iss []Issue
		if err := s.DB.WithContext(ctx).Where("run_id = ? AND severity = ? AND sku IN ?", run, "error", missing[lo:min(lo+500, len(missing))]).
			Order("id").Find(&iss).Error; err != nil {
			return nil, nil, err
		}
		for _, is := range iss {
			if _, ok := left[is.SKU]; !ok {
				left[is.SKU] = is.Message
			}
		}
	}
	s.gateCache.remember(run, prods, lines, left)
	return lines, left, nil
}

// compare checks one promoted product of one feed against the price in
// force at at; it returns "" when they agree.
func compare(f *Feed, pr *catalog.Product, line *PriceLine, leftOut string, promos *landing.Index, at time.Time) (i18n.Message, bool) {
	want := promos.Price(pr, at)
	if line == nil {
		if leftOut != "" {
			return i18n.M("feed %s leaves out %s: %s", f.Name, pr.SKU, sayIssue(leftOut)), true
		}
		if !want.OnSale() {
			return i18n.Message{}, false // not on sale then: nothing to compare
		}
		return i18n.M("feed %s lacks %s at its promotional price %s", f.Name, pr.SKU, money.Amount{Minor: want.Effective, Currency: pr.Currency}), true
	}
	var fsale, wsale any = i18n.M("none"), i18n.M("none")
	same := true
	if sale := line.saleAt(at); sale != nil {
		fsale, same = money.Amount{Minor: *sale, Currency: pr.Currency}, want.OnSale() && *sale == want.Effective
	} else {
		same = !want.OnSale()
	}
	if want.OnSale() {
		wsale = money.Amount{Minor: want.Effective, Currency: pr.Currency}
	}
	if line.Price != want.Regular || !same {
		return i18n.M("%s: feed %s says %s (sale %s), the landing page says %s (sale %s)", pr.SKU, f.Name,
			money.Amount{Minor: line.Price, Currency: pr.Currency}, fsale, money.Amount{Minor: want.Regular, Currency: pr.Currency}, wsale), true
	}
	return i18n.Message{}, false
}
