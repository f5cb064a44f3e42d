package audience

import "github.com/rampe/rampe/platform/i18n"

// rowFormats are the formats of the import problems and outcomes, stored in
// English (a report holds thousands of lines): Say reads them back as
// messages to write in the reader's language. A problem with no argument is
// a catalog key of its own.
var rowFormats = []string{
	i18n.Key("kept suppressed: the address is on the suppression list (%s); its other fields are imported, it is never mailed"),
	i18n.Key("duplicate address, first seen on line %d (addresses are compared without case)"),
	i18n.Key("unknown column, and not a valid attribute name: %s"),
	i18n.Key("a second column for %s"),
	i18n.Key("missing column \"email\" (header: %s)"),
	i18n.Key("%d attribute columns; at most %d"),
	i18n.Key("malformed CSV: %s"),
	i18n.Key("%d fields, the header has %d"),
	i18n.Key("malformed JSON: %s"),
	i18n.Key("malformed JSON at byte %d: %s (want an object per contact)"),
	i18n.Key("the file ends inside the object that starts at byte %d: is it complete?"),
	i18n.Key("%d contacts imported or updated"),
	i18n.Key("%d invalid rows skipped (see the report)"),
	i18n.Key("%d suppressed addresses kept suppressed (see the report)"),
	i18n.Key("nothing imported: %d invalid rows out of %d (see the report); fix them or import with “partial”"),
	i18n.Key("nothing imported: %s"),
	// the field errors of a row (normalize)
	i18n.Key("longer than %d characters (%d)"),
	i18n.Key("longer than %d characters"),
	i18n.Key("the domain %q is not a valid domain name"),
	i18n.Key("the part before @ is longer than %d characters"),
	i18n.Key("attribute name %q: want letters, digits and _ (at most %d), starting with a letter"),
	i18n.Key("attribute name %q is reserved"),
	i18n.Key("attribute %s %v"),
	i18n.Key("%d attributes; at most %d"),
	i18n.Key("the attributes take %d bytes; at most %d"),
	i18n.Key("unknown status %q (want one of %s)"),
}

// The problems written whole, marked for the catalog.
var _ = []string{
	i18n.Key("the file is empty"), i18n.Key("want an object of strings"), i18n.Key("unknown field, and not a valid attribute name"),
	i18n.Key("want a string"),
}

// Say is the problem's message, to write in the reader's language.
func (p ImportProblem) Say() i18n.Message { return i18n.Parse(p.Message, rowFormats) }

// Say is the outcome of the import, to write in the reader's language.
func (r *ImportRun) Say() i18n.Message { return i18n.Parse(r.Message, rowFormats) }
