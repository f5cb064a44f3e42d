// Package config declares every configuration key of Rampe in one table (key,
// default, meaning), loads them with viper from an optional YAML file and the
// RAMPE_* environment, and validates them so that a bad value stops the start
// with a message naming the key.
package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/objstore"
)

// Option is one configuration key with its default and meaning.
type Option struct {
	Key     string
	Default any
	Help    string
	Secret  bool
}

// Options is the table of every key Rampe reads. README's configuration section
// is generated from the same facts; keep them in step.
var Options = []Option{
	{Key: "http.addr", Default: "127.0.0.1:8080", Help: "address the web server listens on"},
	{Key: "http.fast_landing", Default: "true", Help: "answer /l/ pages and /r/ tracked links before fiber's router, each page's headers and body in one writev (web/conn.go, proven on the fasthttp version web/conn.go names); false: /l/ and /r/ go through fiber like every other URL"},
	{Key: "database.dsn", Default: "rampe.db", Help: "SQLite file path, or postgres://… for PostgreSQL"},
	{Key: "redis.url", Default: "", Help: "redis://… for asynq; empty starts an in-process Redis (single process only)"},
	{Key: "public.base_url", Default: "", Help: "absolute URL visitors and comparators use to reach Rampe; empty: http:// and http.addr (0.0.0.0 read as 127.0.0.1)"},
	{Key: "security.secret_key", Default: "", Help: "HMAC key for sessions, CSRF and signed tokens; generated and stored in the database when empty", Secret: true},
	{Key: "security.session_ttl", Default: "168h", Help: "how long a sign-in lasts"},
	{Key: "campaigns.default_time_zone", Default: "Europe/Paris", Help: "time zone of new campaigns"},
	{Key: "campaigns.blocked_retry_interval", Default: "5m", Help: "how often a blocked campaign re-checks its gates until it ends"},
	{Key: "campaigns.reconcile_interval", Default: "1m", Help: "how often the reconciler re-creates missing tasks from the database"},
	{Key: "jobs.concurrency", Default: 20, Help: "tasks a worker process runs at once"},
	{Key: "jobs.poll_interval", Default: "1s", Help: "how often an idle worker looks in Redis for a queued task (how soon a job asked for now starts)"},
	{Key: "jobs.delayed_interval", Default: "5s", Help: "how often workers move the tasks due by now (scheduled for an instant, or retries) to their queues: go-lives are handed over this plus 1.5 polls ahead and start on time; campaign ends, scheduled sends and retries start up to this plus 1.5 polls after their instant. Lower costs CPU in Redis and in every worker, even idle"},
	{Key: "jobs.shutdown_timeout", Default: "25s", Help: "on SIGTERM, how long in-flight tasks may run before they go back to the queue"},
	{Key: "jobs.golive_hold", Default: "0s", Help: "test only: pause inside go-live after the gates are evaluated (crash tests)"},
	{Key: "loadcheck.allowed_hosts", Default: "", Help: "comma-separated hosts (shop.example), domains (.shop.example) or host:port load checks may target, besides public.base_url's scheme, host and port; without a port, 80 and 443"},
	{Key: "loadcheck.max_rate", Default: 20000, Help: "highest request rate a load check may send (req/s)"},
	{Key: "loadcheck.max_duration", Default: "10m", Help: "longest a load check may run, all steps together"},
	{Key: "loadcheck.step_duration", Default: "10s", Help: "how long each step of a load check lasts"},
	{Key: "loadcheck.validity", Default: "24h", Help: "how long a passing load check counts for the landing.load_checked gate"},
	{Key: "loadcheck.safety_factor", Default: "1.5", Help: "capacity needed = combined forecast peak × this factor"},
	{Key: "feeds.dir", Default: "rampe-feeds", Help: "directory of generated feed files (shared storage when several nodes serve feeds)"},
	{Key: "feeds.storage_url", Default: "", Help: "S3-compatible bucket for feed files when several nodes serve feeds without a shared disk: s3://ACCESS_KEY:SECRET_KEY@host:port/bucket[/prefix]?secure=true|false&region=…&grace=1h (grace: how long a replaced file stays readable, at least 1m); empty: feeds.dir"},
	{Key: "feeds.max_concurrent_generations", Default: 1, Help: "feed generations a process runs at once; others wait their turn (each holds up to ~100 MiB at 1M products)"},
	{Key: "http.trusted_proxies", Default: "", Help: "comma-separated addresses or CIDRs of the reverse proxies in front of Rampe, whose X-Forwarded-For names the client (sign-in throttling counts per client address); empty: the connection's address is the client's"},
	{Key: "metrics.addr", Default: "", Help: "address of a separate server for /metrics (e.g. 10.0.0.5:9100, reachable by Prometheus only); empty: /metrics on http.addr"},
	{Key: "metrics.token", Default: "", Help: "bearer token /metrics demands (Authorization: Bearer …); empty: /metrics on http.addr answers loopback clients only", Secret: true},
	{Key: "landing.default_lang", Default: "fr", Help: "language of landing pages that name none: fr or en (a page's own language wins)"},
	{Key: "landing.frame_ancestors", Default: "", Help: "comma-separated origins allowed to frame landing pages (https://www.shop.example); empty: none"},
	{Key: "smtp.url", Default: "", Help: "SMTP server Rampe sends e-mail through: smtp://user:pass@host:587?tls=starttls|tls|none; empty: no e-mail (alerts go to webhooks only)", Secret: true},
	{Key: "smtp.timeout", Default: "15s", Help: "how long Rampe waits for the SMTP server: to connect, and for each message it sends"},
	{Key: "smtp.from", Default: "Rampe <rampe@localhost>", Help: "sender of Rampe's own e-mails (alerts)"},
	{Key: "email.pool_size", Default: 4, Help: "SMTP connections one running e-mail send uses"},
	{Key: "email.concurrency", Default: 2, Help: "e-mail sends a worker runs at once (each with its pool of connections)"},
	{Key: "email.max_rate", Default: "0", Help: "highest send rate, messages/s (0: only the landing page's measured capacity caps it)"},
	{Key: "email.link_hosts", Default: "", Help: "comma-separated hosts a campaign e-mail may link to besides public.base_url's and the products' (the email.message gate refuses others)"},
	{Key: "email.unsubscribe_mailto", Default: "", Help: "address of List-Unsubscribe's mailto: (a mailbox someone reads); empty: the message's sender"},
	{Key: "email.dkim_domain", Default: "", Help: "domain messages are DKIM-signed for (d=); with email.dkim_selector and email.dkim_key_file"},
	{Key: "email.dkim_selector", Default: "", Help: "DKIM selector (s=): the public key is published at SELECTOR._domainkey.DOMAIN"},
	{Key: "email.dkim_key_file", Default: "", Help: "PEM file of the DKIM private key (RSA or Ed25519, PKCS#1 or PKCS#8)"},
	{Key: "seo.robots_rules", Default: "", Help: "robots.txt rules, one directive a line (User-agent, Allow, Disallow, Crawl-delay); the Sitemap line is added; empty: allow /l/, disallow /api/, /r/, /u/"},
	{Key: "seo.page_weight_kb", Default: 2048, Help: "page weight budget of the seo.page audit: a landing page's HTML and images together, in KB"},
	{Key: "seo.indexnow_endpoint", Default: "", Help: "IndexNow endpoint notified when a campaign's page goes live, e.g. https://api.indexnow.org/indexnow; its host must be allowed by loadcheck.allowed_hosts; empty: off"},
	{Key: "seo.indexnow_key", Default: "", Help: "IndexNow key (8–128 of a-z, A-Z, 0-9, -), served at /indexnow.txt; empty: derived from security.secret_key", Secret: true},
	{Key: "affiliation.shop_url", Default: "", Help: "the shop's home: where partner links go before go-live and after the end when a campaign sets no fallback; empty: public.base_url"},
	{Key: "affiliation.notice", Default: "48h", Help: "how long before a campaign starts every partner must have its kit (affiliation.kit_sent warns when later)"},
	{Key: "affiliation.return_window", Default: "720h", Help: "how long a commission stays pending (the shop's return window) before it can be approved"},
	{Key: "affiliation.postback_hosts", Default: "", Help: "comma-separated hosts (or host:port) postbacks may reach even when private or loopback; any public host is allowed on ports 80 and 443"},
	{Key: "display.max_weight_kb", Default: 150, Help: "heaviest display creative accepted, in KB (IAB LEAN: 150 KB initial load); the display.creatives gate checks it too"},
	{Key: "display.poll_interval", Default: "5s", Help: "how often each web node reads the display generation in Redis in case a change notice was lost (a launch or halt reaches every node's ad tags at once over Redis pub/sub, or within this when the notice was lost)"},
	{Key: "display.tag_max_age", Default: "1s", Help: "Cache-Control max-age of the ad tags /d/{placement}.js and .html (short: a halt must reach visitors within a second)"},
	{Key: "alerts.webhook_http_hosts", Default: "", Help: "comma-separated hosts that may receive alert webhooks over plain http (others need https)"},
	{Key: "retention.feed_runs_days", Default: 90, Help: "days a finished feed generation is kept, with its issues and price lines (a feed's current one always stays); 0: forever"},
	{Key: "retention.load_checks_days", Default: 365, Help: "days a finished load check is kept (a page's last passing check and a campaign's last check always stay); 0: forever"},
	{Key: "retention.audit_days", Default: 3650, Help: "days the audit log keeps campaign transitions (each campaign's last stays), done channel moves, resolved alerts and consent changes (each contact's last stays); 0: forever"},
	{Key: "retention.events_days", Default: 730, Help: "days clicks, alert deliveries and the outbox's messages are kept; 0: forever"},
	{Key: "retention.imports_days", Default: 90, Help: "days a finished catalog or contact import is kept with its row report; 0: forever"},
	{Key: "debug.pprof_addr", Default: "", Help: "address of a Go pprof server for profiling, e.g. 127.0.0.1:6060 (empty: off)"},
	{Key: "debug.cpu_profile", Default: "", Help: "file to write a CPU profile of the whole command to, e.g. for `rampe feed generate` (empty: off)"},
	{Key: "log.level", Default: "info", Help: "debug, info, warn or error"},
	{Key: "log.format", Default: "text", Help: "text or json"},
}

