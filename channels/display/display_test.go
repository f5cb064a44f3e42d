package display

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
)

const landingURL = "http://127.0.0.1:19400/l/soldes"

type fixture struct {
	s    *Service
	conn *queue.Conn
	c    *campaigns.Campaign
}

func setup(t *testing.T) fixture {
	t.Helper()
	g := testenv.DB(t, db.Migrations, campaigns.Migrations, clicks.Migrations, Migrations)
	conn := testenv.Redis(t)
	cs := campaigns.NewService(g, queue.NewClient(conn), clock.System{})
	in := campaigns.Input{Name: "Soldes", Channels: []string{"display"}, TimeZone: "Europe/Paris", StartsAt: "2026-12-01T08:00", EndsAt: "2026-12-10T20:00",
		Currency: "EUR", Budgets: map[string]int64{"display": 1}, Forecast: map[string]map[string]float64{"display": {"impressions": 10, "ctr": 0.1}}}
	c, err := cs.Create(context.Background(), in, "ana")
	if err != nil {
		t.Fatal(err)
	}
	return fixture{s: newService(g, conn), conn: conn, c: c}
}

func newService(g *gorm.DB, conn *queue.Conn) *Service {
	s := &Service{DB: g, Bus: conn.Redis, BaseURL: "http://127.0.0.1:19400", PollInterval: 20 * time.Millisecond,
		Clicks:     &clicks.Service{DB: g, Secret: []byte("0123456789abcdef0123456789abcdef"), Clock: clock.System{}},
		LandingURL: func(context.Context, *campaigns.Campaign) (string, error) { return landingURL, nil }}
	if err := s.Reload(context.Background()); err != nil {
		panic(err)
	}
	return s
}

var red, white = color.RGBA{200, 0, 0, 255}, color.RGBA{255, 255, 255, 255}

func encode(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, nil)
	case "gif":
		err = gif.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func fieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// Creatives are taken from their bytes: PNG, JPEG and GIF of IAB sizes;
