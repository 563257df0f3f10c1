package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"clusterapi/internal/account"
	"clusterapi/internal/audit"
	"clusterapi/internal/auth"
	"clusterapi/internal/cluster"
	"clusterapi/internal/environment"
	"clusterapi/internal/httpapi"
	"clusterapi/internal/logbuf"
	"clusterapi/internal/metrics"
	"clusterapi/internal/networkzone"
	"clusterapi/internal/server"
	"clusterapi/internal/store/postgres"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

const (
	defaultListen = "127.0.0.1:8021"
	defaultStore  = "sqlite:./data/clusterapi.db"
)

// store is what the server and the CLI need of a store engine; SQLite and
// PostgreSQL both provide it.
type store interface {
	token.Store
	environment.Store
	cluster.Store
	account.Store
	audit.Store
	networkzone.Store
	Ping(ctx context.Context) error
	Close() error
}

var _ auth.Notifier = (*postgres.DB)(nil)

// openStore opens the store named by dsn: a postgres:// (or postgresql://)
// URL, sqlite:PATH, or a bare path.
func openStore(ctx context.Context, dsn string) (store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := postgres.Open(ctx, dsn)
		if err != nil { // not a typed nil in the interface
			return nil, err
		}
		return db, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		dsn = strings.TrimPrefix(dsn, "sqlite:")
	}
	if dsn == "" {
		return nil, errors.New("empty store path")
	}
	db, err := sqlite.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return db, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listenDef := getenv("CLUSTERAPI_LISTEN")
	if listenDef == "" {
		listenDef = defaultListen
	}
	listen := fs.String("listen", listenDef, "address to listen on (env CLUSTERAPI_LISTEN)")
	store := storeFlag(fs, getenv)
	strict := fs.Bool("strict-grants", getenv("CLUSTERAPI_STRICT_GRANTS") == "true",
		"a token may only grant scopes it holds itself (env CLUSTERAPI_STRICT_GRANTS=true)")
	nf, err := nodeFlags(fs, getenv)
	if err != nil {
		return err
	}
	lifetimes, err := addLifetimeFlags(fs, getenv)
	if err != nil {
		return err
	}
	idle := consoleFlags(fs, getenv)
	retention, err := durationFlag(fs, getenv, "audit-retention", "CLUSTERAPI_AUDIT_RETENTION", audit.DefaultRetention,
		"how long the audit log keeps events")
	if err != nil {
		return err
	}
	sec, err := securityFlags(fs, getenv)
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if *retention <= 0 {
		return errors.New("serve: --audit-retention must be positive")
	}
	if *nf.heartbeat <= 0 {
		return errors.New("serve: --heartbeat must be positive")
	}
	tokenOpts, err := lifetimes.options(token.Options{Strict: *strict})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	throttle, err := sec.throttle()
	if err != nil {
		return err
	}
	if *sec.readHeaderTimeout <= 0 {
		return errors.New("serve: --read-header-timeout must be positive")
	}
	tlsConfig, err := sec.tlsConfig()
	if err != nil {
		return err
	}
	// The log is written in batches (one line per request otherwise costs a
	// system call each); warnings and errors are written at once.
	logOut := logbuf.New(stderr, 100*time.Millisecond, 64<<10)
	defer logOut.Close()
	log := slog.New(logOut.Urgent(slog.NewTextHandler(logOut, nil), slog.LevelWarn))

	db, err := openStore(ctx, *store)
	if err != nil {
		return err
	}
	defer db.Close()

	reg := newRegistry(time.Now())
	tokenOpts.Logger = log
	tokens := token.NewService(db, tokenOpts)
	envs := environment.NewService(db, tokens)
	zones := networkzone.NewService(db)
	auditLog := audit.NewRecorder(db, audit.Options{Retention: *retention, Logger: log})
	tokens.OnRetire(func(old, successor string) {
		auditLog.Record(audit.Event{Action: "token.revoke", Target: old, Outcome: audit.Success,
			Detail: "rotated away: revoked at the first use of its successor " + successor})
	})
	notifier, _ := db.(auth.Notifier) // PostgreSQL announces changes; SQLite is polled
	verifier := auth.NewVerifier(tokens, auth.Options{Logger: log, Notifier: notifier, Metrics: reg, Throttle: throttle})
	if err := verifier.Init(ctx); err != nil {
		return err
	}
	// The console first: creating the first admin hashes a password, which
	// takes a while, and a node registered before that would miss
	// heartbeats.
	console, accounts, err := newConsole(ctx, log, db, tokens, auditLog, getenv, *idle)
	if err != nil {
		return err
	}
	// Listen before registering: the node registers under its address.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	nodes, err := registerNode(ctx, db, ln, nf, log)
	if err != nil {
		ln.Close()
		return err
	}
	api := httpapi.New(httpapi.Config{Log: log, Verifier: verifier, Tokens: tokens, Envs: envs, Zones: zones,
		Nodes: nodes, Accounts: accounts, Audit: auditLog})
	srv := &http.Server{
		Handler: server.New(server.Config{
			Logger: log, API: api, WriteError: api.WriteError, MaxBodyBytes: httpapi.MaxBodyBytes,
			Ready: db.Ping, Console: console, Metrics: reg, GuardMetrics: api.GuardMetrics, TrustedProxies: sec.proxies.nets,
		}),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: *sec.readHeaderTimeout,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { verifier.Run(flushCtx) })
	wg.Go(func() { auditLog.Run(flushCtx) })
	wg.Go(func() { nodes.Run(flushCtx) })
	wg.Go(func() { pruneSessions(flushCtx, log, accounts) })

	errc := make(chan error, 1)
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		// ServeTLS takes the certificate from TLSConfig and offers HTTP/2.
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		warnPlainHTTP(log, ln.Addr())
		go func() { errc <- srv.Serve(ln) }()
	}
	log.Info("listening", "addr", ln.Addr().String(), "scheme", scheme, "store", describeStore(*store),
		"node_id", nodes.Self().ID, "node_address", nodes.Self().Address)
	logOut.Flush() // whoever waits for the server to listen should not wait for the timer

	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	// The server has stopped taking requests: write the last uses, then close.
	stopFlush()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}

// newRegistry returns the registry every metric of the process goes to,
// with the process's own: the build and the start time.
func newRegistry(started time.Time) *metrics.Registry {
	reg := metrics.NewRegistry()
	reg.GaugeVec("clusterapi_build_info", "The running build: always 1, with its version and Go version as labels.",
		"version", "goversion").With(buildVersion(), runtime.Version()).Set(1)
	reg.Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.").
		Set(float64(started.UnixMicro()) / 1e6)
	return reg
}

// describeStore names the store for the log without any credentials a URL
// might carry: no password, no query (which may hold one either).
func describeStore(dsn string) string {
	i := strings.Index(dsn, "://")
	if i < 0 {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn[:i] + "://..."
	}
	d := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.User != nil {
		d.User = url.User(u.User.Username())
	}
	return d.String()
}
