package affiliation

import (
	"context"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/money"
	"github.com/rampe/rampe/platform/validation"
)

// Networks a partner may come through.
var Networks = []string{"direct", "awin", "cj", "rakuten", "effiliation", "timeone", "other"}

// Partner states.
const (
	PartnerActive = "active"
	PartnerPaused = "paused"
)

// Commission kinds: a percentage of the order's net amount (basis points)
// or a fixed amount per order (minor units).
const (
	CommissionPercent = "percent"
	CommissionFixed   = "fixed"
)

// DefaultCookieDays is the usual cookie window of affiliate networks.
const DefaultCookieDays = 30

// Rule is a commission rule.
type Rule struct {
	Kind  string `json:"kind"`
	Value int64  `json:"value"` // basis points (percent) or minor units (fixed)
}

// Partner is an affiliate site or network publishing the merchant's links.
type Partner struct {
	ID              uint64 `gorm:"primaryKey"`
	Name            string
	Network         string
	Email           string
	Status          string
	CommissionKind  string
	CommissionValue int64
	Currency        string
	// Overrides are rules per product type: "Mode=5%; Électronique=2.00".
	Overrides   string
	CookieDays  int
	TimeZone    string
	PostbackURL string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Active tells whether the partner takes part in campaigns.
func (p *Partner) Active() bool { return p.Status == PartnerActive }

// Rule is the partner's base rule.
func (p *Partner) Rule() Rule { return Rule{Kind: p.CommissionKind, Value: p.CommissionValue} }

// RuleFor is the rule of a product type: its override, else the base one.
// A type matches an override naming it or one of its parents ("Mode" for
// "Mode > Robes").
func (p *Partner) RuleFor(productType string) Rule {
	ov, _ := parseOverrides(p.Overrides, p.Currency)
	best, bestLen := p.Rule(), -1
	for t, r := range ov {
		if (productType == t || strings.HasPrefix(productType, t+" >")) && len(t) > bestLen {
			best, bestLen = r, len(t)
		}
	}
	return best
}

// RuleLabel writes a rule as lang writes it: "7,5 %" and "4,50 €" in
// French, "7.5 %" and "€4.50" in English.
func RuleLabel(lang string, r Rule, cur string) string {
	if r.Kind == CommissionPercent {
		s := strings.TrimSuffix(strings.TrimSuffix(money.Plain(r.Value, "EUR"), "0"), ".0")
		if lang == i18n.FR {
			s = strings.Replace(s, ".", ",", 1)
		}
		return s + "\u00a0%"
	}
	return money.FormatIn(lang, r.Value, cur)
}

// Slug is the partner's name as a UTM source.
func (p *Partner) Slug() string { return slugify(p.Name) }

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slugify(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'à', 'â', 'ä':
			r = 'a'
		case 'é', 'è', 'ê', 'ë':
			r = 'e'
		case 'î', 'ï':
			r = 'i'
		case 'ô', 'ö':
			r = 'o'
		case 'ù', 'û', 'ü':
			r = 'u'
		case 'ç':
			r = 'c'
		}
		b.WriteRune(r)
	}
	out := strings.Trim(nonSlug.ReplaceAllString(b.String(), "-"), "-")
	if out == "" {
		return "partner"
	}
	return out
}

// PartnerInput is what a marketer submits: the form, the API, a CSV row.
type PartnerInput struct {
	Name        string `json:"name"`
	Network     string `json:"network"`
	Email       string `json:"email"`
	Status      string `json:"status"`
	Commission  string `json:"commission"` // "8 %" or "8%" (percent of the net amount), "5.00" (per order)
	Currency    string `json:"currency"`
	Overrides   string `json:"overrides"` // "Mode=5%; Électronique=2.00"
	CookieDays  string `json:"cookie_days"`
	TimeZone    string `json:"time_zone"`
	PostbackURL string `json:"postback_url"`
}

// Placeholders a postback URL template may carry.
var Placeholders = []string{"{click_id}", "{order_id}", "{amount}", "{currency}", "{commission}", "{status}"}

var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

