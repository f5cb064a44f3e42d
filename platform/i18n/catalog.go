package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

//go:embed locales
var localeFS embed.FS

// Entry is one catalog translation: a format, or plural forms.
type Entry struct {
	Text   string
	Plural map[string]string // "one", "other" (and "zero", "few", "many" where a language has them)
}

// UnmarshalJSON reads a string or a plural object.
func (e *Entry) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &e.Text); err == nil {
		return nil
	}
	if err := json.Unmarshal(b, &e.Plural); err != nil {
		return fmt.Errorf("want a string or {\"one\": …, \"other\": …}")
	}
	if e.Plural["other"] == "" {
		return fmt.Errorf("a plural entry needs \"other\"")
	}
	for k := range e.Plural {
		if !slices.Contains(pluralForms, k) {
			return fmt.Errorf("unknown plural form %q (want one of %s)", k, strings.Join(pluralForms, ", "))
		}
	}
	return nil
}

var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// Catalogs are the translations by language, read from locales/LANG/*.json.
var Catalogs map[string]map[string]Entry

func init() {
	var err error
	Catalogs, err = readCatalogs(localeFS)
	if err == nil {
		printers, err = buildPrinters(Catalogs)
	}
	if err != nil {
		panic(err) // the catalogs are embedded: a broken one is caught by any test
	}
}

// readCatalogs reads every locales/LANG/AREA.json; a key in two areas of one
// language is an error (one would silently win).
func readCatalogs(fsys fs.FS) (map[string]map[string]Entry, error) {
	out := map[string]map[string]Entry{}
	where := map[string]string{}
	files, _ := fs.Glob(fsys, "locales/*/*.json")
	for _, name := range files {
		lang := path.Base(path.Dir(name))
		if !Supported(lang) {
			return nil, fmt.Errorf("i18n: %s: unknown language %q", name, lang)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var area map[string]Entry
		if err := json.Unmarshal(b, &area); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		if out[lang] == nil {
			out[lang] = map[string]Entry{}
		}
		for k, e := range area {
			if prev, dup := where[lang+"\x00"+k]; dup {
				return nil, fmt.Errorf("i18n: %s and %s both translate %q", prev, name, k)
			}
			where[lang+"\x00"+k] = name
			out[lang][k] = e
		}
	}
	return out, nil
}

func buildPrinters(cats map[string]map[string]Entry) (map[string]*message.Printer, error) {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for lang, entries := range cats {
		tag := tags[lang]
		for key, e := range entries {
			k := normalize(key)
			if e.Plural == nil {
				if err := b.SetString(tag, k, normalize(e.Text)); err != nil {
					return nil, fmt.Errorf("i18n: %s %q: %w", lang, key, err)
				}
				continue
			}
			arg := pluralArg(key)
			if arg == 0 {
				return nil, fmt.Errorf("i18n: %s %q: a plural entry needs an integer verb (%%d) in its key", lang, key)
			}
			var cases []any
			for _, form := range pluralForms {
				if s, ok := e.Plural[form]; ok {
					// A form that leaves out an argument ("une campagne")
					// reads the others by index, so the printer does not
					// complain of an extra argument.
					cases = append(cases, form, explicitIndexes(normalize(s)))
				}
			}
			if err := b.Set(tag, k, plural.Selectf(arg, "%d", cases...)); err != nil {
				return nil, fmt.Errorf("i18n: %s %q: %w", lang, key, err)
			}
		}
	}
	out := map[string]*message.Printer{}
	for lang, tag := range tags {
		out[lang] = message.NewPrinter(tag, message.Catalog(b))
	}
	return out, nil
}

// Verb is one formatting directive of a format: the argument it reads
// (1-based) and its verb letter.
type Verb struct {
	Arg  int
	Verb rune
}

// explicitIndexes writes every verb of format with its argument index
// ("%s: %d" → "%[1]s: %[2]d").
func explicitIndexes(format string) string {
	var b strings.Builder
	arg := 1
	for i := 0; i < len(format); i++ {
		b.WriteByte(format[i])
		if format[i] != '%' {
			continue
		}
		for i++; i < len(format); i++ {
			c := format[i]
			switch {
			case c == '%' && format[i-1] == '%':
				b.WriteByte(c)
				goto next
			case c == '[':
				end := strings.IndexByte(format[i:], ']')
				if end < 0 {
					b.WriteString(format[i:])
					return b.String()
				}
				fmt.Sscanf(format[i+1:i+end], "%d", &arg)
				b.WriteString(format[i : i+end+1])
				i += end
			case c == '*':
				b.WriteByte(c)
				arg++
			case strings.IndexByte("+-# 0123456789.", c) >= 0:
				b.WriteByte(c)
			default:
				if format[i-1] != ']' {
					fmt.Fprintf(&b, "[%d]", arg)
				}
				b.WriteByte(c)
				arg++
				goto next
			}
		}
	next:
	}
	return b.String()
}

// Verbs lists a format's directives with the argument each one reads,
// following fmt's rules for explicit indexes (%[2]s) and * widths.
func Verbs(format string) []Verb {
	var out []Verb
	arg := 1
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for ; i < len(format); i++ {
			c := format[i]
			switch {
			case c == '%' && i > 0 && format[i-1] == '%':
				goto next
			case c == '[':
				end := strings.IndexByte(format[i:], ']')
				if end < 0 {
					return out
				}
				fmt.Sscanf(format[i+1:i+end], "%d", &arg)
				i += end
			case c == '*':
				arg++
			case strings.IndexByte("+-# 0123456789.", c) >= 0:
			default:
				out = append(out, Verb{Arg: arg, Verb: rune(c)})
				arg++
				goto next
			}
		}
	next:
	}
	return out
}

// pluralArg is the argument a plural entry is chosen on: the first integer
// verb of its key (0 when none).
func pluralArg(key string) int {
	for _, v := range Verbs(key) {
		if v.Verb == 'd' {
			return v.Arg
		}
	}
	return 0
}
