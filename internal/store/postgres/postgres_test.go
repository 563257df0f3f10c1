package postgres_test

import (
	"context"
	"sync"
	"testing"

	"clusterapi/internal/errs"
	"clusterapi/internal/pgtest"
	"clusterapi/internal/store/postgres"
	"clusterapi/internal/store/storetest"
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
