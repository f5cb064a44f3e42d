package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"
	"github.com/spf13/cobra"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/feeds"
	"github.com/rampe/rampe/platform/config"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/web"
)

func rootCmd() *cobra.Command {
	var cfgPath string
	root := &cobra.Command{
		Use:           "rampe",
		Short:         "Rampe puts marketing campaigns live only when they are ready",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&cfgPath, "config", "", "path of a rampe.yaml (keys override defaults; RAMPE_* variables override the file)")
	cfg := func() (*config.Config, error) { return loadConfig(cfgPath) }
	root.AddCommand(serveCmd(cfg), workerCmd(cfg), migrateCmd(cfg), demoCmd(cfg), userCmd(cfg), catalogCmd(cfg), contactsCmd(cfg), feedCmd(cfg), loadcheckCmd(cfg), configCmd(cfg), versionCmd())
	return root
}

type cfgFunc func() (*config.Config, error)

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func serveCmd(cfgf cfgFunc) *cobra.Command {
	var noWorker, demo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the web server, and (unless --no-worker) the worker and scheduler, in one process",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cfgf()
			if err != nil {
				return err
			}
			if noWorker && cfg.RedisURL == "" {
				return fail("serve --no-worker needs redis.url (RAMPE_REDIS_URL): with the in-process Redis, web and worker must share one process")
			}
			ctx, stop := signalContext()
			defer stop()
			st, err := build(ctx, cfg)
			if err != nil {
				return err
			}
			defer st.close()
			role := "serve"
			if noWorker {
				role = "web"
			}
			if err := st.joinNodes(ctx, role, true); err != nil {
				return err
			}
			if err := serveMetrics(ctx, cfg); err != nil {
				return err
			}
			if err := startMail(ctx, st); err != nil {
				return err
			}
			stopWorker := func() {}
			if !noWorker {
				if stopWorker, err = startWorker(ctx, st); err != nil {
					return err
				}
			}
			// The demo is seeded once this server answers: its SEO audits
			// fetch the demo pages' links, on this server.
			var seed func() error
			if demo {
				seed = func() error { return seedDemo(ctx, st, cmd.OutOrStdout()) }
			}
			err = serveHTTP(ctx, st, cmd, seed)
			stopWorker()
			return err
		},
	}
	cmd.Flags().BoolVar(&noWorker, "no-worker", false, "web only: leave jobs to `rampe worker` processes")
	cmd.Flags().BoolVar(&demo, "demo", false, "add demo data and an admin user (credentials printed once)")
	return cmd
}

