package clicks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"hash"
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
// or other. An empty user agent is a bot: browsers always send one. ua
// may alias a request's buffer: what is kept of it is a copy.
func Classify(ua string) string {
	if c, ok := classes.Load(ua); ok {
		return c.(string)
	}
	c := classify(ua)
	if classCount.Load() < maxClasses && len(ua) < 1024 {
		if _, loaded := classes.LoadOrStore(strings.Clone(ua), c); !loaded {
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
// The day's keyed HMACs are pooled: one is reset, not made, per click.
type saltOfDay struct {
	cur atomic.Pointer[daySalt]
}

type daySalt struct {
	day  int64     // days since 1970, UTC
	pool sync.Pool // of *ipHasher keyed with the day's salt
}

// ipHasher is a keyed HMAC with its own buffers: hashing an IP allocates
// nothing but the hex string.
type ipHasher struct {
	mac hash.Hash
	in  []byte
	sum []byte
}

func (d *saltOfDay) hash(secret []byte, now time.Time, ip string) string {
	day := now.Unix() / 86400
	ds := d.cur.Load()
	if ds == nil || ds.day != day {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("rampe-click-ip-salt:" + now.UTC().Format("2006-01-02")))
		salt := m.Sum(nil)
		ds = &daySalt{day: day}
		ds.pool.New = func() any {
			return &ipHasher{mac: hmac.New(sha256.New, salt), in: make([]byte, 0, 64), sum: make([]byte, 0, sha256.Size)}
		}
		d.cur.Store(ds)
	}
	h := ds.pool.Get().(*ipHasher)
	h.mac.Reset()
	h.in = append(h.in[:0], ip...)
	h.mac.Write(h.in)
	h.sum = h.mac.Sum(h.sum[:0])
	out := hex.EncodeToString(h.sum[:16])
	ds.pool.Put(h)
	return out
}

// newClickID is a click's id, 32 hex characters: the click's time in
// milliseconds since 1970 (6 bytes, big-endian) then 10 random bytes, in
// the manner of a UUIDv7. The 80 random bits keep it unguessable; the time
// first makes the ids of a batch follow one another in the click id index,
// so that writing a batch touches the few index pages at its end instead of
// one page per click scattered over the whole index (with random ids, most
// of SQLite's write time under bench/redirect, and as many WAL pages).
func newClickID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

// IssuedAt is the time a click id was made, read from its first 6 bytes;
// ok is false for what is not 32 hex characters. Ids made before they
// carried their time (random) read as some time far from now.
func IssuedAt(clickID string) (t time.Time, ok bool) {
	if len(clickID) != 32 {
		return time.Time{}, false
	}
	var b [16]byte
	if _, err := hex.Decode(b[:], []byte(clickID)); err != nil {
		return time.Time{}, false
	}
	var ms uint64
	for _, c := range b[:6] {
		ms = ms<<8 | uint64(c)
	}
	return time.UnixMilli(int64(ms)).UTC(), true
}
