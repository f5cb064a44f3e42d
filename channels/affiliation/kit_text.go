package affiliation

import (
	"strings"
	"time"

	"github.com/rampe/rampe/platform/i18n"
)

// The kit e-mail's words for what the kit itself stores for programs: its
// instants (RFC 3339) and its link labels ("landing", "sku MANTEAU-1").

// kitTime is an instant of a kit, RFC 3339 in the partner's zone, as
// people read it: "mardi 8 décembre 2026 à 00:00", "Tuesday 8 December
// 2026 at 00:00" (an i18n.Localizer).
type kitTime string

// Text writes the instant in lang (as stored when it does not parse).
func (t kitTime) Text(lang string) string {
	at, err := time.Parse(time.RFC3339, string(t))
	if err != nil {
		return string(t)
	}
	return i18n.T(lang, "%s at %s", i18n.FormatTime(lang, at, "Monday 2 January 2006"), at.Format("15:04"))
}

// String is the English text.
func (t kitTime) String() string { return t.Text(i18n.EN) }

// linkName is a link's label as people read it: "landing page", "product
// MANTEAU-1" (an i18n.Localizer).
type linkName string

// Text writes the name in lang.
func (l linkName) Text(lang string) string {
	if string(l) == LandingLabel {
		return i18n.T(lang, "landing page")
	}
	if sku, ok := strings.CutPrefix(string(l), "sku "); ok {
		return i18n.T(lang, "product %s", sku)
	}
	return string(l)
}

// String is the English text.
func (l linkName) String() string { return l.Text(i18n.EN) }

// LinkName is a link's label as people read it, in their language: the
// landing page's link, a product's deep link.
func LinkName(label string) i18n.Localizer { return linkName(label) }

// linkLine is the kit e-mail's line of a link: "Page d'atterrissage :
// URL", "Produit MANTEAU-1 : URL".
func linkLine(lang string, l KitLink) string {
	if l.Label == LandingLabel {
		return i18n.T(lang, "Landing page: %s", l.URL)
	}
	if sku, ok := strings.CutPrefix(l.Label, "sku "); ok {
		return i18n.T(lang, "Product %s: %s", sku, l.URL)
	}
	return i18n.T(lang, "Link %s: %s", l.Label, l.URL)
}
