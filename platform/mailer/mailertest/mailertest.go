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
	// deferOnce makes RCPT TO answer 451 the first time for addresses
	// containing it.
	deferOnce string
	deferred  map[string]bool
	srv       *smtp.Server
	ln        net.Listener
}

// DeferOnce makes the server answer 451 the first time it sees a
// recipient containing part.
func (s *Server) DeferOnce(part string) {
	s.mu.Lock()
	s.deferOnce, s.deferred = part, map[string]bool{}
	s.mu.Unlock()
}

// Stop closes the server: its port refuses connections until Restart.
// The listener is closed directly too: go-smtp's Close only closes the
// listeners Serve has registered, and Serve may not have started yet.
func (s *Server) Stop() {
	s.ln.Close()
	s.srv.Close()
}

// Restart serves again on the same port.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	s.serve(ln)
	t.Cleanup(func() { s.srv.Close() })
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	s.srv, s.ln = srv, ln
	go srv.Serve(ln)
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr, s.Port = ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
	s.serve(ln)
	t.Cleanup(func() { s.srv.Close() })
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
	deferNow := ss.s.deferOnce != "" && strings.Contains(to, ss.s.deferOnce) && !ss.s.deferred[to]
	if deferNow {
		ss.s.deferred[to] = true
	}
	ss.s.mu.Unlock()
	if deferNow {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
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
