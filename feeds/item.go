package feeds

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
)

// Attr is one attribute of an item; Attributes holds their names.
type Attr int

// The attributes, in the order of Attributes.
const (
	AttrID Attr = iota
	AttrSKU
	AttrTitle
	AttrDescription
	AttrLink
	AttrImageLink
	AttrAdditionalImageLink
	AttrAvailability
	AttrPrice
	AttrSalePrice
	AttrSalePriceEffectiveDate
	AttrBrand
	AttrGTIN
	AttrMPN
	AttrIdentifierExists
	AttrCondition
	AttrProductType
	AttrGoogleProductCategory
	AttrItemGroupID
	AttrShipping
	AttrCurrency
	AttrPriceValue
	AttrSalePriceValue
	AttrDeliveryTime
	nAttrs
)

// Attributes an item carries, in Google's names, indexed by Attr; templates
// use them.
var Attributes = []string{"id", "sku", "title", "description", "link", "image_link", "additional_image_link", "availability", "price",
	"sale_price", "sale_price_effective_date", "brand", "gtin", "mpn", "identifier_exists", "condition", "product_type",
	"google_product_category", "item_group_id", "shipping", "currency", "price_value", "sale_price_value", "delivery_time"}

func attrByName(name string) (Attr, bool) {
	for i, a := range Attributes {
		if a == name {
			return Attr(i), true
		}
	}
	return 0, false
}

// Item is a product as a feed line: every value already formatted.
type Item struct {
	SKU    string
	Values [nAttrs]string
	// Prices for the freshness gate, minor units; SalePrice counts when OnSale.
	Price     int64
	SalePrice int64
	OnSale    bool
	Promoted  bool
	// SaleFrom and SaleUntil bound the sale in formats that carry
	// sale_price_effective_date (Google); zero elsewhere: the sale price
	// then holds until the next generation.
	SaleFrom, SaleUntil time.Time
}

// Problem is one validation finding on an item.
type Problem struct {
	Rule, Field, Value, Message string
	Blocking                    bool
}

// template is a compiled "{brand} {title}": literal text and attributes.
type template []tmplPart

type tmplPart struct {
	lit  string
	attr Attr // -1: lit
}

func compileTemplate(t string) template {
	var out template
	last := 0
	for _, m := range templateRE.FindAllStringSubmatchIndex(t, -1) {
		if m[0] > last {
			out = append(out, tmplPart{lit: t[last:m[0]], attr: -1})
		}
		if a, ok := attrByName(t[m[2]:m[3]]); ok {
			out = append(out, tmplPart{attr: a})
		}
		last = m[1]
	}
	if last < len(t) {
		out = append(out, tmplPart{lit: t[last:], attr: -1})
	}
	return out
}

// render fills the template from an item's values, trimmed.
func (t template) render(it *Item) string {
	if len(t) == 1 && t[0].attr >= 0 {
		return strings.TrimSpace(it.Values[t[0].attr])
	}
	var b strings.Builder
	for _, p := range t {
		if p.attr >= 0 {
			b.WriteString(it.Values[p.attr])
		} else {
			b.WriteString(p.lit)
		}
	}
	return strings.TrimSpace(b.String())
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// clean strips control characters (U+0000–U+001F but tab and newline,
// U+007F–U+009F, U+FFFE, U+FFFF) and invalid UTF-8: an XML or CSV reader
// would reject them. Plain ASCII text, the common case, is returned as is.
func clean(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t' && c != '\n') || c >= 0x7F {
			return cleanSlow(s)
		}
	}
	return s
}

func cleanSlow(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' {
			return -1
		}
		if r == 0xFFFE || r == 0xFFFF || (r >= 0x7F && r <= 0x9F) {
			return -1
		}
		return r
	}, s)
}

// builder turns products into items for one generation: the feed's
// filters, templates and links are compiled once, not per product.
type builder struct {
	f      *Feed
	match  *matcher
	title  template
	link   func(string) string
	promos *landing.Index
	now    time.Time
	exps   map[string]int    // exponent by currency
	dates  map[uint64]string // sale_price_effective_date by promotion
	// starts are the instants, after now, at which a published promotion
	// opens, in order: a format with effective dates carries the next sale
	// ahead of them (nil for the others).
	starts  []time.Time
	scratch []byte
	// scoped are the promotions whose scope includes the product being
	// built (indexes into promos.Promotions()).
	scoped []int
}

