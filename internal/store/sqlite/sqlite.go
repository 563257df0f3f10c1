// Package sqlite is the embedded store: every domain Store interface over one
// SQLite file (modernc.org/sqlite, pure Go), with embedded migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"clusterapi/internal/errs"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open SQLite store. Writes go through a pool of one connection, so
// writers queue in Go instead of failing with SQLITE_BUSY; reads use their own
// pool and, thanks to WAL, never wait for writers.
type DB struct {
	write *sql.DB
	read  *sql.DB

	// Statements of the request path, prepared once: parsing the SQL again
	// on every request cost more than running it.
	findToken, findEnvironment *sql.Stmt
}

// Open opens (creating if needed) the database file at path and applies any
// pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open sqlite store: %w", err)
		}
	}
	dsn := func(txlock string) string {
		q := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", txlock)
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn("immediate"))
	if err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn("deferred"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	// Keep every read connection open: opening one per request (the default
	// keeps two idle) cost more than the query.
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	r.SetConnMaxIdleTime(0)
	db := &DB{write: w, read: r}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// prepare prepares the statements of the request path.
func (db *DB) prepare(ctx context.Context) error {
	var err error
	if db.findToken, err = db.read.PrepareContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	if db.findEnvironment, err = db.read.PrepareContext(ctx, `SELECT `+environmentColumns+` FROM environments WHERE id = ?`); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	var errList []error
	for _, st := range []*sql.Stmt{db.findToken, db.findEnvironment} {
		if st != nil {
			errList = append(errList, st.Close())
		}
	}
	return errors.Join(append(errList, db.read.Close(), db.write.Close())...)
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// migrate applies the embedded migrations that have not run yet, each in its
// own transaction, in file-name order.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	versions, err := migrationVersions(names)
	if err != nil {
		return err
	}
	for i, name := range names {
		version := versions[i]
		if err := db.apply(ctx, version, name); err != nil {
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

func (db *DB) apply(ctx context.Context, version int, name string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`,
		version, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// formatError turns driver errors into errs kinds at the store's edge.
func formatError(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, what+" not found")
	}
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return errs.E(errs.Conflict, what+" already exists")
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return errs.E(errs.Invalid, what+" refers to something that does not exist")
		}
	}
	return err
}

// millis converts a time to stored milliseconds; the zero time is NULL.
func millis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMillis converts stored milliseconds back; NULL is the zero time.
func fromMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}
