package objstore

import (
	"strings"
	"testing"
	"time"
)

// TestLocationRoundTrip: URL writes back what Parse read, keys with
// reserved characters included; String never shows the credentials.
func TestLocationRoundTrip(t *testing.T) {
	loc, err := Parse("s3://AK%2FIA:se%2Bcr%40et@s3.example:9000/feeds-bucket/prod?secure=false&region=eu-west-3&grace=90m")
	if err != nil {
		t.Fatal(err)
	}
	if loc.AccessKey != "AK/IA" || loc.SecretKey != "se+cr@et" || loc.Prefix != "prod/" || loc.Grace != 90*time.Minute || loc.Secure {
		t.Fatalf("parsed %+v", loc)
	}
	again, err := Parse(loc.URL())
	if err != nil || *again != *loc {
		t.Fatalf("round trip: %+v, %v", again, err)
	}
	if s := loc.String(); strings.Contains(s, "se+cr") || strings.Contains(s, "AK/IA") || s != "s3 http://s3.example:9000/feeds-bucket/prod/" {
		t.Fatalf("String: %s", s)
	}
	def, err := Parse("s3://a:b@s3.example/bucket")
	if err != nil || !def.Secure || def.Grace != DefaultGrace || def.Prefix != "" {
		t.Fatalf("defaults: %+v %v", def, err)
	}
}
