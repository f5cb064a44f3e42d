package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/rampe/rampe/platform/objstore"
	"github.com/rampe/rampe/platform/testenv/fakes3"
)

// S3URL is the S3 server tests use: RAMPE_TEST_S3_URL, e.g.
// s3://rampe:rampe-secret@127.0.0.1:8333?secure=false (no bucket: each
// test makes its own). .ci/run starts one and sets it.
func S3URL() string { return os.Getenv("RAMPE_TEST_S3_URL") }

// S3 returns the location of a new, empty bucket for one test (removed
// with its objects at the end) on the server of RAMPE_TEST_S3_URL. With CI
// set and no RAMPE_TEST_S3_URL the test fails; on a developer's machine
// without it, the same server .ci/run starts as a process
// (tools/s3server) is started in the test process on 127.0.0.1.
func S3(t testing.TB) *objstore.Location {
	t.Helper()
	raw := S3URL()
	if raw == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("testenv: CI is set but RAMPE_TEST_S3_URL is not: .ci/run starts an S3 server and sets it")
		}
		srv := httptest.NewServer(fakes3.Handler(true))
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		raw = "s3://test:test-secret@" + u.Host + "?secure=false"
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("testenv: RAMPE_TEST_S3_URL: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	u.Path = "/t-" + hex.EncodeToString(b)
	loc, err := objstore.Parse(u.String())
	if err != nil {
		t.Fatalf("testenv: RAMPE_TEST_S3_URL: %v", err)
	}
	c, err := minio.New(loc.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(loc.AccessKey, loc.SecretKey, ""), Secure: loc.Secure, Region: loc.Region})
	if err != nil {
		t.Fatalf("testenv: S3 client: %v", err)
	}
	ctx := context.Background()
	if err := c.MakeBucket(ctx, loc.Bucket, minio.MakeBucketOptions{Region: loc.Region}); err != nil {
		t.Fatalf("testenv: RAMPE_TEST_S3_URL is set but the S3 server at %s does not make a bucket: %v", loc.Endpoint, err)
	}
	t.Cleanup(func() {
		for o := range c.ListObjects(ctx, loc.Bucket, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				c.RemoveObject(ctx, loc.Bucket, o.Key, minio.RemoveObjectOptions{})
			}
		}
		c.RemoveBucket(ctx, loc.Bucket)
	})
	return loc
}
