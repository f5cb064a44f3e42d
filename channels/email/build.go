package email

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/wneessen/go-mail"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/signed"
)

// editions compiles a send's message for the instant, and again when a
// price of its product block changes (a promotion's boundary).
type editions struct {
	s    *Sender
	c    *campaigns.Campaign
	msg  *Message
	send *Send
	list string

	mu      sync.Mutex
	cur     *compiledMsg
	expires time.Time
}

func (s *Sender) newEditions(ctx context.Context, c *campaigns.Campaign, msg *Message, sd *Send) (*editions, error) {
	ed := &editions{s: s, c: c, msg: msg, send: sd}
	if s.Audience != nil {
		ed.list, _ = s.Audience.ListName(ctx, msg.ListID)
	}
	if ed.list == "" {
		ed.list = c.Name
	}
	_, err := ed.current(ctx)
	return ed, err
}

// current is the message compiled for now.
func (e *editions) current(ctx context.Context) (*compiledMsg, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.s.now()
	if e.cur != nil && (e.expires.IsZero() || now.Before(e.expires)) {
		return e.cur, nil
	}
	m := *e.msg
	if e.send != nil && e.send.Subject != "" {
		m.Subject = e.send.Subject
	}
	cm, expires, err := e.s.compileAt(ctx, e.c, &m, e.list, now, true)
	if err != nil {
		return nil, err
	}
	e.cur, e.expires = cm, expires
	return cm, nil
}

// compileAt compiles a campaign's message with its landing page and
// product block as they are at instant at. track makes its links tracked
// links (a preview shows them plain).
func (s *Sender) compileAt(ctx context.Context, c *campaigns.Campaign, m *Message, list string, at time.Time, track bool) (*compiledMsg, time.Time, error) {
	ed := edition{ListName: list}
	var expires time.Time
	if s.Offers != nil {
		off, err := s.Offers.Offer(ctx, c, at)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("the campaign's landing page: %w", err)
		}
		if off != nil {
			ed.LandingURL, ed.ProductsHTML, expires = off.LandingURL, productBlock(off.Products), off.Expires
		}
	}
	utm := landing.UTM{Source: m.UTMSource, Medium: "email", Campaign: m.UTMCampaign}
	if utm.Source == "" {
		utm.Source = "newsletter"
	}
	if utm.Campaign == "" {
		utm.Campaign = slug(c.Name)
	}
	ed.UTM = utm.Applier()
	if track && s.Clicks != nil {
		ed.Track = func(dests []string) ([]uint64, error) { return s.Clicks.Track(ctx, c, dests) }
	}
	cm, err := compileMessage(m, ed)
	return cm, expires, err
}

func slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

var blockTmpl = template.Must(template.New("products").Parse(`<table role="presentation" width="100%" cellpadding="8" cellspacing="0">` +
	`{{range .}}<tr><td width="120">{{if .Image}}<img src="{{.Image}}" alt="{{.Title}}" width="120" style="display:block;max-width:120px">{{end}}</td>` +
	`<td><a href="{{.Link}}" style="color:#111111;font-weight:bold;text-decoration:none">{{.Title}}</a><br>` +
	`{{if .OnSale}}<span style="color:#b91c1c;font-weight:bold">{{.Price}}</span> <s style="color:#666666">{{.Regular}}</s>{{if .Badge}} · {{.Badge}}{{end}}` +
	`{{else}}<span style="font-weight:bold">{{.Price}}</span>{{end}}<br></td></tr>{{end}}</table>`))

// productBlock is the HTML of the products of an offer.
func productBlock(lines []OfferLine) string {
	if len(lines) == 0 {
		return ""
	}
	var b bytes.Buffer
	blockTmpl.Execute(&b, lines)
	return b.String()
}