// BuildPartner validates in. The postback URL's host is checked against
// the outbound allow-list (out may be nil: no network check).
func BuildPartner(ctx context.Context, in PartnerInput, defaultTZ string, out Outbound) (*Partner, error) {
	var errs validation.Errors
	add := func(f, format string, args ...any) {
		errs = append(errs, validation.Fieldf(f, format, args...))
	}
	p := &Partner{Name: strings.TrimSpace(in.Name), Network: strings.ToLower(strings.TrimSpace(in.Network)), Email: strings.TrimSpace(in.Email),
		Status: strings.ToLower(strings.TrimSpace(in.Status)), Currency: strings.ToUpper(strings.TrimSpace(in.Currency)),
		TimeZone: strings.TrimSpace(in.TimeZone), PostbackURL: strings.TrimSpace(in.PostbackURL)}
	switch n := utf8.RuneCountInString(p.Name); {
	case n == 0:
		add("name", "is required")
	case n > 100:
		add("name", "is %d characters long; the limit is 100", n)
	case !utf8.ValidString(p.Name) || strings.IndexFunc(p.Name, unicode.IsControl) >= 0:
		add("name", "must not contain control characters (line breaks, tabs)")
	}
	if p.Network == "" {
		p.Network = "direct"
	}
	if !contains(Networks, p.Network) {
		add("network", "want one of %s, got %q", strings.Join(Networks, ", "), in.Network)
	}
	if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email || len(p.Email) > 254 {
		add("email", "%q is not an e-mail address", in.Email)
	}
	if p.Status == "" {
		p.Status = PartnerActive
	}
	if p.Status != PartnerActive && p.Status != PartnerPaused {
		add("status", "want active or paused, got %q", in.Status)
	}
	if p.Currency == "" {
		p.Currency = "EUR"
	}
	if !money.Valid(p.Currency) {
		add("currency", "%q is not an ISO 4217 currency code", in.Currency)
		p.Currency = "EUR"
	}
	if r, err := parseRule(in.Commission, p.Currency); err != nil {
		add("commission", "%v", err)
	} else {
		p.CommissionKind, p.CommissionValue = r.Kind, r.Value
	}
	if ov, err := parseOverrides(in.Overrides, p.Currency); err != nil {
		add("overrides", "%v", err)
	} else {
		p.Overrides = formatOverrides(ov, p.Currency)
	}
	p.CookieDays = DefaultCookieDays
	if s := strings.TrimSpace(in.CookieDays); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 365 {
			add("cookie_days", "want a whole number of days from 1 to 365, got %q", in.CookieDays)
		}
		p.CookieDays = n
	}
	if p.TimeZone == "" {
		p.TimeZone = defaultTZ
	}
	if _, err := clock.Location(p.TimeZone); err != nil {
		add("time_zone", "unknown time zone %q", in.TimeZone)
	}
	if p.PostbackURL != "" {
		if err := checkPostbackURL(ctx, p.PostbackURL, out); err != nil {
			add("postback_url", "%v", err)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parseRule reads "8 %" / "8%" (percent, up to 2 decimals, at most 100) or
// "5.00" (an amount per order in cur).
func parseRule(s, cur string) (Rule, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		// The example amount as the reader writes decimals ("5,00" in French).
		return Rule{}, i18n.Errorf("is required: a percentage of the net amount (%q) or an amount per order (%q)", "8 %", i18n.M("5.00"))
	}
	if strings.HasSuffix(v, "%") {
		num := strings.TrimSpace(strings.TrimSuffix(v, "%"))
		bp, err := money.Parse(num, "EUR") // basis points: a 2-decimal number
		if err != nil || num == "" || bp <= 0 || bp > 10000 {
			return Rule{}, i18n.Errorf("%q is not a percentage above 0 and at most 100 (example: 8 %% or 7.5 %%)", s)
		}
		return Rule{Kind: CommissionPercent, Value: bp}, nil
	}
	n, err := money.Parse(v, cur)
	if err != nil || n <= 0 || n > 1_000_000_00 {
		return Rule{}, i18n.Errorf("%q is neither a percentage (8 %%) nor an amount in %s above 0 (5.00)", s, cur)
	}
	return Rule{Kind: CommissionFixed, Value: n}, nil
}

// parseOverrides reads "Mode=5%; Électronique=2.00" (one per product type).
func parseOverrides(s, cur string) (map[string]Rule, error) {
	out := map[string]Rule{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		t, r, ok := strings.Cut(part, "=")
		t = strings.TrimSpace(t)
		if !ok || t == "" || utf8.RuneCountInString(t) > 200 {
			return nil, i18n.Errorf("%q is not product type=rule (example: Mode=5%%; Électronique=2.00)", part)
		}
		rule, err := parseRule(r, cur)
		if err != nil {
			return nil, i18n.Errorf("%s: %v", t, err)
		}
		if _, dup := out[t]; dup {
			return nil, i18n.Errorf("%s is named twice", t)
		}
		out[t] = rule
	}
	if len(out) > 100 {
		return nil, i18n.Errorf("at most 100 product types")
	}
	return out, nil
}

func formatOverrides(ov map[string]Rule, cur string) string {
	keys := make([]string, 0, len(ov))
	for k := range ov {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		r := ov[k]
		v := money.Plain(r.Value, cur)
		if r.Kind == CommissionPercent {
			v = money.Plain(r.Value, "EUR") + "%"
		}
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, "; ")
}

// checkPostbackURL refuses a template that is not an absolute http(s)
// URL, names an unknown placeholder, or targets a host the outbound
// allow-list refuses (private and loopback addresses unless listed).
func checkPostbackURL(ctx context.Context, raw string, out Outbound) error {
	if len(raw) > 2000 {
		return i18n.Errorf("at most 2,000 characters")
	}
	for _, ph := range placeholderRE.FindAllString(raw, -1) {
		if !contains(Placeholders, ph) {
			return i18n.Errorf("unknown placeholder %s; known: %s", ph, strings.Join(Placeholders, " "))
		}
	}
	sample := fillTemplate(raw, map[string]string{"click_id": "c", "order_id": "o", "amount": "1", "currency": "EUR", "commission": "1", "status": "pending"})
	u, err := url.Parse(sample)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return i18n.Errorf("%q is not an absolute http(s) URL without credentials", raw)
	}
	if strings.Contains(u.Host, "{") {
		return i18n.Errorf("placeholders may not stand in the host")
	}
	if out != nil {
		if err := out.CheckTarget(ctx, sample); err != nil {
			return err
		}
	}
	return nil
}

