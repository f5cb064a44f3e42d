package catalog

import "github.com/rampe/rampe/platform/i18n"

// rowFormats are the formats of the import problems and outcomes, stored in
// English (a report holds thousands of lines): Say reads them back as
// messages to write in the reader's language. A problem with no argument is
// a catalog key of its own.
var rowFormats = []string{
	i18n.Key("%d characters; the limit is %d"),
	i18n.Key("%d links; at most 10"),
	i18n.Key("duplicate SKU, first seen on line %d"),
	i18n.Key("a second column for %s"),
	i18n.Key("missing column %q (header: %s)"),
	i18n.Key("malformed CSV: %s"),
	i18n.Key("%d fields, the header has %d"),
	i18n.Key("malformed JSON: %s"),
	i18n.Key("malformed JSON at byte %d: %s"),
	i18n.Key("the file ends inside the object that starts at byte %d: is it complete?"),
	i18n.Key("currency differs from the currency column %s"),
	i18n.Key("%d products imported or updated"),
	i18n.Key("%d invalid rows skipped (see the report)"),
	i18n.Key("ignored columns: %s"),
	i18n.Key("nothing imported: %d invalid rows out of %d (see the report); fix them or import with “skip invalid rows”"),
	i18n.Key("nothing imported: %s"),
}

// The problems written whole, marked for the catalog.
var _ = []string{
	i18n.Key("is required"), i18n.Key("must not contain tabs or line breaks"), i18n.Key("must be an absolute http(s) URL"),
	i18n.Key("not a GTIN-8/12/13/14 with a valid check digit"), i18n.Key("want new, refurbished or used"),
	i18n.Key("want in_stock, out_of_stock, preorder or backorder"), i18n.Key("must not be negative"),
	i18n.Key("not an ISO 4217 currency code"), i18n.Key("the file is empty"), i18n.Key("want a string or a number"),
	i18n.Key("holds a NUL byte or invalid UTF-8 (save the file as UTF-8)"), i18n.Key("not a price (example: 19.90)"),
	i18n.Key("not an amount (example: 8.50)"), i18n.Key("not a whole number"),
	i18n.Key("interrupted: the process running the import stopped; nothing was imported, import the file again"),
}

// Say is the problem's message, to write in the reader's language.
func (e ImportError) Say() i18n.Message { return i18n.Parse(e.Message, rowFormats) }

// Say is the outcome of the import, to write in the reader's language.
func (i *Import) Say() i18n.Message { return i18n.Parse(i.Message, rowFormats) }
