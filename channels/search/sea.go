package search

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/width"
	"gorm.io/gorm"

	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
	"github.com/rampe/rampe/platform/validation"
)

// MatchType is a keyword's match type.
type MatchType string

// Match types, written in a keyword list as Google writes them: [exact],
// "phrase", broad.
const (
	Exact  MatchType = "exact"
	Phrase MatchType = "phrase"
	Broad  MatchType = "broad"
)

// Keyword is one keyword of an ad group. MaxCPC is in minor units of the
// campaign's currency; 0 takes the ad group's.
type Keyword struct {
	Text   string    `json:"text"`
	Match  MatchType `json:"match"`
	MaxCPC int64     `json:"max_cpc"`
}

// Responsive search ad limits, as Google Ads and Microsoft Advertising
// state them (support.google.com/google-ads/answer/7684791; Microsoft's
// ResponsiveSearchAd object): 3–15 headlines of 30 characters, 2–4
// descriptions of 90, two display paths of 15; keywords of 80
// characters and 10 words.
const (
	MinHeadlines, MaxHeadlines       = 3, 15
	MinDescriptions, MaxDescriptions = 2, 4
	HeadlineMax, DescriptionMax      = 30, 90
	PathMax                          = 15
	KeywordMax, KeywordWords         = 80, 10
)