// serveHTTP serves until ctx ends. seed, when set, runs once the server
// answers, before it says where it listens.
func serveHTTP(ctx context.Context, st *stack, cmd *cobra.Command, seed func() error) error {
	baseStatus := &web.BaseURLStatus{}
	go st.landing.Listen(ctx)
	// The ad tags serve from the first request on.
	if err := st.display.Reload(ctx); err != nil {
		return err
	}
	app, err := web.New(web.Deps{DB: st.db, Redis: st.conn, Accounts: st.accounts, Campaigns: st.campaigns,
		Catalog: st.catalog, CatalogImports: st.catalogImports, ContactImports: st.contactImports, Promotions: st.promotions, Pages: st.pages, Landing: st.landing, Feeds: st.feeds, FeedJobs: st.feedJobs, LoadChecks: st.loadcheck,
		Secret: st.secret, BaseURL: st.cfg.PublicBaseURL, Secure: st.cfg.Secure(), Version: version,
		MetricsToken: st.cfg.MetricsToken, MetricsElsewhere: st.cfg.MetricsAddr != "", FrameAncestors: st.cfg.LandingFrameAncestors,
		TrustedProxies: st.cfg.TrustedProxies, Notify: st.notify, Clicks: st.clicks, Outbox: st.outbox, Audience: st.audience, Email: st.email.Sender, BaseURLStatus: baseStatus,
		Search: st.search, RobotsRules: st.cfg.SEORobotsRules, Affiliation: st.affiliation.Service,
		LandingThroughRouter: !st.cfg.FastLanding, Display: st.display, DisplayMaxAge: st.cfg.DisplayTagMaxAge, Clock: st.clock})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", st.cfg.HTTPAddr)
	if err != nil {
		return fail("cannot listen on http.addr=%s: %v", st.cfg.HTTPAddr, err)
	}
	clicksCtx, stopClicks := context.WithCancel(context.Background())
	defer stopClicks()
	go st.clicks.Run(clicksCtx)
	go st.display.Run(clicksCtx)
	go st.display.Watch(ctx)
	errc := make(chan error, 1)
	go func() { errc <- web.Serve(app, ln, st.cfg.FastLanding) }()
	if seed != nil {
		if err := seed(); err != nil {
			app.Shutdown()
			return err
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Rampe is listening on http://%s\n", ln.Addr())
	go checkBaseURL(ctx, st, baseStatus)
	if claimDemoChecks(ctx, st) {
		go runDemoChecks(ctx, st, cmd.OutOrStdout())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = app.ShutdownWithContext(shutdownCtx)
	// The clicks of the last requests are written once none can come.
	stopClicks()
	st.clicks.Wait()
	st.display.Wait()
	return err
}

// startWorker runs the asynq server with every domain's handlers and the
// reconciler. On shutdown, asynq waits jobs.shutdown_timeout for in-flight
// tasks and puts the unfinished ones back in their queue.
func startWorker(ctx context.Context, st *stack) (stop func(), err error) {
	srv := queue.NewServer(st.conn, queue.ServerConfig{Concurrency: st.cfg.JobsConcurrency,
		PollInterval: st.cfg.JobsPollInterval, DelayedInterval: st.cfg.JobsDelayedInterval, ShutdownTimeout: st.cfg.JobsShutdownTimeout})
	mux := queue.NewMux()
	st.campaigns.Register(mux)
	st.feedJobs.Register(mux)
	st.uploadJobs.Register(mux)
	st.affJobs.Register(mux)
	if err := srv.Start(mux); err != nil {
		return nil, fmt.Errorf("worker: start: %w", err)
	}
	go st.campaigns.RunReconciler(ctx, st.cfg.ReconcileInterval)
	go st.notify.Run(ctx, 5*time.Second)
	// A flushed or restarted Redis lost every queued go-live and import:
	// noticed within a second, reconciled at once rather than at the next
	// round. Imports whose task or worker was lost are queued again.
	go queue.WatchLoss(ctx, st.conn.Redis, time.Second, func(ctx context.Context) error {
		_, err := st.uploadJobs.RecoverLost(ctx)
		return errors.Join(st.campaigns.ReconcileAll(ctx), err)
	})
	go st.uploadJobs.RunRecover(ctx, time.Minute)
	go st.feedJobs.RunScheduler(ctx, 30*time.Second)
	if o, ok := st.feeds.Storage.(*feeds.Objects); ok {
		go o.RunSweeper(ctx, 10*time.Minute)
	}
	go st.affiliation.Service.RunBackground(ctx, time.Minute)
	go retentionPruner(st).Run(ctx, time.Hour)
	// Load checks get a worker of their own with concurrency 1, so a long
	// one never holds a go-live back; one check runs at a time in the whole
	// deployment (a check finding another running waits its turn), and
	// checks of dead workers are swept now and every 5 s.
	lc := st.loadcheck.NewServer(st.conn.Redis, st.cfg.JobsPollInterval, st.cfg.JobsDelayedInterval)
	go st.loadcheck.RunSweeper(ctx, 5*time.Second)
	lmux := asynq.NewServeMux()
	st.loadcheck.Register(lmux)
	if err := lc.Start(lmux); err != nil {
		srv.Shutdown()
		return nil, fmt.Errorf("worker: start load-check worker: %w", err)
	}
	// E-mail sends get a worker of their own too: a send runs for minutes
	// with its pool of SMTP connections, and must never hold a go-live
	// back. Sends whose runner died are queued again every 15 s.
	es := email.NewServer(st.conn, st.cfg.JobsPollInterval, st.cfg.JobsDelayedInterval, st.cfg.EmailConcurrency)
	emux := queue.NewMux()
	st.email.Sender.Register(emux)
	if err := es.Start(emux); err != nil {
		srv.Shutdown()
		lc.Shutdown()
		return nil, fmt.Errorf("worker: start e-mail worker: %w", err)
	}
	go st.email.Sender.RunReconciler(ctx, 15*time.Second)
	// Every server stops before the Redis connection closes.
	return func() { srv.Shutdown(); lc.Shutdown(); es.Shutdown() }, nil
}

func workerCmd(cfgf cfgFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run background jobs (go-live, end, re-checks) and the reconciler",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cfgf()
			if err != nil {
				return err
			}
			if cfg.RedisURL == "" {
				return fail("worker needs redis.url (RAMPE_REDIS_URL): the in-process Redis cannot be shared between processes; use `rampe serve` for a single process")
			}
			ctx, stop := signalContext()
			defer stop()
			st, err := build(ctx, cfg)
			if err != nil {
				return err
			}
			defer st.close()
			if err := st.joinNodes(ctx, "worker", true); err != nil {
				return err
			}
			if err := serveMetrics(ctx, cfg); err != nil {
				return err
			}
			if err := startMail(ctx, st); err != nil {
				return err
			}
			stopWorker, err := startWorker(ctx, st)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Rampe worker running; SIGTERM to stop")
			<-ctx.Done()
			stopWorker()
			return nil
		},
	}
}

func migrateCmd(cfgf cfgFunc) *cobra.Command {
	var status bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cfgf()
			if err != nil {
				return err
			}
			g, err := db.Open(cfg.DatabaseDSN)
			if err != nil {
				return err
			}
			defer db.Close(g)
			if status {
				pending, err := db.Pending(cmd.Context(), g, migrations...)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d pending migration(s) %v\n", len(pending), pending)
				return nil
			}
			n, err := db.Migrate(cmd.Context(), g, migrations...)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d migration(s) applied on %s\n", n, engine(cfg))
			return nil
		},
	}
	cmd.Flags().BoolVar(&status, "status", false, "list pending migrations without applying them")
	return cmd
}

