package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/textproto"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"
)

// DefaultRetries are the waits before each new attempt at a recipient the
// server deferred (4xx) or a lost connection did not reach; after the last
// one the recipient fails.
var DefaultRetries = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour}

// DefaultDownWait is how long a send waits before trying again a server
// it could not connect to.
const DefaultDownWait = 30 * time.Second

func (s *Sender) downWait() time.Duration {
	if s.DownWait > 0 {
		return s.DownWait
	}
	return DefaultDownWait
}

func (s *Sender) retries() []time.Duration {
	if s.Retries != nil {
		return s.Retries
	}
	return DefaultRetries
}

// connection is one SMTP connection of a running send: it renders each
// recipient's message, waits for the rate limiter, and sends it. Before a
// message leaves, the outcome of the connection's previous one is
// committed to the ledger: a worker killed at any instant leaves at most
// one message per connection sent but not recorded, which a restart sends
// again. That is the duplicate bound the README promises.
func (s *Sender) connection(ctx context.Context, work <-chan Delivery, ed *editions, rec *recorder, lim *rate.Limiter, down *errorBox) {
	var cl *mail.Client
	var sc *smtp.Client
	defer func() {
		if sc != nil {
			cl.CloseWithSMTPClient(sc)
		}
	}()
	var prev <-chan struct{}
	var buf bytes.Buffer // the message being written, reused
	wait := func() {
		if prev != nil {
			<-prev
		}
	}
	defer wait()
	for d := range work {
		if ctx.Err() != nil {
			return
		}
		if down.get() != nil {
			// The server is unreachable: what is left goes back to the
			// queue untouched (the run unclaims it), for the next run.
			continue
		}
		m, err := s.build(ctx, ed, d)
		if err != nil {
			wait()
			prev = rec.add(&result{d: d, status: DeliveryFailed, answer: "not rendered: " + err.Error()})
			continue
		}
		if lim != nil && lim.Wait(ctx) != nil {
			return
		}
		wait()
		if sc == nil {
			if cl, sc, err = s.dial(ctx); err != nil {
				down.set(err)
				continue
			}
		}
		answer, err := s.transmit(sc, ed.msg.FromAddr, d.Email, m, &buf)
		r := s.classify(d, answer, err)
		if r.broken {
			cl.CloseWithSMTPClient(sc)
			sc = nil
		}
		prev = rec.add(r)
	}
}

// smtpTimeout bounds a dial and each message's exchange (smtp.url's
// timeout; 15 s when unset).
func (s *Sender) smtpTimeout() time.Duration {
	if s.SMTP.Timeout > 0 {
		return s.SMTP.Timeout
	}
	return 15 * time.Second
}

// dial opens one connection to the SMTP server.
func (s *Sender) dial(ctx context.Context) (*mail.Client, *smtp.Client, error) {
	cl, err := s.SMTP.Client()
	if err != nil {
		return nil, nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, s.smtpTimeout())
	defer cancel()
	sc, err := cl.DialToSMTPClientWithContext(dctx)
	if err != nil {
		return nil, nil, err
	}
	return cl, sc, nil
}

// smtpError is a server's refusal at one stage of a transaction.
type smtpError struct {
	stage string // MAIL, RCPT, DATA
	code  int
	msg   string
}

func (e *smtpError) Error() string { return fmt.Sprintf("%s: %d %s", e.stage, e.code, e.msg) }

// transmit sends one message over an open connection: MAIL, RCPT, DATA
// with the message DKIM-signed when a key is configured, then RSET for the
// next one. The signature is go-msgauth's: go-mail v0.8.1's signer folds
// its h= tag inside a header name once the list is long (ours is), and
// the signature no longer verifies (TestGoMailDKIMFoldsInsideHeaderNames
// shows it).
//
// buf holds the message while it is written (and signed); a connection
// reuses its own across messages (nil: a new one).
func (s *Sender) transmit(sc *smtp.Client, from, to string, m *mail.Msg, buf *bytes.Buffer) (string, error) {
	refused := func(stage string, err error) error {
		var te *textproto.Error
		if errors.As(err, &te) {
			return &smtpError{stage: stage, code: te.Code, msg: te.Msg}
		}
		return err
	}
	// go-mail sets the connection's deadline once, at the dial: each
	// message gets the whole timeout, or a connection would break
	// smtp.url's timeout after it opened.
	if err := sc.UpdateDeadline(s.smtpTimeout()); err != nil {
		return "", err
	}
	// go-mail's smtp.Client writes the path as given: RFC 5321 wants it
	// in angle brackets, and strict servers (Mailpit) refuse it bare.
	if err := sc.Mail("<" + from + ">"); err != nil {
		sc.Reset()
		return "", refused("MAIL", err)
	}
	if err := sc.Rcpt("<" + to + ">"); err != nil {
		sc.Reset()
		return "", refused("RCPT", err)
	}
	w, err := sc.Data()
	if err != nil {
		sc.Reset()
		return "", refused("DATA", err)
	}
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	if _, err := m.WriteTo(buf); err != nil {
		w.Close()
		return "", err
	}
	if s.DKIM != nil {
		err = dkim.Sign(w, buf, s.DKIM.options())
	} else {
		_, err = w.Write(buf.Bytes())
	}
	if err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", refused("DATA", err)
	}
	answer := ""
	if dc, ok := w.(*smtp.DataCloser); ok {
		answer = dc.ServerResponse()
	}
	if err := sc.Reset(); err != nil {
		return answer, errSentButBroken{err}
	}
	return answer, nil
}

