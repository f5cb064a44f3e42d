package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/spf13/cobra"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/channels"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/channels/comparators"
	"github.com/rampe/rampe/channels/display"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/channels/search"
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/notify"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/config"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/nodes"
	"github.com/rampe/rampe/platform/objstore"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/retention"
	"github.com/rampe/rampe/platform/uploads"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// migrations of every package, applied in ID order.
var migrations = [][]db.Migration{db.Migrations, accounts.Migrations, campaigns.Migrations, catalog.Migrations, landing.Migrations, feeds.Migrations, loadcheck.Migrations, notify.Migrations, clicks.Migrations, email.Migrations, audience.Migrations, search.Migrations, affiliation.Migrations, display.Migrations, nodes.Migrations, uploads.Migrations}

// stack is Rampe wired together, in the order it is built.
type stack struct {
	cfg *config.Config
	// clock is the stack's one time source: every service reads "now"
	// from it.
	clock      clock.Clock
	db         *gorm.DB
	conn       *queue.Conn
	tasks      *queue.Client
	accounts   *accounts.Store
	campaigns  *campaigns.Service
	catalog    *catalog.Store
	promotions *landing.Promotions
	pages      *landing.Pages
	landing    *landing.Server
	feeds      *feeds.Service
	feedJobs   *feeds.Jobs
	// uploads keeps uploaded files for the worker that imports them;
	// catalogImports and contactImports queue and run those imports.
	uploads        uploads.Store
	uploadJobs     *uploads.Jobs
	catalogImports *catalog.ImportJobs
	contactImports *audience.ImportJobs
	loadcheck      *loadcheck.Service
	notify         *notify.Service
	clicks         *clicks.Service
	outbox         *email.Outbox // the SMTP catch-all when smtp.url is empty
	audience       *audience.Service
	email          *email.Channel
	affiliation    *affiliation.Channel
	affJobs        *affiliation.Jobs
	search         *search.Channel
	display        *display.Service
	secret         []byte
	// noDemoChecks: seeding the demo does not leave its load checks for
	// the first node that serves (rampe demo --no-load-checks).
	noDemoChecks bool
	stopProfile  func()
	// node is this process in node_settings (serve, worker), removed at close.
	node *nodes.Registry
}

func (s *stack) now() time.Time { return clock.Or(s.clock).Now() }

func setupLogging(cfg *config.Config) {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	slog.SetDefault(slog.New(h))
}

// openDB opens the database and applies pending migrations.
func openDB(ctx context.Context, cfg *config.Config) (*gorm.DB, error) {
	g, err := db.Open(cfg.DatabaseDSN)
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx, g); err != nil {
		return nil, fmt.Errorf("database %s unreachable (database.dsn): %w", engine(cfg), err)
	}
	if _, err := db.Migrate(ctx, g, migrations...); err != nil {
		return nil, err
	}
	return g, nil
}

func engine(cfg *config.Config) string {
	if config.IsPostgres(cfg.DatabaseDSN) {
		return "PostgreSQL"
	}
	return "SQLite " + cfg.DatabaseDSN
}