// Config is the validated, typed configuration.
type Config struct {
	HTTPAddr      string
	FastLanding   bool
	DatabaseDSN   string
	RedisURL      string
	PublicBaseURL string
	// BaseURLDerived says public.base_url was not set and follows http.addr.
	BaseURLDerived bool
	SecretKey      string
	SessionTTL     time.Duration

	DefaultTimeZone      string
	BlockedRetryInterval time.Duration
	ReconcileInterval    time.Duration

	JobsConcurrency     int
	JobsPollInterval    time.Duration
	JobsDelayedInterval time.Duration
	JobsShutdownTimeout time.Duration
	GoLiveHold          time.Duration

	TrustedProxies []string

	SMTPURL          string
	SMTPFrom         string
	SMTPTimeout      time.Duration
	EmailPoolSize    int
	EmailConcurrency int
	EmailMaxRate     float64
	EmailLinkHosts   []string
	EmailMailto      string
	DKIMDomain       string
	DKIMSelector     string
	DKIMKeyFile      string
	WebhookHTTPHosts []string
	// Retention is each kind's retention (retention.KIND_days); 0: forever.
	Retention map[string]time.Duration

	SEORobotsRules           string
	SEOPageWeightKB          int
	SEOIndexNowEndpoint      string
	SEOIndexNowKey           string
	AffiliationShopURL       string
	AffiliationNotice        time.Duration
	AffiliationReturnWindow  time.Duration
	AffiliationPostbackHosts []string

	MetricsAddr  string
	MetricsToken string

	LandingFrameAncestors []string
	LandingDefaultLang    string

	DisplayMaxBytes     int
	DisplayPollInterval time.Duration
	DisplayTagMaxAge    time.Duration

	LogLevel   string
	LogFormat  string
	PprofAddr  string
	CPUProfile string
	FeedsDir   string
	// FeedsStorage is the bucket of feeds.storage_url; nil: FeedsDir.
	FeedsStorage *objstore.Location
	// FeedsMaxGenerations bounds the generations a process runs at once.
	FeedsMaxGenerations int

	LoadCheckAllowedHosts []string
	LoadCheckMaxRate      int
	LoadCheckMaxDuration  time.Duration
	LoadCheckStep         time.Duration
	LoadCheckValidity     time.Duration
	LoadCheckSafety       float64

	v *viper.Viper
}