// errSentButBroken is a message the server accepted on a connection that
// broke right after.
type errSentButBroken struct{ error }

// classify turns a send's outcome into the ledger's: sent with the
// server's answer; a permanent (5xx) refusal fails the recipient, and
// suppresses the address as bounced when the server refused the
// recipient itself; a temporary one (4xx) or a broken connection defers
// it.
func (s *Sender) classify(d Delivery, answer string, err error) *result {
	var broken errSentButBroken
	if err == nil || errors.As(err, &broken) {
		return &result{d: d, status: DeliverySent, answer: answer, broken: err != nil}
	}
	var se *smtpError
	if errors.As(err, &se) && se.code >= 400 {
		if se.code < 500 {
			return s.deferred(d, se.Error())
		}
		return &result{d: d, status: DeliveryFailed, answer: se.Error(), bounce: se.stage == "RCPT"}
	}
	r := s.deferred(d, "connection: "+err.Error())
	r.broken = true
	return r
}

// deferred puts a recipient back for a later attempt, or fails it when
// its attempts are spent.
func (s *Sender) deferred(d Delivery, answer string) *result {
	waits := s.retries()
	if d.Attempts >= len(waits) {
		return &result{d: d, status: DeliveryFailed, answer: fmt.Sprintf("gave up after %d attempts: %s", d.Attempts+1, answer)}
	}
	at := s.now().Add(waits[d.Attempts])
	return &result{d: d, status: DeliveryDeferred, answer: answer, notBefore: &at}
}

// result is one recipient's outcome, waiting to be committed.
type result struct {
	d         Delivery
	status    string
	answer    string
	notBefore *time.Time
	bounce    bool // suppress the address as bounced
	broken    bool // the connection is gone
	done      chan struct{}
}

// recorder commits outcomes to the ledger in groups: whatever arrived
// while the previous commit ran goes in the next one, a single UPDATE.
type recorder struct {
	s       *Sender
	sendID  uint64
	in      chan *result
	stopped chan struct{}
}

func newRecorder(s *Sender, sendID uint64) *recorder {
	return &recorder{s: s, sendID: sendID, in: make(chan *result, 1024), stopped: make(chan struct{})}
}

// add queues an outcome; the channel closes once it is committed.
func (r *recorder) add(res *result) <-chan struct{} {
	res.done = make(chan struct{})
	r.in <- res
	return res.done
}

// close waits for every queued outcome to be committed.
func (r *recorder) close() {
	close(r.in)
	<-r.stopped
}

const maxGroup = 500

func (r *recorder) run(ctx context.Context) {
	defer close(r.stopped)
	ctx = context.WithoutCancel(ctx) // outcomes are recorded even while halting
	for first := range r.in {
		group := []*result{first}
	drain:
		for len(group) < maxGroup {
			select {
			case res, ok := <-r.in:
				if !ok {
					break drain
				}
				group = append(group, res)
			default:
				break drain
			}
		}
		// Nothing is lost: a commit that fails is tried again until the
		// database answers.
		for wait := 100 * time.Millisecond; ; wait = min(2*wait, 10*time.Second) {
			err := r.s.commit(ctx, group)
			if err == nil {
				break
			}
			slog.Error("email: record deliveries; retrying", "send_id", r.sendID, "n", len(group), "err", err)
			time.Sleep(wait)
		}
		for _, res := range group {
			close(res.done)
		}
	}
}