func demoCmd(cfgf cfgFunc) *cobra.Command {
	var noChecks bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Add demo data (campaigns over every channel and state) and a demo admin",
		Long: "Seeds the same demo as `serve --demo`. Its two load checks of /l/demo need a server to check:\n" +
			"the first node that serves HTTP afterwards runs them (once for the whole deployment).",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStack(cmd, cfgf)
			if err != nil {
				return err
			}
			defer st.close()
			st.noDemoChecks = noChecks
			if err := seedDemo(cmd.Context(), st, cmd.OutOrStdout()); err != nil {
				return err
			}
			if !noChecks {
				fmt.Fprintln(cmd.OutOrStdout(), "The demo's load checks of /l/demo will run on the first `rampe serve` that starts.")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noChecks, "no-load-checks", false, "leave out the demo's load checks (benchmarks: no vegeta traffic while they measure)")
	return cmd
}

func userCmd(cfgf cfgFunc) *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Manage users"}
	var email, name, role, password string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a user (a password is generated and printed when --password is empty)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cfgf()
			if err != nil {
				return err
			}
			r, err := accounts.ParseRole(role)
			if err != nil {
				return fail("--role: %v", err)
			}
			g, err := openDB(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer db.Close(g)
			generated := password == ""
			if generated {
				password = accounts.RandomPassword()
			}
			store := &accounts.Store{DB: g}
			u, err := store.CreateUser(cmd.Context(), email, name, r, password)
			if err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s (%s)\n", u.Email, u.Role)
			if generated {
				fmt.Fprintf(cmd.OutOrStdout(), "password: %s\n", password)
			}
			return nil
		},
	}
	create.Flags().StringVar(&email, "email", "", "e-mail address (required)")
	create.Flags().StringVar(&name, "name", "", "display name")
	create.Flags().StringVar(&role, "role", "marketer", "admin, marketer or viewer")
	create.Flags().StringVar(&password, "password", "", "password (10+ characters); generated when empty")
	create.MarkFlagRequired("email")

	var tokenName string
	token := &cobra.Command{
		Use:   "token",
		Short: "Create an API token for a user and print it",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cfgf()
			if err != nil {
				return err
			}
			g, err := openDB(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer db.Close(g)
			store := &accounts.Store{DB: g}
			u, err := store.ByEmail(cmd.Context(), email)
			if errors.Is(err, accounts.ErrNotFound) {
				return fail("--email: no user %s", email)
			}
			if err != nil {
				return err
			}
			secret, _, err := store.NewAPIToken(cmd.Context(), u.ID, tokenName)
			if err != nil {
				return fail("%v", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			return nil
		},
	}
	token.Flags().StringVar(&email, "email", "", "the user's e-mail (required)")
	token.Flags().StringVar(&tokenName, "name", "cli", "a name to recognise the token by")
	token.MarkFlagRequired("email")
	user.AddCommand(create, token)
	return user
}

func configCmd(cfgf cfgFunc) *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Inspect the configuration"}
	c.AddCommand(&cobra.Command{
		Use:   "print",
		Short: "Print the effective configuration, secrets masked",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cfgf()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			for _, kv := range cfg.Effective() {
				fmt.Fprintf(w, "%s\t%s\t# %s\n", kv.Key, kv.Value, kv.Help)
			}
			return w.Flush()
		},
	})
	return c
}

func versionCmd() *cobra.Command {
	return &cobra.Command{Use: "version", Short: "Print the version", Run: func(cmd *cobra.Command, _ []string) {
		fmt.Fprintln(cmd.OutOrStdout(), "rampe", version)
	}}
}

// serveMetrics serves /metrics on metrics.addr, when set, until ctx ends:
// web nodes and workers alike, for a Prometheus on the private network.
func serveMetrics(ctx context.Context, cfg *config.Config) error {
	if cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return fail("cannot listen on metrics.addr=%s: %v", cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", web.MetricsHandler(cfg.MetricsToken, true))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() { <-ctx.Done(); srv.Close() }()
	slog.Info("rampe: metrics listening", "addr", ln.Addr().String())
	return nil
}

// servePprof exposes Go's profiler on its own address (debug.pprof_addr).
func servePprof(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/heap", pprof.Index)
	slog.Info("rampe: pprof listening", "addr", addr)
	if err := http.ListenAndServe(addr, mux); err != nil {
		slog.Error("rampe: pprof", "err", err)
	}
}

// checkBaseURL asks public.base_url, once this server listens, whether it
// reaches this deployment, and says so loudly when it does not: in the log
// and on every readiness checklist.
func checkBaseURL(ctx context.Context, st *stack, status *web.BaseURLStatus) {
	time.Sleep(200 * time.Millisecond) // let the listener serve
	problem := web.CheckBaseURL(ctx, st.cfg.PublicBaseURL, st.secret)
	status.Set(problem)
	if problem != "" {
		slog.Error("rampe: " + problem)
	} else if st.cfg.BaseURLDerived {
		slog.Info("rampe: public.base_url not set; using the listening address", "public_base_url", st.cfg.PublicBaseURL)
	}
}