// Width counts text as the ad platforms do: one per character, two for a
// double-width one (East Asian wide and fullwidth: CJK ideographs, kana,
// hangul, fullwidth forms), as Google counts them against its limits
// ("double-width characters count as 2"). Combining marks count as typed;
// accented Latin letters are one each whatever their UTF-8 length.
func Width(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// AdGroup is a campaign's ad group with its keywords and ads.
type AdGroup struct {
	ID         uint64 `gorm:"primaryKey" json:"id"`
	CampaignID uint64 `json:"campaign_id"`
	Name       string `json:"name"`
	// MaxCPC is the default bid, minor units.
	MaxCPC    int64     `json:"max_cpc"`
	Keywords  []Keyword `gorm:"serializer:json" json:"keywords"`
	CreatedAt time.Time `json:"created_at"`
	Ads       []Ad      `gorm:"-" json:"ads"`
}

// TableName of AdGroup.
func (AdGroup) TableName() string { return "sea_ad_groups" }

// Ad is a responsive search ad. Its texts may carry price placeholders
// {price:SKU}, filled with the price the landing page shows for that
// product at the campaign's start: a price is never typed.
type Ad struct {
	ID           uint64    `gorm:"primaryKey" json:"id"`
	AdGroupID    uint64    `json:"ad_group_id"`
	Headlines    []string  `gorm:"serializer:json" json:"headlines"`
	Descriptions []string  `gorm:"serializer:json" json:"descriptions"`
	Path1        string    `gorm:"column:path1" json:"path1"`
	Path2        string    `gorm:"column:path2" json:"path2"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// TableName of Ad.
func (Ad) TableName() string { return "sea_ads" }

var (
	placeholderRE = regexp.MustCompile(`\{price:([^{}]*)\}`)
	// typedPriceRE finds a price typed by hand: an amount next to a
	// currency sign or code.
	typedPriceRE = regexp.MustCompile(`(?i)(\d[\d\s.,]*\s?(€|\$|£|eur\b|euros?\b|usd\b|gbp\b|chf\b))|((€|\$|£)\s?\d)`)
)

// Prices maps a SKU to the price the landing page shows for it.
type Prices map[string]string

// PricesOf reads the prices of an offer.
func PricesOf(o *landing.Offer) Prices {
	p := Prices{}
	if o != nil {
		for _, l := range o.Products {
			p[l.SKU] = l.Price
		}
	}
	return p
}

// Fill replaces the placeholders of s with prices. A SKU the page does
// not show is an error; with nil prices every placeholder counts as
// "9 999.99 EUR" (a wide price), for length checks before the
// page is published.
func Fill(s string, prices Prices) (string, error) {
	var bad []string
	out := placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		sku := strings.TrimSpace(placeholderRE.FindStringSubmatch(m)[1])
		if prices == nil {
			return "9\u202f999.99 EUR"
		}
		p, ok := prices[sku]
		if !ok {
			bad = append(bad, sku)
		}
		return p
	})
	if len(bad) > 0 {
		return out, i18n.Errorf("{price:%s}: the landing page does not show product %q", bad[0], bad[0])
	}
	return out, nil
}

// CheckAd names every limit the ad breaks once its placeholders are
// filled with prices, and every price typed by hand.
func CheckAd(a *Ad, prices Prices) validation.Errors {
	var errs validation.Errors
	add := func(f, format string, args ...any) {
		errs = append(errs, validation.Fieldf(f, format, args...))
	}
	if n := len(a.Headlines); n < MinHeadlines || n > MaxHeadlines {
		add("headlines", "an ad has %d to %d headlines, not %d", MinHeadlines, MaxHeadlines, n)
	}
	if n := len(a.Descriptions); n < MinDescriptions || n > MaxDescriptions {
		add("descriptions", "an ad has %d to %d descriptions, not %d", MinDescriptions, MaxDescriptions, n)
	}
	text := func(field, s string, limit int) {
		if strings.TrimSpace(s) == "" {
			add(field, "is empty")
			return
		}
		if !utf8.ValidString(s) {
			add(field, "is not valid UTF-8")
			return
		}
		if typedPriceRE.MatchString(placeholderRE.ReplaceAllString(s, "")) {
			add(field, "%q types a price: write {price:SKU} so that the ad shows the landing page's price", s)
		}
		filled, err := Fill(s, prices)
		if err != nil {
			add(field, "%v", err)
			return
		}
		if w := Width(filled); w > limit {
			add(field, "%q is %d characters long once filled; the limit is %d", filled, w, limit)
		}
	}
	for i, h := range a.Headlines {
		text(fmt.Sprintf("headline %d", i+1), h, HeadlineMax)
	}
	for i, d := range a.Descriptions {
		text(fmt.Sprintf("description %d", i+1), d, DescriptionMax)
	}
	for i, p := range []string{a.Path1, a.Path2} {
		f := fmt.Sprintf("path %d", i+1)
		switch {
		case strings.ContainsAny(p, "/ \t"):
			add(f, "%q may not hold a slash or a space", p)
		case Width(p) > PathMax:
			add(f, "%q is %d characters long; the limit is %d", p, Width(p), PathMax)
		}
	}
	if a.Path1 == "" && a.Path2 != "" {
		add("path 2", "needs a path 1")
	}
	return errs
}

// ParseKeywords reads a keyword list, one a line: [exact], "phrase" or
// broad, optionally followed by "@ 0.45", the keyword's max CPC in the
// campaign's currency. Errors name the line.
func ParseKeywords(src, currency string) ([]Keyword, error) {
	var out []Keyword
	var errs validation.Errors
	seen := map[string]int{}
	for i, line := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		field := fmt.Sprintf("keywords line %d", i+1)
		k := Keyword{Match: Broad}
		if kw, bid, ok := strings.Cut(line, "@"); ok {
			cpc, err := money.Parse(strings.TrimSpace(bid), currency)
			if err != nil || cpc < 0 {
				errs = append(errs, validation.Fieldf(field, "%q is not a max CPC in %s", strings.TrimSpace(bid), currency))
				continue
			}
			k.MaxCPC, line = cpc, strings.TrimSpace(kw)
		}
		switch {
		case len(line) >= 2 && line[0] == '[' && line[len(line)-1] == ']':
			k.Match, line = Exact, line[1:len(line)-1]
		case len(line) >= 2 && line[0] == '"' && line[len(line)-1] == '"':
			k.Match, line = Phrase, line[1:len(line)-1]
		}
		k.Text = strings.Join(strings.Fields(line), " ")
		switch {
		case k.Text == "":
			errs = append(errs, validation.Fieldf(field, "has no keyword"))
		case Width(k.Text) > KeywordMax:
			errs = append(errs, validation.Fieldf(field, "%q is %d characters long; the limit is %d", k.Text, Width(k.Text), KeywordMax))
		case len(strings.Fields(k.Text)) > KeywordWords:
			errs = append(errs, validation.Fieldf(field, "%q has %d words; the limit is %d", k.Text, len(strings.Fields(k.Text)), KeywordWords))
		case strings.ContainsAny(k.Text, "[]\"<>!@%^*=;"):
			errs = append(errs, validation.Fieldf(field, "%q holds a character ad platforms refuse in keywords", k.Text))
		default:
			key := string(k.Match) + ":" + strings.ToLower(k.Text)
			if j, dup := seen[key]; dup {
				errs = append(errs, validation.Fieldf(field, "repeats line %d", j))
				continue
			}
			seen[key] = i + 1
			out = append(out, k)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// KeywordLine writes a keyword back as ParseKeywords reads it.
func KeywordLine(k Keyword, currency string) string {
	s := k.Text
	switch k.Match {
	case Exact:
		s = "[" + s + "]"
	case Phrase:
		s = `"` + s + `"`
	}
	if k.MaxCPC > 0 {
		s += " @ " + money.Plain(k.MaxCPC, currency)
	}
	return s
}

// KeywordLines writes the group's keywords back as a keyword list.
func (g AdGroup) KeywordLines(currency string) string {
	var b strings.Builder
	for _, k := range g.Keywords {
		b.WriteString(KeywordLine(k, currency) + "\n")
	}
	return b.String()
}

// AdGroups lists a campaign's ad groups with their ads.
func (ch *Channel) AdGroups(ctx context.Context, campaignID uint64) ([]AdGroup, error) {
	var groups []AdGroup
	if err := ch.DB.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("id").Find(&groups).Error; err != nil {
		return nil, fmt.Errorf("search: ad groups of %d: %w", campaignID, err)
	}
	if len(groups) == 0 {
		return groups, nil
	}
	ids := make([]uint64, len(groups))
	at := map[uint64]int{}
	for i, g := range groups {
		ids[i], at[g.ID] = g.ID, i
	}
	var ads []Ad
	if err := ch.DB.WithContext(ctx).Where("ad_group_id IN ?", ids).Order("id").Find(&ads).Error; err != nil {
		return nil, err
	}
	for _, a := range ads {
		g := &groups[at[a.AdGroupID]]
		g.Ads = append(g.Ads, a)
	}
	return groups, nil
}

// AdGroupInput is what a marketer submits for an ad group.
type AdGroupInput struct {
	Name     string `json:"name"`
	MaxCPC   string `json:"max_cpc"`  // "0.45", campaign currency
	Keywords string `json:"keywords"` // one a line, ParseKeywords
}

// SaveAdGroup creates (id 0) or updates an ad group of the campaign.
func (ch *Channel) SaveAdGroup(ctx context.Context, campaignID uint64, currency string, id uint64, in AdGroupInput) (*AdGroup, error) {
	var errs validation.Errors
	g := &AdGroup{ID: id, CampaignID: campaignID, Name: strings.TrimSpace(in.Name), CreatedAt: ch.now()}
	if g.Name == "" {
		errs = append(errs, validation.Fieldf("name", "is required"))
	} else if n := utf8.RuneCountInString(g.Name); n > 255 {
		errs = append(errs, validation.Fieldf("name", "is %d characters long; the limit is 255", n))
	}
	if v := strings.TrimSpace(in.MaxCPC); v != "" {
		cpc, err := money.Parse(v, currency)
		if err != nil || cpc <= 0 {
			errs = append(errs, validation.Fieldf("max_cpc", "%q is not an amount above 0 in %s", v, currency))
		}
		g.MaxCPC = cpc
	} else {
		errs = append(errs, validation.Fieldf("max_cpc", "is required (the ad group's default bid)"))
	}
	kws, err := ParseKeywords(in.Keywords, currency)
	var ve validation.Errors
	if errors.As(err, &ve) {
		errs = append(errs, ve...)
	}
	g.Keywords = kws
	if len(errs) > 0 {
		return nil, errs
	}
	db := ch.DB.WithContext(ctx)
	if id != 0 {
		old, err := ch.adGroup(ctx, campaignID, id)
		if err != nil {
			return nil, err
		}
		g.CreatedAt = old.CreatedAt
		err = db.Save(g).Error
		return g, nameTaken(err, g.Name)
	}
	return g, nameTaken(db.Create(g).Error, g.Name)
}

func nameTaken(err error, name string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return validation.Errors{validation.Fieldf("name", "%q is already an ad group of this campaign", name)}
	}
	return err
}

func (ch *Channel) adGroup(ctx context.Context, campaignID, id uint64) (*AdGroup, error) {
	var g AdGroup
	err := ch.DB.WithContext(ctx).Take(&g, "id = ? AND campaign_id = ?", id, campaignID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &g, err
}

// DeleteAdGroup removes an ad group and its ads.
func (ch *Channel) DeleteAdGroup(ctx context.Context, campaignID, id uint64) error {
	res := ch.DB.WithContext(ctx).Where("id = ? AND campaign_id = ?", id, campaignID).Delete(&AdGroup{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// AdInput is what a marketer submits for an ad: texts one a line.
type AdInput struct {
	Headlines    string `json:"headlines"`
	Descriptions string `json:"descriptions"`
	Path1        string `json:"path1"`
	Path2        string `json:"path2"`
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// SaveAd creates (id 0) or updates an ad of one of the campaign's ad
// groups; prices are the landing page's at the campaign's start (nil
// when it has none yet).
func (ch *Channel) SaveAd(ctx context.Context, campaignID, groupID, id uint64, in AdInput, prices Prices) (*Ad, error) {
	if _, err := ch.adGroup(ctx, campaignID, groupID); err != nil {
		return nil, err
	}
	a := &Ad{ID: id, AdGroupID: groupID, Headlines: lines(in.Headlines), Descriptions: lines(in.Descriptions),
		Path1: strings.TrimSpace(in.Path1), Path2: strings.TrimSpace(in.Path2), CreatedAt: ch.now(), UpdatedAt: ch.now()}
	if errs := CheckAd(a, prices); len(errs) > 0 {
		return nil, errs
	}
	if id == 0 {
		return a, ch.DB.WithContext(ctx).Create(a).Error
	}
	var old Ad
	if err := ch.DB.WithContext(ctx).Take(&old, "id = ? AND ad_group_id = ?", id, groupID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	a.CreatedAt = old.CreatedAt
	return a, ch.DB.WithContext(ctx).Save(a).Error
}

// DeleteAd removes an ad of one of the campaign's ad groups.
func (ch *Channel) DeleteAd(ctx context.Context, campaignID, id uint64) error {
	res := ch.DB.WithContext(ctx).Where("id = ? AND ad_group_id IN (?)", id,
		ch.DB.Model(&AdGroup{}).Select("id").Where("campaign_id = ?", campaignID)).Delete(&Ad{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}
