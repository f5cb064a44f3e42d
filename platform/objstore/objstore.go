// Package objstore reaches an S3-compatible bucket (Amazon S3, MinIO,
// SeaweedFS, Ceph, Garage, gofakes3…) through github.com/minio/minio-go: a
// location parsed from one URL, and put, get, remove of objects under a
// prefix. Rampe's own rules (which key, when a file is visible) stay in the
// domain packages that use it.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Location is where objects go, parsed from
// s3://ACCESS_KEY:SECRET_KEY@host:port/bucket/optional/prefix?secure=false&region=…&grace=1h
type Location struct {
	Endpoint  string // host[:port]
	AccessKey string
	SecretKey string
	Bucket    string
	Prefix    string // "" or ending with "/"
	Region    string
	Secure    bool          // https (secure=true, the default) or http
	Grace     time.Duration // how long a replaced object stays readable
}

// DefaultGrace keeps a replaced object an hour: a comparator that began
// downloading the previous feed finishes it.
const DefaultGrace = time.Hour

var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Parse reads a location URL. Its errors say what is wrong, without the
// secret; the caller names the configuration key.
func Parse(raw string) (*Location, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a URL; want s3://ACCESS_KEY:SECRET_KEY@host:port/bucket")
	}
	if u.Scheme != "s3" {
		return nil, fmt.Errorf("scheme %q: want s3://ACCESS_KEY:SECRET_KEY@host:port/bucket", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("no host; want s3://ACCESS_KEY:SECRET_KEY@host:port/bucket")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q: want a number from 1 to 65535", p)
		}
	}
	loc := &Location{Endpoint: u.Host, Secure: true, Grace: DefaultGrace}
	if u.User != nil {
		loc.AccessKey = u.User.Username()
		loc.SecretKey, _ = u.User.Password()
	}
	if loc.AccessKey == "" || loc.SecretKey == "" {
		return nil, errors.New("no access key and secret key; want s3://ACCESS_KEY:SECRET_KEY@host:port/bucket (URL-encode / + and @ in them)")
	}
	path := strings.Trim(u.Path, "/")
	bucket, prefix, _ := strings.Cut(path, "/")
	if !bucketRE.MatchString(bucket) || strings.Contains(bucket, "..") {
		return nil, fmt.Errorf("bucket %q: want 3 to 63 lower-case letters, digits, dots and hyphens, after the host", bucket)
	}
	loc.Bucket = bucket
	if prefix != "" {
		loc.Prefix = prefix + "/"
	}
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "secure":
			if loc.Secure, err = strconv.ParseBool(v); err != nil {
				return nil, fmt.Errorf("secure=%q: want true or false", v)
			}
		case "region":
			loc.Region = v
		case "grace":
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Minute {
				return nil, fmt.Errorf("grace=%q: want a duration of at least 1m, e.g. 1h", v)
			}
			loc.Grace = d
		default:
			return nil, fmt.Errorf("unknown parameter %q; known: secure, region, grace", k)
		}
	}
	return loc, nil
}

// String is the location without its credentials: what a log line or the
// comparison between nodes shows.
func (l *Location) String() string {
	scheme := "https"
	if !l.Secure {
		scheme = "http"
	}
	return fmt.Sprintf("s3 %s://%s/%s/%s", scheme, l.Endpoint, l.Bucket, l.Prefix)
}

// URL writes the location back as feeds.storage_url reads it, credentials
// included (for tests and tools that hand it to another process).
func (l *Location) URL() string {
	u := url.URL{Scheme: "s3", User: url.UserPassword(l.AccessKey, l.SecretKey), Host: l.Endpoint, Path: "/" + l.Bucket + "/" + l.Prefix}
	q := url.Values{"secure": {strconv.FormatBool(l.Secure)}, "grace": {l.Grace.String()}}
	if l.Region != "" {
		q.Set("region", l.Region)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Bucket is an open bucket.
type Bucket struct {
	Client *minio.Client
	Name   string
	Prefix string
	// PartSize is the size of each part of an upload of unknown length,
	// and the memory one upload holds (16 MiB when 0).
	PartSize uint64
}

// Open connects to the location's bucket and checks that it exists.
func Open(ctx context.Context, loc *Location) (*Bucket, error) {
	c, err := minio.New(loc.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(loc.AccessKey, loc.SecretKey, ""),
		Secure: loc.Secure,
		Region: loc.Region,
	})
	if err != nil {
		return nil, err
	}
	ok, err := c.BucketExists(ctx, loc.Bucket)
	if err != nil {
		return nil, fmt.Errorf("%s unreachable: %w", loc, err)
	}
	if !ok {
		return nil, fmt.Errorf("bucket %q does not exist at %s", loc.Bucket, loc.Endpoint)
	}
	return &Bucket{Client: c, Name: loc.Bucket, Prefix: loc.Prefix}, nil
}

// ErrNotFound means no object has the key.
var ErrNotFound = errors.New("objstore: no such object")

// Put uploads r under key (below the prefix). With size -1 it is uploaded
// in parts of PartSize as it is read.
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	part := b.PartSize
	if part == 0 {
		part = 16 << 20
	}
	_, err := b.Client.PutObject(ctx, b.Name, b.Prefix+key, r, size, minio.PutObjectOptions{ContentType: contentType, PartSize: part})
	return err
}

// Object is an object being read: it reads, seeks and closes; the request
// starts at the first read.
type Object = minio.Object

// Get opens the object at key for reading. A missing object shows as
// ErrNotFound at Stat or at the first read.
func (b *Bucket) Get(ctx context.Context, key string) (*Object, error) {
	return b.Client.GetObject(ctx, b.Name, b.Prefix+key, minio.GetObjectOptions{})
}

// Stat returns the size of the object at key, or ErrNotFound.
func (b *Bucket) Stat(ctx context.Context, key string) (int64, error) {
	info, err := b.Client.StatObject(ctx, b.Name, b.Prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return 0, NotFound(err)
	}
	return info.Size, nil
}

// Remove deletes the object at key; a missing one is no error.
func (b *Bucket) Remove(ctx context.Context, key string) error {
	err := b.Client.RemoveObject(ctx, b.Name, b.Prefix+key, minio.RemoveObjectOptions{})
	if errors.Is(NotFound(err), ErrNotFound) {
		return nil
	}
	return err
}

// Keys lists the keys under prefix (below the bucket's own prefix), the
// bucket's prefix removed.
func (b *Bucket) Keys(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	for o := range b.Client.ListObjects(ctx, b.Name, minio.ListObjectsOptions{Prefix: b.Prefix + prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, o.Err
		}
		out = append(out, strings.TrimPrefix(o.Key, b.Prefix))
	}
	return out, nil
}

// NotFound turns the server's "no such key" answer into ErrNotFound.
func NotFound(err error) error {
	if err == nil {
		return nil
	}
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return err
}
