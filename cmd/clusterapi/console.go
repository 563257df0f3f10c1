package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"clusterapi/internal/account"
	"clusterapi/internal/audit"
	"clusterapi/internal/token"
	"clusterapi/internal/web"
)

// consoleFlags adds the console's serve flags.
func consoleFlags(fs *flag.FlagSet, getenv func(string) string) *time.Duration {
	def := account.DefaultIdleTimeout
	if v, err := time.ParseDuration(getenv("CLUSTERAPI_SESSION_IDLE")); err == nil && v > 0 {
		def = v
	}
	return fs.Duration("session-idle", def, "console sessions end after this long unused (env CLUSTERAPI_SESSION_IDLE)")
}

// newConsole builds the console over store and makes sure someone can sign
// in: with no users at all, it creates admin with the password from
// CLUSTERAPI_ADMIN_PASSWORD or a generated one, which it logs this once.
func newConsole(ctx context.Context, log *slog.Logger, store account.Store, tokens *token.Service, auditLog *audit.Recorder,
	getenv func(string) string, idle time.Duration) (*web.Console, *account.Service, error) {
	accounts := account.NewService(store, account.Options{IdleTimeout: idle, Logger: log})
	pw, created, generated, err := accounts.EnsureAdmin(ctx, getenv("CLUSTERAPI_ADMIN_PASSWORD"))
	if err != nil {
		return nil, nil, err
	}
	switch {
	case created && generated:
		// The one place a password is logged, by design: the operator has
		// no other way to learn it. It is shown once, at first start.
		log.Warn("created console user "+account.AdminName+" with a generated password; sign in at /cmc/ and keep it safe, "+
			"or set a new one with `clusterapi user passwd admin`", "user", account.AdminName, "password", pw)
	case created:
		log.Info("created console user "+account.AdminName+" with the password from CLUSTERAPI_ADMIN_PASSWORD",
			"user", account.AdminName)
	case getenv("CLUSTERAPI_ADMIN_PASSWORD") != "":
		log.Info("CLUSTERAPI_ADMIN_PASSWORD is ignored: the store already has users (change a password with `clusterapi user passwd NAME`)")
	}
	return web.New(web.Config{Logger: log, Accounts: accounts, Tokens: tokens, Audit: auditLog}), accounts, nil
}

// pruneSessions deletes idle sessions now and then until ctx ends.
func pruneSessions(ctx context.Context, log *slog.Logger, accounts *account.Service) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if err := accounts.PruneSessions(ctx); err != nil && ctx.Err() == nil {
			log.Warn("prune console sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
