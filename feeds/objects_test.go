package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/objstore"
	"github.com/rampe/rampe/platform/testenv"
)

// objectsEnv is the feeds of newEnv stored in a bucket of the test S3 server
// (RAMPE_TEST_S3_URL), with a grace of a minute on the test's clock.
func objectsEnv(t *testing.T) (*env, *Objects) {
	t.Helper()
	e := newEnv(t)
	b, err := objstore.Open(context.Background(), testenv.S3(t))
	if err != nil {
		t.Fatal(err)
	}
	b.PartSize = 5 << 20 // S3's smallest part: a 12 MiB file is uploaded in three
	o := &Objects{DB: e.svc.DB, Bucket: b, Grace: time.Minute, Clock: e.clk}
	e.svc.Storage = o
	return e, o
}

func keys(t *testing.T, o *Objects) []string {
	t.Helper()
	k, err := o.Bucket.Keys(context.Background(), "feeds/")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(k)
	return k
}

// TestObjectsWriteCommitReadGrace writes a feed file to a real S3 server:
// nothing is visible before the commit, an abort leaves no object, a
// replaced object stays readable during the grace and is deleted after it,
// and a file of several parts reads back byte for byte (also from an
// offset, as a ranged read does).
func TestObjectsWriteCommitReadGrace(t *testing.T) {
	e, o := objectsEnv(t)
	ctx := context.Background()
	f := e.feed(t, &Feed{Name: "s3", Format: GoogleTSV})
	if _, err := o.Open(ctx, f.ID, "s3.tsv"); !errors.Is(err, ErrNoFile) {
		t.Fatalf("never written: %v, want ErrNoFile", err)
	}
	p, err := o.Create(ctx, f.ID, "s3.tsv")
	if err != nil {
		t.Fatal(err)
	}
	p.Write([]byte("first version\n"))
	if _, err := o.Open(ctx, f.ID, "s3.tsv"); !errors.Is(err, ErrNoFile) {
		t.Fatalf("before the commit: %v, want ErrNoFile", err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	first := keys(t, o)
	if len(first) != 1 || string(readAll(t, o, f.ID, "s3.tsv")) != "first version\n" {
		t.Fatalf("after the commit: keys %v", first)
	}
	// An aborted upload leaves the bucket and the served file as they were.
	p, _ = o.Create(ctx, f.ID, "s3.tsv")
	p.Write([]byte("half a"))
	p.Abort()
	if k := keys(t, o); len(k) != 1 || string(readAll(t, o, f.ID, "s3.tsv")) != "first version\n" {
		t.Fatalf("after an abort: keys %v", k)
	}
	// A reader that opened the first version before the replacement reads
	// it whole during the grace.
	old, err := o.Open(ctx, f.ID, "s3.tsv")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	big := make([]byte, 12<<20+123)
	for i := range big {
		big[i] = byte(rng.IntN(256))
	}
	p, _ = o.Create(ctx, f.ID, "s3.tsv")
	for rest := big; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(700000))
		if _, err := p.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(old); string(b) != "first version\n" {
		t.Fatalf("the replaced object, opened before: %q", b)
	}
	old.Close()
	st, err := o.Open(ctx, f.ID, "s3.tsv")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(st)
	if !bytes.Equal(got, big) || st.Size != int64(len(big)) || !st.ModTime.Equal(e.clk.Now()) {
		t.Fatalf("read back %d of %d bytes (size %d), equal %v, mod %v", len(got), len(big), st.Size, bytes.Equal(got, big), st.ModTime)
	}
	if _, err := st.Seek(5<<20+7, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(st)
	st.Close()
	if !bytes.Equal(tail, big[5<<20+7:]) {
		t.Fatalf("read from an offset: %d bytes", len(tail))
	}
	if k := keys(t, o); len(k) != 2 {
		t.Fatalf("during the grace both objects stay: %v", k)
	}
	if n, err := o.SweepStale(ctx); err != nil || n != 0 {
		t.Fatalf("sweep during the grace: %d, %v", n, err)
	}
	// After the grace, the workers' sweeper deletes it.
	e.clk.Add(time.Minute)
	sweepCtx, stop := context.WithCancel(ctx)
	defer stop()
	go o.RunSweeper(sweepCtx, 10*time.Millisecond)
	staleRows := func() (n int64) { o.DB.Model(&staleObject{}).Count(&n); return n }
	for deadline := time.Now().Add(10 * time.Second); len(keys(t, o)) != 1 || staleRows() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the sweeper left %v", keys(t, o))
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if k := keys(t, o); len(k) != 1 || k[0] == first[0] {
		t.Fatalf("after the grace only the new object stays: %v (first %v)", k, first)
	}
	var stale int64
	o.DB.Model(&staleObject{}).Count(&stale)
	if stale != 0 {
		t.Fatalf("%d stale rows left", stale)
	}
	// An object lost behind its pointer is an error at Open, before a
	// byte or a header is sent, not a 200 cut short.
	if err := o.Bucket.Remove(ctx, keys(t, o)[0]); err != nil {
		t.Fatal(err)
	}
	if st, err := o.Open(ctx, f.ID, "s3.tsv"); !errors.Is(err, objstore.ErrNotFound) {
		if st != nil {
			st.Close()
		}
		t.Fatalf("a lost object: %v, want objstore.ErrNotFound at Open", err)
	}
}

func readAll(t *testing.T, o *Objects, feedID uint64, name string) []byte {
	t.Helper()
	st, err := o.Open(context.Background(), feedID, name)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := io.ReadAll(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestObjectsGenerate runs a whole generation into the bucket: both files
// are there and the same as a generation into a directory.
func TestObjectsGenerate(t *testing.T) {
	e, o := objectsEnv(t)
	ctx := context.Background()
	f := e.feed(t, &Feed{Name: "gen", Format: GoogleXML})
	if _, err := e.svc.Generate(ctx, f.ID, "test", nil); err != nil {
		t.Fatal(err)
	}
	fromS3 := readAll(t, o, f.ID, "gen.xml")
	gz := readAll(t, o, f.ID, "gen.xml.gz")
	e.svc.Storage = Dir{Root: e.dir}
	if _, err := e.svc.Generate(ctx, f.ID, "test", nil); err != nil {
		t.Fatal(err)
	}
	if local := e.read(t, f, "gen.xml"); !bytes.Equal(local, fromS3) || len(local) == 0 {
		t.Fatalf("the bucket's file (%d bytes) differs from the directory's (%d)", len(fromS3), len(local))
	}
	if unzipped := gunzip(t, gz); !bytes.Equal(unzipped, fromS3) {
		t.Fatalf("the gzip sibling holds %d bytes, the file %d", len(unzipped), len(fromS3))
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Commits of one file racing each other (generations that overlapped)
// leave, once the grace is over, exactly the object the pointer names:
// every replaced object was listed for deletion once. A pending finished
// and then aborted leaves nothing behind.
func TestObjectsRacingCommitsLeaveNoOrphan(t *testing.T) {
	e, o := objectsEnv(t)
	ctx := context.Background()
	f := e.feed(t, &Feed{Name: "race", Format: GoogleTSV})
	var wg sync.WaitGroup
	for i := range 6 {
		p, err := o.Create(ctx, f.ID, "race.tsv")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(p, "version %d\n", i)
		if err := p.(interface{ Finish() error }).Finish(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Commit(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	p, _ := o.Create(ctx, f.ID, "race.tsv")
	p.Write([]byte("finished, then aborted\n"))
	p.(interface{ Finish() error }).Finish()
	p.Abort()
	e.clk.Add(time.Hour)
	if _, err := o.SweepStale(ctx); err != nil {
		t.Fatal(err)
	}
	var ref fileRef
	o.DB.Where("feed_id = ?", f.ID).Take(&ref)
	if k := keys(t, o); len(k) != 1 || k[0] != ref.ObjectKey {
		t.Fatalf("after the racing commits and the grace: objects %v, the pointer names %s", k, ref.ObjectKey)
	}
}
