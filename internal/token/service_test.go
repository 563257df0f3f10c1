package token_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"clusterapi/internal/errs"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

// newService returns a Service over a fresh SQLite store.
func newService(t *testing.T) *token.Service {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatalf("sqlite.Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return token.NewService(db, token.Options{})
}

// local is a trusted local caller, as the CLI and the console are.
var local = token.Actor{UserID: "admin"}

// TestCreateLifetime holds every path that creates tokens (the CLI, the
// console, the API) to the same bound: at most MaxLifetime (100 years).
func TestCreateLifetime(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	tests := []struct {
		name      string
		expiresIn time.Duration
		ok        bool
	}{
		{"never", 0, true},
		{"a day", 24 * time.Hour, true},
		{"100 years", token.MaxLifetime, true},
		{"a millisecond over", token.MaxLifetime + time.Millisecond, false},
		{"2500000 hours", 2500000 * time.Hour, false},
		{"negative", -time.Hour, false},
	}
	for _, tt := range tests {
		tok, _, err := s.Create(ctx, local, token.CreateInput{Name: tt.name, Scopes: []token.Scope{token.Nodekeeper}, ExpiresIn: tt.expiresIn})
		if tt.ok {
			if err != nil {
				t.Errorf("Create(expiresIn %v) = %v, want success", tt.expiresIn, err)
			} else if tt.expiresIn > 0 && tok.Expires.Sub(tok.Created) != tt.expiresIn {
				t.Errorf("Create(expiresIn %v): expires - created = %v", tt.expiresIn, tok.Expires.Sub(tok.Created))
			}
			continue
		}
		e, isErr := err.(*errs.Error)
		if !isErr || e.Kind != errs.Invalid || len(e.Violations) != 1 || e.Violations[0].Path != "expiresIn" {
			t.Errorf("Create(expiresIn %v) = %v, want a violation of expiresIn", tt.expiresIn, err)
		}
	}
}
