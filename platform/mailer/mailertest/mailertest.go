// Package mailertest runs a real SMTP server (emersion/go-smtp) on
// 127.0.0.1 for tests: it keeps what it receives, and can refuse
// recipients.
package mailertest

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// Mail is one received message.
type Mail struct {
	From string
	To   []string
	Data string
}

// Server is an SMTP server on 127.0.0.1.
type Server struct {
	Addr string
	Port int
	mu   sync.Mutex
	got  []Mail
	// refuse makes RCPT TO answer 550 for addresses containing it.
	refuse string
}

// Refuse makes the server answer 550 to recipients containing part.
func (s *Server) Refuse(part string) {
	s.mu.Lock()
	s.refuse = part
	s.mu.Unlock()
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr, s.Port = ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Mails returns what was received so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.got...)
}

type session struct {
	s    *Server
	mail Mail
}

func (ss *session) Reset()        { ss.mail = Mail{} }
func (ss *session) Logout() error { return nil }
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.mail.From = from
	return nil
}
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	refuse := ss.s.refuse
	ss.s.mu.Unlock()
	if refuse != "" && strings.Contains(to, refuse) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	ss.mail.To = append(ss.mail.To, to)
	return nil
}
func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.mail.Data = string(b)
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, ss.mail)
	ss.s.mu.Unlock()
	return nil
}
