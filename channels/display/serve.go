package display

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// snapshot is what the tags serve, built from the database and swapped
// whole: a request reads one snapshot, never half of one.
type snapshot struct {
	slots  map[string]*slot     // by placement key
	images map[string]*Creative // by File()
	caps   map[uint64]int       // campaign id → daily cap
}

// slot is a placement's choice: the live campaigns' creatives of its size,
// else the house creatives of its size.
type slot struct {
	placementID uint64
	live, house rotation
	capped      bool // some live creative's campaign has a cap
}

type rotation struct {
	variants []*variant
	total    int
}

func (r *rotation) add(v *variant) {
	r.variants = append(r.variants, v)
	r.total += v.weight
}

// pick draws a variant by weight among those allowed.
func (r *rotation) pick(allowed func(*variant) bool) *variant {
	total := r.total
	if allowed != nil {
		total = 0
		for _, v := range r.variants {
			if allowed(v) {
				total += v.weight
			}
		}
	}
	if total == 0 {
		return nil
	}
	n := rand.IntN(total)
	for _, v := range r.variants {
		if allowed != nil && !allowed(v) {
			continue
		}
		if n < v.weight {
			return v
		}
		n -= v.weight
	}
	return nil
}

// variant is one creative as a placement serves it, rendered once.
type variant struct {
	campaignID uint64 // 0: house
	weight     int
	js, html   []byte
	count      *counter
}

// Kind is the form of a tag.
type Kind int

// The two forms of a tag: a script that writes the creative where it
// stands, or a page for an iframe.
const (
	Script Kind = iota
	Frame
)

// Served is a tag's answer.
type Served struct {
	Body []byte
	// Cookie is the frequency-cap cookie's new value ("" leaves it).
	Cookie string
}

// Empty bodies: a placement with nothing to show draws nothing.
var (
	emptyJS   = []byte("/* rampe: nothing to show */\n")
	emptyHTML = []byte("<!doctype html><meta charset=utf-8><style>html,body{margin:0}</style>\n")
)

// ErrNoPlacement is a tag of an unknown placement.
var ErrNoPlacement = errors.New("display: no such placement")

// CapCookie is the name of the frequency-cap cookie.
const CapCookie = "rampe_fc"

// Tag answers a placement's tag and counts the impression (when count:
// not for HEAD). ua and cookie are the request's User-Agent and
// frequency-cap cookie; now is the request's time.
func (s *Service) Tag(key string, kind Kind, ua, cookie []byte, now time.Time, count bool) (Served, error) {
	sn := s.snap.Load()
	if sn == nil {
		return Served{}, ErrNoPlacement
	}
	sl, ok := sn.slots[key]
	if !ok {
		return Served{}, ErrNoPlacement
	}
	var out Served
	var v *variant
	if sl.capped {
		fc := parseCaps(cookie, day(now))
		v = sl.live.pick(func(v *variant) bool { c := sn.caps[v.campaignID]; return c == 0 || fc[v.campaignID] < c })
		if v != nil && sn.caps[v.campaignID] > 0 {
			fc[v.campaignID]++
			out.Cookie = formatCaps(fc, day(now))
		}
	} else {
		v = sl.live.pick(nil)
	}
	if v == nil {
		v = sl.house.pick(nil)
	}
	if v == nil {
		if kind == Frame {
			out.Body = emptyHTML
		} else {
			out.Body = emptyJS
		}
		return out, nil
	}
	if count {
		if s.isBot(ua) {
			v.count.bot.Add(1)
		} else {
			v.count.human.Add(1)
		}
	}
	if kind == Frame {
		out.Body = v.html
	} else {
		out.Body = v.js
	}
	return out, nil
}

func day(t time.Time) int64 { return t.Unix() / 86400 }

// parseCaps reads the cookie "day.cid-n.cid-n": impressions per campaign
// today. Another day's counts, or a malformed cookie, count as none.
func parseCaps(cookie []byte, today int64) map[uint64]int {
	out := map[uint64]int{}
	parts := strings.Split(string(cookie), ".")
	if len(parts) < 2 || parts[0] != strconv.FormatInt(today, 10) {
		return out
	}
	for _, p := range parts[1:] {
		a, b, ok := strings.Cut(p, "-")
		id, err1 := strconv.ParseUint(a, 10, 64)
		n, err2 := strconv.Atoi(b)
		if ok && err1 == nil && err2 == nil && n >= 0 && len(out) < 50 {
			out[id] = n
		}
	}
	return out
}

func formatCaps(fc map[uint64]int, today int64) string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(today, 10))
	for id, n := range fc {
		fmt.Fprintf(&b, ".%d-%d", id, n)
	}
	return b.String()
}

// Reload rebuilds the snapshot from the database.
func (s *Service) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	gen := ""
	if s.Bus != nil {
		var err error
		gen, err = s.Bus.Get(ctx, GenerationKey).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("display: read generation: %w", err)
		}
	}
	sn, err := s.build(ctx)
	if err != nil {
		return err
	}
	s.snap.Store(sn)
	s.seen = gen
	return nil
}