// build renders a recipient's message and wraps it in its headers.
func (s *Sender) build(ctx context.Context, ed *editions, d Delivery) (*mail.Msg, error) {
	cm, err := ed.current(ctx)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	if d.Vars != "" {
		if err := json.Unmarshal([]byte(d.Vars), &vars); err != nil {
			return nil, fmt.Errorf("recipient fields: %w", err)
		}
	}
	links := make([]string, len(cm.linkIDs))
	for i, id := range cm.linkIDs {
		links[i] = s.BaseURL + "/r/" + s.Clicks.Token(id, d.ContactID)
	}
	token := s.UnsubscribeToken(ed.send.ID, d.ContactID)
	unsub := s.BaseURL + "/u/" + token
	r, err := cm.render(vars, links, unsub)
	if err != nil {
		return nil, err
	}
	return s.envelope(ed.msg, ed.list, ed.send.ID, d, r, unsub, token)
}

// envelope builds the MIME message: text and HTML alternatives, the
// unsubscribe headers of RFC 2369 and RFC 8058, List-Id, a Message-ID
// stable per send and recipient, and a DKIM signature covering them when
// a key is configured.
func (s *Sender) envelope(msg *Message, list string, sendID uint64, d Delivery, r rendered, unsub, token string) (*mail.Msg, error) {
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := m.FromFormat(msg.FromName, msg.FromAddr); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := m.AddToFormat(d.Name, d.Email); err != nil {
		return nil, fmt.Errorf("to %q: %w", d.Email, err)
	}
	if msg.ReplyTo != "" {
		if err := m.ReplyTo(msg.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply_to: %w", err)
		}
	}
	domain := msg.FromAddr[strings.LastIndexByte(msg.FromAddr, '@')+1:]
	m.Subject(r.Subject)
	m.SetMessageIDWithValue(fmt.Sprintf("rampe.s%d.c%d@%s", sendID, d.ContactID, domain))
	m.SetDate()
	mailto := s.UnsubscribeMailto
	if mailto == "" {
		mailto = msg.FromAddr
	}
	m.SetGenHeaderPreformatted("List-Unsubscribe", fmt.Sprintf("<%s>, <mailto:%s?subject=%s>", unsub, mailto, url.PathEscape("unsubscribe "+token)))
	m.SetGenHeaderPreformatted("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	m.SetGenHeader("List-Id", fmt.Sprintf("%s <c%d.%s>", strings.NewReplacer("<", "", ">", "").Replace(list), msg.CampaignID, domain))
	m.SetBulk()
	m.SetBodyString(mail.TypeTextPlain, r.Text)
	m.AddAlternativeString(mail.TypeTextHTML, r.HTML)
	return m, nil
}

// DKIMKey signs messages for a domain (email.dkim_domain,
// email.dkim_selector, email.dkim_key_file).
type DKIMKey struct {
	Domain, Selector string
	Signer           crypto.Signer
}

// SignedHeaders are the headers a signature covers: the list headers
// included, so that no relay can change where an unsubscribe goes.
var SignedHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id",
	"MIME-Version", "Content-Type"}

func (k *DKIMKey) options() *dkim.SignOptions {
	return &dkim.SignOptions{Domain: k.Domain, Selector: k.Selector, Signer: k.Signer, HeaderKeys: SignedHeaders,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed}
}

// LoadDKIMKey reads a PEM private key (RSA or Ed25519, PKCS#1 or PKCS#8).
func LoadDKIMKey(domain, selector string, pemBytes []byte) (*DKIMKey, error) {
	signer, err := mail.PrivKeyFromPEM(pemBytes)
	if err != nil {
		return nil, err
	}
	return &DKIMKey{Domain: strings.ToLower(domain), Selector: selector, Signer: signer}, nil
}

// UnsubscribeToken is the signed token of a recipient's unsubscribe link.
func (s *Sender) UnsubscribeToken(sendID, contactID uint64) string {
	return signed.Token(s.Secret, "rampe-unsubscribe", sendID, contactID)
}

// parseUnsubscribe checks a token's signature and returns what it names.
func (s *Sender) parseUnsubscribe(token string) (sendID, contactID uint64, ok bool) {
	n, ok := signed.Parse(s.Secret, "rampe-unsubscribe", token, 2, 80)
	if !ok {
		return 0, 0, false
	}
	return n[0], n[1], true
}
