package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"clusterapi/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Each test gets its own empty database on the shared server.
func TestDSN(t *testing.T) {
	ctx := context.Background()
	a, b := pgtest.DSN(t), pgtest.DSN(t)
	if a == b {
		t.Fatalf("two databases with one URL %s", a)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatalf("Connect = %v", err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL %s", v)
}

// A server of the test's own can be stopped and started again on its port.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	s := pgtest.New(t)
	dsn := s.NewDatabase(t)
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if _, err := pgx.Connect(ctx, dsn); err == nil {
		t.Fatal("Connect to a stopped server succeeded")
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start = %v", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("Connect after restart = %v", err)
	}
	conn.Close(ctx)
}