func (s *Service) build(ctx context.Context) (*snapshot, error) {
	q := s.DB.WithContext(ctx)
	var places []Placement
	if err := q.Find(&places).Error; err != nil {
		return nil, fmt.Errorf("display: load placements: %w", err)
	}
	var live []campaignState
	if err := q.Where("live = ?", true).Find(&live).Error; err != nil {
		return nil, fmt.Errorf("display: load live campaigns: %w", err)
	}
	sn := &snapshot{slots: map[string]*slot{}, images: map[string]*Creative{}, caps: map[uint64]int{}}
	ids := []uint64{}
	for _, c := range live {
		sn.caps[c.CampaignID] = c.FreqCap
		ids = append(ids, c.CampaignID)
	}
	var targets []target
	var crs []Creative
	if err := q.Where("campaign_id IN ?", ids).Find(&targets).Error; err != nil {
		return nil, fmt.Errorf("display: load targets: %w", err)
	}
	if err := q.Where("campaign_id IS NULL OR campaign_id IN ?", ids).Order("id").Find(&crs).Error; err != nil {
		return nil, fmt.Errorf("display: load creatives: %w", err)
	}
	targeted := map[[2]uint64]bool{}
	for _, t := range targets {
		targeted[[2]uint64{t.PlacementID, t.CampaignID}] = true
	}
	for i := range places {
		p := &places[i]
		sl := &slot{placementID: p.ID}
		for j := range crs {
			cr := &crs[j]
			if cr.Dim() != p.Size() {
				continue
			}
			v := &variant{weight: cr.Rotation, count: s.counter(p.ID, cr.ID)}
			if v.weight < 1 {
				v.weight = 1
			}
			v.js, v.html = s.render(cr)
			if cr.CampaignID == nil {
				sl.house.add(v)
				sn.images[cr.File()] = cr
				continue
			}
			if !targeted[[2]uint64{p.ID, *cr.CampaignID}] {
				continue
			}
			v.campaignID = *cr.CampaignID
			sl.live.add(v)
			sn.images[cr.File()] = cr
			if sn.caps[v.campaignID] > 0 {
				sl.capped = true
			}
		}
		sn.slots[p.Key] = sl
	}
	return sn, nil
}

// render builds a creative's markup: a link through /r/{token} (a house
// creative links its URL as it is) around the image at its size.
func (s *Service) render(cr *Creative) (js, page []byte) {
	href := cr.ClickURL
	if cr.LinkID != nil && s.Clicks != nil {
		href = s.BaseURL + "/r/" + s.Clicks.Token(*cr.LinkID, 0)
	}
	a := fmt.Sprintf(`<a href="%s" target="_blank" rel="noopener sponsored" data-rampe-creative="%d" style="display:inline-block;line-height:0">`+
		`<img src="%s/d/i/%s" width="%d" height="%d" alt="%s" style="border:0"></a>`,
		html.EscapeString(href), cr.ID, s.BaseURL, cr.File(), cr.Width, cr.Height, html.EscapeString(cr.Alt))
	// json.Marshal escapes <, > and & as \u003c…: the string cannot close
	// the script element nor start a comment.
	lit, _ := json.Marshal(a)
	js = []byte(`(function(){var s=document.currentScript,d=document.createElement("div");d.innerHTML=` + string(lit) +
		`;var a=d.firstChild;if(s&&s.parentNode){s.parentNode.insertBefore(a,s)}else{document.body.appendChild(a)}})();` + "\n")
	page = []byte(`<!doctype html><meta charset=utf-8><style>html,body{margin:0;overflow:hidden}</style>` + a + "\n")
	return js, page
}

// Watch keeps the snapshot in step with the generation in Redis until ctx
// ends: rebuilt at once when another node says it moved (ChangedChannel),
// and, in case a notice was lost (Redis restarted, a network blip), when a
// read every PollInterval finds a number other than the one built at; a
// full rebuild every minute covers the rest.
func (s *Service) Watch(ctx context.Context) {
	every := s.PollInterval
	if every <= 0 {
		every = DefaultPollInterval
	}
	if err := s.Reload(ctx); err != nil {
		slog.Error("display: first load", "err", err)
	}
	var notices <-chan *redis.Message
	if s.Bus != nil {
		sub := s.Bus.Subscribe(ctx, ChangedChannel)
		defer sub.Close()
		notices = sub.Channel()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-notices:
			if !ok { // the client closed: the reads carry on alone
				notices = nil
				continue
			}
			// A burst of changes (a go-live launching campaigns one after
			// another) is one rebuild per noticeGap at most: the
			// generation read after the gap is the newest.
			select {
			case <-time.After(time.Until(last.Add(noticeGap))):
			case <-ctx.Done():
				return
			}
			for len(notices) > 0 {
				<-notices
			}
		case <-tick.C:
		}
		if s.follow(ctx, time.Since(last) > time.Minute) {
			last = time.Now()
		}
	}
}

// noticeGap is the least time between two rebuilds a node makes on
// notices.
const noticeGap = 200 * time.Millisecond

// DefaultPollInterval is Watch's read of the generation when none is set.
const DefaultPollInterval = 5 * time.Second

// follow rebuilds the snapshot when stale or when the generation in Redis
// is not the one it was built at; it tells whether it rebuilt.
func (s *Service) follow(ctx context.Context, stale bool) bool {
	if !stale && s.Bus != nil {
		gen, err := s.Bus.Get(ctx, GenerationKey).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			slog.Warn("display: read generation", "err", err)
			return false
		}
		s.mu.Lock()
		stale = gen != s.seen
		s.mu.Unlock()
	}
	if !stale {
		return false
	}
	if err := s.Reload(ctx); err != nil {
		slog.Warn("display: reload", "err", err)
		return false
	}
	return true
}
