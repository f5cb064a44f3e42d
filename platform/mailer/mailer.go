// Package mailer sends e-mail through the SMTP server of smtp.url with
// go-mail: the plumbing that alerts (and the e-mail channel) share.
package mailer

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// Config is a parsed smtp.url: smtp://user:pass@host:587?tls=starttls|tls|none.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string // starttls (mandatory), tls (implicit, port 465) or none
	From     string
	Timeout  time.Duration
}

// ParseURL reads smtp.url. The error names what is wrong.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return Config{}, fmt.Errorf("want smtp://user:pass@host:587?tls=starttls|tls|none")
	}
	c := Config{Host: u.Hostname(), TLS: "starttls", Timeout: 15 * time.Second}
	if t := u.Query().Get("tls"); t != "" {
		c.TLS = strings.ToLower(t)
	}
	switch c.TLS {
	case "starttls":
		c.Port = 587
	case "tls":
		c.Port = 465
	case "none":
		c.Port = 25
	default:
		return Config{}, fmt.Errorf("tls=%q: want starttls, tls or none", c.TLS)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("port %q: want 1 to 65535", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	return c, nil
}

// Message is a plain-text e-mail, with optional attached files.
type Message struct {
	To, Subject, Text string
	Attachments       []Attachment
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// Mailer sends messages through one SMTP server.
type Mailer struct{ cfg Config }

// New returns a mailer for cfg.
func New(cfg Config) *Mailer { return &Mailer{cfg: cfg} }

// From is the sender address of the mailer's messages.
func (m *Mailer) From() string { return m.cfg.From }

// Send delivers messages over one connection. Header values go through
// go-mail, which encodes them: a CR or LF in a subject or an address adds
// no header.
func (m *Mailer) Send(ctx context.Context, msgs ...Message) error {
	out := make([]*mail.Msg, 0, len(msgs))
	for _, in := range msgs {
		msg := mail.NewMsg()
		if err := msg.From(m.cfg.From); err != nil {
			return fmt.Errorf("mailer: from %q: %w", m.cfg.From, err)
		}
		if err := msg.To(in.To); err != nil {
			return fmt.Errorf("mailer: to %q: %w", in.To, err)
		}
		msg.Subject(strings.NewReplacer("\r", " ", "\n", " ").Replace(in.Subject))
		msg.SetBodyString(mail.TypeTextPlain, in.Text)
		for _, a := range in.Attachments {
			var opts []mail.FileOption
			if a.ContentType != "" {
				opts = append(opts, mail.WithFileContentType(mail.ContentType(a.ContentType)))
			}
			if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), opts...); err != nil {
				return fmt.Errorf("mailer: attach %s: %w", a.Name, err)
			}
		}
		out = append(out, msg)
	}
	c, err := m.cfg.Client()
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, out...); err != nil {
		return fmt.Errorf("mailer: send through %s:%d: %w", m.cfg.Host, m.cfg.Port, err)
	}
	return nil
}

// Client is a go-mail client for the server of c, not connected yet.
func (c Config) Client() (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(c.Port), mail.WithTimeout(c.Timeout)}
	switch c.TLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	cl, err := mail.NewClient(c.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mailer: %w", err)
	}
	return cl, nil
}
