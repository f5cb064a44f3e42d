package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rampe/rampe/platform/money"
	"github.com/rampe/rampe/platform/rowfile"
)

// MaxLineBytes bounds one line of an imported file: a broken file with no
// line breaks must not be read into memory whole.
const MaxLineBytes = rowfile.MaxLineBytes

// columns maps header names, lower-cased, to product attributes.
var columns = map[string]string{
	"sku": "sku", "id": "sku", "item_id": "sku", "reference": "sku", "ref": "sku",
	"title": "title", "name": "title",
	"description": "description",
	"link":        "link", "url": "link",
	"image_link": "image_link", "image": "image_link", "imageurl": "image_link", "image_url": "image_link", "imageurls": "image_link",
	"additional_image_links": "additional_image_links", "additional_image_link": "additional_image_links",
	"brand": "brand", "marque": "brand",
	"gtin": "gtin", "ean": "gtin", "ean13": "gtin", "eans": "gtin", "upc": "gtin",
	"mpn":          "mpn",
	"condition":    "condition",
	"product_type": "product_type", "category": "product_type", "categorypath": "product_type",
	"google_product_category": "google_product_category",
	"item_group_id":           "item_group_id",
	"price":                   "price", "prix": "price",
	"currency":       "currency",
	"cost":           "cost",
	"stock_quantity": "stock_quantity", "stock": "stock_quantity", "quantity": "stock_quantity", "qty": "stock_quantity",
	"availability": "availability",
}

var required = []string{"sku", "title", "price"}

// record is one row of a file with its attribute values.
type record struct {
	line   int64
	values map[string]string
}

// reader yields records from a file format.
type reader interface {
	next() (record, error) // io.EOF at the end
	ignored() []string
}

type csvReader struct {
	f      *rowfile.CSV
	header []string // attribute per column, "" when ignored
	skip   []string
}

func newCSVReader(in io.Reader) (*csvReader, error) {
	f, err := rowfile.OpenCSV(in, "catalog")
	if err != nil {
		return nil, err
	}
	c := &csvReader{f: f, header: make([]string, len(f.Header))}
	seen := map[string]bool{}
	for i, h := range f.Header {
		name := strings.ToLower(strings.TrimSpace(h))
		attr, ok := columns[name]
		switch {
		case !ok:
			c.skip = append(c.skip, h)
		case seen[attr]:
			return nil, RowError{Line: 1, Column: h, Value: h, Msg: "a second column for " + attr}
		default:
			seen[attr] = true
			c.header[i] = attr
		}
	}
	for _, req := range required {
		if !seen[req] {
			return nil, RowError{Line: 1, Column: req, Msg: fmt.Sprintf("missing column %q (header: %s)", req, strings.Join(f.Header, string(f.Sep)))}
		}
	}
	return c, nil
}

func (c *csvReader) next() (record, error) {
	fields, line, err := c.f.Next()
	if err != nil {
		return record{line: line}, err
	}
	rec := record{line: line, values: make(map[string]string, len(c.header))}
	for i, f := range fields {
		if attr := c.header[i]; attr != "" {
			rec.values[attr] = strings.TrimSpace(f)
		}
	}
	return rec, nil
}

func (c *csvReader) ignored() []string { return c.skip }

// jsonReader reads an array of objects or one object per line (NDJSON).
// Its "line" is the item's position, starting at 1.
type jsonReader struct {
	f    *rowfile.JSON
	skip map[string]bool
}

func newJSONReader(in io.Reader) (*jsonReader, error) {
	f, err := rowfile.OpenJSON(in, "catalog")
	if err != nil {
		return nil, err
	}
	return &jsonReader{f: f, skip: map[string]bool{}}, nil
}

func (j *jsonReader) next() (record, error) {
	var obj map[string]any
	n, err := j.f.Next(&obj)
	if err != nil {
		return record{line: n}, err
	}
	rec := record{line: n, values: map[string]string{}}
	for k, v := range obj {
		attr, ok := columns[strings.ToLower(k)]
		if !ok {
			j.skip[k] = true
			continue
		}
		switch x := v.(type) {
		case string:
			rec.values[attr] = strings.TrimSpace(x)
		case json.Number:
			rec.values[attr] = x.String()
		case nil:
		case bool:
			rec.values[attr] = strconv.FormatBool(x)
		case []any:
			parts := make([]string, 0, len(x))
			for _, p := range x {
				parts = append(parts, fmt.Sprint(p))
			}
			sep := "|"
			if attr == "gtin" {
				sep = ";"
			}
			rec.values[attr] = strings.Join(parts, sep)
		default:
			return rec, RowError{Line: n, Column: k, Value: fmt.Sprint(v), Msg: "want a string or a number"}
		}
	}
	return rec, nil
}

