// Package postgres is the store for several server nodes: every domain Store
// interface over one shared PostgreSQL database (pgx v5, a connection pool),
// with embedded migrations applied under an advisory lock, and token changes
// pushed to every node through LISTEN/NOTIFY.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"clusterapi/internal/errs"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key under which migrations run, so that
// nodes starting together apply them once.
const migrationLock = 7263500000

// defaultMaxConns is the pool size unless the URL sets pool_max_conns.
const defaultMaxConns = 16

// changesChannel is the NOTIFY channel of the token change log.
const changesChannel = "clusterapi_token_changes"

// DB is an open PostgreSQL store.
type DB struct {
	pool *pgxpool.Pool

	listenOnce sync.Once
	stopListen context.CancelFunc
	listenDone chan struct{}
	changes    chan struct{}
	epoch      atomic.Uint64 // bumped by every (re)connection of the listener
	live       atomic.Bool   // the listener is connected and listening
}

// Open connects to the database named by the postgres:// URL dsn and applies
// any pending migrations.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the URL, password and all.
		return nil, errors.New("open postgres store: the URL cannot be parsed")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	// pgx's default pool (the greater of 4 and the CPU count) is small for a
	// server, and the listener holds one connection for good.
	if u, err := url.Parse(dsn); err == nil && !u.Query().Has("pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, defaultMaxConns)
	}
	cfg.MaxConnIdleTime = time.Minute
	cfg.HealthCheckPeriod = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	db := &DB{pool: pool, changes: make(chan struct{}, 1)}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store: %w", formatError(err, "migration"))
	}
	return db, nil
}

// Close stops the listener, if one runs, and closes the pool.
func (db *DB) Close() error {
	if db.stopListen != nil {
		db.stopListen()
		<-db.listenDone
	}
	db.pool.Close()
	return nil
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return formatError(db.pool.Ping(ctx), "database") }

// migrate applies the embedded migrations that have not run yet, each in its
// own transaction, in file-name order, holding a session advisory lock.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	if _, err := conn.Exec(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	versions, err := migrationVersions(names)
	if err != nil {
		return err
	}
	for i, name := range names {
		version := versions[i]
		if err := apply(ctx, conn.Conn(), version, name); err != nil {
			return fmt.Errorf("migrate %s: %w", filepath.Base(name), err)
		}
	}
	return nil
}

// migrationVersions returns the number of each migration file. Every number
// must be used once: a version is recorded once, so of two files with one
// number only the first would ever run (say, after a merge of two branches
// that each added the next one), and both are refused before either runs.
func migrationVersions(names []string) ([]int, error) {
	versions := make([]int, len(names))
	seen := map[int]string{}
	for i, name := range names {
		base := filepath.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migrate: bad migration name %s", base)
		}
		if prev, dup := seen[version]; dup {
			return nil, fmt.Errorf("migrate: %s and %s have the same number", prev, base)
		}
		seen[version], versions[i] = base, version
	}
	return versions, nil
}

func apply(ctx context.Context, conn *pgx.Conn, version int, name string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	// No arguments: the simple protocol, which runs several statements.
	if _, err := tx.Exec(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)`,
		version, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// errUnavailable is what callers see when the database cannot be reached:
// the API answers 503 with Retry-After.
var errUnavailable = errs.E(errs.Unavailable, "The store cannot be reached right now; retry later")

// formatError turns driver errors into errs kinds at the store's edge: no
// rows is NotFound, a unique violation Conflict, and a connection failure
// Unavailable (the cause stays in the chain for the log).
func formatError(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return errs.E(errs.NotFound, what+" not found")
	}
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case e.Code == "23505":
			return errs.E(errs.Conflict, what+" already exists")
		case e.Code == "23503":
			return errs.E(errs.Invalid, what+" refers to something that does not exist")
		case strings.HasPrefix(e.Code, "08"), // connection exception
			e.Code == "57P01", e.Code == "57P02", e.Code == "57P03", // shutting down, cannot connect now
			e.Code == "53300": // too many connections
			return fmt.Errorf("%w: %w", errUnavailable, err)
		}
		return err
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %w", errUnavailable, err)
	}
	return err
}

// unreachable reports whether err says the server could not be talked to.
func unreachable(err error) bool {
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "conn closed")
}

// Changes returns a channel that receives a value soon after any node (or
// the CLI) logs a token change, and whenever the notification connection is
// lost or restored. The listener starts on the first call.
func (db *DB) Changes() <-chan struct{} {
	db.listenOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		db.stopListen, db.listenDone = cancel, make(chan struct{})
		go db.listen(ctx)
	})
	return db.changes
}

// Listening reports the listener's connection generation and whether it is
// connected now. A token change is certain to be announced only to a
// listener that was connected when the change committed: a cache is current
// only if it read the change log after the generation it trusts began.
func (db *DB) Listening() (epoch uint64, live bool) {
	return db.epoch.Load(), db.live.Load()
}

func (db *DB) signal() {
	select {
	case db.changes <- struct{}{}:
	default: // a signal is already pending; one read of the log serves both
	}
}

// listenCheck is how long the listener waits for a notification before it
// checks that its connection still answers: a connection cut without a
// word (a network partition) would otherwise pass for a quiet one.
const listenCheck = 5 * time.Second

// wait waits for a notification on conn and reports whether one came;
// false means the connection is lost or ctx ended.
func (db *DB) wait(ctx context.Context, conn *pgx.Conn) bool {
	for {
		wctx, cancel := context.WithTimeout(ctx, listenCheck)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		if err == nil {
			return true
		}
		if ctx.Err() != nil || !pgconn.Timeout(err) {
			return false
		}
		// Quiet for a while: ask the server. A timed-out wait leaves the
		// connection usable; notifications arriving meanwhile are kept.
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return false
		}
	}
}

// listen holds a connection that LISTENs for token changes, reconnecting
// (with backoff) whenever it is lost, until ctx ends.
func (db *DB) listen(ctx context.Context) {
	defer close(db.listenDone)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := db.pool.Acquire(ctx)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+changesChannel)
			if err != nil {
				conn.Release()
			}
		}
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		db.epoch.Add(1)
		db.live.Store(true)
		db.signal() // resync: changes made while no one listened are in the log
		for db.wait(ctx, conn.Conn()) {
			db.signal()
		}
		db.live.Store(false)
		db.signal()
		// The connection may be broken or still LISTENing: never reuse it.
		conn.Conn().Close(context.Background())
		conn.Release()
	}
}