// KeyError names the configuration key whose value is wrong.
type KeyError struct {
	Key   string
	Value string
	Msg   string
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("config: %s=%q: %s", e.Key, e.Value, e.Msg)
}

// Load reads defaults, then the file at path (if not empty), then RAMPE_*
// environment variables, and validates the result.
func Load(path string) (*Config, error) {
	v := viper.New()
	for _, o := range Options {
		v.SetDefault(o.Key, o.Default)
	}
	v.SetEnvPrefix("RAMPE")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("config: read %s: %w", path, err)
		}
	}
	return fromViper(v)
}

func fromViper(v *viper.Viper) (*Config, error) {
	c := &Config{v: v}
	c.HTTPAddr = v.GetString("http.addr")
	var err error
	if c.FastLanding, err = boolean(v, "http.fast_landing"); err != nil {
		return nil, err
	}
	c.DatabaseDSN = v.GetString("database.dsn")
	c.RedisURL = v.GetString("redis.url")
	c.PublicBaseURL = strings.TrimRight(v.GetString("public.base_url"), "/")
	if c.PublicBaseURL == "" {
		c.PublicBaseURL, c.BaseURLDerived = baseFromAddr(c.HTTPAddr), true
	}
	c.SecretKey = v.GetString("security.secret_key")
	c.DefaultTimeZone = v.GetString("campaigns.default_time_zone")
	c.LogLevel = strings.ToLower(v.GetString("log.level"))
	c.LogFormat = strings.ToLower(v.GetString("log.format"))
	c.PprofAddr = v.GetString("debug.pprof_addr")
	c.CPUProfile = v.GetString("debug.cpu_profile")
	c.FeedsDir = v.GetString("feeds.dir")
	if raw := strings.TrimSpace(v.GetString("feeds.storage_url")); raw != "" {
		if c.FeedsStorage, err = objstore.Parse(raw); err != nil {
			shown := maskURL(raw)
			if _, perr := url.Parse(raw); perr != nil {
				shown = "****" // an unparsable URL may show its secret
			}
			return nil, &KeyError{"feeds.storage_url", shown, err.Error()}
		}
	}
	for _, p := range strings.Split(v.GetString("http.trusted_proxies"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	c.SMTPURL = v.GetString("smtp.url")
	c.SMTPFrom = v.GetString("smtp.from")
	for _, h := range strings.Split(v.GetString("alerts.webhook_http_hosts"), ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			c.WebhookHTTPHosts = append(c.WebhookHTTPHosts, h)
		}
	}
	c.MetricsAddr = v.GetString("metrics.addr")
	c.MetricsToken = v.GetString("metrics.token")
	c.LandingDefaultLang = strings.ToLower(strings.TrimSpace(v.GetString("landing.default_lang")))
	for _, o := range strings.Split(v.GetString("landing.frame_ancestors"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.LandingFrameAncestors = append(c.LandingFrameAncestors, o)
		}
	}

	durations := []struct {
		key string
		dst *time.Duration
		min time.Duration
		max time.Duration // 0: none
	}{
		{"security.session_ttl", &c.SessionTTL, time.Minute, 0},
		{"campaigns.blocked_retry_interval", &c.BlockedRetryInterval, time.Second, 0},
		{"campaigns.reconcile_interval", &c.ReconcileInterval, 100 * time.Millisecond, 0},
		// The go-live batch is due delayed + 1.5 polls + 1 s ahead (queue.Ahead).
		{"jobs.poll_interval", &c.JobsPollInterval, 10 * time.Millisecond, 10 * time.Second},
		{"jobs.delayed_interval", &c.JobsDelayedInterval, 10 * time.Millisecond, time.Minute},
		{"jobs.shutdown_timeout", &c.JobsShutdownTimeout, time.Second, 0},
		{"jobs.golive_hold", &c.GoLiveHold, 0, 0},
		{"loadcheck.max_duration", &c.LoadCheckMaxDuration, time.Second, 0},
		{"loadcheck.step_duration", &c.LoadCheckStep, time.Second, 0},
		{"loadcheck.validity", &c.LoadCheckValidity, time.Minute, 0},
		{"smtp.timeout", &c.SMTPTimeout, time.Second, 10 * time.Minute},
	}
	for _, d := range durations {
		if *d.dst, err = duration(v, d.key, d.min, d.max); err != nil {
			return nil, err
		}
	}
	if c.JobsConcurrency, err = integer(v, "jobs.concurrency", 1, 1000); err != nil {
		return nil, err
	}
	for _, h := range strings.Split(v.GetString("loadcheck.allowed_hosts"), ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			// host:port, or [v6]:port; a bare IPv6 address has no port.
			i := strings.LastIndex(h, ":")
			if (i >= 0 && strings.Count(h, ":") == 1) || (strings.HasPrefix(h, "[") && strings.Contains(h, "]:")) {
				if n, err := strconv.Atoi(h[i+1:]); err != nil || n < 1 || n > 65535 {
					return nil, &KeyError{"loadcheck.allowed_hosts", h, "a port must be a number from 1 to 65535 (host:port, e.g. shop.example:8443)"}
				}
			}
			c.LoadCheckAllowedHosts = append(c.LoadCheckAllowedHosts, h)
		}
	}
	if c.FeedsMaxGenerations, err = integer(v, "feeds.max_concurrent_generations", 1, 64); err != nil {
		return nil, err
	}
	if c.LoadCheckMaxRate, err = integer(v, "loadcheck.max_rate", 1, 1000000); err != nil {
		return nil, err
	}
	if err := emailKeys(v, c); err != nil {
		return nil, err
	}
	if err := seoKeys(v, c); err != nil {
		return nil, err
	}
	if err := affiliationKeys(v, c); err != nil {
		return nil, err
	}
	if err := retentionKeys(v, c); err != nil {
		return nil, err
	}
	if err := displayKeys(v, c); err != nil {
		return nil, err
	}
	raw := v.GetString("loadcheck.safety_factor")
	if c.LoadCheckSafety, err = strconv.ParseFloat(raw, 64); err != nil || c.LoadCheckSafety < 1 || c.LoadCheckSafety > 10 {
		return nil, &KeyError{"loadcheck.safety_factor", raw, "want a number from 1 to 10"}
	}
	return c, c.Validate()
}

