package audience

import (
	"encoding/json"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/language"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// Limits of a contact's fields.
const (
	MaxEmail       = 254
	MaxLocalPart   = 64
	MaxName        = 200
	MaxAttrs       = 50   // custom attributes per contact
	MaxAttrValue   = 500  // characters of one attribute value
	MaxAttrsBytes  = 8192 // the attributes as JSON
	maxAttrNameLen = 64
)

var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(true), idna.Transitional(false))

// NormalizeEmail checks an address and returns its stored form (the local
// part as given, the domain lower-cased and IDNA-encoded to ASCII) and its
// key, the whole address lower-cased, which finds duplicates whatever the
// case: Ana@Exämple.FR is ana@xn--exmple-cua.fr.
func NormalizeEmail(raw string) (email, key string, err error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", "", i18n.Errorf("is required")
	case strings.ContainsAny(s, "\r\n"):
		return "", "", i18n.Errorf("holds a line break")
	case len(s) > 4*MaxEmail:
		return "", "", i18n.Errorf("longer than %d characters", MaxEmail)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", "", i18n.Errorf("not an e-mail address (want name@domain.example)")
	}
	local, domain := s[:at], s[at+1:]
	ascii, err := idnaProfile.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil || !strings.Contains(ascii, ".") || strings.ContainsAny(ascii, "[]") {
		return "", "", i18n.Errorf("the domain %q is not a valid domain name", domain)
	}
	ascii = strings.ToLower(ascii)
	if !isASCII(local) {
		return "", "", i18n.Errorf("the part before @ must be ASCII (internationalised mailboxes are not supported)")
	}
	if len(local) > MaxLocalPart {
		return "", "", i18n.Errorf("the part before @ is longer than %d characters", MaxLocalPart)
	}
	email = local + "@" + ascii
	if len(email) > MaxEmail {
		return "", "", i18n.Errorf("longer than %d characters", MaxEmail)
	}
	// net/mail checks the syntax; a bare address must parse back to itself
	// (no display name, comment or angle brackets).
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email {
		return "", "", i18n.Errorf("not an e-mail address (want name@domain.example)")
	}
	return email, strings.ToLower(email), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// cleanText refuses line breaks and control characters (a name ends up in
// headers downstream) and bounds the length in characters.
func cleanText(v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return "", i18n.Errorf("is not valid UTF-8 text")
	}
	for _, r := range v {
		if r == '\r' || r == '\n' {
			return "", i18n.Errorf("holds a line break")
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "", i18n.Errorf("holds a control character")
		}
	}
	if n := utf8.RuneCountInString(v); n > max {
		return "", i18n.Errorf("longer than %d characters (%d)", max, n)
	}
	return v, nil
}

// NormalizeLocale returns a BCP 47 tag in canonical form (fr, en-GB).
func NormalizeLocale(v string) (string, error) {
	v = strings.TrimSpace(strings.ReplaceAll(v, "_", "-"))
	if v == "" {
		return "", nil
	}
	t, err := language.Parse(v)
	if err != nil || len(v) > 35 {
		return "", i18n.Errorf("not a language tag (e.g. fr, en-GB)")
	}
	return t.String(), nil
}

// NormalizeCountry returns an ISO 3166-1 alpha-2 code in upper case.
func NormalizeCountry(v string) (string, error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	if v == "" {
		return "", nil
	}
	r, err := language.ParseRegion(v)
	if len(v) != 2 || err != nil || !r.IsCountry() {
		return "", i18n.Errorf("not an ISO 3166 country code (e.g. FR)")
	}
	return v, nil
}

// NormalizeTimeZone accepts IANA names only (Europe/Paris).
func NormalizeTimeZone(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if len(v) > 64 {
		return "", i18n.Errorf("not an IANA time zone (e.g. Europe/Paris)")
	}
	if _, err := clock.Location(v); err != nil {
		return "", i18n.Errorf("not an IANA time zone (e.g. Europe/Paris)")
	}
	return v, nil
}

var attrName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// reserved names cannot be custom attributes: they are the contact's own
// fields or personalisation fields.
var reserved = map[string]bool{"email": true, "name": true, "first_name": true, "last_name": true, "locale": true, "country": true,
	"time_zone": true, "status": true, "id": true, "list": true, "attributes": true}

