package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatalf("Open = %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// Reopening a file keeps its data and does not re-run migrations.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "test.db")
	ctx := context.Background()
	for i := range 2 {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open #%d = %v", i, err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Errorf("Ping #%d = %v", i, err)
		}
		db.Close()
	}
}
