package feeds

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/money"
)

// Attributes an item carries, in Google's names; templates use them.
var Attributes = []string{"id", "sku", "title", "description", "link", "image_link", "additional_image_link", "availability", "price",
	"sale_price", "sale_price_effective_date", "brand", "gtin", "mpn", "identifier_exists", "condition", "product_type",
	"google_product_category", "item_group_id", "shipping", "currency", "price_value", "sale_price_value", "delivery_time"}

// Item is a product as a feed line: every value already formatted.
type Item struct {
	SKU    string
	Values map[string]string
	// Prices for the freshness gate, minor units.
	Price     int64
	SalePrice *int64
	Promoted  bool
}

// Problem is one validation finding on an item.
type Problem struct {
	Rule, Field, Value, Message string
	Blocking                    bool
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// clean strips control characters (U+0000–U+001F but tab and newline) and
// invalid UTF-8: an XML or CSV reader would reject them.
func clean(s string) string {
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

func decimal(minor int64, cur string, comma bool) string {
	s := money.Plain(minor, cur)
	if comma {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// BuildItem turns a product into a feed item at instant now and validates it
// against the specification's rules. An item with a blocking problem must be
// left out of the feed; warnings keep it.
func BuildItem(f *Feed, p *catalog.Product, promos []landing.Promotion, now time.Time) (*Item, []Problem) {
	price := landing.EffectivePrice(p, promos, now)
	utm := landing.UTM{Source: f.UTMSource, Medium: f.UTMMedium, Campaign: f.UTMCampaign}
	v := map[string]string{
		"id": clean(p.SKU), "sku": clean(p.SKU), "description": clean(p.Description), "link": utm.Apply(p.Link), "image_link": p.ImageLink,
		"additional_image_link": strings.ReplaceAll(p.AdditionalImageLinks, "|", ","), "availability": p.Availability,
		"price": money.Plain(p.Price, p.Currency) + " " + p.Currency,
		"brand": clean(p.Brand), "gtin": p.GTIN, "mpn": clean(p.MPN), "condition": p.Condition, "product_type": clean(p.ProductType),
		"google_product_category": clean(p.GoogleProductCategory), "item_group_id": clean(p.ItemGroupID), "shipping": f.Shipping,
		"currency": p.Currency, "price_value": decimal(p.Price, p.Currency, f.DecimalComma), "delivery_time": f.DeliveryTime,
	}
	it := &Item{SKU: p.SKU, Values: v, Price: p.Price, Promoted: price.Promotion != nil}
	if price.OnSale() {
		sale := price.Effective
		it.SalePrice = &sale
		v["sale_price"] = money.Plain(sale, p.Currency) + " " + p.Currency
		v["sale_price_value"] = decimal(sale, p.Currency, f.DecimalComma)
		loc, err := time.LoadLocation(price.Promotion.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		v["sale_price_effective_date"] = price.Promotion.StartsAt.In(loc).Format("2006-01-02T15:04-07:00") + "/" + price.Promotion.EndsAt.In(loc).Format("2006-01-02T15:04-07:00")
	}
	if p.GTIN == "" && p.MPN == "" {
		v["identifier_exists"] = "no"
	}
	// The title template runs on the other values, then is cleaned.
	v["title"] = p.Title
	v["title"] = clean(Render(f.TitleTemplate, v))
	return it, validate(f, p, v)
}

// Render fills a template's {field} placeholders from values.
func Render(t string, values map[string]string) string {
	return strings.TrimSpace(templateRE.ReplaceAllStringFunc(t, func(m string) string { return values[m[1:len(m)-1]] }))
}

func validate(f *Feed, p *catalog.Product, v map[string]string) []Problem {
	var out []Problem
	block := func(rule, field, msg string) {
		out = append(out, Problem{Rule: rule, Field: field, Value: v[field], Message: msg, Blocking: true})
	}
	warn := func(rule, field, msg string) {
		out = append(out, Problem{Rule: rule, Field: field, Value: v[field], Message: msg})
	}
	lengths := []struct {
		field string
		max   int
	}{{"id", 50}, {"title", 150}, {"description", 5000}, {"brand", 70}, {"mpn", 70}, {"product_type", 750}, {"item_group_id", 50}}
	for _, l := range lengths {
		if n := utf8.RuneCountInString(v[l.field]); n > l.max {
			block("length."+l.field, l.field, fmt.Sprintf("%d characters; the limit is %d", n, l.max))
		}
	}
	for _, req := range []string{"id", "title", "link"} {
		if strings.TrimSpace(v[req]) == "" {
			block("required."+req, req, req+" is required")
		}
	}
	if f.Format != IdealoCSV && strings.TrimSpace(v["description"]) == "" {
		block("required.description", "description", "description is required")
	}
	if f.Format != IdealoCSV && v["image_link"] == "" {
		block("required.image_link", "image_link", "image_link is required")
	}
	for _, field := range []string{"link", "image_link"} {
		if v[field] != "" && !absolute(v[field]) {
			block("url.absolute", field, field+" must be an absolute http(s) URL of at most 2,000 characters")
		}
	}
	for _, l := range strings.Split(v["additional_image_link"], ",") {
		if l != "" && !absolute(l) {
			block("url.absolute", "additional_image_link", "additional image links must be absolute http(s) URLs")
		}
	}
	if p.Price <= 0 {
		block("price.positive", "price", "the price must be above zero")
	}
	if p.Currency != f.Currency {
		block("price.currency", "price", fmt.Sprintf("the product is priced in %s, the feed is in %s", p.Currency, f.Currency))
	}
	if !contains(catalog.Availabilities, p.Availability) {
		block("availability.value", "availability", "want in_stock, out_of_stock, preorder or backorder")
	}
	if !contains(catalog.Conditions, p.Condition) {
		block("condition.value", "condition", "want new, refurbished or used")
	}
	if p.GTIN != "" && !catalog.ValidGTIN(p.GTIN) {
		block("gtin.check_digit", "gtin", "not a GTIN-8/12/13/14 with a valid check digit")
	}
	if p.GTIN == "" && p.MPN == "" && p.Brand != "" {
		warn("identifiers.missing", "gtin", "no GTIN nor MPN: sent with identifier_exists=no, which lowers the product's reach")
	}
	if tagRE.MatchString(v["description"]) {
		warn("description.html", "description", "the description contains HTML; comparators want plain text")
	}
	if t := v["title"]; utf8.RuneCountInString(t) > 10 && t == strings.ToUpper(t) && strings.IndexFunc(t, unicode.IsLetter) >= 0 {
		warn("title.capitals", "title", "a title in capitals reads as promotional text")
	}
	return out
}

func absolute(s string) bool {
	return len(s) <= 2000 && (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && len(strings.SplitN(s, "/", 4)[2]) > 0
}
