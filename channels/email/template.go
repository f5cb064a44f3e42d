package email

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"

	"github.com/k3a/html2text"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// A message body is written in Markdown or HTML with personalisation
// fields ({{.first_name}}, {{or .name "client"}}), the product block
// ({{.products}}) and the campaign's links ({{.landing_url}}). It is
// compiled once per send edition into an html/template (escaping every
// field in its context) and a text/template for the text part; every
// absolute link of the body becomes a tracked link whose token names the
// recipient, so executing a compiled message per recipient is only
// template execution: no HTML parsing per recipient.

// Limits of a message.
const (
	MaxBodyBytes    = 512 << 10 // the source a marketer writes
	GmailClipBytes  = 102 << 10 // Gmail clips HTML bodies above this
	MaxSubjectChars = 200
)

// fieldPattern finds template actions in a body: protected from the
// Markdown renderer and the sanitiser, which would escape their quotes.
var fieldPattern = regexp.MustCompile(`\{\{.*?\}\}`)

// bodySanitizer keeps what e-mail HTML needs (tables, inline styles,
// images) and nothing that runs: no script, no event handler, no form, no
// javascript: URL.
var bodySanitizer = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowAttrs("style").Globally()
	p.AllowStyles("color", "background-color", "font-size", "font-weight", "font-family", "text-align", "padding", "margin",
		"border", "width", "max-width", "line-height", "text-decoration", "display").Globally()
	p.AllowAttrs("align", "valign", "width", "height", "bgcolor", "cellpadding", "cellspacing", "border").OnElements("table", "td", "th", "tr", "img")
	p.AllowElements("center", "font")
	return p
}()

// TemplateError is a body or subject that does not compile; Line is the
// line of the source it names, when known. Msg is the parser's English
// (the API's and the logs'); Problem says what is wrong in words a
// marketer reads, in every language.
type TemplateError struct {
	Field   string
	Line    int
	Msg     string
	Problem i18n.Message
}

func (e *TemplateError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %s", e.Field, e.Line, e.Msg)
	}
	return e.Field + ": " + e.Msg
}

// Text writes the line and what is wrong in lang, without the field (a
// form shows it beside the field).
func (e *TemplateError) Text(lang string) string {
	p := e.Problem
	if p.Format == "" {
		p = i18n.Message{Format: e.Msg}
	}
	if e.Line > 0 {
		return i18n.T(lang, "line %d: %s", e.Line, p)
	}
	return p.Text(lang)
}

// FieldError is the error as a form's field error.
func (e *TemplateError) FieldError() validation.FieldError {
	fe := validation.FieldError{Field: e.Field, Msg: strings.TrimPrefix(e.Error(), e.Field+": ")}
	if e.Line > 0 {
		fe.Message = i18n.M("line %d: %s", e.Line, e.problem())
	} else {
		fe.Message = i18n.M("%s", e.problem())
	}
	return fe
}

func (e *TemplateError) problem() i18n.Message {
	if e.Problem.Format == "" {
		return i18n.Message{Format: e.Msg}
	}
	return e.Problem
}

var notDefined = regexp.MustCompile(`function "([^"]*)" not defined`)

// describe says in a marketer's words what the parser found wrong with
// action (its English message parserMsg).
func describe(parserMsg, action string) i18n.Message {
	switch {
	case strings.Contains(parserMsg, "bad character U+007D '}'"), strings.Contains(parserMsg, "unclosed action"):
		return i18n.M("unclosed {{ … }}: %s", unclosedPart(action))
	case strings.Contains(parserMsg, "unterminated quoted string"):
		return i18n.M("unclosed quote in %s", action)
	case notDefined.MatchString(parserMsg):
		return i18n.M("unknown function %s in %s", notDefined.FindStringSubmatch(parserMsg)[1], action)
	case strings.Contains(parserMsg, "unexpected EOF"), strings.Contains(parserMsg, "unexpected {{"),
		strings.Contains(parserMsg, "missing value for command"):
		return i18n.M("%s is not a field: write {{.first_name}} or {{or .first_name \"client\"}}", action)
	}
	return i18n.M("%s cannot be read (%s)", action, parserMsg)
}

// unclosedPart is the start of an action left open: up to its lone "}",
// or its first 40 characters.
func unclosedPart(action string) string {
	if i := strings.IndexByte(action[2:], '}'); i >= 0 {
		return action[:i+3]
	}
	if r := []rune(action); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return action
}

// compiled is a message ready to be executed per recipient.
type compiled struct {
	subject *texttemplate.Template
	html    *htmltemplate.Template
	text    *texttemplate.Template
	links   []string // destinations of the tracked links, by index
}

