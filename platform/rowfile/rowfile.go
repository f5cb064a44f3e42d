// Package rowfile is the plumbing of files imported row by row (the
// catalog, contacts): a line-numbered row error and its report, a reader
// that refuses endless lines and strips a byte-order mark, CSV and JSON
// readers that say where a file is broken, a byte counter for progress,
// and the format a file name suggests. What the columns mean is the
// importing domain's business.
package rowfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/sheet"
)

// MaxLineBytes bounds one line of an imported file.
const MaxLineBytes = 1 << 20

// RowError is one problem of an imported row, named by line and column.
type RowError struct {
	Line   int64  `json:"line"`
	Column string `json:"column"`
	Value  string `json:"value"`
	Msg    string `json:"message"`
	// Message, when set, is Msg in every language (Text).
	Message i18n.Message `json:"-"`
}

// Text writes the problem in lang (i18n.Localizer): its translated
// Message when it has one, else Msg.
func (e RowError) Text(lang string) string {
	msg := any(e.Msg)
	if e.Message.Format != "" {
		msg = e.Message
	}
	if e.Column == "" {
		return i18n.T(lang, "line %d: %s", e.Line, msg)
	}
	return i18n.T(lang, "line %d, column %s, value %q: %s", e.Line, e.Column, clip(e.Value), msg)
}

// clip shortens a value to 60 characters for a message.
func clip(v string) string {
	if utf8.RuneCountInString(v) > 60 {
		return string([]rune(v)[:60]) + "…"
	}
	return v
}

func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d, column %s, value %q: %s", e.Line, e.Column, clip(e.Value), e.Msg)
}

// WriteReport writes problems as CSV (line, column, value, message), safe
// to open in a spreadsheet.
func WriteReport(w io.Writer, errs []RowError) error {
	cw := sheet.NewWriter(w)
	cw.Write([]string{"line", "column", "value", "message"})
	for _, e := range errs {
		cw.Write([]string{strconv.FormatInt(e.Line, 10), e.Column, e.Value, e.Msg})
	}
	cw.Flush()
	return cw.Error()
}

// lineLimit fails a read when a line grows past MaxLineBytes.
type lineLimit struct {
	r    io.Reader
	what string
	run  int
	line int64
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.run = 0
			l.line++
			continue
		}
		l.run++
		if l.run > MaxLineBytes {
			return 0, RowError{Line: l.line + 1, Msg: fmt.Sprintf("line is longer than %d bytes; is this a CSV or JSON %s?", MaxLineBytes, l.what)}
		}
	}
	return n, err
}

// Open buffers in for a parser: a line longer than MaxLineBytes fails the
// read with a RowError that asks whether this is a file of what ("catalog",
// "file of contacts"), and a UTF-8 byte-order mark is skipped.
func Open(in io.Reader, what string) *bufio.Reader {
	br := bufio.NewReaderSize(&lineLimit{r: in, what: what}, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	return br
}

// JSONErrorAt says where decoding one JSON value failed: at the byte of a
// syntax error, else at start, the decoder's InputOffset when the value
// began. cut says the input ended inside the value (a file cut short),
// where the decoder's own offset would name the value's start as if the
// fault were there.
func JSONErrorAt(err error, start int64) (at int64, cut bool) {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return start, true
	case errors.As(err, &se):
		return se.Offset, false
	}
	return start, false
}

// Counter counts the bytes read through it, for progress.
type Counter struct {
	R io.Reader
	n atomic.Int64
}

func (c *Counter) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// N is the bytes read so far (safe from another goroutine).
func (c *Counter) N() int64 { return c.n.Load() }

// FormatFor guesses a file's format from its name: "json" for .json,
// .ndjson and .jsonl, "csv" otherwise.
func FormatFor(name string) string {
	n := strings.ToLower(name)
	if strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".ndjson") || strings.HasSuffix(n, ".jsonl") {
		return "json"
	}
	return "csv"
}