func duration(v *viper.Viper, key string, min, max time.Duration) (time.Duration, error) {
	raw := v.GetString(key)
	d, err := time.ParseDuration(raw)
	if err != nil {
		return 0, &KeyError{key, raw, "not a duration (examples: 500ms, 5m, 24h)"}
	}
	if d < min {
		return 0, &KeyError{key, raw, fmt.Sprintf("must be at least %s", min)}
	}
	if max > 0 && d > max {
		return 0, &KeyError{key, raw, fmt.Sprintf("must be at most %s", max)}
	}
	return d, nil
}

func boolean(v *viper.Viper, key string) (bool, error) {
	raw := v.GetString(key)
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, &KeyError{key, raw, "want true or false"}
	}
	return b, nil
}

func integer(v *viper.Viper, key string, min, max int) (int, error) {
	raw := v.GetString(key)
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, &KeyError{key, raw, "not a whole number"}
	}
	if n < min || n > max {
		return 0, &KeyError{key, raw, fmt.Sprintf("must be between %d and %d", min, max)}
	}
	return n, nil
}

// Validate checks values that a type alone does not constrain.
func (c *Config) Validate() error {
	host, port, err := net.SplitHostPort(c.HTTPAddr)
	if err != nil {
		return &KeyError{"http.addr", c.HTTPAddr, "want host:port, e.g. 127.0.0.1:8080"}
	}
	_ = host
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return &KeyError{"http.addr", c.HTTPAddr, "port must be a number from 0 to 65535"}
	}
	if c.DatabaseDSN == "" {
		return &KeyError{"database.dsn", c.DatabaseDSN, "must not be empty"}
	}
	if IsPostgres(c.DatabaseDSN) {
		u, err := url.Parse(c.DatabaseDSN)
		if err != nil || u.Host == "" {
			return &KeyError{"database.dsn", maskURL(c.DatabaseDSN), "unparsable PostgreSQL URL; want postgres://user@host:5432/dbname"}
		}
	} else if strings.Contains(c.DatabaseDSN, "://") {
		return &KeyError{"database.dsn", maskURL(c.DatabaseDSN), "unknown scheme; use a SQLite file path or postgres://"}
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			return &KeyError{"redis.url", maskURL(c.RedisURL), "want redis://host:6379/0 or rediss://…"}
		}
	}
	u, err := url.Parse(c.PublicBaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &KeyError{"public.base_url", c.PublicBaseURL, "want an absolute http(s) URL"}
	}
	if _, err := time.LoadLocation(c.DefaultTimeZone); err != nil || c.DefaultTimeZone == "" || c.DefaultTimeZone == "Local" {
		return &KeyError{"campaigns.default_time_zone", c.DefaultTimeZone, "want an IANA time zone name, e.g. Europe/Paris (\"Local\", the server's own zone, is not one)"}
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return &KeyError{"http.trusted_proxies", p, "want IP addresses or CIDRs such as 10.0.0.0/8, comma-separated"}
			}
		}
	}
	if c.SMTPURL != "" {
		if _, err := mailer.ParseURL(c.SMTPURL); err != nil {
			return &KeyError{"smtp.url", maskURL(c.SMTPURL), err.Error()}
		}
	}
	if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
		return &KeyError{"smtp.from", c.SMTPFrom, "want an address such as Rampe <rampe@shop.example>"}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return &KeyError{"metrics.addr", c.MetricsAddr, "want host:port, e.g. 10.0.0.5:9100"}
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return &KeyError{"metrics.token", "****", "must be at least 16 characters"}
	}
	if c.LandingDefaultLang != "fr" && c.LandingDefaultLang != "en" {
		return &KeyError{"landing.default_lang", c.LandingDefaultLang, "want fr or en"}
	}
	for _, o := range c.LandingFrameAncestors {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" ||
			strings.ContainsAny(o, " ;,'\"") {
			return &KeyError{"landing.frame_ancestors", o, "want origins such as https://www.shop.example, comma-separated"}
		}
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		return &KeyError{"security.secret_key", "****", "must be at least 32 characters"}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return &KeyError{"log.level", c.LogLevel, "want debug, info, warn or error"}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return &KeyError{"log.format", c.LogFormat, "want text or json"}
	}
	return nil
}

