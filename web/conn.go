package web

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Serve runs app on ln. With fast (http.fast_landing, the default), its
// TCP connections do two things for the landing pages' traffic (perf
// under wrk, 12 KB page):
//   - a page's headers and body leave in one writev, where fasthttp would
//     first copy the body into its write buffer (a memmove of the whole
//     page per request, 4 % of Rampe's CPU);
//   - a deadline moves only when it must: fasthttp sets the read deadline
//     twice and the write deadline once per request, each a runtime timer
//     update (with Rampe's timeouts, a bare fasthttp server served about
//     9 % fewer requests/s than without, medians of four wrk rounds).
//
// This leans on how fasthttp (provenFasthttp, checked by
// TestFastPathIsProvenOnThisFasthttp) writes a response; none of it is its
// documented API:
//  1. a body stream with a known size (SetBodyStream) makes fasthttp write
//     the header block into its bufio.Writer and, for a stream over its
//     buffer's free space, flush it with one conn.Write whose bytes end
//     with exactly Header.Header()'s bytes — Write recognises them and
//     sends the body along (writev);
//  2. otherwise it calls the stream's WriteTo with that bufio.Writer
//     (io.Copy's WriterTo path), which pageBody uses to flush then send;
//  3. it calls the stream's Close when the response is done or dropped;
//  4. the net.Conn fasthttp serves is the one the listener's Accept
//     returned (ctx.Conn()), so setPageBody finds it;
//  5. deadlines are set through SetReadDeadline/SetWriteDeadline on that
//     conn, with the server's timeouts, per request.
//
// TestFastPathSendsAPageInOneWritev fails when a page no longer leaves in
// one writev on a real connection; fast=false (or an unknown conn) falls
// back to fasthttp's own writing.
func Serve(app *fiber.App, ln net.Listener, fast bool) error {
	if !fast {
		return app.Listener(ln)
	}
	return app.Listener(listener{ln})
}

// provenFasthttp is the fasthttp version the fast path was proven on
// (TestFastPathSendsAPageInOneWritev, bench/landing). Upgrading fasthttp
// means running both again, then changing this.
const provenFasthttp = "v1.51.0"

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		pc := &conn{TCPConn: tc}
		pc.stream.c = pc
		return pc, nil
	}
	return c, err
}

// deadlineSlack is how much earlier than asked a deadline may fire: a
// deadline is left where it is when the new one is later by less. With the
// read and idle timeouts equal, that is one timer update per second and
// direction on a busy connection instead of three per request.
const deadlineSlack = time.Second

// conn is a TCP connection of the web server. Everything not written here
// (ReadFrom's sendfile for feed files, Read, Close) is the TCP
// connection's own.
type conn struct {
	*net.TCPConn
	read, write time.Time // deadlines in force

	// A page body waiting for its headers: it leaves with the Write whose
	// bytes end with exactly them. rawPage says a page went through
	// fasthttp's buffer since the last Write (a HEAD, say): its header
	// block may be byte for byte the one awaited, so no Write may be taken
	// for it until the buffer has been written out.
	body    []byte
	header  []byte
	rawPage bool
	bufs    net.Buffers // bufs and vec: the writev without an allocation
	vec     [2][]byte
	stream  pageBody
	// Writes of each kind so far, for the test that proves a page leaves
	// in one writev.
	writes, writevs atomic.Int64
}

func (c *conn) SetReadDeadline(t time.Time) error {
	if keep(c.read, t) {
		return nil
	}
	c.read = t
	return c.TCPConn.SetReadDeadline(t)
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	if keep(c.write, t) {
		return nil
	}
	c.write = t
	return c.TCPConn.SetWriteDeadline(t)
}

func (c *conn) SetDeadline(t time.Time) error {
	c.read, c.write = t, t
	return c.TCPConn.SetDeadline(t)
}

// keep tells whether the deadline in force may stand for the one asked
// for: both set, and the new one later by less than deadlineSlack. A
// deadline that comes earlier, or is cleared, is always applied.
func keep(cur, next time.Time) bool {
	if cur.IsZero() || next.IsZero() {
		return false
	}
	d := next.Sub(cur)
	return d >= 0 && d < deadlineSlack
}

func (c *conn) Write(p []byte) (int, error) {
	attach := c.body != nil && !c.rawPage && bytes.HasSuffix(p, c.header)
	c.rawPage = false // whatever the buffer held is on its way
	if !attach {
		c.writes.Add(1)
		return c.TCPConn.Write(p)
	}
	c.vec = [2][]byte{p, c.body}
	c.bufs, c.body = c.vec[:], nil
	c.writevs.Add(1)
	n, err := c.bufs.WriteTo(c.TCPConn)
	c.vec, c.bufs = [2][]byte{}, nil // keep no reference to the page
	if n < int64(len(p)) {
		return int(n), err
	}
	return len(p), err
}

// pageBody is the body stream of a page sent by writev. The body leaves
// with the headers when fasthttp flushes them (it does before a stream of
// over 8 KiB); WriteTo flushes them itself otherwise, or, when the flush
// could not take the body along, writes it on its own. Close, called when
// fasthttp is done with the response or drops it, forgets a body not sent.
type pageBody struct {
	c    *conn
	size int
}

func (b *pageBody) WriteTo(w io.Writer) (int64, error) {
	if b.c.body == nil {
		return int64(b.size), nil // it left with the headers
	}
	if bw, ok := w.(*bufio.Writer); ok && bw.Buffered() > 0 {
		if err := bw.Flush(); err != nil {
			return 0, err
		}
		if b.c.body == nil {
			return int64(b.size), nil
		}
	}
	body := b.c.body
	b.c.body = nil
	n, err := w.Write(body)
	return int64(n), err
}

// Read serves whoever reads the stream instead of sending it.
func (b *pageBody) Read(p []byte) (int, error) {
	if len(b.c.body) == 0 {
		b.c.body = nil
		return 0, io.EOF
	}
	n := copy(p, b.c.body)
	b.c.body = b.c.body[n:]
	return n, nil
}

func (b *pageBody) Close() error {
	b.c.body = nil
	return nil
}

// setPageBody makes body the response of ctx, whose headers are all set:
// sent by writev with the headers on a server connection, as fasthttp's
// raw body otherwise (HEAD, an in-memory connection, a response fasthttp
// will add a Connection header to).
func setPageBody(ctx *fasthttp.RequestCtx, body []byte) {
	c, ok := ctx.Conn().(*conn)
	if !ok || !ctx.IsGet() || len(body) == 0 || ctx.Request.Header.ConnectionClose() || !ctx.Request.Header.IsHTTP11() {
		if ok {
			c.rawPage = true
		}
		ctx.Response.SetBodyRaw(body)
		return
	}
	ctx.Response.SetBodyStream(&c.stream, len(body))
	c.stream.size = len(body)
	c.header = append(c.header[:0], ctx.Response.Header.Header()...)
	c.body = body
}
