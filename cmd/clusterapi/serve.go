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
	"strings"
	"sync"
	"time"

	"clusterapi/internal/auth"
	"clusterapi/internal/environment"
	"clusterapi/internal/httpapi"
	"clusterapi/internal/server"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

const (
	defaultListen = "127.0.0.1:8021"
	defaultStore  = "sqlite:./data/clusterapi.db"
)

// openStore opens the store named by dsn: sqlite:PATH, or a bare path.
func openStore(ctx context.Context, dsn string) (*sqlite.DB, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return nil, errors.New("the PostgreSQL store is not available in this build yet; use sqlite:PATH")
	case strings.HasPrefix(dsn, "sqlite:"):
		dsn = strings.TrimPrefix(dsn, "sqlite:")
	}
	if dsn == "" {
		return nil, errors.New("empty store path")
	}
	return sqlite.Open(ctx, dsn)
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
	idle := consoleFlags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	db, err := openStore(ctx, *store)
	if err != nil {
		return err
	}
	defer db.Close()

	tokens := token.NewService(db, token.Options{Strict: *strict})
	envs := environment.NewService(db, tokens)
	verifier := auth.NewVerifier(tokens, auth.Options{Logger: log})
	if err := verifier.Init(ctx); err != nil {
		return err
	}
	api := httpapi.New(log, verifier, tokens, envs)
	console, accounts, err := newConsole(ctx, log, db, tokens, getenv, *idle)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: server.New(server.Config{
			Logger: log, API: api, WriteError: api.WriteError, MaxBodyBytes: httpapi.MaxBodyBytes,
			Console: console,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}

	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { verifier.Run(flushCtx) })
	wg.Go(func() { pruneSessions(flushCtx, log, accounts) })

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "store", describeStore(*store))

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

// describeStore names the store for the log without any credentials a URL
// might carry.
func describeStore(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		return dsn[:i] + "://..."
	}
	return dsn
}