// anything else is refused with an error naming the file field and what
// is wrong, and nothing is stored.
func TestCreativesAreCheckedFromTheirBytes(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	for _, format := range []string{"png", "jpeg", "gif"} {
		cr, err := f.s.AddCreative(ctx, f.c, CreativeInput{Data: encode(t, format, 300, 250), Filename: "a." + format, Alt: "Soldes -50 %"}, "ana")
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if cr.Width != 300 || cr.Height != 250 || cr.MIME != "image/"+format {
			t.Errorf("%s: read as %dx%d %s", format, cr.Width, cr.Height, cr.MIME)
		}
		if !strings.HasPrefix(cr.ClickURL, landingURL+"?utm_") || cr.LinkID == nil {
			t.Errorf("%s: click URL %q link %v", format, cr.ClickURL, cr.LinkID)
		}
	}
	// A noisy PNG of an IAB size weighs far more than 150 KB.
	noisy := image.NewRGBA(image.Rect(0, 0, 300, 250))
	for i := range noisy.Pix {
		noisy.Pix[i] = byte(rand.IntN(256))
	}
	var heavy bytes.Buffer
	png.Encode(&heavy, noisy)
	webp := []byte("RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f")
	webp = binary.LittleEndian.AppendUint32(webp, uint32(299)|uint32(249)<<14) // a lossless header of 300×250 and no pixels
	webp = append(webp, make([]byte, 20)...)
	binary.LittleEndian.PutUint32(webp[4:], uint32(len(webp)-8))
	binary.LittleEndian.PutUint32(webp[16:], uint32(len(webp)-20))
	svg := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="300" height="250"><script>alert(document.cookie)</script></svg>`)
	for _, tc := range []struct {
		name string
		in   CreativeInput
		want string
	}{
		{"wrong size", CreativeInput{Data: encode(t, "png", 301, 250), Alt: "x"}, "301×250 px; accepted sizes are the IAB units 300×250, 728×90"},
		{"PHP named .png", CreativeInput{Data: []byte("<?php system($_GET['c']); ?>"), Filename: "shell.png", Alt: "x"}, "text/plain; charset=utf-8, not an image Rampe takes"},
		{"SVG with script", CreativeInput{Data: svg, Filename: "banner.png", Alt: "x"}, "SVG is refused"},
		{"SVG without declaration", CreativeInput{Data: []byte("\n  <svg onload=alert(1) width=300 height=250/>"), Alt: "x"}, "SVG is refused"},
		{"empty", CreativeInput{Alt: "x"}, "choose an image file"},
		{"truncated PNG", CreativeInput{Data: encode(t, "png", 300, 250)[:60], Alt: "x"}, "damaged"},
		{"WebP header without pixels", CreativeInput{Data: webp, Alt: "x"}, "the webp image is damaged"},
		{"too heavy", CreativeInput{Data: heavy.Bytes(), Alt: "x"}, "over the 150.0 KB limit (display.max_weight_kb)"},
	} {
		_, err := f.s.AddCreative(ctx, f.c, tc.in, "ana")
		if fieldOf(err) != "file" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want file: …%s…", tc.name, err, tc.want)
		}
	}
	ok := encode(t, "png", 728, 90)
	for _, tc := range []struct {
		in    CreativeInput
		field string
	}{
		{CreativeInput{Data: ok, Alt: "  "}, "alt"},
		{CreativeInput{Data: ok, Alt: strings.Repeat("é", 151)}, "alt"},
		{CreativeInput{Data: ok, Alt: "x", Rotation: 101}, "rotation_weight"},
		{CreativeInput{Data: ok, Alt: "x", ClickURL: "javascript:alert(1)"}, "click_url"},
	} {
		if _, err := f.s.AddCreative(ctx, f.c, tc.in, "ana"); fieldOf(err) != tc.field {
			t.Errorf("%+v: %v, want %s", tc.in.Alt, err, tc.field)
		}
	}
	if _, err := f.s.AddCreative(ctx, nil, CreativeInput{Data: ok, Alt: "x"}, "ana"); fieldOf(err) != "click_url" {
		t.Errorf("a house creative without a click URL: %v", err)
	}
	crs, _ := f.s.Creatives(ctx, &f.c.ID)
	if len(crs) != 3 {
		t.Errorf("%d creatives stored, want the 3 good ones", len(crs))
	}
}

func placeTarget(t *testing.T, f fixture, size string, capN int) *Placement {
	t.Helper()
	ctx := context.Background()
	p, err := f.s.AddPlacement(ctx, PlacementInput{Key: "home-" + strings.ReplaceAll(size, "x", "-"), Name: "Home " + size, Site: "shop.example", Size: size})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetSettings(ctx, f.c.ID, Settings{Placements: []uint64{p.ID}, FreqCap: capN}); err != nil {
		t.Fatal(err)
	}
	return p
}

func serve(t *testing.T, s *Service, key string, kind Kind) string {
	t.Helper()
	out, err := s.Tag(key, kind, []byte("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"), nil, time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Body)
}

// twoNodes is a placement with a house creative and the campaign's, and a
// second node watching the same database and Redis every poll (it stops
// with the test).
func twoNodes(t *testing.T, poll time.Duration) (f fixture, p *Placement, house, camp *Creative, other *Service) {
	t.Helper()
	ctx := context.Background()
	f = setup(t)
	p = placeTarget(t, f, "300x250", 0)
	house, err := f.s.AddCreative(ctx, nil, CreativeInput{Data: Banner(Size{300, 250}, white, red, "house"), Alt: "Our shop", ClickURL: "https://shop.example/"}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	camp, err = f.s.AddCreative(ctx, f.c, CreativeInput{Data: Banner(Size{300, 250}, red, white, "sale"), Alt: "Sale <50 %>"}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	other = newService(f.s.DB, f.conn)
	other.PollInterval = poll
	wctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go other.Watch(wctx)
	return f, p, house, camp, other
}

// The tag serves the house creative until the campaign launches, the
// campaign's creative while it is live, the house one again once halted
// — on this node at once, on another node sharing the database and Redis
// as soon as it reads the new generation.
func TestTagSwitchesAtGoLiveAndHaltOnEveryNode(t *testing.T) {
	ctx := context.Background()
	f, p, house, camp, other := twoNodes(t, 20*time.Millisecond)
	has := func(s *Service, cr *Creative) bool {
		return strings.Contains(serve(t, s, p.Key, Script), cr.File()) && strings.Contains(serve(t, s, p.Key, Frame), cr.File())
	}
	if !has(f.s, house) {
		t.Fatalf("before launch: %s", serve(t, f.s, p.Key, Script))
	}
	waitFor(t, "the other node serves the house creative", func() bool { return has(other, house) })
	ch := Channel{Service: f.s}
	if msg, err := ch.Launch(ctx, f.c); err != nil || msg != "creatives on in 1 placements" {
		t.Fatal(msg, err)
	}
	js := serve(t, f.s, p.Key, Script)
	if !has(f.s, camp) || !strings.Contains(js, `/r/`) || !strings.Contains(js, `alt=\"Sale \u0026lt;50 %\u0026gt;\"`) || strings.Contains(js, "<") {
		t.Fatalf("live: %s", js)
	}
	waitFor(t, "the other node serves the campaign's creative", func() bool { return has(other, camp) })
	if _, err := ch.Halt(ctx, f.c, "paused"); err != nil {
		t.Fatal(err)
	}
	if !has(f.s, house) {
		t.Fatal("halted: still the campaign's creative")
	}
	waitFor(t, "the other node is back to the house creative", func() bool { return has(other, house) })
	if _, err := ch.Resume(ctx, f.c); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other node resumes", func() bool { return has(other, camp) })
	// A Redis flushed (restarted) loses the generation: the nodes see a
	// number different from theirs and rebuild all the same.
	f.conn.Redis.Del(ctx, GenerationKey)
	f.s.DB.Model(&campaignState{}).Where("campaign_id = ?", f.c.ID).Update("live", false)
	waitFor(t, "the other node notices the lost generation", func() bool { return has(other, house) })
	if _, err := f.s.Tag("nope", Script, nil, nil, time.Now(), true); !errors.Is(err, ErrNoPlacement) {
		t.Errorf("unknown placement: %v", err)
	}
}