// IsPostgres tells whether a DSN points at PostgreSQL.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Secure tells whether cookies must carry the Secure flag.
func (c *Config) Secure() bool { return strings.HasPrefix(c.PublicBaseURL, "https://") }

// Effective returns every key with its effective value, secrets masked, for
// `rampe config print`.
func (c *Config) Effective() []KV {
	out := make([]KV, 0, len(Options))
	for _, o := range Options {
		val := fmt.Sprint(c.v.Get(o.Key))
		if o.Secret && val != "" {
			val = "****"
		}
		if strings.Contains(val, "://") {
			val = maskURL(val)
		}
		out = append(out, KV{Key: o.Key, Value: val, Help: o.Help})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// KV is one line of the effective configuration.
type KV struct{ Key, Value, Help string }

// maskURL hides the password of a URL.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		// A URL that does not parse as written may still hold credentials
		// (a secret with an unescaped "/" reads as a path): everything
		// between the scheme and the last "@" goes.
		if at := strings.LastIndex(raw, "@"); at >= 0 {
			start := strings.Index(raw, "://") + len("://")
			if start < len("://") || start > at {
				start = 0
			}
			return raw[:start] + "****" + raw[at:]
		}
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "****")
	}
	return u.String()
}

// baseFromAddr is the URL of a server listening on addr, as this machine
// reaches it: a wildcard host is read as 127.0.0.1.
func baseFromAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr // Validate names the key
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

