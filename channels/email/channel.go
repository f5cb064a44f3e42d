package email

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
)

// Channel is the e-mail channel: at launch its campaign's sends go (the
// first at go-live, the others at their instant); halt pauses them (or
// stops them for good when the campaign ends or is cancelled); resume
// goes on without mailing anyone twice.
type Channel struct {
	Sender *Sender
	// LinkHosts are the hosts a message may link to besides Rampe's own
	// (public.base_url) and the shop's product pages (email.link_hosts).
	LinkHosts []string

	mu     sync.Mutex
	probed time.Time
	probe  error
}

// Name of the channel.
func (*Channel) Name() campaigns.Channel { return campaigns.Email }

// Launch starts the campaign's sends.
func (ch *Channel) Launch(ctx context.Context, c *campaigns.Campaign) (string, error) {
	return ch.Sender.Launch(ctx, c)
}

// Halt pauses or stops the campaign's sends.
func (ch *Channel) Halt(ctx context.Context, c *campaigns.Campaign, reason string) (string, error) {
	return ch.Sender.Halt(ctx, c, reason)
}

// Resume goes on with the campaign's sends.
func (ch *Channel) Resume(ctx context.Context, c *campaigns.Campaign) (string, error) {
	return ch.Sender.Resume(ctx, c)
}

// RegisterGates adds email.audience, email.message and email.sender.
func (ch *Channel) RegisterGates(reg *campaigns.Registry) {
	on := []campaigns.Channel{campaigns.Email}
	reg.Register(campaigns.GateFunc{GateName: "email.audience", ForChannels: on, Fn: ch.audienceGate})
	reg.Register(campaigns.GateFunc{GateName: "email.message", ForChannels: on, Fn: ch.messageGate})
	reg.Register(campaigns.GateFunc{GateName: "email.sender", ForChannels: on, Fn: ch.senderGate})
}

func pending(err error) campaigns.Result {
	return campaigns.Answer(campaigns.Pending, i18n.M("could not tell: %s", err), nil)
}

// message reads the campaign's message for a gate; without one, the
// result says what to do.
func (ch *Channel) message(ctx context.Context, c *campaigns.Campaign) (*Message, campaigns.Result) {
	m, err := ch.Sender.Messages.Get(ctx, c.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, campaigns.Answer(campaigns.Fail, i18n.M("the campaign has no e-mail message: write one (sender, subject, body, list) on the campaign's E-mail page"), nil)
	}
	if err != nil {
		return nil, pending(err)
	}
	return m, campaigns.Result{}
}

// excludedFormats write a count of contacts left out by their status, the
// word agreeing with the count ("1 rejeté", "200 rejetés").
var excludedFormats = map[string]string{
	"pending": i18n.Key("%d pending"), "unsubscribed": i18n.Key("%d unsubscribed"), "bounced": i18n.Key("%d bounced"),
	"complained": i18n.Key("%d complained"), "suppressed": i18n.Key("%d suppressed"),
}

// audienceGate: mailable recipients after suppression, and who is left out.
func (ch *Channel) audienceGate(ctx context.Context, c *campaigns.Campaign, _ time.Time) campaigns.Result {
	m, res := ch.message(ctx, c)
	if m == nil {
		return res
	}
	n, err := ch.Sender.Audience.Count(ctx, m.ListID, m.SegmentID)
	if err != nil {
		return pending(err)
	}
	measured := map[string]any{"mailable": n.Mailable}
	var out []any
	keys := make([]string, 0, len(n.Excluded))
	for k := range n.Excluded {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if n.Excluded[k] > 0 {
			format, ok := excludedFormats[k]
			if !ok {
				format = "%d " + k // a status of no known wording
			}
			out = append(out, i18n.M(format, n.Excluded[k]))
			measured["excluded_"+k] = n.Excluded[k]
		}
	}
	var left any = ""
	if len(out) > 0 {
		left = i18n.M("; left out: %s", i18n.Join{Parts: out, Sep: ", "})
	}
	if n.Mailable == 0 {
		return campaigns.Answer(campaigns.Fail, i18n.M("no mailable recipient in the chosen list and segment%s", left), measured)
	}
	return campaigns.Answer(campaigns.Pass, i18n.M("%d mailable recipients%s", n.Mailable, left), measured)
}

// sampleSize is how many contacts the message gate renders the message for.
const sampleSize = 20

