package sqlite

import (
	"io/fs"
	"sort"
	"testing"
)

// The embedded migrations are numbered 1, 2, 3, ... with no number twice, and
// a second file with a number already taken is refused rather than skipped.
func TestMigrationVersions(t *testing.T) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("Glob = %v, %v", names, err)
	}
	sort.Strings(names)
	got, err := migrationVersions(names)
	if err != nil {
		t.Fatalf("migrationVersions(embedded) = %v", err)
	}
	for i, v := range got {
		if v != i+1 {
			t.Errorf("migration %s has number %d, want %d", names[i], v, i+1)
		}
	}
	for _, bad := range [][]string{
		{"migrations/0005_groups.sql", "migrations/0005_network_zones.sql"},
		{"migrations/0004_users.sql", "migrations/4_again.sql"},
		{"migrations/users.sql"},
	} {
		if _, err := migrationVersions(bad); err == nil {
			t.Errorf("migrationVersions(%q) = nil error, want a refusal", bad)
		}
	}
}
