package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"clusterapi/internal/errs"
	"clusterapi/internal/pgtest"
	"clusterapi/internal/store/postgres"
	"clusterapi/internal/store/storetest"
	"clusterapi/internal/token"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t, pgtest.DSN(t)) })
}

// Nodes starting together on one database migrate it once, without errors.
func TestConcurrentMigrations(t *testing.T) {
	dsn := pgtest.DSN(t)
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			db, err := postgres.Open(context.Background(), dsn)
			if err == nil {
				err = db.Ping(context.Background())
				db.Close()
			}
			errc <- err
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("Open = %v", err)
		}
	}
}

// A stopped server is Unavailable, never an internal error, and the store
// recovers when it is back.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.New(t)
	db := open(t, srv.NewDatabase(t))
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindToken(ctx, "dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA"); !errs.Is(err, errs.Unavailable) {
		t.Errorf("FindToken with the server down = %v, want Unavailable", err)
	}
	if err := db.Ping(ctx); !errs.Is(err, errs.Unavailable) {
		t.Errorf("Ping with the server down = %v, want Unavailable", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping after restart = %v", err)
	}
}

// TestNotifications: a token change made through another connection (another
// node) is announced; a cut notification connection reports itself down,
// reconnects under a new generation and announces that too.
func TestNotifications(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	db, other := open(t, dsn), open(t, dsn)
	changes := db.Changes()
	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5 s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait("listening", func() bool { _, live := db.Listening(); return live })
	epoch, _ := db.Listening()
	drain := func() {
		for {
			select {
			case <-changes:
			default:
				return
			}
		}
	}
	drain()

	secret := token.Generate()
	tok := &token.Token{ID: secret.Reveal()[:token.IDLen], Hash: token.HashOf(secret.Reveal()), Name: "n",
		UserID: "admin", Scopes: []token.Scope{token.Nodekeeper}, Created: time.Now()}
	if err := other.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	revoked := true
	start := time.Now()
	if err := other.UpdateToken(ctx, tok.ID, token.Change{Revoked: &revoked}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changes:
		t.Logf("revocation announced after %v", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("revocation not announced")
	}

	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`); err != nil {
		t.Fatal(err)
	}
	wait("listening again under a new generation", func() bool {
		e, live := db.Listening()
		return live && e > epoch
	})
	select {
	case <-changes:
	default:
		t.Error("reconnection not announced")
	}
}
