// Package uploads keeps a file a person uploaded (a catalog, a contact list)
// where every node reaches it, from the web node that received it to the
// worker that imports it: a directory (one machine, or a shared volume) or
// the S3-compatible bucket of feeds.storage_url.
package uploads

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rampe/rampe/platform/objstore"
)

// Store keeps uploaded files under keys.
type Store interface {
	// Put stores r (size bytes, or -1 when unknown) under key.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Open reads the file under key, or ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Remove deletes the file; a missing one is no error.
	Remove(ctx context.Context, key string) error
}

// ErrNotFound means no file has the key.
var ErrNotFound = errors.New("uploads: no such file")

// NewKey is a fresh key for an upload of kind (catalog, contacts).
func NewKey(kind string, now time.Time) string {
	b := make([]byte, 12)
	rand.Read(b)
	return kind + "/" + now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}

func checkKey(key string) error {
	if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
		return fmt.Errorf("uploads: bad key %q", key)
	}
	return nil
}

// Dir keeps uploads under a local directory.
type Dir struct{ Root string }

// Put implements Store: written under a temporary name, then renamed.
func (d Dir) Put(_ context.Context, key string, r io.Reader, _ int64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	dest := filepath.Join(d.Root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return fmt.Errorf("uploads: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(dest), ".tmp-*")
	if err != nil {
		return fmt.Errorf("uploads: %w", err)
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Close()
	} else {
		f.Close()
	}
	if err == nil {
		err = os.Rename(f.Name(), dest)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("uploads: %w", err)
	}
	return nil
}

// Open implements Store.
func (d Dir) Open(_ context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(d.Root, filepath.FromSlash(key)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return f, err
}

// Remove implements Store.
func (d Dir) Remove(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(d.Root, filepath.FromSlash(key)))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Bucket keeps uploads in a bucket, under uploads/.
type Bucket struct{ B *objstore.Bucket }

const bucketPrefix = "uploads/"

// Put implements Store.
func (b Bucket) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return b.B.Put(ctx, bucketPrefix+key, r, size, "application/octet-stream")
}

// Open implements Store.
func (b Bucket) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if _, err := b.B.Stat(ctx, bucketPrefix+key); err != nil {
		if errors.Is(err, objstore.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return nil, err
	}
	return b.B.Get(ctx, bucketPrefix+key)
}

// Remove implements Store.
func (b Bucket) Remove(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return b.B.Remove(ctx, bucketPrefix+key)
}
