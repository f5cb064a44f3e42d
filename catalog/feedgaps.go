package catalog

import (
	"database/sql/driver"
	"strings"
	"unicode"

	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/jsoncol"
)

// FeedGap is a value the comparator feeds require of a product that an
// import accepts without: the feeds' validation (feeds/item.go, after the
// feed specification) leaves a product lacking one out of a feed, or
// warns of it. An import counts them as it reads, so a merchant
// learns it on the import's page rather than from a feed.
type FeedGap uint8

// The gaps, as bits of a product's FeedGaps.
const (
	GapLink        FeedGap = 1 << iota // required.link: left out of every feed
	GapDescription                     // required.description: left out of every feed but idealo
	GapImage                           // required.image_link: left out of every feed but idealo
	GapPrice                           // price.positive: left out of every feed
	GapIdentifiers                     // identifiers.missing, a warning: sent with identifier_exists=no
	nGaps          = 5
)

// leavesOut are the gaps that leave a product out of a feed.
const leavesOut = GapLink | GapDescription | GapImage | GapPrice

// FeedGaps are the values the feeds require that p lacks, read as the
// feeds read them: a description of spaces and control characters is
// none, and identifiers are missing when a product has a brand but
// neither GTIN nor MPN.
func (p *Product) FeedGaps() FeedGap {
	var g FeedGap
	if strings.TrimSpace(p.Link) == "" {
		g |= GapLink
	}
	if strings.TrimFunc(p.Description, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) == "" {
		g |= GapDescription
	}
	if p.ImageLink == "" {
		g |= GapImage
	}
	if p.Price <= 0 {
		g |= GapPrice
	}
	if p.GTIN == "" && p.MPN == "" && p.Brand != "" {
		g |= GapIdentifiers
	}
	return g
}

// gapSamples is how many SKUs a gap names.
const gapSamples = 3

// FeedGapCount is how many imported products lack one value, and the
// SKUs of the first few.
type FeedGapCount struct {
	Gap   FeedGap  `json:"gap"`
	Count int64    `json:"count"`
	SKUs  []string `json:"skus"`
}

// FeedGapReport is what an import's products lack for the feeds.
type FeedGapReport struct {
	LeftOut int64          `json:"left_out"` // products left out of at least one feed
	Gaps    []FeedGapCount `json:"gaps"`     // in the order of the bits, those with a count
}

// feedGapCounter counts the gaps of the products an import stages.
type feedGapCounter struct {
	leftOut int64
	counts  [nGaps]int64
	skus    [nGaps][]string
}

func (c *feedGapCounter) add(sku string, g FeedGap) {
	if g&leavesOut != 0 {
		c.leftOut++
	}
	for i := range nGaps {
		if g&(1<<i) == 0 {
			continue
		}
		c.counts[i]++
		if len(c.skus[i]) < gapSamples {
			c.skus[i] = append(c.skus[i], sku)
		}
	}
}

func (c *feedGapCounter) report() FeedGapReport {
	r := FeedGapReport{LeftOut: c.leftOut}
	for i := range nGaps {
		if c.counts[i] > 0 {
			r.Gaps = append(r.Gaps, FeedGapCount{Gap: 1 << i, Count: c.counts[i], SKUs: c.skus[i]})
		}
	}
	return r
}

// The lines of a report, by gap.
var gapFormats = map[FeedGap]string{
	GapLink:        i18n.Key("%d without link (%s): left out of every feed"),
	GapDescription: i18n.Key("%d without description (%s): left out of the Google and generic feeds"),
	GapImage:       i18n.Key("%d without image_link (%s): left out of the Google and generic feeds"),
	GapPrice:       i18n.Key("%d priced at 0 (%s): left out of every feed"),
	GapIdentifiers: i18n.Key("%d with a brand but no GTIN nor MPN (%s): sent with identifier_exists=no, which lowers their reach"),
}

// Title is the report's first line, nil when there is nothing to say.
func (r FeedGapReport) Title() *i18n.Message {
	var m i18n.Message
	switch {
	case len(r.Gaps) == 0:
		return nil
	case r.LeftOut > 0:
		m = i18n.M("%d imported products lack what comparator feeds require:", r.LeftOut)
	default:
		m = i18n.M("Comparator feeds:")
	}
	return &m
}

// Lines are the report's lines, a gap each: how many, the first SKUs
// ("A-1, A-2, A-3…") and what the feeds do of them.
func (r FeedGapReport) Lines() []i18n.Message {
	out := make([]i18n.Message, len(r.Gaps))
	for i, g := range r.Gaps {
		skus := strings.Join(g.SKUs, ", ")
		if g.Count > int64(len(g.SKUs)) {
			skus += "…"
		}
		out[i] = i18n.M(gapFormats[g.Gap], g.Count, skus)
	}
	return out
}

// GormDataType tells gorm the column holds text (the JSON of Value).
func (FeedGapReport) GormDataType() string { return "text" }

// Value stores the report as JSON (NULL when it has no gap).
func (r FeedGapReport) Value() (driver.Value, error) {
	return jsoncol.Value(r, len(r.Gaps) == 0)
}

// Scan reads a report written by Value (NULL or "" read as empty).
func (r *FeedGapReport) Scan(src any) error {
	*r = FeedGapReport{}
	return jsoncol.Scan(src, r)
}