func (j *jsonReader) ignored() []string {
	out := make([]string, 0, len(j.skip))
	for k := range j.skip {
		out = append(out, k)
	}
	return out
}

// textErrors names the values a database cannot store as text: a NUL byte
// or invalid UTF-8 (a file saved in Latin-1, say). The value shown is made
// storable itself.
func textErrors(rec record) []RowError {
	var errs []RowError
	for _, col := range slices.Sorted(maps.Keys(rec.values)) {
		if v := rec.values[col]; !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			shown := strings.ToValidUTF8(strings.ReplaceAll(v, "\x00", "␀"), "\uFFFD")
			errs = append(errs, RowError{Line: rec.line, Column: col, Value: shown, Msg: "holds a NUL byte or invalid UTF-8 (save the file as UTF-8)"})
		}
	}
	return errs
}

// toProduct converts a record into a product, collecting conversion errors
// and then validation errors.
func toProduct(rec record, defaultCurrency string) (*Product, []RowError) {
	v := rec.values
	errs := textErrors(rec)
	p := &Product{SKU: v["sku"], Title: v["title"], Description: v["description"], Link: v["link"], ImageLink: v["image_link"],
		AdditionalImageLinks: v["additional_image_links"], Brand: v["brand"], MPN: v["mpn"],
		Condition: strings.ToLower(v["condition"]), ProductType: v["product_type"], GoogleProductCategory: v["google_product_category"],
		ItemGroupID: v["item_group_id"], Currency: strings.ToUpper(v["currency"])}
	if p.Condition == "" {
		p.Condition = "new"
	}
	// An idealo-style "eans" column may hold several GTINs; keep the first.
	p.GTIN = strings.TrimSpace(strings.SplitN(v["gtin"], ";", 2)[0])
	if strings.Contains(p.ImageLink, "|") || strings.Contains(p.ImageLink, ";") {
		imgs := strings.FieldsFunc(p.ImageLink, func(r rune) bool { return r == '|' || r == ';' })
		if len(imgs) > 0 {
			p.ImageLink = strings.TrimSpace(imgs[0])
			if p.AdditionalImageLinks == "" && len(imgs) > 1 {
				p.AdditionalImageLinks = strings.Join(imgs[1:], "|")
			}
		}
	}
	price := v["price"]
	// "19.90 EUR" carries its currency.
	if f := strings.Fields(price); len(f) == 2 && len(f[1]) == 3 {
		price = f[0]
		if p.Currency != "" && p.Currency != strings.ToUpper(f[1]) {
			errs = append(errs, RowError{Line: rec.line, Column: "price", Value: v["price"], Msg: "currency differs from the currency column " + p.Currency})
		}
		p.Currency = strings.ToUpper(f[1])
	}
	if p.Currency == "" {
		p.Currency = defaultCurrency
	}
	if price == "" {
		errs = append(errs, RowError{Line: rec.line, Column: "price", Value: price, Msg: "is required"})
	} else if n, err := money.Parse(price, p.Currency); err != nil {
		errs = append(errs, RowError{Line: rec.line, Column: "price", Value: v["price"], Msg: "not a price (example: 19.90)"})
	} else {
		p.Price = n
	}
	if c := v["cost"]; c != "" {
		if n, err := money.Parse(c, p.Currency); err != nil {
			errs = append(errs, RowError{Line: rec.line, Column: "cost", Value: c, Msg: "not an amount (example: 8.50)"})
		} else {
			p.Cost = &n
		}
	}
	if s := v["stock_quantity"]; s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > 1e12 {
			errs = append(errs, RowError{Line: rec.line, Column: "stock_quantity", Value: s, Msg: "not a whole number"})
		}
		p.StockQuantity = n
	}
	p.Availability = strings.ReplaceAll(strings.ToLower(v["availability"]), " ", "_")
	if p.Availability == "" {
		p.Availability = "out_of_stock"
		if p.StockQuantity > 0 {
			p.Availability = "in_stock"
		}
	}
	return p, append(errs, p.Validate(rec.line)...)
}