// Another node learns of a launch and a halt from the notice over Redis
// pub/sub, at once: it reads the generation only every hour here.
func TestAChangeReachesAnotherNodeByItsNotice(t *testing.T) {
	ctx := context.Background()
	f, p, house, camp, other := twoNodes(t, time.Hour)
	// The watch is subscribed once Redis counts it.
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n, _ := f.conn.Redis.PubSubNumSub(ctx, ChangedChannel).Result(); n[ChangedChannel] == 1 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the other node never subscribed")
		}
	}
	serves := func(cr *Creative) func() bool {
		return func() bool { return strings.Contains(serve(t, other, p.Key, Script), cr.File()) }
	}
	if !serves(house)() {
		t.Fatal("before launch: not the house creative")
	}
	ch := Channel{Service: f.s}
	if _, err := ch.Launch(ctx, f.c); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other node serves the campaign's creative", serves(camp))
	if _, err := ch.Halt(ctx, f.c, "paused"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other node is back to the house creative", serves(house))
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("never: %s", what)
		}
	}
}

// Impressions are counted per creative and placement, bots apart, and
// all of them are written once Run stops.
func TestImpressionsAreCountedAndWrittenOnStop(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	p := placeTarget(t, f, "728x90", 0)
	cr, err := f.s.AddCreative(ctx, f.c, CreativeInput{Data: Banner(Size{728, 90}, red, white, "sale"), Alt: "Sale"}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	Channel{Service: f.s}.Launch(ctx, f.c)
	run, stop := context.WithCancel(ctx)
	ran := make(chan struct{}) // Wait returns at once if Run has not started yet: wait for Run itself
	go func() { defer close(ran); f.s.Run(run) }()
	for i := 0; i < 2500; i++ {
		serve(t, f.s, p.Key, Script)
	}
	for _, ua := range []string{"", "Googlebot/2.1 (+http://www.google.com/bot.html)", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"} {
		f.s.Tag(p.Key, Frame, []byte(ua), nil, time.Now(), true)
	}
	f.s.Tag(p.Key, Script, []byte("Mozilla/5.0"), nil, time.Now(), false) // HEAD
	stop()
	<-ran
	st, err := f.s.Stats(ctx, f.c.ID)
	if err != nil || len(st) != 1 {
		t.Fatal(st, err)
	}
	if st[0].ID != cr.ID || st[0].Impressions != 2500 || st[0].Bots != 3 {
		t.Errorf("stats: %+v", st[0])
	}
	if n, _ := f.s.TotalImpressions(ctx); n != 2503 {
		t.Errorf("total %d", n)
	}
}

// A visitor past the campaign's daily cap gets the house creative; the
// cookie counts per campaign and per day.
func TestFrequencyCap(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	p := placeTarget(t, f, "320x50", 2)
	house, _ := f.s.AddCreative(ctx, nil, CreativeInput{Data: Banner(Size{320, 50}, white, red, "house"), Alt: "Shop", ClickURL: "https://shop.example/"}, "ana")
	camp, _ := f.s.AddCreative(ctx, f.c, CreativeInput{Data: Banner(Size{320, 50}, red, white, "sale"), Alt: "Sale"}, "ana")
	Channel{Service: f.s}.Launch(ctx, f.c)
	now := time.Now()
	var cookie []byte
	for i := 0; i < 2; i++ {
		out, _ := f.s.Tag(p.Key, Script, []byte("Mozilla/5.0"), cookie, now, true)
		if !bytes.Contains(out.Body, []byte(camp.File())) || out.Cookie == "" {
			t.Fatalf("impression %d: %s %q", i+1, out.Body, out.Cookie)
		}
		cookie = []byte(out.Cookie)
	}
	out, _ := f.s.Tag(p.Key, Script, []byte("Mozilla/5.0"), cookie, now, true)
	if !bytes.Contains(out.Body, []byte(house.File())) {
		t.Fatalf("past the cap: %s", out.Body)
	}
	out, _ = f.s.Tag(p.Key, Script, []byte("Mozilla/5.0"), cookie, now.Add(24*time.Hour), true)
	if !bytes.Contains(out.Body, []byte(camp.File())) {
		t.Fatalf("the next day: %s", out.Body)
	}
	for _, bad := range []string{"garbage", "1.x-y", strings.Repeat("9", 4000)} {
		if out, err := f.s.Tag(p.Key, Script, []byte("Mozilla/5.0"), []byte(bad), now, true); err != nil || !bytes.Contains(out.Body, []byte(camp.File())) {
			t.Errorf("cookie %.20q: %v", bad, err)
		}
	}
}

// display.creatives fails, naming what is missing, until every targeted
// placement has a creative of its size clicking to the landing page.
func TestCreativesGate(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	gate := func() campaigns.Result { return f.s.creativesGate(ctx, f.c, time.Now()) }
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Text("en"), "targets no placement") || !strings.Contains(r.Text("fr"), "ne cible aucun emplacement") {
		t.Fatalf("no placement: %+v", r)
	}
	p := placeTarget(t, f, "160x600", 0)
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Text("en"), "placement "+p.Key+" (160×600) has no creative of its size") {
		t.Fatalf("no creative: %+v", r)
	}
	cr, err := f.s.AddCreative(ctx, f.c, CreativeInput{Data: Banner(Size{160, 600}, red, white, "sale"), Alt: "Sale", ClickURL: "https://elsewhere.example/x"}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Text("en"), "not the campaign's landing page") {
		t.Fatalf("elsewhere: %+v", r)
	}
	f.s.DeleteCreative(ctx, &f.c.ID, cr.ID)
	if _, err := f.s.AddCreative(ctx, f.c, CreativeInput{Data: Banner(Size{160, 600}, red, white, "sale"), Alt: "Sale"}, "ana"); err != nil {
		t.Fatal(err)
	}
	if r := gate(); r.Outcome != campaigns.Pass {
		t.Fatalf("ready: %+v", r)
	}
	f.s.MaxBytes = 100
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Text("en"), "over 0.1 KB") || !strings.Contains(r.Text("fr"), "au-delà de 0,1 Ko") {
		t.Fatalf("limit lowered: %+v", r)
	}
}