var indexNowKeyRE = regexp.MustCompile(`^[a-zA-Z0-9-]{8,128}$`)

// seoKeys reads the search channel's keys.
func seoKeys(v *viper.Viper, c *Config) error {
	var err error
	c.SEORobotsRules = v.GetString("seo.robots_rules")
	for i, line := range strings.Split(strings.ReplaceAll(c.SEORobotsRules, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, colon := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "user-agent", "allow", "disallow", "crawl-delay", "sitemap":
			if colon {
				break
			}
			fallthrough
		default:
			return &KeyError{"seo.robots_rules", line, fmt.Sprintf("line %d is not a robots.txt rule (User-agent, Allow, Disallow, Crawl-delay or Sitemap, then a colon)", i+1)}
		}
	}
	if c.SEOPageWeightKB, err = integer(v, "seo.page_weight_kb", 1, 1<<20); err != nil {
		return err
	}
	c.SEOIndexNowEndpoint = strings.TrimSpace(v.GetString("seo.indexnow_endpoint"))
	if c.SEOIndexNowEndpoint != "" {
		u, err := url.Parse(c.SEOIndexNowEndpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &KeyError{"seo.indexnow_endpoint", c.SEOIndexNowEndpoint, "want an absolute http(s) URL, e.g. https://api.indexnow.org/indexnow"}
		}
	}
	c.SEOIndexNowKey = strings.TrimSpace(v.GetString("seo.indexnow_key"))
	if c.SEOIndexNowKey != "" && !indexNowKeyRE.MatchString(c.SEOIndexNowKey) {
		return &KeyError{"seo.indexnow_key", c.SEOIndexNowKey, "want 8 to 128 letters, digits or dashes"}
	}
	return nil
}