// messageGate renders the message for sample contacts as it will be at
// the campaign's start: it must compile, stay under Gmail's clipping
// size, link the landing page and only allowed hosts, and carry its
// unsubscribe link. Fields a sample lacks are a warning.
func (ch *Channel) messageGate(ctx context.Context, c *campaigns.Campaign, now time.Time) campaigns.Result {
	s := ch.Sender
	m, res := ch.message(ctx, c)
	if m == nil {
		return res
	}
	at := c.StartsAt
	if now.After(at) {
		at = now
	}
	cm, _, err := s.compileAt(ctx, c, m, "list", at, false)
	if err != nil {
		return campaigns.Answer(campaigns.Fail, i18n.M("the message does not compile: %s", err), nil)
	}
	sample, err := s.Audience.Mailable(ctx, m.ListID, m.SegmentID, 0, sampleSize)
	if err != nil {
		return pending(err)
	}
	if len(sample) == 0 {
		sample = []Recipient{{Email: "sample@example.com", Vars: map[string]string{"email": "sample@example.com"}}}
	}
	missing := map[string]int{}
	size := 0
	for _, r := range sample {
		out, err := cm.render(r.Vars, nil, s.BaseURL+"/u/sample")
		if err != nil {
			return campaigns.Answer(campaigns.Fail, i18n.M("the message does not render for %s: %s", mask(r.Email), err), nil)
		}
		size = max(size, len(out.HTML))
		for _, f := range out.Missing {
			missing[f]++
		}
		if !strings.Contains(out.HTML, s.BaseURL+"/u/sample") {
			return campaigns.Answer(campaigns.Fail, i18n.M("the message has no unsubscribe link"), nil)
		}
	}
	measured := map[string]any{"html_bytes": size, "links": len(cm.links)}
	if size > GmailClipBytes {
		return campaigns.Answer(campaigns.Fail, i18n.M("the HTML is %d KB: Gmail clips messages above %d KB; shorten the body or the product block", size>>10, GmailClipBytes>>10), measured)
	}
	if msg, bad := ch.checkLinks(cm, c); bad {
		return campaigns.Answer(campaigns.Fail, msg, measured)
	}
	if len(missing) > 0 {
		var parts []string
		for f, n := range missing {
			parts = append(parts, fmt.Sprintf("%s (%d of %d)", f, n, len(sample)))
		}
		sort.Strings(parts)
		return campaigns.Answer(campaigns.Warn, i18n.M(`sample contacts lack fields the message uses, which will read empty: %s; give a default with {{or .field "…"}}`, strings.Join(parts, ", ")), measured)
	}
	return campaigns.Answer(campaigns.Pass, i18n.M("renders for %d sample contacts, %d KB of HTML, %d links, unsubscribe link present", len(sample), (size+1023)>>10, len(cm.links)), measured)
}

// checkLinks says what is wrong with a message's links, or "".
func (ch *Channel) checkLinks(cm *compiledMsg, c *campaigns.Campaign) (i18n.Message, bool) {
	s := ch.Sender
	allowed := map[string]bool{}
	if u, err := url.Parse(s.BaseURL); err == nil {
		allowed[u.Host] = true
	}
	for _, h := range ch.LinkHosts {
		allowed[strings.ToLower(h)] = true
	}
	for _, l := range productLinks(cm.edition.ProductsHTML) {
		if u, err := url.Parse(l); err == nil {
			allowed[u.Host] = true
		}
	}
	landingLinked := cm.edition.LandingURL == ""
	for _, l := range cm.links {
		u, err := url.Parse(l)
		if err != nil || !allowed[strings.ToLower(u.Host)] {
			return i18n.M("the message links to %s, which is not an allowed host (Rampe's, the products', or email.link_hosts)", l), true
		}
		if cm.edition.LandingURL != "" && strings.HasPrefix(l, cm.edition.LandingURL) {
			landingLinked = true
		}
	}
	if !landingLinked {
		return i18n.M("the message does not link the campaign's landing page %s: add a link to {{.landing_url}}", cm.edition.LandingURL), true
	}
	if c.LandingPageID == nil {
		return i18n.M("the campaign has no landing page for the message to link"), true
	}
	return i18n.Message{}, false
}

func productLinks(block string) []string {
	var out []string
	for _, part := range strings.Split(block, `href="`)[1:] {
		if i := strings.IndexByte(part, '"'); i > 0 {
			out = append(out, strings.ReplaceAll(part[:i], "&amp;", "&"))
		}
	}
	return out
}

// senderGate: the SMTP server answers (EHLO, and AUTH when configured)
// within a few seconds; a DKIM key for the From domain is configured,
// or a warning. The probe is kept 30 s: a publish re-checks many
// campaigns at once.
func (ch *Channel) senderGate(ctx context.Context, c *campaigns.Campaign, _ time.Time) campaigns.Result {
	s := ch.Sender
	m, res := ch.message(ctx, c)
	if m == nil {
		return res
	}
	ch.mu.Lock()
	if time.Since(ch.probed) > 30*time.Second {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cl, sc, err := s.dial(pctx)
		cancel()
		if err == nil {
			cl.CloseWithSMTPClient(sc)
		}
		ch.probe, ch.probed = err, time.Now()
	}
	probe := ch.probe
	ch.mu.Unlock()
	where := fmt.Sprintf("%s:%d", s.SMTP.Host, s.SMTP.Port)
	if probe != nil {
		return campaigns.Answer(campaigns.Fail, i18n.M("the SMTP server %s does not answer: %s; check smtp.url", where, probe), nil)
	}
	domain := strings.ToLower(m.FromAddr[strings.LastIndexByte(m.FromAddr, '@')+1:])
	if s.DKIM == nil || !strings.EqualFold(s.DKIM.Domain, domain) {
		return campaigns.Answer(campaigns.Warn, i18n.M("the SMTP server %s answers, but no DKIM key signs for %s: set email.dkim_domain, email.dkim_selector and email.dkim_key_file, or mailbox providers may file the messages as spam", where, domain), nil)
	}
	return campaigns.Answer(campaigns.Pass, i18n.M("the SMTP server %s answers; messages are DKIM-signed for %s (selector %s)", where, domain, s.DKIM.Selector), nil)
}