func newBuilder(f *Feed, promos *landing.Index, now time.Time) *builder {
	utm := landing.UTM{Source: f.UTMSource, Medium: f.UTMMedium, Campaign: f.UTMCampaign}
	b := &builder{f: f, match: f.matcher(), title: compileTemplate(f.TitleTemplate), link: utm.Applier(), promos: promos, now: now,
		exps: map[string]int{}, dates: map[uint64]string{}}
	if f.Format == GoogleXML || f.Format == GoogleTSV {
		for _, p := range promos.Promotions() {
			if p.StartsAt.After(now) && p.Code == "" {
				b.starts = append(b.starts, p.StartsAt)
			}
		}
		slices.SortFunc(b.starts, time.Time.Compare)
		b.starts = slices.Compact(b.starts)
	}
	return b
}

// price is what p costs at the builder's instant or, when it is not on
// sale then and the format carries effective dates, at the opening of its
// next sale: Merchant Center applies a sale_price only within its
// sale_price_effective_date, so a feed generated ahead of a promotion is
// right at the instant it opens.
func (b *builder) price(p *catalog.Product) landing.Price {
	b.scoped = b.promos.Scoped(p, b.scoped[:0])
	now := b.promos.PriceAmong(p, b.now, b.scoped)
	if now.OnSale() || len(b.scoped) == 0 {
		return now
	}
	for _, at := range b.starts {
		if next := b.promos.PriceAmong(p, at, b.scoped); next.OnSale() {
			return next
		}
	}
	return now
}

// amount formats minor units of cur, with the currency after it or with a
// decimal comma.
func (b *builder) amount(minor int64, cur string, withCurrency, comma bool) string {
	exp, ok := b.exps[cur]
	if !ok {
		exp = money.Exponent(cur)
		b.exps[cur] = exp
	}
	s := money.AppendPlain(b.scratch[:0], minor, exp)
	if comma {
		for i, c := range s {
			if c == '.' {
				s[i] = ','
			}
		}
	}
	if withCurrency {
		s = append(append(s, ' '), cur...)
	}
	b.scratch = s
	return string(s)
}

