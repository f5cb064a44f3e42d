package clicks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	useragent "github.com/medama-io/go-useragent"
)

// BotClass marks the clicks of known robots, which reports leave out.
const BotClass = "bot"

var (
	uaParser     *useragent.Parser
	uaParserOnce sync.Once
)

// botWords are tools that do not say they are robots the way the parser
// knows (HTTP libraries, link previewers, headless browsers).
var botWords = []string{"bot", "crawl", "spider", "slurp", "curl/", "wget/", "python-requests", "python-urllib", "go-http-client",
	"java/", "okhttp", "headlesschrome", "facebookexternalhit", "preview", "httpclient", "scrapy", "libwww", "wrk"}

// classes caches the class of user agents seen (a few thousand distinct
// strings make most traffic); past maxClasses new ones are parsed each time.
var (
	classes    sync.Map
	classCount atomic.Int64
)

const maxClasses = 10000

// Classify puts a user agent in one class: bot, mobile, tablet, desktop
// or other. An empty user agent is a bot: browsers always send one.
func Classify(ua string) string {
	if c, ok := classes.Load(ua); ok {
		return c.(string)
	}
	c := classify(ua)
	if classCount.Load() < maxClasses && len(ua) < 1024 {
		if _, loaded := classes.LoadOrStore(ua, c); !loaded {
			classCount.Add(1)
		}
	}
	return c
}

func classify(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return BotClass
	}
	low := strings.ToLower(ua)
	for _, w := range botWords {
		if strings.Contains(low, w) {
			return BotClass
		}
	}
	uaParserOnce.Do(func() { uaParser = useragent.NewParser() })
	a := uaParser.Parse(ua)
	switch {
	case a.IsBot():
		return BotClass
	case a.IsTablet():
		return "tablet"
	case a.IsMobile():
		return "mobile"
	case a.IsDesktop():
		return "desktop"
	}
	return "other"
}

// saltOfDay keys the IP hash with a salt derived from the deployment's
// secret and the UTC day: the same visitor hashes the same within a day
// (unique clicks) on every node, and hashes of two days cannot be joined.
type saltOfDay struct {
	mu   sync.Mutex
	day  string
	salt []byte
}

func (d *saltOfDay) hash(secret []byte, now time.Time, ip string) string {
	day := now.UTC().Format("2006-01-02")
	d.mu.Lock()
	if d.day != day {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("rampe-click-ip-salt:" + day))
		d.day, d.salt = day, m.Sum(nil)
	}
	salt := d.salt
	d.mu.Unlock()
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(ip))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// newClickID is a click's unguessable id, 32 hex characters.
func newClickID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
