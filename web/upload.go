package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// Limits of the catalog upload, the one request body that may be large:
// a catalog file of 1 GiB, as documented (a variable for tests), plus the
// form's other fields and the multipart framing; any field but the file
// 4 KiB.
var maxUploadFile int64 = 1 << 30

const (
	uploadOverhead = 1 << 20
	maxUploadField = 4 << 10
)

func maxUploadBody() int64 { return maxUploadFile + uploadOverhead }

// upload is the catalog form, read from the request as a stream: the file
// went to a temporary file that the caller owns.
type upload struct {
	File     *os.File
	Filename string
	Size     int64
	Fields   map[string]string
}

// Remove deletes the temporary file.
func (u *upload) Remove() {
	if u.File != nil {
		u.File.Close()
		os.Remove(u.File.Name())
	}
}

var errBodyTooLarge = errors.New("request body too large")

// cappedReader fails once more than n bytes were read, whatever the
// request's Content-Length said (a chunked body has none).
type cappedReader struct {
	r io.Reader
	n int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// readUpload streams a multipart upload: the CSRF token comes first (the
// X-CSRF-Token header, or the form's first part, _csrf, as the page's form
// sends it) and is checked before anything else is read; the file goes to
// a temporary file, at most maxUploadFile bytes; every other field at most
// maxUploadField bytes of valid text. Errors name the field and are
// fiber errors with their status.
func (s *Server) readUpload(c *fiber.Ctx, fileField string) (*upload, error) {
	boundary := string(c.Request().Header.MultipartFormBoundary())
	if boundary == "" {
		return nil, fiber.NewError(fiber.StatusBadRequest, "send the file as multipart/form-data")
	}
	var body io.Reader = c.Request().BodyStream()
	if body == nil {
		body = bytes.NewReader(c.Request().Body())
	}
	mr := multipart.NewReader(&cappedReader{r: body, n: maxUploadBody()}, boundary)
	checked, _ := c.Locals(csrfCheckedKey).(bool)
	u := &upload{Fields: map[string]string{}}
	fail := func(err error) (*upload, error) {
		u.Remove()
		if errors.Is(err, errBodyTooLarge) {
			return nil, fiber.NewError(fiber.StatusRequestEntityTooLarge, uploadTooLarge())
		}
		return nil, err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, errBodyTooLarge) {
				return fail(err)
			}
			return fail(fiber.NewError(fiber.StatusBadRequest, "the upload is not a valid multipart form: "+err.Error()))
		}
		name := part.FormName()
		if !checked {
			// Nothing past the token is read for a request without it.
			v, err := readField(part, name)
			if err != nil || name != csrfField || !s.validCSRF(c, v) {
				return fail(errCSRF)
			}
			checked = true
			continue
		}
		if name != fileField {
			v, err := readField(part, name)
			if err != nil {
				return fail(err)
			}
			u.Fields[name] = v
			continue
		}
		if u.File != nil {
			return fail(fiber.NewError(fiber.StatusBadRequest, fileField+": send one file"))
		}
		if err := u.saveFile(part); err != nil {
			return fail(err)
		}
	}
	if !checked {
		return fail(errCSRF)
	}
	return u, nil
}

func (u *upload) saveFile(part *multipart.Part) error {
	name := part.FileName()
	if !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return fiber.NewError(fiber.StatusBadRequest, "file: the file name is not valid text")
	}
	tmp, err := os.CreateTemp("", "rampe-import-*"+filepath.Ext(filepath.Base(name)))
	if err != nil {
		return err
	}
	u.File, u.Filename = tmp, name
	n, err := io.Copy(tmp, io.LimitReader(part, maxUploadFile+1))
	if err != nil {
		return err
	}
	if n > maxUploadFile {
		return errBodyTooLarge
	}
	u.Size = n
	_, err = tmp.Seek(0, io.SeekStart)
	return err
}

// readField reads a small form field as text, naming it when it is not.
func readField(part *multipart.Part, name string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, maxUploadField+1))
	switch {
	case err != nil:
		return "", err
	case len(b) > maxUploadField:
		return "", fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("%s: longer than %d bytes", name, maxUploadField))
	case !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0:
		return "", fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("parameter %q is not valid text: it holds a NUL byte or invalid UTF-8", name))
	}
	return string(b), nil
}

func uploadTooLarge() string {
	return fmt.Sprintf("the upload is larger than %d MiB, the largest catalog file Rampe takes", maxUploadFile>>20)
}