// fillTemplate puts URL-escaped values in place of the placeholders.
func fillTemplate(tmpl string, vals map[string]string) string {
	return placeholderRE.ReplaceAllStringFunc(tmpl, func(ph string) string {
		if v, ok := vals[strings.Trim(ph, "{}")]; ok {
			return url.QueryEscape(v)
		}
		return ph
	})
}

// Partners lists every partner by name.
func (s *Service) Partners(ctx context.Context) ([]Partner, error) {
	var out []Partner
	err := s.DB.WithContext(ctx).Order("name").Find(&out).Error
	return out, err
}

// Partner reads one partner.
func (s *Service) Partner(ctx context.Context, id uint64) (*Partner, error) {
	return db.Take[Partner](s.DB.WithContext(ctx), ErrNotFound, id)
}

// CreatePartner validates and stores a partner.
func (s *Service) CreatePartner(ctx context.Context, in PartnerInput) (*Partner, error) {
	p, err := BuildPartner(ctx, in, s.DefaultTimeZone, s.Outbound)
	if err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = s.now(), s.now()
	return p, s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := nameFree(tx, p.Name, 0); err != nil {
			return err
		}
		return tx.Create(p).Error
	})
}

// UpdatePartner validates and replaces a partner's fields.
func (s *Service) UpdatePartner(ctx context.Context, id uint64, in PartnerInput) (*Partner, error) {
	old, err := s.Partner(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := BuildPartner(ctx, in, s.DefaultTimeZone, s.Outbound)
	if err != nil {
		return nil, err
	}
	p.ID, p.CreatedAt, p.UpdatedAt = old.ID, old.CreatedAt, s.now()
	return p, s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := nameFree(tx, p.Name, id); err != nil {
			return err
		}
		return tx.Save(p).Error
	})
}

func nameFree(tx *gorm.DB, name string, except uint64) error {
	var n int64
	if err := tx.Model(&Partner{}).Where("LOWER(name) = LOWER(?) AND id <> ?", name, except).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return validation.Errors{validation.Fieldf("name", "a partner named %q exists already", name)}
	}
	return nil
}

// Input is a partner as the form and the API show it, for editing.
func (p *Partner) Input() PartnerInput {
	return PartnerInput{Name: p.Name, Network: p.Network, Email: p.Email, Status: p.Status, Commission: ruleInput(p.Rule(), p.Currency),
		Currency: p.Currency, Overrides: p.Overrides, CookieDays: strconv.Itoa(p.CookieDays), TimeZone: p.TimeZone, PostbackURL: p.PostbackURL}
}

func ruleInput(r Rule, cur string) string {
	if r.Kind == CommissionPercent {
		return money.Plain(r.Value, "EUR") + "%"
	}
	return money.Plain(r.Value, cur)
}

// CommissionRuleLabel is the partner's base rule as lang writes it ("8 %").
func (p *Partner) CommissionRuleLabel(lang string) string {
	return RuleLabel(lang, p.Rule(), p.Currency)
}

// OverridesLabel is the partner's rules per product type as lang writes
// them ("Mode : 5 % ; Maison > Salon : 2,00 €"); the form keeps the
// stored text ("Mode=5.00%; Maison > Salon=2.00"), which it reads back.
func (p *Partner) OverridesLabel(lang string) string {
	ov, err := parseOverrides(p.Overrides, p.Currency)
	if err != nil {
		return p.Overrides
	}
	keys := make([]string, 0, len(ov))
	for k := range ov {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]any, len(keys))
	for i, k := range keys {
		parts[i] = i18n.M("%s: %s", k, RuleLabel(lang, ov[k], p.Currency))
	}
	return i18n.Join{Parts: parts, Sep: "; "}.Text(lang)
}