// effectiveDates is a promotion's window in its time zone, as Google wants it.
func (b *builder) effectiveDates(p *landing.Promotion) string {
	if d, ok := b.dates[p.ID]; ok {
		return d
	}
	loc, err := clock.Location(p.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	d := p.StartsAt.In(loc).Format("2006-01-02T15:04-07:00") + "/" + p.EndsAt.In(loc).Format("2006-01-02T15:04-07:00")
	b.dates[p.ID] = d
	return d
}

// build fills it from p at the builder's instant, validates it against the
// specification's rules and appends p's problems to probs. An item with a
// blocking problem must be left out of the feed; warnings keep it.
func (b *builder) build(p *catalog.Product, it *Item, probs []Problem) []Problem {
	f := b.f
	price := b.price(p)
	*it = Item{SKU: p.SKU, Price: p.Price, Promoted: price.Promotion != nil}
	v := &it.Values
	v[AttrID] = clean(p.SKU)
	v[AttrSKU] = v[AttrID]
	v[AttrDescription] = clean(p.Description)
	v[AttrLink] = b.link(p.Link)
	v[AttrImageLink] = p.ImageLink
	v[AttrAdditionalImageLink] = strings.ReplaceAll(p.AdditionalImageLinks, "|", ",")
	v[AttrAvailability] = p.Availability
	v[AttrPrice] = b.amount(p.Price, p.Currency, true, false)
	v[AttrBrand] = clean(p.Brand)
	v[AttrGTIN] = p.GTIN
	v[AttrMPN] = clean(p.MPN)
	v[AttrCondition] = p.Condition
	v[AttrProductType] = clean(p.ProductType)
	v[AttrGoogleProductCategory] = clean(p.GoogleProductCategory)
	v[AttrItemGroupID] = clean(p.ItemGroupID)
	v[AttrShipping] = f.Shipping
	v[AttrCurrency] = p.Currency
	v[AttrPriceValue] = b.amount(p.Price, p.Currency, false, f.DecimalComma)
	v[AttrDeliveryTime] = f.DeliveryTime
	if price.OnSale() {
		it.SalePrice, it.OnSale = price.Effective, true
		v[AttrSalePrice] = b.amount(price.Effective, p.Currency, true, false)
		v[AttrSalePriceValue] = b.amount(price.Effective, p.Currency, false, f.DecimalComma)
		v[AttrSalePriceEffectiveDate] = b.effectiveDates(price.Promotion)
		if b.f.Format == GoogleXML || b.f.Format == GoogleTSV {
			it.SaleFrom, it.SaleUntil = price.Promotion.StartsAt, price.Promotion.EndsAt
		}
	}
	if p.GTIN == "" && p.MPN == "" {
		v[AttrIdentifierExists] = "no"
	}
	// The title template runs on the other values, then is cleaned.
	v[AttrTitle] = p.Title
	v[AttrTitle] = clean(b.title.render(it))
	return validate(f, p, it, probs)
}

var lengthLimits = []struct {
	attr Attr
	max  int
}{{AttrID, 50}, {AttrTitle, 150}, {AttrDescription, 5000}, {AttrBrand, 70}, {AttrMPN, 70}, {AttrProductType, 750}, {AttrItemGroupID, 50}}

// The issue messages, stored in English with each issue (a run writes
// thousands): Issue.Say reads them back as messages to translate.
var (
	issueLength       = i18n.Key("%d characters; the limit is %d")
	issueRequired     = i18n.Key("%s is required")
	issueAbsolute     = i18n.Key("%s must be an absolute http(s) URL of at most 2,000 characters")
	issueAdditional   = i18n.Key("additional image links must be absolute http(s) URLs")
	issuePrice        = i18n.Key("the price must be above zero")
	issueCurrency     = i18n.Key("the product is priced in %s, the feed is in %s")
	issueAvailability = i18n.Key("want in_stock, out_of_stock, preorder or backorder")
	issueCondition    = i18n.Key("want new, refurbished or used")
	issueGTIN         = i18n.Key("not a GTIN-8/12/13/14 with a valid check digit")
	issueIdentifiers  = i18n.Key("no GTIN nor MPN: sent with identifier_exists=no, which lowers the product's reach")
	issueHTML         = i18n.Key("the description contains HTML; comparators want plain text")
	issueCapitals     = i18n.Key("a title in capitals reads as promotional text")

	issueFormats = []string{issueLength, issueRequired, issueAbsolute, issueCurrency}
)

// Say is the issue's message, to write in the reader's language.
func (is Issue) Say() i18n.Message { return i18n.Parse(is.Message, issueFormats) }

// ValueText is the issue's value as the reader reads it: a price as lang
// writes money ("0,00 €", "€0.00"), not as the feed holds it ("0.00
// EUR"); any other value as the feed holds it.
func (is Issue) ValueText(lang string) string {
	if is.Field != Attributes[AttrPrice] && is.Field != Attributes[AttrSalePrice] {
		return is.Value
	}
	num, cur, ok := strings.Cut(is.Value, " ")
	neg := strings.HasPrefix(num, "-")
	minor, err := money.Parse(strings.TrimPrefix(num, "-"), cur)
	if !ok || !money.Valid(cur) || err != nil {
		return is.Value
	}
	if neg {
		minor = -minor
	}
	return money.FormatIn(lang, minor, cur)
}

// runFormats are the formats of a run's outcome (Run.Say).
var runFormats = []string{i18n.Key("the previous file is still served: %s")}

// runWritten is the outcome of a run that wrote its file (stored in
// English); Say writes each of its counts with its own plural.
const runWritten = "%d items written, %d left out, %d warnings"

// Say is the run's outcome, to write in the reader's language: "2 926
// articles écrits, 1 écarté, 4 avertissements", each count agreeing.
func (r *Run) Say() i18n.Message {
	if r.Message == fmt.Sprintf(runWritten, r.Written, r.Skipped, r.Warnings) {
		return i18n.M("%s", i18n.Join{Parts: []any{i18n.M("%d items written", r.Written), i18n.M("%d left out", r.Skipped),
			i18n.M("%d warnings", r.Warnings)}, Sep: ", "})
	}
	return i18n.Parse(r.Message, runFormats)
}

// sayIssue reads back an issue message stored in English.
func sayIssue(english string) i18n.Message { return i18n.Parse(english, issueFormats) }

func validate(f *Feed, p *catalog.Product, it *Item, out []Problem) []Problem {
	v := &it.Values
	block := func(rule string, a Attr, msg string) {
		out = append(out, Problem{Rule: rule, Field: Attributes[a], Value: v[a], Message: msg, Blocking: true})
	}
	warn := func(rule string, a Attr, msg string) {
		out = append(out, Problem{Rule: rule, Field: Attributes[a], Value: v[a], Message: msg})
	}
	for _, l := range lengthLimits {
		// A string of at most max bytes has at most max characters.
		if len(v[l.attr]) > l.max {
			if n := utf8.RuneCountInString(v[l.attr]); n > l.max {
				block("length."+Attributes[l.attr], l.attr, fmt.Sprintf(issueLength, n, l.max))
			}
		}
	}
	for _, req := range []Attr{AttrID, AttrTitle, AttrLink} {
		if strings.TrimSpace(v[req]) == "" {
			block("required."+Attributes[req], req, fmt.Sprintf(issueRequired, Attributes[req]))
		}
	}
	if f.Format != IdealoCSV && strings.TrimSpace(v[AttrDescription]) == "" {
		block("required.description", AttrDescription, fmt.Sprintf(issueRequired, "description"))
	}
	if f.Format != IdealoCSV && v[AttrImageLink] == "" {
		block("required.image_link", AttrImageLink, fmt.Sprintf(issueRequired, "image_link"))
	}
	for _, a := range []Attr{AttrLink, AttrImageLink} {
		if v[a] != "" && !absolute(v[a]) {
			block("url.absolute", a, fmt.Sprintf(issueAbsolute, Attributes[a]))
		}
	}
	if extra := v[AttrAdditionalImageLink]; extra != "" {
		for _, l := range strings.Split(extra, ",") {
			if l != "" && !absolute(l) {
				block("url.absolute", AttrAdditionalImageLink, issueAdditional)
			}
		}
	}
	if p.Price <= 0 {
		block("price.positive", AttrPrice, issuePrice)
	}
	if p.Currency != f.Currency {
		block("price.currency", AttrPrice, fmt.Sprintf(issueCurrency, p.Currency, f.Currency))
	}
	if !contains(catalog.Availabilities, p.Availability) {
		block("availability.value", AttrAvailability, issueAvailability)
	}
	if !contains(catalog.Conditions, p.Condition) {
		block("condition.value", AttrCondition, issueCondition)
	}
	if p.GTIN != "" && !catalog.ValidGTIN(p.GTIN) {
		block("gtin.check_digit", AttrGTIN, issueGTIN)
	}
	if p.GTIN == "" && p.MPN == "" && p.Brand != "" {
		warn("identifiers.missing", AttrGTIN, issueIdentifiers)
	}
	if d := v[AttrDescription]; strings.IndexByte(d, '<') >= 0 && tagRE.MatchString(d) {
		warn("description.html", AttrDescription, issueHTML)
	}
	if t := v[AttrTitle]; len(t) > 10 && !hasLowerASCII(t) && utf8.RuneCountInString(t) > 10 && t == strings.ToUpper(t) && strings.IndexFunc(t, unicode.IsLetter) >= 0 {
		warn("title.capitals", AttrTitle, issueCapitals)
	}
	return out
}

// hasLowerASCII is the quick answer to "is this title in capitals?" for
// almost every title.
func hasLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			return true
		}
	}
	return false
}

func absolute(s string) bool {
	var rest string
	switch {
	case strings.HasPrefix(s, "https://"):
		rest = s[len("https://"):]
	case strings.HasPrefix(s, "http://"):
		rest = s[len("http://"):]
	default:
		return false
	}
	return len(s) <= 2000 && rest != "" && rest[0] != '/'
}
