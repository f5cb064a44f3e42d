// Package fakes3 is the S3 server of the tests: github.com/johannesboyne/gofakes3
// on an in-memory backend, with one fix in front of it. gofakes3 v1.2.0
// decodes a body sent with the streaming signature (aws-chunked,
// x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD) for a plain
// PUT but stores it as sent for a part of a multipart upload, signatures
// and all; minio-go signs every upload over plain http that way. Handler
// decodes such parts before gofakes3 sees them. It checks no signature: the
// server is for tests (tools/s3server runs it as a process for .ci/run).
package fakes3

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

const streaming = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

// Handler serves S3 from memory.
func Handler(quiet bool) http.Handler {
	opts := []gofakes3.Option{}
	if quiet {
		opts = append(opts, gofakes3.WithLogger(gofakes3.DiscardLog()))
	}
	s3 := gofakes3.New(s3mem.New(), opts...).Server()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Get("uploadId") != "" && r.Header.Get("X-Amz-Content-Sha256") == streaming {
			n, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
			if err != nil || n < 0 {
				http.Error(w, "bad x-amz-decoded-content-length", http.StatusBadRequest)
				return
			}
			r.Body = struct {
				io.Reader
				io.Closer
			}{&chunked{r: bufio.NewReader(r.Body)}, r.Body}
			r.ContentLength = n
			r.Header.Set("Content-Length", strconv.FormatInt(n, 10))
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		}
		s3.ServeHTTP(w, r)
	})
}

// chunked reads an aws-chunked body: chunks of "HEX;chunk-signature=…\r\n"
// then the bytes then "\r\n", the last of size 0.
type chunked struct {
	r    *bufio.Reader
	left int64
	done bool
}

func (c *chunked) Read(p []byte) (int, error) {
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		line, err := c.r.ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("fakes3: chunk header: %w", err)
		}
		size, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(size, 16, 64)
		if err != nil || n < 0 {
			return 0, errors.New("fakes3: bad chunk size " + strconv.Quote(size))
		}
		c.left = n
		if n == 0 {
			c.done = true
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left == 0 && err == nil {
		if _, err := c.r.Discard(2); err != nil { // the chunk's "\r\n"
			return n, err
		}
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