func TestPlacementInput(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	for _, tc := range []struct {
		in    PlacementInput
		field string
	}{
		{PlacementInput{Key: "Home Top", Name: "x", Size: "300x250"}, "key"},
		{PlacementInput{Key: "home", Name: "", Size: "300x250"}, "name"},
		{PlacementInput{Key: "home", Name: "x", Size: "301x250"}, "size"},
		{PlacementInput{Key: "home", Name: "x", Size: "300x250x1"}, "size"},
	} {
		if _, err := f.s.AddPlacement(ctx, tc.in); fieldOf(err) != tc.field {
			t.Errorf("%+v: %v", tc.in, err)
		}
	}
	if _, err := f.s.AddPlacement(ctx, PlacementInput{Key: "home", Name: "x", Size: "300x250"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AddPlacement(ctx, PlacementInput{Key: "home", Name: "y", Size: "728x90"}); fieldOf(err) != "key" {
		t.Errorf("duplicate key: %v", err)
	}
	if err := f.s.SetSettings(ctx, f.c.ID, Settings{Placements: []uint64{999}}); fieldOf(err) != "placements" {
		t.Errorf("unknown placement: %v", err)
	}
	err := f.s.SetSettings(ctx, f.c.ID, Settings{FreqCap: -1})
	if fieldOf(err) != "freq_cap" {
		t.Errorf("negative cap: %v", err)
	}
	if fr := i18n.Text(i18n.FR, err); fr != "freq_cap: -1 est hors de 0 (aucun plafond) à 1000 impressions par jour" {
		t.Errorf("in French: %q", fr)
	}
}

// Creatives of one placement rotate by their weight.
func TestWeightedRotation(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	p := placeTarget(t, f, "468x60", 0)
	light, _ := f.s.AddCreative(ctx, f.c, CreativeInput{Data: Banner(Size{468, 60}, red, white, "a"), Alt: "A", Rotation: 1}, "ana")
	heavy, _ := f.s.AddCreative(ctx, f.c, CreativeInput{Data: Banner(Size{468, 60}, white, red, "b"), Alt: "B", Rotation: 3}, "ana")
	Channel{Service: f.s}.Launch(ctx, f.c)
	n := map[string]int{}
	for i := 0; i < 8000; i++ {
		js := serve(t, f.s, p.Key, Script)
		switch {
		case strings.Contains(js, light.File()):
			n["light"]++
		case strings.Contains(js, heavy.File()):
			n["heavy"]++
		}
	}
	// Expected 2,000 and 6,000; a binomial spread is about ±40.
	if n["light"] < 1700 || n["light"] > 2300 || n["light"]+n["heavy"] != 8000 {
		t.Errorf("rotation 1:3 over 8,000 impressions gave %v", n)
	}
}

// A real WebP (cwebp, testdata) passes the checks with its type and size
// read from the file; cut short, it is refused as damaged.
func TestWebPIsReadFromTheFile(t *testing.T) {
	webp, err := os.ReadFile("testdata/creative-300x250.webp")
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{}
	mime, z, err := s.CheckImage(webp)
	if err != nil || mime != "image/webp" || z != (Size{300, 250}) {
		t.Fatalf("%s %v %v", mime, z, err)
	}
	if _, _, err := s.CheckImage(webp[:len(webp)/2]); err == nil {
		t.Fatal("half a WebP was accepted")
	}
}
