package uploads

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/objstore"
	"github.com/rampe/rampe/platform/testenv"
)

// TestStores puts, reads and removes a file in a directory and in a
// bucket of the test S3 server, and refuses keys that leave the root.
func TestStores(t *testing.T) {
	ctx := context.Background()
	b, err := objstore.Open(ctx, testenv.S3(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]Store{"dir": Dir{Root: t.TempDir()}, "bucket": Bucket{B: b}} {
		t.Run(name, func(t *testing.T) {
			key := NewKey("catalog", time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC))
			body := bytes.Repeat([]byte("sku;title\n"), 1000)
			if err := st.Put(ctx, key, bytes.NewReader(body), int64(len(body))); err != nil {
				t.Fatal(err)
			}
			r, err := st.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(r)
			r.Close()
			if !bytes.Equal(got, body) {
				t.Fatalf("read back %d of %d bytes", len(got), len(body))
			}
			if err := st.Remove(ctx, key); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Open(ctx, key); !errors.Is(err, ErrNotFound) {
				t.Fatalf("after Remove: %v", err)
			}
			if err := st.Remove(ctx, key); err != nil {
				t.Fatalf("removing twice: %v", err)
			}
			if err := st.Put(ctx, "../escape", bytes.NewReader(body), -1); err == nil {
				t.Fatal("a key leaving the root was accepted")
			}
		})
	}
}
