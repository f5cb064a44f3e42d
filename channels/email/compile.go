package email

import (
	"bytes"
	htmltemplate "html/template"
	"regexp"
	"strings"
	texttemplate "text/template"
)

// edition is what a message's compilation depends on besides its text:
// the campaign's landing page, its product block at the send instant (a
// price changes at a promotion's boundary), and where tracked links go.
type edition struct {
	LandingURL   string // with the campaign's UTM
	ProductsHTML string // Rampe's own HTML, trusted
	ListName     string
	// Track turns the destinations of the body's links into the ids of
	// their tracked links, in order; nil keeps them untracked (a
	// validation compile).
	Track func(dests []string) ([]uint64, error)
	UTM   func(string) string
}

// layout wraps every body: the preheader (hidden, shown by mail clients
// in the inbox list), and the footer with the unsubscribe link, in the
// recipient's language.
const layoutHead = `<!DOCTYPE html><html lang="{{or .__lang "en"}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>` +
	`<body style="margin:0;padding:0;background-color:#f4f4f5"><span style="display:none;max-height:0;overflow:hidden">{{.__preheader}}</span>` +
	`<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">` +
	`<table role="presentation" width="600" cellpadding="24" cellspacing="0" style="max-width:600px;width:100%;background-color:#ffffff;font-family:Arial,Helvetica,sans-serif;line-height:1.5"><tr><td>`

const layoutFoot = `</td></tr></table><p style="font-family:Arial,Helvetica,sans-serif;font-size:12px;color:#666666;padding:12px">` +
	`{{if eq .__lang "fr"}}Vous recevez cet e-mail car vous êtes inscrit(e) à « {{.__list}} ». <a href="{{.__unsubscribe}}">Se désinscrire</a>` +
	`{{else}}You receive this e-mail because you subscribed to “{{.__list}}”. <a href="{{.__unsubscribe}}">Unsubscribe</a>{{end}}</p></td></tr></table></body></html>`

const textFoot = "\n\n--\n{{if eq .__lang \"fr\"}}Se désinscrire : {{.__unsubscribe}}{{else}}Unsubscribe: {{.__unsubscribe}}{{end}}\n"

var fieldRef = regexp.MustCompile(`\.([A-Za-z_][A-Za-z0-9_]*)`)

// compiledMsg is a message compiled for one edition.
type compiledMsg struct {
	compiled
	linkIDs   []uint64
	fields    []string // the personalisation fields the message uses
	edition   edition
	preheader string
}

// compileMessage compiles m for an edition. Its errors are *TemplateError
// or *FieldError, naming the field and, for templates, the line.
func compileMessage(m *Message, ed edition) (*compiledMsg, error) {
	doc, actions, err := bodyHTML(m.Format, m.Body, ed.LandingURL)
	if err != nil {
		return nil, err
	}
	doc = insertProducts(doc, ed.ProductsHTML)
	doc, dests, err := trackLinks(doc)
	if err != nil {
		return nil, &TemplateError{Field: "body", Msg: err.Error()}
	}
	if ed.UTM != nil {
		for i, d := range dests {
			dests[i] = ed.UTM(d)
		}
	}
	out := &compiledMsg{edition: ed, preheader: m.Preheader}
	out.links = dests
	if ed.Track != nil {
		if out.linkIDs, err = ed.Track(dests); err != nil {
			return nil, err
		}
	}
	htmlSrc := layoutHead + restore(doc, actions) + layoutFoot
	textSrc := restore(textOf(doc), actions) + textFoot
	if out.html, err = htmltemplate.New("body").Option("missingkey=zero").Parse(htmlSrc); err != nil {
		return nil, templateError("body", m.Body, err)
	}
	if out.text, err = texttemplate.New("text").Option("missingkey=zero").Parse(textSrc); err != nil {
		return nil, templateError("body", m.Body, err)
	}
	if out.subject, err = texttemplate.New("subject").Option("missingkey=zero").Parse(m.Subject); err != nil {
		return nil, templateError("subject", m.Subject, err)
	}
	seen := map[string]bool{}
	for _, src := range []string{m.Subject, m.Body} {
		for _, a := range fieldPattern.FindAllString(src, -1) {
			for _, f := range fieldRef.FindAllStringSubmatch(a, -1) {
				if !seen[f[1]] && !strings.HasPrefix(f[1], "__") && f[1] != "products" && f[1] != "landing_url" {
					seen[f[1]] = true
					out.fields = append(out.fields, f[1])
				}
			}
		}
	}
	return out, nil
}

var actionIn = regexp.MustCompile(`\{\{[^}]*\}\}`)

func templateError(field, src string, err error) error {
	line, msg := errorLine(err)
	action := actionIn.FindString(msg)
	te := &TemplateError{Field: field, Line: sourceLine(src, action, line), Msg: msg}
	if action != "" {
		te.Problem = describe(msg, action)
	}
	return te
}

// rendered is one recipient's message.
type rendered struct {
	Subject, HTML, Text string
	Missing             []string // fields the template uses that the recipient lacks
}

// render executes the message for one recipient. links are the
// recipient's tracked URLs, in the order of the message's links.
func (c *compiledMsg) render(vars map[string]string, links []string, unsubscribe string) (rendered, error) {
	data := make(map[string]any, len(vars)+8)
	for k, v := range vars {
		data[k] = v
	}
	var r rendered
	for _, f := range c.fields {
		if _, ok := vars[f]; !ok {
			data[f] = ""
			r.Missing = append(r.Missing, f)
		}
	}
	if _, ok := data["locale"]; !ok {
		data["locale"] = ""
	}
	// The footer speaks the recipient's language: fr, fr-FR, fr-CA…
	lang, _, _ := strings.Cut(strings.ToLower(vars["locale"]), "-")
	data["__lang"] = lang
	if len(links) == 0 {
		links = c.links
	}
	data["__links"], data["__unsubscribe"], data["__list"], data["__preheader"] = links, unsubscribe, c.edition.ListName, c.preheader
	var b bytes.Buffer
	if err := c.subject.Execute(&b, data); err != nil {
		return r, &TemplateError{Field: "subject", Msg: err.Error()}
	}
	r.Subject = strings.Join(strings.Fields(b.String()), " ") // no CR, no LF: one header line
	b.Reset()
	if err := c.html.Execute(&b, data); err != nil {
		return r, &TemplateError{Field: "body", Msg: err.Error()}
	}
	r.HTML = b.String()
	b.Reset()
	if err := c.text.Execute(&b, data); err != nil {
		return r, &TemplateError{Field: "body", Msg: err.Error()}
	}
	r.Text = b.String()
	return r, nil
}