// AttrName normalises a custom attribute's name: lower case letters,
// digits and underscores, starting with a letter.
func AttrName(k string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(k))
	n = strings.NewReplacer(" ", "_", "-", "_").Replace(n)
	if !attrName.MatchString(n) {
		return "", i18n.Errorf("attribute name %q: want letters, digits and _ (at most %d), starting with a letter", k, maxAttrNameLen)
	}
	if reserved[n] {
		return "", i18n.Errorf("attribute name %q is reserved", k)
	}
	return n, nil
}

// normalizeAttrs checks custom attributes; empty values are dropped.
func normalizeAttrs(in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		n, err := AttrName(k)
		if err != nil {
			return nil, err
		}
		c, err := cleanText(v, MaxAttrValue)
		if err != nil {
			return nil, i18n.Errorf("attribute %s %v", n, err)
		}
		if c != "" {
			out[n] = c
		}
	}
	if len(out) > MaxAttrs {
		return nil, i18n.Errorf("%d attributes; at most %d", len(out), MaxAttrs)
	}
	if b, _ := json.Marshal(out); len(b) > MaxAttrsBytes {
		return nil, i18n.Errorf("the attributes take %d bytes; at most %d", len(b), MaxAttrsBytes)
	}
	return out, nil
}

// Input is a contact as a form, the API or an import row gives it.
type Input struct {
	Email      string            `json:"email"`
	Name       string            `json:"name"`
	Locale     string            `json:"locale"`
	Country    string            `json:"country"`
	TimeZone   string            `json:"time_zone"`
	Attributes map[string]string `json:"attributes"`
	Status     string            `json:"status"`
}

// normalize validates an input into a contact, naming every wrong field.
// An empty status stays empty (the caller picks the default).
func (in Input) normalize() (*Contact, validation.Errors) {
	var ve validation.Errors
	c := &Contact{}
	var err error
	if c.Email, c.EmailKey, err = NormalizeEmail(in.Email); err != nil {
		ve = append(ve, validation.Fieldf("email", "%s", err))
	}
	if c.Name, err = cleanText(in.Name, MaxName); err != nil {
		ve = append(ve, validation.Fieldf("name", "%s", err))
	}
	if c.Locale, err = NormalizeLocale(in.Locale); err != nil {
		ve = append(ve, validation.Fieldf("locale", "%s", err))
	}
	if c.Country, err = NormalizeCountry(in.Country); err != nil {
		ve = append(ve, validation.Fieldf("country", "%s", err))
	}
	if c.TimeZone, err = NormalizeTimeZone(in.TimeZone); err != nil {
		ve = append(ve, validation.Fieldf("time_zone", "%s", err))
	}
	if c.Attrs, err = normalizeAttrs(in.Attributes); err != nil {
		ve = append(ve, validation.Fieldf("attributes", "%s", err))
	}
	if st := strings.ToLower(strings.TrimSpace(in.Status)); st != "" {
		if !validStatus(st) {
			ve = append(ve, validation.Fieldf("status", "unknown status %q (want one of %s)", in.Status, strings.Join(Statuses, ", ")))
		}
		c.Status = st
	}
	return c, ve
}

func validStatus(st string) bool {
	for _, s := range Statuses {
		if s == st {
			return true
		}
	}
	return false
}

// Vars are the personalisation fields of a contact: email, name,
// first_name, locale, country, time_zone, and every custom attribute.
func (c Contact) Vars() map[string]string {
	v := make(map[string]string, len(c.Attrs)+6)
	for k, a := range c.Attrs {
		v[k] = a
	}
	first, _, _ := strings.Cut(strings.TrimSpace(c.Name), " ")
	v["email"], v["name"], v["first_name"] = c.Email, c.Name, first
	v["locale"], v["country"], v["time_zone"] = c.Locale, c.Country, c.TimeZone
	return v
}

// AttrNames lists a contact's attribute names in order, for pages.
func (c Contact) AttrNames() []string {
	out := make([]string, 0, len(c.Attrs))
	for k := range c.Attrs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