// RetentionKinds are the kinds of retention.KIND_days.
var RetentionKinds = []string{"feed_runs", "load_checks", "audit", "events", "imports"}

func retentionKeys(v *viper.Viper, c *Config) error {
	c.Retention = map[string]time.Duration{}
	for _, k := range RetentionKinds {
		days, err := integer(v, "retention."+k+"_days", 0, 36500)
		if err != nil {
			return err
		}
		c.Retention[k] = time.Duration(days) * 24 * time.Hour
	}
	return nil
}

// displayKeys reads the display channel's keys.
func displayKeys(v *viper.Viper, c *Config) error {
	kb, err := integer(v, "display.max_weight_kb", 1, 2000)
	if err != nil {
		return err
	}
	c.DisplayMaxBytes = kb << 10
	if c.DisplayPollInterval, err = duration(v, "display.poll_interval", 10*time.Millisecond, time.Minute); err != nil {
		return err
	}
	c.DisplayTagMaxAge, err = duration(v, "display.tag_max_age", 0, time.Hour)
	return err
}

// emailKeys reads the e-mail channel's keys.
func emailKeys(v *viper.Viper, c *Config) error {
	var err error
	if c.EmailPoolSize, err = integer(v, "email.pool_size", 1, 100); err != nil {
		return err
	}
	if c.EmailConcurrency, err = integer(v, "email.concurrency", 1, 50); err != nil {
		return err
	}
	raw := v.GetString("email.max_rate")
	if c.EmailMaxRate, err = strconv.ParseFloat(raw, 64); err != nil || c.EmailMaxRate < 0 || c.EmailMaxRate > 100000 {
		return &KeyError{"email.max_rate", raw, "want messages per second, 0 (no cap) to 100000"}
	}
	for _, h := range strings.Split(v.GetString("email.link_hosts"), ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			c.EmailLinkHosts = append(c.EmailLinkHosts, h)
		}
	}
	c.EmailMailto = strings.TrimSpace(v.GetString("email.unsubscribe_mailto"))
	if c.EmailMailto != "" {
		if a, err := mail.ParseAddress(c.EmailMailto); err != nil || a.Name != "" {
			return &KeyError{"email.unsubscribe_mailto", c.EmailMailto, "want one address, e.g. unsubscribe@shop.example"}
		}
	}
	c.DKIMDomain = strings.ToLower(strings.TrimSpace(v.GetString("email.dkim_domain")))
	c.DKIMSelector = strings.TrimSpace(v.GetString("email.dkim_selector"))
	c.DKIMKeyFile = strings.TrimSpace(v.GetString("email.dkim_key_file"))
	set := 0
	for _, x := range []string{c.DKIMDomain, c.DKIMSelector, c.DKIMKeyFile} {
		if x != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		return &KeyError{"email.dkim_domain", c.DKIMDomain, "email.dkim_domain, email.dkim_selector and email.dkim_key_file go together: set all three or none"}
	}
	return nil
}

// affiliationKeys reads the affiliation channel's keys.
func affiliationKeys(v *viper.Viper, c *Config) error {
	var err error
	c.AffiliationShopURL = strings.TrimSpace(v.GetString("affiliation.shop_url"))
	if c.AffiliationShopURL != "" {
		u, perr := url.Parse(c.AffiliationShopURL)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &KeyError{"affiliation.shop_url", c.AffiliationShopURL, "want an absolute http(s) URL, e.g. https://www.shop.example/"}
		}
	}
	if c.AffiliationNotice, err = duration(v, "affiliation.notice", 0, 90*24*time.Hour); err != nil {
		return err
	}
	if c.AffiliationReturnWindow, err = duration(v, "affiliation.return_window", 0, 365*24*time.Hour); err != nil {
		return err
	}
	for _, h := range strings.Split(v.GetString("affiliation.postback_hosts"), ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			c.AffiliationPostbackHosts = append(c.AffiliationPostbackHosts, h)
		}
	}
	return nil
}
