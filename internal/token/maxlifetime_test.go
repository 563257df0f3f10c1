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

// cliActor is a trusted cliActor caller, as the CLI and the console are.
var cliActor = token.Actor{UserID: "admin"}

// TestCreateMaxLifetime holds every path that creates tokens (the CLI, the
// console, the API) to the same bound: at most MaxLifetime (100 years).
func TestCreateMaxLifetime(t *testing.T) {
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
		tok, _, err := s.Create(ctx, cliActor, token.CreateInput{Name: tt.name, Scopes: []token.Scope{token.Nodekeeper}, ExpiresIn: tt.expiresIn})
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

// TestLookupNeedsFullToken: lookup takes a full token only. A bare token id,
// however well-formed and whoever asks, gets the very error a malformed,
// unknown or wrong-secret token gets (README Decisions, "Lookup").
func TestLookupNeedsFullToken(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	admin, adminSecret, err := s.Create(ctx, cliActor, token.CreateInput{Name: "admin", Scopes: []token.Scope{token.ClusterTokenManagement}})
	if err != nil {
		t.Fatal(err)
	}
	other, otherSecret, err := s.Create(ctx, cliActor, token.CreateInput{Name: "other", Scopes: []token.Scope{token.Nodekeeper}})
	if err != nil {
		t.Fatal(err)
	}
	asAdmin := token.Actor{TokenID: admin.ID, UserID: "admin", Scopes: token.SetOf(admin.Scopes...)}
	if got, err := s.Lookup(ctx, asAdmin, otherSecret.Reveal()); err != nil || got.ID != other.ID {
		t.Fatalf("Lookup(full token) = %v, %v", got, err)
	}
	_, want := s.Lookup(ctx, asAdmin, "dt0c01.nonsense")
	if !errs.Is(want, errs.NotFound) || want.Error() != "Token not found" {
		t.Fatalf("Lookup(malformed) = %v, want NotFound Token not found", want)
	}
	full := otherSecret.Reveal()
	for _, in := range []string{other.ID, " " + other.ID + "\n", other.ID + ".", admin.ID, adminSecret.Reveal()[:token.IDLen+1],
		full[:len(full)-1], "dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA"} {
		got, err := s.Lookup(ctx, asAdmin, in)
		if got != nil || err == nil || err.Error() != want.Error() || errs.KindOf(err) != errs.KindOf(want) {
			t.Errorf("Lookup(%.40q) = %v, %v; want %v as for a malformed token", in, got, err, want)
		}
	}
	// Without ClusterTokenManagement a bare id, even the caller's own, is
	// not a self lookup: it gets the 403 a malformed token gets.
	asOther := token.Actor{TokenID: other.ID, UserID: "admin", Scopes: token.SetOf(other.Scopes...)}
	_, wantOther := s.Lookup(ctx, asOther, "dt0c01.nonsense")
	if _, err := s.Lookup(ctx, asOther, other.ID); err == nil || err.Error() != wantOther.Error() || errs.KindOf(err) != errs.KindOf(wantOther) {
		t.Errorf("Lookup(own bare id) without ClusterTokenManagement = %v, want %v", err, wantOther)
	}
}
