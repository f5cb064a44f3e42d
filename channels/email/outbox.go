// Package email is the e-mailing channel. Its first part is the Outbox:
// when no smtp.url is configured, Rampe runs its own SMTP catch-all on
// 127.0.0.1 that keeps the messages it receives in the database, and the
// UI's Outbox page shows them as a recipient would read them — so a
// laptop or `serve --demo` sends real e-mail, through real SMTP, where a
// newcomer can see it.
package email

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"sort"
	"strings"
	"time"

	"github.com/rampe/rampe/platform/retention"

	"github.com/emersion/go-smtp"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/db"
)

// Migrations of the outbox, messages, sends and their ledger.
var Migrations = append([]db.Migration{
	{ID: "2026120206_outbox", SQL: `CREATE TABLE outbox_messages (id {{id}}, mail_from TEXT NOT NULL, rcpt_to TEXT NOT NULL, subject TEXT NOT NULL,
  raw TEXT NOT NULL, received_at {{ts}} NOT NULL)`},
}, sendMigrations...)

// OutboxMessage is one e-mail the catch-all received.
type OutboxMessage struct {
	ID         uint64 `gorm:"primaryKey"`
	MailFrom   string
	RcptTo     string // comma-separated
	Subject    string
	Raw        string
	ReceivedAt time.Time
}

// TableName of the outbox.
func (OutboxMessage) TableName() string { return "outbox_messages" }

// Limits of the catch-all.
const (
	MaxMessageBytes = 10 << 20
	keepMessages    = 5000
)

// Outbox is the catch-all SMTP server and its store.
type Outbox struct {
	DB  *gorm.DB
	srv *smtp.Server
	ln  net.Listener
}

// Start listens on a free port of 127.0.0.1 until ctx ends; Addr says where.
func (o *Outbox) Start(ctx context.Context) error {
	o.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{o: o}, nil }))
	o.srv.Domain, o.srv.MaxMessageBytes, o.srv.MaxRecipients = "rampe.outbox", MaxMessageBytes, 100
	o.srv.ReadTimeout, o.srv.WriteTimeout = time.Minute, time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("email: outbox: %w", err)
	}
	o.ln = ln
	go o.srv.Serve(ln)
	go func() { <-ctx.Done(); o.srv.Close() }()
	return nil
}

// Port is the catch-all's port on 127.0.0.1.
func (o *Outbox) Port() int { return o.ln.Addr().(*net.TCPAddr).Port }

func (o *Outbox) store(ctx context.Context, m *OutboxMessage) error {
	return o.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(m).Error; err != nil {
			return err
		}
		// The outbox keeps the latest messages only.
		return tx.Where("id <= ?", int64(m.ID)-keepMessages).Delete(&OutboxMessage{}).Error
	})
}

type session struct {
	o    *Outbox
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	// The catch-all stamps mail as an SMTP server would: when it arrived.
	m := &OutboxMessage{MailFrom: s.from, RcptTo: strings.Join(s.to, ", "), Raw: strings.ToValidUTF8(string(raw), "\uFFFD"), ReceivedAt: time.Now().UTC()}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.Subject = decodeHeader(msg.Header.Get("Subject"))
	}
	if err := s.o.store(context.Background(), m); err != nil {
		slog.Error("email: outbox: store a message", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "could not store the message, try again"}
	}
	return nil
}

var wordDecoder = mime.WordDecoder{}

func decodeHeader(v string) string {
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// List returns the latest messages, newest first, after id before (0: from
// the newest), and the total.
func (o *Outbox) List(ctx context.Context, before uint64, limit int) ([]OutboxMessage, int64, error) {
	var total int64
	if err := o.DB.WithContext(ctx).Model(&OutboxMessage{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	q := o.DB.WithContext(ctx).Select("id, mail_from, rcpt_to, subject, received_at").Order("id DESC").Limit(limit)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var out []OutboxMessage
	return out, total, q.Find(&out).Error
}

// Get returns one message.
func (o *Outbox) Get(ctx context.Context, id uint64) (*OutboxMessage, error) {
	return db.Take[OutboxMessage](o.DB.WithContext(ctx), ErrNotFound, id)
}

// Readable is a message as a recipient reads it: its headers and its text.
type Readable struct {
	From, To, Subject, Date string
	Headers                 []string // name: value, in order
	Text                    string   // the text/plain part, decoded
	HTML                    bool     // it has an HTML part too
}

// Read parses a message's MIME structure for display.
func Read(m *OutboxMessage) Readable {
	out := Readable{Subject: m.Subject}
	msg, err := mail.ReadMessage(strings.NewReader(m.Raw))
	if err != nil {
		out.Text = m.Raw
		return out
	}
	out.From, out.To, out.Date = decodeHeader(msg.Header.Get("From")), decodeHeader(msg.Header.Get("To")), msg.Header.Get("Date")
	for k, vs := range msg.Header {
		for _, v := range vs {
			out.Headers = append(out.Headers, k+": "+decodeHeader(v))
		}
	}
	sort.Strings(out.Headers)
	text, html := textPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	out.Text, out.HTML = strings.ReplaceAll(text, "\r\n", "\n"), html
	return out
}

// textPart finds the first text/plain part of a body (nested multiparts
// included) and decodes it.
func textPart(ctype, cte string, body io.Reader, depth int) (text string, hasHTML bool) {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil || ctype == "" {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") && depth < 5 {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return text, hasHTML
			}
			t, h := textPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
			hasHTML = hasHTML || h
			if text == "" {
				text = t
			}
		}
	}
	if mt == "text/html" {
		return "", true
	}
	if mt != "text/plain" {
		return "", false
	}
	var r io.Reader = body
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	}
	b, _ := io.ReadAll(io.LimitReader(r, MaxMessageBytes))
	return strings.ToValidUTF8(string(b), "\uFFFD"), false
}

// newlineStripper drops the line breaks of a base64 body.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, c := range p[:k] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// OutboxRetention prunes the catch-all's old messages.
var OutboxRetention = []retention.Rule{
	{Kind: retention.Events, Table: "outbox_messages", At: "received_at"},
}
