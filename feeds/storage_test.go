package feeds

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// TestDirWritesWholeFiles writes files of awkward sizes in awkward pieces
// through both write paths (O_DIRECT with its aligned chunks and last
// partial block, and buffered) and reads them back byte for byte.
func TestDirWritesWholeFiles(t *testing.T) {
	ctx := context.Background()
	d := Dir{Root: t.TempDir()}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, directAlign - 1, directAlign, fileChunk - 1, fileChunk, fileChunk + 1, 3*fileChunk + 4097} {
		for _, buffered := range []bool{false, true} {
			want := make([]byte, size)
			for i := range want {
				want[i] = byte(rng.IntN(256))
			}
			p, err := d.Create(ctx, 7, "f.xml")
			if err != nil {
				t.Fatal(err)
			}
			if pf := p.(*pendingFile); buffered && pf.direct {
				if err := pf.stopDirect(); err != nil {
					t.Fatal(err)
				}
			}
			for rest := want; len(rest) > 0; {
				n := min(len(rest), 1+rng.IntN(300000))
				if _, err := p.Write(rest[:n]); err != nil {
					t.Fatalf("size %d: write: %v", size, err)
				}
				rest = rest[n:]
			}
			if err := p.Commit(); err != nil {
				t.Fatalf("size %d: commit: %v", size, err)
			}
			st, err := d.Open(ctx, 7, "f.xml")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(st)
			st.Close()
			if !bytes.Equal(got, want) || st.Size != int64(size) {
				t.Fatalf("size %d (buffered %v): read back %d bytes, differ=%v", size, buffered, len(got), !bytes.Equal(got, want))
			}
		}
	}
	// An aborted file leaves nothing behind, and the committed one stays.
	p, _ := d.Create(ctx, 7, "f.xml")
	p.Write([]byte("half"))
	p.Abort()
	entries, _ := os.ReadDir(d.folder(7))
	if len(entries) != 1 || entries[0].Name() != "f.xml" {
		t.Fatalf("after abort the folder holds %v", entries)
	}
}
