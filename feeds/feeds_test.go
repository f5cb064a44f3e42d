package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type env struct {
	svc    *Service
	cat    *catalog.Store
	promos *landing.Promotions
	clk    *clock.Fixed
	dir    string
}

const catalogCSV = "sku;title;brand;gtin;price;stock;product_type;link;image_link;description\n" +
	"F-1;Chaise \"Oslo\" & <co>;Nordik;4006381333931;100.00;4;Maison > Salon;https://shop.example/f1?x=1;https://cdn.example/f1.jpg;Chaise\tsolide\nen chêne\n" +
	"F-2;Table Été ☀️;Nordik;;80.00;2;Maison > Cuisine;https://shop.example/f2;https://cdn.example/f2.jpg;Table; ronde\n" +
	"F-3;Lampe sans image;Lumen;;30.00;9;Maison > Luminaires;https://shop.example/f3;;Lampe.\n" +
	"F-4;Gratuit;Lumen;;0.00;1;Maison > Salon;https://shop.example/f4;https://cdn.example/f4.jpg;Rien.\n" +
	"F-5;Épuisé;Kaze;;12.00;0;Sport;https://shop.example/f5;https://cdn.example/f5.jpg;<b>HTML</b> description\n"

func newEnv(t *testing.T) *env {
	t.Helper()
	g := testenv.DB(t, db.Migrations, catalog.Migrations, landing.Migrations, campaigns.Migrations, Migrations)
	clk := clock.NewFixed(t0)
	// The import stamps products with the test's clock: with the real one,
	// every product changed after t0 once the calendar passed it.
	e := &env{cat: &catalog.Store{DB: g, Clock: clk}, clk: clk, dir: t.TempDir()}
	// The CSV holds quoted fields with embedded line breaks and tabs.
	body := strings.Replace(catalogCSV, "Chaise\tsolide\nen chêne", "\"Chaise\tsolide\nen chêne\"", 1)
	body = strings.Replace(body, "Table; ronde", "\"Table; ronde\"", 1)
	body = strings.Replace(body, "Chaise \"Oslo\" & <co>", "\"Chaise \"\"Oslo\"\" & <co>\"", 1)
	if _, err := e.cat.Import(context.Background(), strings.NewReader(body), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	e.promos = &landing.Promotions{DB: g, Catalog: e.cat, Clock: e.clk, DefaultTZ: "Europe/Paris"}
	e.svc = &Service{DB: g, Storage: Dir{Root: e.dir}, Catalog: e.cat, Promotions: e.promos, BaseURL: "https://rampe.example", Clock: e.clk}
	return e
}

func (e *env) feed(t *testing.T, f *Feed) *Feed {
	t.Helper()
	if err := e.svc.Create(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	return f
}

func (e *env) read(t *testing.T, f *Feed, name string) []byte {
	t.Helper()
	st, err := e.svc.Storage.Open(context.Background(), f.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, _ := io.ReadAll(st)
	return b
}

func TestGoogleXMLRoundTripWithSaleAndValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.promos.Create(ctx, landing.PromotionInput{Name: "BF", Kind: landing.PercentOff, Value: "30", Scope: landing.ScopeBrand, ScopeValue: "Nordik",
		StartsAt: "2026-11-27T00:00", EndsAt: "2026-12-01T00:00", TimeZone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.promos.Publish(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	f := e.feed(t, &Feed{Name: "google-fr", Format: GoogleXML, TitleTemplate: "{brand} {title}", UTMSource: "google", UTMMedium: "comparison"})
	run, err := e.svc.Generate(ctx, f.ID, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if run.Written != 3 || run.Skipped != 2 || run.ByRule["required.image_link"] != 1 || run.ByRule["price.positive"] != 1 || run.ByRule["description.html"] != 1 {
		t.Fatalf("run: %+v", run)
	}
	raw := e.read(t, f, "google-fr.xml")
	var doc struct {
		Channel struct {
			Items []struct {
				ID        string `xml:"http://base.google.com/ns/1.0 id"`
				Title     string `xml:"http://base.google.com/ns/1.0 title"`
				Desc      string `xml:"http://base.google.com/ns/1.0 description"`
				Link      string `xml:"http://base.google.com/ns/1.0 link"`
				Price     string `xml:"http://base.google.com/ns/1.0 price"`
				Sale      string `xml:"http://base.google.com/ns/1.0 sale_price"`
				SaleDates string `xml:"http://base.google.com/ns/1.0 sale_price_effective_date"`
				Ident     string `xml:"http://base.google.com/ns/1.0 identifier_exists"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, raw)
	}
	items := doc.Channel.Items
	if len(items) != 3 {
		t.Fatalf("%d items", len(items))
	}
	f1 := items[0]
	if f1.ID != "F-1" || f1.Title != `Nordik Chaise "Oslo" & <co>` || f1.Price != "100.00 EUR" || f1.Sale != "70.00 EUR" ||
		f1.SaleDates != "2026-11-27T00:00+01:00/2026-12-01T00:00+01:00" || !strings.Contains(f1.Link, "x=1") || !strings.Contains(f1.Link, "utm_source=google") {
		t.Fatalf("F-1 = %+v", f1)
	}
	if items[1].Ident != "no" || items[2].Sale != "" {
		t.Fatalf("items: %+v", items)
	}
	// The gzip sibling holds the same bytes.
	gz := e.read(t, f, "google-fr.xml.gz")
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, raw) {
		t.Fatal("gzip sibling differs")
	}
	issues, _ := e.svc.ProductIssues(ctx, "F-3")
	if len(issues["google-fr"]) == 0 || issues["google-fr"][0].Severity != "error" || issues["google-fr"][0].Rule != "required.image_link" {
		t.Fatalf("product issues: %+v", issues)
	}
}

func TestDelimitedFormatsParse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tsv := e.feed(t, &Feed{Name: "google-tsv", Format: GoogleTSV})
	idealo := e.feed(t, &Feed{Name: "idealo", Format: IdealoCSV, DeliveryTime: "1-3 jours", Shipping: "4.90"})
	generic := e.feed(t, &Feed{Name: "kelkoo", Format: Generic, Separator: ";", DecimalComma: true, Columns: []Column{
		{Header: "offer-id", Template: "{sku}"}, {Header: "title", Template: "{brand} – {title}"}, {Header: "price", Template: "{price_value}"}, {Header: "url", Template: "{link}"}}})
	for _, f := range []*Feed{tsv, idealo, generic} {
		if _, err := e.svc.Generate(ctx, f.ID, "test", nil); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(string(e.read(t, tsv, "google-tsv.tsv"))), "\n")
	if len(lines) != 4 || strings.Count(lines[1], "\t") != len(googleOrder)-1 || !strings.Contains(lines[1], "Chaise solide en chêne") {
		t.Fatalf("TSV:\n%s", strings.Join(lines, "\n"))
	}
	r := csv.NewReader(bytes.NewReader(e.read(t, idealo, "idealo.csv")))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("idealo CSV does not parse: %v", err)
	}
	// idealo needs no image: F-3 stays; F-4 (price 0) goes.
	if len(rows) != 5 || rows[0][0] != "sku" || rows[2][9] != "Table; ronde" || rows[1][9] != "Chaise\tsolide\nen chêne" {
		t.Fatalf("idealo rows: %q", rows)
	}
	r = csv.NewReader(bytes.NewReader(e.read(t, generic, "kelkoo.csv")))
	r.Comma = ';'
	rows, err = r.ReadAll()
	if err != nil || rows[1][2] != "100,00" || rows[1][1] != `Nordik – Chaise "Oslo" & <co>` {
		t.Fatalf("generic rows: %q %v", rows, err)
	}
}

func TestFailedGenerationKeepsThePreviousFile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := e.feed(t, &Feed{Name: "google-fr", Format: GoogleXML})
	if _, err := e.svc.Generate(ctx, f.ID, "first", nil); err != nil {
		t.Fatal(err)
	}
	before := e.read(t, f, "google-fr.xml")
	e.svc.Storage = fullDisk{e.svc.Storage} // the next generation dies mid-way
	run, err := e.svc.Generate(ctx, f.ID, "interrupted", nil)
	e.svc.Storage = Dir{Root: e.dir}
	if err == nil || run == nil || run.Status != "failed" {
		t.Fatalf("interrupted run: %+v %v", run, err)
	}
	if after := e.read(t, f, "google-fr.xml"); !bytes.Equal(before, after) {
		t.Fatal("a failed generation changed the served file")
	}
	left, _ := filepath.Glob(filepath.Join(e.dir, "*", ".tmp-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	// Two generations of one feed never overlap.
	now := e.clk.Now()
	e.svc.DB.Model(&Feed{}).Where("id = ?", f.ID).Update("generating_since", now)
	if _, err := e.svc.Generate(ctx, f.ID, "second", nil); !errors.Is(err, ErrBusy) {
		t.Fatalf("overlapping generation: %v", err)
	}
}

func TestDefinitionValidation(t *testing.T) {
	bad := []*Feed{
		{Name: "Bad Name", Format: GoogleXML},
		{Name: "x", Format: "rss"},
		{Name: "x", Format: Generic},
		{Name: "x", Format: GoogleXML, TitleTemplate: "{nope}"},
		{Name: "x", Format: GoogleXML, Cron: "every day"},
		{Name: "x", Format: GoogleXML, Availability: "sometimes"},
		{Name: "x", Format: GoogleXML, Currency: "EURO"},
	}
	fields := []string{"name", "format", "columns", "title_template", "cron", "availability", "currency"}
	for i, f := range bad {
		var ve ValidationError
		if err := f.Validate(); !errors.As(err, &ve) || ve.For(fields[i]) == "" {
			t.Errorf("case %d: want an error on %s, got %v", i, fields[i], err)
		}
	}
}

func TestFreshnessGate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := &campaigns.Registry{}
	RegisterGate(reg, e.svc)
	p, _ := e.promos.Create(ctx, landing.PromotionInput{Name: "Nordik -10", Kind: landing.PercentOff, Value: "10", Scope: landing.ScopeSKUs, ScopeValue: "F-1",
		StartsAt: "2026-11-27T00:00", EndsAt: "2026-11-29T00:00", TimeZone: "Europe/Paris"})
	c := &campaigns.Campaign{ChannelList: ",comparators,", PromotionIDs: []uint64{p.ID}, TimeZone: "Europe/Paris"}
	gate := func() campaigns.Result { return reg.Evaluate(ctx, c, e.clk.Now()).Results[0] }
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "no comparator feed is linked") {
		t.Fatalf("no feed: %+v", r)
	}
	f := e.feed(t, &Feed{Name: "google-fr", Format: GoogleXML})
	c.FeedIDs = []uint64{f.ID}
	e.svc.Generate(ctx, f.ID, "before publish", nil)
	e.clk.Add(time.Minute)
	e.promos.Publish(ctx, p.ID)
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "before the last change of a promotion") {
		t.Fatalf("stale feed: %+v", r)
	}
	e.clk.Add(time.Minute)
	e.svc.Generate(ctx, f.ID, "after publish", nil)
	if r := gate(); r.Outcome != campaigns.Pass {
		t.Fatalf("fresh feed: %+v", r)
	}
	// An idealo feed has no effective date: its sale price holds until it
	// is generated again.
	idealo := e.feed(t, &Feed{Name: "idealo-de", Format: IdealoCSV})
	e.svc.Generate(ctx, idealo.ID, "after publish", nil)
	c.FeedIDs = []uint64{f.ID, idealo.ID}
	// The window closes: Google's sale_price_effective_date ends the sale
	// with it; the idealo feed still says 90.00, the landing page 100.00.
	e.clk.Set(time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC))
	if r := gate(); r.Outcome != campaigns.Fail || !strings.Contains(r.Message, "F-1: feed idealo-de") || !strings.Contains(r.Message, "€90.00") ||
		strings.Contains(r.Message, "google-fr") {
		t.Fatalf("price mismatch: %+v", r)
	}
}

func TestSchedulerEnqueuesOnBoundaries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := &recorder{}
	j := &Jobs{Service: e.svc, Tasks: rec}
	f := e.feed(t, &Feed{Name: "google-fr", Format: GoogleXML, Cron: "0 * * * *"})
	e.svc.Generate(ctx, f.ID, "first", nil)
	e.clk.Add(10 * time.Minute)
	j.Tick(ctx, e.clk.Now())
	if len(rec.ids) != 0 {
		t.Fatalf("nothing is due, got %v", rec.ids)
	}
	e.clk.Add(time.Hour)
	j.Tick(ctx, e.clk.Now())
	if len(rec.ids) != 1 || !strings.Contains(rec.ids[0], "schedule") {
		t.Fatalf("cron: %v", rec.ids)
	}
}

type recorder struct{ ids []string }

func (r *recorder) Enqueue(_ context.Context, t *asynq.Task, opts ...asynq.Option) (bool, error) {
	for _, o := range opts {
		if o.Type() == asynq.TaskIDOpt {
			r.ids = append(r.ids, o.Value().(string))
		}
	}
	return true, nil
}

// fullDisk fails every write, as a full disk would.
type fullDisk struct{ Storage }

type failingPending struct{ Pending }

func (f fullDisk) Create(ctx context.Context, id uint64, name string) (Pending, error) {
	p, err := f.Storage.Create(ctx, id, name)
	return failingPending{p}, err
}

func (failingPending) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// Only the feed in force keeps its price lines: a run drops its feed's
// earlier ones, and another feed's stay.
func TestGenerationPrunesEarlierPriceLines(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, _ := e.promos.Create(ctx, landing.PromotionInput{Name: "BF", Kind: landing.PercentOff, Value: "30", Scope: landing.ScopeBrand, ScopeValue: "Nordik",
		StartsAt: "2026-11-19T00:00", EndsAt: "2026-12-01T00:00", TimeZone: "Europe/Paris"})
	if _, err := e.promos.Publish(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	a := e.feed(t, &Feed{Name: "google-fr", Format: GoogleXML})
	b := e.feed(t, &Feed{Name: "idealo-fr", Format: IdealoCSV})
	var runs []uint64
	for i := 0; i < 3; i++ {
		run, err := e.svc.Generate(ctx, a.ID, "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run.ID)
	}
	other, err := e.svc.Generate(ctx, b.ID, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	count := func(run uint64) int64 {
		var n int64
		e.svc.DB.Model(&PriceLine{}).Where("run_id = ?", run).Count(&n)
		return n
	}
	if count(runs[2]) == 0 || count(other.ID) == 0 {
		t.Fatalf("the feeds in force lost their lines: %d %d", count(runs[2]), count(other.ID))
	}
	if count(runs[0])+count(runs[1]) != 0 {
		t.Fatalf("earlier runs kept %d lines", count(runs[0])+count(runs[1]))
	}
}

// A long generation is not asked for again at every tick while it runs,
// and a task asked for before a generation that has run since does nothing.
func TestGenerationsCoalesce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := &recorder{}
	j := &Jobs{Service: e.svc, Tasks: rec}
	f := e.feed(t, &Feed{Name: "google-fr", Format: GoogleXML})
	e.svc.Generate(ctx, f.ID, "first", nil)
	e.clk.Add(time.Minute)
	if _, err := e.cat.Import(ctx, strings.NewReader("sku,title,price\nNEW-1,Tabouret,19.90\n"), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	// A generation started after the import is running.
	e.clk.Add(time.Minute)
	started := e.clk.Now()
	e.svc.DB.Model(&Feed{}).Where("id = ?", f.ID).Update("generating_since", started)
	for i := 0; i < 3; i++ {
		e.clk.Add(time.Minute)
		if err := j.Tick(ctx, e.clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.ids) != 0 {
		t.Fatalf("asked again while a covering generation runs: %v", rec.ids)
	}
	// A task asked for before a generation that has run since has nothing to do.
	mux := asynq.NewServeMux()
	j.Register(mux)
	e.svc.DB.Model(&Feed{}).Where("id = ?", f.ID).Update("generating_since", nil)
	asked := e.clk.Now()
	e.clk.Add(time.Minute)
	if _, err := e.svc.Generate(ctx, f.ID, "the covering one", nil); err != nil {
		t.Fatal(err)
	}
	var before int64
	e.svc.DB.Model(&Run{}).Where("feed_id = ?", f.ID).Count(&before)
	b, _ := json.Marshal(genPayload{FeedID: f.ID, Reason: "catalog changed", Asked: asked})
	if err := mux.ProcessTask(ctx, asynq.NewTask(TypeGenerate, b)); err != nil {
		t.Fatal(err)
	}
	var after int64
	e.svc.DB.Model(&Run{}).Where("feed_id = ?", f.ID).Count(&after)
	if after != before {
		t.Fatalf("a covered task ran a generation: %d runs, then %d", before, after)
	}
	// Asked for after the last generation began: it runs.
	b, _ = json.Marshal(genPayload{FeedID: f.ID, Reason: "catalog changed", Asked: e.clk.Now().Add(time.Second)})
	if err := mux.ProcessTask(ctx, asynq.NewTask(TypeGenerate, b)); err != nil {
		t.Fatal(err)
	}
	e.svc.DB.Model(&Run{}).Where("feed_id = ?", f.ID).Count(&after)
	if after != before+1 {
		t.Fatalf("an uncovered task did not run: %d", after)
	}
}
