package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValid(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.DatabaseDSN != "rampe.db" || c.RedisURL != "" || c.DefaultTimeZone != "Europe/Paris" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestBadValuesNameTheKey(t *testing.T) {
	cases := map[string][2]string{
		"RAMPE_HTTP_ADDR":                        {"127.0.0.1:99999", "http.addr"},
		"RAMPE_DATABASE_DSN":                     {"mysql://x", "database.dsn"},
		"RAMPE_REDIS_URL":                        {"http://localhost", "redis.url"},
		"RAMPE_CAMPAIGNS_DEFAULT_TIME_ZONE":      {"Europe/Atlantis", "campaigns.default_time_zone"},
		"RAMPE_CAMPAIGNS_BLOCKED_RETRY_INTERVAL": {"soon", "campaigns.blocked_retry_interval"},
		"RAMPE_JOBS_CONCURRENCY":                 {"0", "jobs.concurrency"},
		"RAMPE_SECURITY_SECRET_KEY":              {"short", "security.secret_key"},
		"RAMPE_PUBLIC_BASE_URL":                  {"example.com", "public.base_url"},
		"RAMPE_LOG_LEVEL":                        {"loud", "log.level"},
		"RAMPE_JOBS_POLL_INTERVAL":               {"1m", "jobs.poll_interval"},
		"RAMPE_LOADCHECK_VALIDITY":               {"10s", "loadcheck.validity"},
		"RAMPE_HTTP_TRUSTED_PROXIES":             {"10.0.0.1, proxy.internal", "http.trusted_proxies"},
		"RAMPE_SMTP_URL":                         {"smtp://mail.example?tls=maybe", "smtp.url"},
		"RAMPE_SMTP_FROM":                        {"not an address", "smtp.from"},
		"RAMPE_METRICS_ADDR":                     {"9100", "metrics.addr"},
		"RAMPE_METRICS_TOKEN":                    {"short", "metrics.token"},
		"RAMPE_LANDING_FRAME_ANCESTORS":          {"https://ok.example, *; script-src *", "landing.frame_ancestors"},
		"RAMPE_LANDING_DEFAULT_LANG":             {"de", "landing.default_lang"},
		"RAMPE_LOADCHECK_ALLOWED_HOSTS":          {"shop.example, cdn.example:https", "loadcheck.allowed_hosts"},
		"RAMPE_SEO_ROBOTS_RULES":                 {"User-agent: *\nDisalow /x", "seo.robots_rules"},
		"RAMPE_SEO_PAGE_WEIGHT_KB":               {"0", "seo.page_weight_kb"},
		"RAMPE_SEO_INDEXNOW_ENDPOINT":            {"api.indexnow.org/indexnow", "seo.indexnow_endpoint"},
		"RAMPE_SEO_INDEXNOW_KEY":                 {"short", "seo.indexnow_key"},
		"RAMPE_HTTP_FAST_LANDING":                {"maybe", "http.fast_landing"},
		"RAMPE_RETENTION_AUDIT_DAYS":             {"-1", "retention.audit_days"},
		"RAMPE_RETENTION_EVENTS_DAYS":            {"two years", "retention.events_days"},
	}
	for env, c := range cases {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, c[0])
			_, err := Load("")
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Key != c[1] {
				t.Fatalf("want an error naming %s, got %v", c[1], err)
			}
		})
	}
}

func TestFileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampe.yaml")
	os.WriteFile(path, []byte("http:\n  addr: 0.0.0.0:9000\ndatabase:\n  dsn: postgres://rampe:hunter2@db:5432/rampe\n"), 0o600)
	t.Setenv("RAMPE_HTTP_ADDR", "127.0.0.1:9100")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9100" || !strings.HasPrefix(c.DatabaseDSN, "postgres://") {
		t.Fatalf("file/env precedence: %+v", c)
	}
	for _, kv := range c.Effective() {
		if strings.Contains(kv.Value, "hunter2") {
			t.Fatalf("config print leaks a password: %s=%s", kv.Key, kv.Value)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestBaseURLFollowsTheAddressUnlessSet(t *testing.T) {
	t.Setenv("RAMPE_HTTP_ADDR", "127.0.0.1:19080")
	c, err := Load("")
	if err != nil || c.PublicBaseURL != "http://127.0.0.1:19080" || !c.BaseURLDerived {
		t.Fatalf("derived: %q %v %v", c.PublicBaseURL, c.BaseURLDerived, err)
	}
	t.Setenv("RAMPE_HTTP_ADDR", "0.0.0.0:8081")
	if c, _ := Load(""); c.PublicBaseURL != "http://127.0.0.1:8081" {
		t.Fatalf("wildcard: %q", c.PublicBaseURL)
	}
	t.Setenv("RAMPE_PUBLIC_BASE_URL", "https://rampe.shop.example/")
	if c, _ := Load(""); c.PublicBaseURL != "https://rampe.shop.example" || c.BaseURLDerived {
		t.Fatalf("set: %q %v", c.PublicBaseURL, c.BaseURLDerived)
	}
}

// TestFeedsStorageURL reads the bucket of feeds.storage_url, and refuses
// each kind of bad URL with an error naming the key, never showing the
// secret key.
func TestFeedsStorageURL(t *testing.T) {
	t.Setenv("RAMPE_FEEDS_STORAGE_URL", "s3://AKIA:top-secret@127.0.0.1:8333/rampe-feeds/prod/eu?secure=false&region=eu-west-3&grace=2h")
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	s := c.FeedsStorage
	if s == nil || s.Endpoint != "127.0.0.1:8333" || s.AccessKey != "AKIA" || s.SecretKey != "top-secret" || s.Bucket != "rampe-feeds" ||
		s.Prefix != "prod/eu/" || s.Secure || s.Region != "eu-west-3" || s.Grace != 2*time.Hour {
		t.Fatalf("parsed %+v", s)
	}
	for _, kv := range c.Effective() {
		if kv.Key == "feeds.storage_url" && strings.Contains(kv.Value, "top-secret") {
			t.Fatalf("config print shows the secret: %s", kv.Value)
		}
	}
	for _, bad := range []string{
		"https://AKIA:top-secret@s3.example/bucket",          // scheme
		"s3://s3.example/bucket",                             // no credentials
		"s3://AKIA:top-secret@s3.example/",                   // no bucket
		"s3://AKIA:top-secret@s3.example/Bad_Bucket",         // bucket name
		"s3://AKIA:top-secret@s3.example:99999/bucket",       // port
		"s3://AKIA:top-secret@s3.example/bucket?secure=nope", // secure
		"s3://AKIA:top-secret@s3.example/bucket?grace=10s",   // grace too short
		"s3://AKIA:top-secret@s3.example/bucket?lookup=dns",  // unknown parameter
		"s3://AKIA:top-secret@s3.example/%zz",                // unparsable
		"s3://AKIA:2024/top-secret+x@s3.example/bucket",      // a secret with an unescaped "/"
	} {
		t.Setenv("RAMPE_FEEDS_STORAGE_URL", bad)
		_, err := Load("")
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Key != "feeds.storage_url" {
			t.Fatalf("%s: want an error naming feeds.storage_url, got %v", bad, err)
		}
		if strings.Contains(err.Error(), "top-secret") {
			t.Fatalf("%s: the error shows the secret: %v", bad, err)
		}
	}
	t.Setenv("RAMPE_FEEDS_STORAGE_URL", "")
	if c, err := Load(""); err != nil || c.FeedsStorage != nil {
		t.Fatalf("empty: %+v, %v", c.FeedsStorage, err)
	}
}
