package i18n

import (
	"database/sql/driver"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampe/rampe/platform/jsoncol"
)

// Texts is a message written in every language Rampe speaks, keyed by
// language: the form a message takes where its arguments cannot go (a
// database column, a JSON document read back later). Render builds it when
// the message is made; Text reads it in the reader's language. The English
// stays in the column or field it always had (API clients and logs read
// it); Texts sits beside it.
type Texts map[string]string

// Render writes v (a Message, an Errorf error, a Localizer, a string) in
// every language; nil when v is nil.
func Render(v any) Texts {
	if v == nil {
		return nil
	}
	out := make(Texts, len(Langs))
	for _, l := range Langs {
		out[l] = Text(l, v)
	}
	return out
}

// Text is the text in lang, the English when lang has none.
func (t Texts) Text(lang string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	return t[EN]
}

// String is the English text.
func (t Texts) String() string { return t[EN] }

// GormDataType tells gorm the column holds text (the JSON of Value).
func (Texts) GormDataType() string { return "text" }

// Value stores Texts as a JSON object (NULL when empty).
func (t Texts) Value() (driver.Value, error) {
	return jsoncol.Value(map[string]string(t), len(t) == 0)
}

// Scan reads a JSON object written by Value (NULL or "" read as empty).
func (t *Texts) Scan(src any) error {
	*t = nil
	return jsoncol.Scan(src, (*map[string]string)(t))
}

// Stored is what to show of a stored message: its Texts when it has them,
// else the English it was stored with (translated when it is a catalog key),
// for rows written before the message had translations.
func Stored(texts Texts, english string) Localizer {
	if len(texts) > 0 {
		return texts
	}
	return plain(english)
}

type plain string

func (p plain) Text(lang string) string { return Text(lang, string(p)) }

// Time is an instant written with a Go layout, the day and month names in
// the reader's language (see FormatTime).
type Time struct {
	T      time.Time
	Layout string
}

// Text writes the time in lang.
func (t Time) Text(lang string) string { return FormatTime(lang, t.T, t.Layout) }

// String is the English text.
func (t Time) String() string { return t.T.Format(t.Layout) }

// Join is a list of texts written in the reader's language, separated by
// Sep ("; ", ", ").
type Join struct {
	Parts []any
	Sep   string
}

// Text writes every part in lang.
func (j Join) Text(lang string) string {
	out := make([]string, len(j.Parts))
	for i, p := range j.Parts {
		out[i] = Text(lang, p)
	}
	sep := j.Sep
	if e, ok := Catalogs[lang][sep]; ok && e.Plural == nil {
		sep = e.Text // French writes " ; "
	}
	return strings.Join(out, sep)
}

// String is the English text.
func (j Join) String() string { return j.Text(EN) }

// Parse reads back an English text written from one of formats (a stored
// message kept only in English, e.g. a feed's issue lines, too many to
// store in every language): the first format whose text it is gives the
// message, its %d arguments read as integers, its %f (%e, %g) ones as
// numbers, its %q ones unquoted and every other verb as a string. A text no format writes is a message of its own (translated when
// it is a catalog key); a text no format writes whole, but whose parts
// separated by "; " each are, is the list of those parts.
func Parse(english string, formats []string) Message {
	if m, ok := parseOne(english, formats); ok {
		return m
	}
	if parts := strings.Split(english, "; "); len(parts) > 1 {
		out := make([]any, len(parts))
		for i, p := range parts {
			m, _ := parseOne(p, formats)
			out[i] = m
		}
		return M("%s", Join{Parts: out, Sep: "; "})
	}
	return Message{Format: english}
}

func parseOne(english string, formats []string) (Message, bool) {
	if _, ok := Catalogs[EN][english]; ok {
		return Message{Format: english}, true
	}
	if _, ok := Catalogs[FR][english]; ok {
		return Message{Format: english}, true
	}
	for _, f := range formats {
		re, verbs := parserOf(f)
		if re == nil {
			continue
		}
		m := re.FindStringSubmatch(english)
		if m == nil {
			continue
		}
		args := make([]any, len(verbs))
		for i, v := range verbs {
			args[i] = m[i+1]
			if _, ok := Catalogs[FR][m[i+1]]; ok && v == 's' {
				args[i] = Message{Format: m[i+1]} // a word of the catalog ("paused") reads translated
			}
			switch v {
			case 'd':
				if n, err := strconv.ParseInt(m[i+1], 10, 64); err == nil {
					args[i] = n
				}
			case 'e', 'f', 'g':
				if x, err := strconv.ParseFloat(m[i+1], 64); err == nil {
					args[i] = x
				}
			case 'q':
				// %q wrote the value quoted: read it back unquoted, so
				// that writing the message again quotes it once.
				if u, err := strconv.Unquote(m[i+1]); err == nil {
					args[i] = u
				}
			}
		}
		return Message{Format: f, Args: args}, true
	}
	return Message{Format: english}, false
}

var (
	parsersMu sync.Mutex
	parsers   = map[string]*regexp.Regexp{}
)

// parserOf compiles format into a regular expression matching its English
// text (nil when the format reorders its arguments).
func parserOf(format string) (*regexp.Regexp, []rune) {
	var verbs []rune
	for _, v := range Verbs(format) {
		verbs = append(verbs, v.Verb)
	}
	parsersMu.Lock()
	defer parsersMu.Unlock()
	if re, ok := parsers[format]; ok {
		return re, verbs
	}
	var b strings.Builder
	b.WriteString("^")
	lit := func(s string) { b.WriteString(regexp.QuoteMeta(strings.ReplaceAll(s, "%%", "%"))) }
	rest, ok := format, true
	for ok && rest != "" {
		i := strings.IndexByte(rest, '%')
		if i < 0 {
			lit(rest)
			break
		}
		if i+1 < len(rest) && rest[i+1] == '%' {
			lit(rest[:i+2])
			rest = rest[i+2:]
			continue
		}
		lit(rest[:i])
		j := i + 1
		for j < len(rest) && strings.IndexByte("+-# 0123456789.", rest[j]) >= 0 {
			j++
		}
		if j >= len(rest) || rest[j] == '[' || rest[j] == '*' {
			ok = false
			break
		}
		switch rest[j] {
		case 'd':
			b.WriteString(`(-?\d+)`)
		default:
			b.WriteString(`(.+?)`)
		}
		rest = rest[j+1:]
	}
	b.WriteString("$")
	var re *regexp.Regexp
	if ok {
		re = regexp.MustCompile(b.String())
	}
	parsers[format] = re
	return re, verbs
}