// protect replaces each template action with a placeholder of letters and
// digits, which Markdown and the sanitiser leave alone. The landing page's
// address is known when the message compiles: it is written in, so that
// its links are tracked like any other.
func protect(src, landingURL string) (string, []string) {
	var actions []string
	out := fieldPattern.ReplaceAllStringFunc(src, func(a string) string {
		switch strings.Join(strings.Fields(a), "") {
		case "{{.landing_url}}":
			return landingURL
		case "{{.products}}":
			return productsMark
		}
		actions = append(actions, a)
		return "RAMPEACTION" + strconv.Itoa(len(actions)-1) + "X"
	})
	return out, actions
}

// productsMark stands for the product block until the body is sanitised:
// the block is Rampe's own HTML, written in after.
const productsMark = "RAMPEPRODUCTSX"

func insertProducts(doc, block string) string {
	doc = strings.ReplaceAll(doc, "<p>"+productsMark+"</p>", block)
	return strings.ReplaceAll(doc, productsMark, block)
}

var placeholder = regexp.MustCompile(`RAMPE(ACTION|LINK)(\d+)X`)

// restore puts actions back, and turns link placeholders into the
// recipient's tracked link.
func restore(s string, actions []string) string {
	return placeholder.ReplaceAllStringFunc(s, func(p string) string {
		m := placeholder.FindStringSubmatch(p)
		n, _ := strconv.Atoi(m[2])
		if m[1] == "LINK" {
			return "{{index .__links " + m[2] + "}}"
		}
		if n < len(actions) {
			return actions[n]
		}
		return ""
	})
}

// sourceLine maps an error's line in the compiled HTML back to the
// source as well as it can: the template error names a line of the
// compiled text, which Markdown may have shifted; the action it names is
// looked up in the source.
func sourceLine(src, action string, fallback int) int {
	if action != "" {
		if i := strings.Index(src, action); i >= 0 {
			return strings.Count(src[:i], "\n") + 1
		}
	}
	return fallback
}

var tmplLine = regexp.MustCompile(`:(\d+): (.*)$`)

// checkActions parses each action alone, so that an error names the line
// of the source where the marketer wrote it.
func checkActions(field, src string) error {
	for _, loc := range fieldPattern.FindAllStringIndex(src, -1) {
		a := src[loc[0]:loc[1]]
		if _, err := texttemplate.New("").Funcs(texttemplate.FuncMap{}).Parse(a); err != nil {
			msg := err.Error()
			if m := tmplLine.FindStringSubmatch(msg); m != nil {
				msg = m[2]
			}
			return &TemplateError{Field: field, Line: strings.Count(src[:loc[0]], "\n") + 1, Msg: fmt.Sprintf("%s in %s", msg, a), Problem: describe(msg, a)}
		}
	}
	if i := strings.Index(src, "{{"); i >= 0 && !strings.Contains(src[i:], "}}") {
		return &TemplateError{Field: field, Line: strings.Count(src[:i], "\n") + 1, Msg: "a {{ is never closed by }}",
			Problem: i18n.M("unclosed {{ … }}: %s", unclosedPart(strings.SplitN(src[i:], "\n", 2)[0]))}
	}
	return nil
}

// bodyHTML turns a source into sanitised HTML with its actions protected.
func bodyHTML(format, src, landingURL string) (string, []string, error) {
	if err := checkActions("body", src); err != nil {
		return "", nil, err
	}
	prot, actions := protect(src, landingURL)
	if format == FormatMarkdown {
		var buf bytes.Buffer
		if err := goldmark.Convert([]byte(prot), &buf); err != nil {
			return "", nil, &TemplateError{Field: "body", Msg: "markdown: " + err.Error()}
		}
		prot = buf.String()
	}
	return bodySanitizer.Sanitize(prot), actions, nil
}

// trackLinks replaces the href of every absolute http(s) link with a link
// placeholder, returning the destinations in order. The document is
// re-serialised by x/net/html.
func trackLinks(doc string) (string, []string, error) {
	nodes, err := html.ParseFragment(strings.NewReader(doc), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return "", nil, err
	}
	var links []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			for i, a := range n.Attr {
				// A link whose address holds a personal field is left as
				// it is: its destination differs per recipient.
				if a.Key == "href" && (strings.HasPrefix(a.Val, "https://") || strings.HasPrefix(a.Val, "http://")) && !strings.Contains(a.Val, "RAMPEACTION") {
					n.Attr[i].Val = "RAMPELINK" + strconv.Itoa(len(links)) + "X"
					links = append(links, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	var out bytes.Buffer
	for _, n := range nodes {
		walk(n)
		if err := html.Render(&out, n); err != nil {
			return "", nil, err
		}
	}
	return out.String(), links, nil
}

// textOf is the text part of an HTML body: html2text, links written out.
func textOf(doc string) string {
	t := html2text.HTML2TextWithOptions(doc, html2text.WithLinksInnerText(), html2text.WithUnixLineBreaks())
	lines := strings.Split(t, "\n")
	out := make([]string, 0, len(lines))
	blank := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			if blank++; blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// errorLine reads the line number out of a template error.
func errorLine(err error) (int, string) {
	if m := tmplLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, err.Error()
}