// build wires storage, queue and domain services. On an error, what it
// had opened is closed again.
func build(ctx context.Context, cfg *config.Config) (st *stack, err error) {
	stopProfile, err := startCPUProfile(cfg.CPUProfile)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			stopProfile()
		}
	}()
	if cfg.PprofAddr != "" {
		go servePprof(cfg.PprofAddr)
	}
	g, err := openDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			db.Close(g)
		}
	}()
	secret := cfg.SecretKey
	if secret == "" {
		if secret, err = db.EnsureSecret(ctx, g); err != nil {
			return nil, err
		}
	}
	conn, err := queue.Connect(ctx, cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	tasks := queue.NewClient(conn)
	clk := clock.System{}
	cs := campaigns.NewService(g, tasks, clk)
	cs.DefaultTimeZone = cfg.DefaultTimeZone
	cs.RetryInterval = cfg.BlockedRetryInterval
	cs.GoLiveHold = cfg.GoLiveHold
	cs.Lead = queue.Ahead(cfg.JobsPollInterval, cfg.JobsDelayedInterval)
	st = &stack{cfg: cfg, clock: clk, db: g, conn: conn, tasks: tasks, secret: []byte(secret), stopProfile: stopProfile,
		accounts: &accounts.Store{DB: g, SessionTTL: cfg.SessionTTL, Clock: clk}, campaigns: cs, catalog: &catalog.Store{DB: g, Clock: clk}}
	m := landing.New(g, st.catalog, cs, cs.Gates, conn.Redis, cfg.PublicBaseURL, cfg.DefaultTimeZone, clk)
	m.Server.DefaultLang = cfg.LandingDefaultLang
	st.promotions, st.pages, st.landing = m.Promotions, m.Pages, m.Server
	store, ups, err := sharedStorage(ctx, cfg, g, clk)
	if err != nil {
		return nil, err
	}
	st.uploads = ups
	st.feeds = &feeds.Service{DB: g, Storage: store, Catalog: st.catalog, Promotions: m.Promotions, BaseURL: cfg.PublicBaseURL, MaxGenerations: cfg.FeedsMaxGenerations,
		Clock: clk}
	st.feeds.Generated = func(ctx context.Context, feedID, runID uint64, name string) {
		cs.EnqueueRecheck(ctx, campaigns.Link{FeedID: feedID}, fmt.Sprintf("feed:%d:run%d", feedID, runID), i18n.M("feed %s was generated", name))
	}
	st.feedJobs = &feeds.Jobs{Service: st.feeds, Tasks: tasks}
	st.uploadJobs = &uploads.Jobs{DB: g, Uploads: ups, Tasks: tasks, Clock: clk}
	st.catalogImports = catalog.NewImportJobs(st.catalog, st.uploadJobs, func(ctx context.Context) {
		st.landing.Invalidate(ctx, "") // prices may have changed on every page
		st.feedJobs.EnqueueAll(ctx, "catalog import")
	})
	st.loadcheck = &loadcheck.Service{Store: &loadcheck.Store{DB: g, Clock: clk}, Campaigns: cs, Pages: m.Pages, Tasks: tasks, BaseURL: cfg.PublicBaseURL,
		StepSeconds: int(cfg.LoadCheckStep / time.Second), Validity: cfg.LoadCheckValidity, SafetyFactor: cfg.LoadCheckSafety,
		Clock: clk,
		Policy: loadcheck.Policy{BaseURL: cfg.PublicBaseURL, AllowedHosts: cfg.LoadCheckAllowedHosts,
			MaxRate: float64(cfg.LoadCheckMaxRate), MaxDuration: cfg.LoadCheckMaxDuration}}
	st.loadcheck.Recheck = func(ctx context.Context, pageID, checkID uint64) {
		cs.EnqueueRecheck(ctx, campaigns.Link{PageID: pageID}, fmt.Sprintf("page:%d:loadcheck:%d", pageID, checkID),
			i18n.M("load check #%s of landing page #%s passed", strconv.FormatUint(checkID, 10), strconv.FormatUint(pageID, 10)))
	}
	loadcheck.RegisterGate(cs.Gates, st.loadcheck)
	st.notify = newNotify(cfg, g, cs, st.accounts, clk)
	if cfg.SMTPURL == "" {
		st.outbox = &email.Outbox{DB: g}
	}
	st.clicks = &clicks.Service{DB: g, Secret: st.secret, Clock: clk}
	st.audience = &audience.Service{DB: g, Secret: st.secret, BaseURL: cfg.PublicBaseURL, Clock: clk}
	st.contactImports = audience.NewImportJobs(st.audience, st.uploadJobs)
	if cfg.SMTPURL != "" {
		mc, _ := mailer.ParseURL(cfg.SMTPURL)
		mc.From = cfg.SMTPFrom
		st.audience.Send = sendOne(mailer.New(mc))
	}
	// The channels: their gates and what each does when a campaign moves.
	if st.email, err = newEmail(st); err != nil {
		return nil, err
	}
	st.search = newSearch(st, m)
	st.affiliation, st.affJobs = newAffiliation(st)
	st.affiliation.Service.KitsSent = func(ctx context.Context, id uint64) {
		if _, _, err := cs.Check(ctx, id, "worker"); err != nil {
			slog.Warn("affiliation: readiness after the kits went out", "campaign_id", id, "err", err)
		}
	}
	st.display = newDisplay(st)
	// A campaign's partner kits carry its display creatives: a change of
	// them sends the kits again (with the diff), as any plan change does.
	st.display.CreativesChanged = func(ctx context.Context, id uint64) {
		if c, err := cs.Get(ctx, id); err == nil {
			st.affiliation.Service.PlanChanged(ctx, c, "display creatives")
		}
	}
	if err := channels.Register(cs, st.email, st.search, st.affiliation, display.Channel{Service: st.display},
		comparators.Channel{Feeds: st.feedJobs, Clock: clk,
			RegisterGate: func(reg *campaigns.Registry) { feeds.RegisterGate(reg, st.feeds) }},
	); err != nil {
		return nil, err
	}
	// Imports and generations are minutes long at most; hours-old "running"
	// ones belong to a process that stopped.
	if n, err := st.catalog.SweepInterrupted(ctx, 6*time.Hour); err == nil && n > 0 {
		slog.Warn("rampe: marked interrupted imports as failed", "imports", n)
	}
	if n, err := st.audience.SweepInterrupted(ctx, 6*time.Hour); err == nil && n > 0 {
		slog.Warn("rampe: marked interrupted contact imports as failed", "imports", n)
	}
	if n, err := st.feeds.SweepInterrupted(ctx, 6*time.Hour); err == nil && n > 0 {
		slog.Warn("rampe: marked interrupted feed generations as failed", "runs", n)
	}
	slog.Info("rampe: started", "version", version, "database", engine(cfg), "redis", redisLabel(conn))
	return st, nil
}

// sharedStorage is where feed files and uploaded files go: the bucket of
// feeds.storage_url (checked to exist; uploads under uploads/), or the
// directory feeds.dir (uploads in its .uploads folder).
func sharedStorage(ctx context.Context, cfg *config.Config, g *gorm.DB, clk clock.Clock) (feeds.Storage, uploads.Store, error) {
	if cfg.FeedsStorage == nil {
		return feeds.Dir{Root: cfg.FeedsDir}, uploads.Dir{Root: filepath.Join(cfg.FeedsDir, ".uploads")}, nil
	}
	b, err := objstore.Open(ctx, cfg.FeedsStorage)
	if err != nil {
		return nil, nil, fmt.Errorf("feeds.storage_url: %w", err)
	}
	slog.Info("rampe: feed files and uploads in object storage", "location", cfg.FeedsStorage.String())
	return &feeds.Objects{DB: g, Bucket: b, Grace: cfg.FeedsStorage.Grace, Clock: clk}, uploads.Bucket{B: b}, nil
}

func redisLabel(c *queue.Conn) string {
	if c.Embedded {
		return "in-process " + c.Addr()
	}
	return c.Addr()
}

func (s *stack) close() {
	if s.node != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.node.Leave(ctx)
		cancel()
	}
	s.tasks.C.Close()
	s.conn.Close()
	db.Close(s.db)
	s.stopProfile()
}

// startCPUProfile writes a CPU profile to path until the returned function
// runs (debug.cpu_profile); with no path it does nothing.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("debug.cpu_profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("debug.cpu_profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// loadConfig reads the configuration and sets up logging.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	setupLogging(cfg)
	return cfg, nil
}

// userError is an error meant for the person at the terminal, printed as is.
type userError struct{ msg string }

func (e userError) Error() string { return e.msg }

func fail(format string, args ...any) error {
	return userError{strings.TrimPrefix(fmt.Sprintf(format, args...), "rampe: ")}
}

// openStack loads the configuration and wires Rampe for a command.
func openStack(cmd *cobra.Command, cfgf cfgFunc) (*stack, error) {
	cfg, err := cfgf()
	if err != nil {
		return nil, err
	}
	return build(cmd.Context(), cfg)
}

// newNotify wires alert notifications: e-mail through smtp.url (validated
// at load), webhooks over HTTP.
func newNotify(cfg *config.Config, g *gorm.DB, cs *campaigns.Service, acc *accounts.Store, clk clock.Clock) *notify.Service {
	send := notify.NetSender{HTTP: notify.NewHTTPClient()}
	if cfg.SMTPURL != "" {
		mc, _ := mailer.ParseURL(cfg.SMTPURL)
		mc.From = cfg.SMTPFrom
		send.Mailer = mailer.New(mc)
	}
	return &notify.Service{DB: g, Alerts: cs, Users: notify.AccountUsers{Store: acc}, Send: send, BaseURL: cfg.PublicBaseURL,
		EmailReady: cfg.SMTPURL != "", HTTPHosts: cfg.WebhookHTTPHosts, Clock: clk}
}

// startMail starts the SMTP catch-all when no smtp.url is configured, and
// points Rampe's e-mail at it: real SMTP, read on the Outbox page.
func startMail(ctx context.Context, st *stack) error {
	if st.outbox == nil {
		return nil
	}
	if err := st.outbox.Start(ctx); err != nil {
		return err
	}
	mc, err := mailer.ParseURL(fmt.Sprintf("smtp://127.0.0.1:%d?tls=none", st.outbox.Port()))
	if err != nil {
		return err
	}
	mc.From = st.cfg.SMTPFrom
	st.notify.Send = notify.NetSender{Mailer: mailer.New(mc), HTTP: notify.NewHTTPClient()}
	st.audience.Send = sendOne(mailer.New(mc))
	st.email.Sender.SMTP = mc
	st.affiliation.Service.Mailer = mailer.New(mc)
	st.email.Sender.SMTP.Timeout = st.cfg.SMTPTimeout
	st.notify.EmailReady = true
	slog.Info("rampe: no smtp.url configured; e-mail goes to the in-process catch-all, read it on the Outbox page", "port", st.outbox.Port())
	return nil
}

// sendOne adapts a mailer to the one-message sender the audience takes
// (double opt-in confirmations).
func sendOne(m *mailer.Mailer) func(context.Context, mailer.Message) error {
	return func(ctx context.Context, msg mailer.Message) error { return m.Send(ctx, msg) }
}

// retentionPruner prunes, per retention.KIND_days, the rows every domain
// lets grow: feed runs, load checks, the audit log, events, imports.
func retentionPruner(st *stack) *retention.Pruner {
	var rules []retention.Rule
	for _, rs := range [][]retention.Rule{feeds.Retention, loadcheck.Retention, campaigns.Retention, audience.Retention,
		catalog.Retention, notify.Retention, clicks.Retention, email.OutboxRetention} {
		rules = append(rules, rs...)
	}
	return &retention.Pruner{DB: st.db, Rules: rules, Keep: st.cfg.Retention, Clock: st.clock}
}
