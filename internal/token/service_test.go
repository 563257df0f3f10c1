package token_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/errs"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

var t0 = time.Date(2026, 12, 3, 18, 59, 8, 123_000_000, time.UTC)

// fixture is a Service over a real SQLite store, with a clock the test moves.
type fixture struct {
	tokens  *token.Service
	db      *sqlite.DB
	mu      sync.Mutex
	now     time.Time
	changed []string // ids passed to OnChange
}

func newFixture(t *testing.T, o token.Options) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("sqlite.Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, now: t0}
	o.Now = func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.now
	}
	f.tokens = token.NewService(db, o)
	f.tokens.OnChange(func(id string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.changed = append(f.changed, id)
	})
	return f
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// sawChange reports whether OnChange was called with id, and forgets the calls.
func (f *fixture) sawChange(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := slices.Contains(f.changed, id)
	f.changed = nil
	return ok
}

// local is a trusted local caller (the CLI, a console user).
var local = token.Actor{UserID: "admin"}

func (f *fixture) mustCreate(t *testing.T, in token.CreateInput) (*token.Token, string) {
	t.Helper()
	if in.Name == "" {
		in.Name = "t"
	}
	tok, secret, err := f.tokens.Create(context.Background(), local, in)
	if err != nil {
		t.Fatalf("Create(%+v) = %v", in, err)
	}
	return tok, secret.Reveal()
}

// actor returns the token as the actor of a request it authenticates.
func actor(tok *token.Token) token.Actor {
	return token.Actor{TokenID: tok.ID, UserID: tok.UserID, Scopes: tok.ScopeSet()}
}

func lifetime(tok *token.Token) time.Duration {
	if tok.Expires.IsZero() {
		return 0
	}
	return tok.Expires.Sub(tok.Created)
}

func TestCheckLifetimes(t *testing.T) {
	tests := []struct {
		name string
		o    token.Options
		ok   bool
	}{
		{"none", token.Options{}, true},
		{"default only", token.Options{DefaultLifetime: time.Hour}, true},
		{"max only", token.Options{MaxLifetime: time.Hour}, true},
		{"default equals max", token.Options{DefaultLifetime: time.Hour, MaxLifetime: time.Hour}, true},
		{"default over max", token.Options{DefaultLifetime: 2 * time.Hour, MaxLifetime: time.Hour}, false},
		{"negative default", token.Options{DefaultLifetime: -time.Hour}, false},
		{"negative max", token.Options{MaxLifetime: -time.Hour}, false},
	}
	for _, tt := range tests {
		if err := tt.o.CheckLifetimes(); (err == nil) != tt.ok {
			t.Errorf("%s: CheckLifetimes() = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// TestLifetimePolicy: a create without a lifetime gets the default, one over
// the maximum is capped, and EnvironmentTokenManagement's 24 hours still
// apply; the shortest limit wins.
func TestLifetimePolicy(t *testing.T) {
	const day = 24 * time.Hour
	etm := []token.Scope{token.EnvironmentTokenManagement}
	plain := []token.Scope{token.SettingsRead}
	tests := []struct {
		name        string
		def, max    time.Duration
		scopes      []token.Scope
		asked, want time.Duration
	}{
		{"no policy, none asked", 0, 0, plain, 0, 0},
		{"no policy, asked", 0, 0, plain, 3 * day, 3 * day},
		{"default, none asked", 7 * day, 0, plain, 0, 7 * day},
		{"default, asked longer", 7 * day, 0, plain, 30 * day, 30 * day},
		{"default, asked shorter", 7 * day, 0, plain, time.Hour, time.Hour},
		{"max, none asked", 0, 90 * day, plain, 0, 90 * day},
		{"max, asked over", 0, 90 * day, plain, 365 * day, 90 * day},
		{"max, asked under", 0, 90 * day, plain, 10 * day, 10 * day},
		{"default and max, none asked", 7 * day, 90 * day, plain, 0, 7 * day},
		{"default and max, asked over", 7 * day, 90 * day, plain, 100 * day, 90 * day},
		{"etm, no policy", 0, 0, etm, 0, day},
		{"etm, default longer", 7 * day, 0, etm, 0, day},
		{"etm, default shorter", time.Hour, 0, etm, 0, time.Hour},
		{"etm, max shorter", 0, 2 * time.Hour, etm, 48 * time.Hour, 2 * time.Hour},
		{"etm, asked over 24 h", 0, 90 * day, etm, 2 * day, day},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, token.Options{DefaultLifetime: tt.def, MaxLifetime: tt.max})
			tok, _ := f.mustCreate(t, token.CreateInput{Scopes: tt.scopes, ExpiresIn: tt.asked})
			if got := lifetime(tok); got != tt.want {
				t.Errorf("Create(expiresIn %v) with default %v, max %v: lifetime %v, want %v", tt.asked, tt.def, tt.max, got, tt.want)
			}
			stored, err := f.tokens.Get(context.Background(), tok.ID)
			if err != nil || !stored.Expires.Equal(tok.Expires) {
				t.Errorf("stored expiry %v (%v), returned %v", stored.Expires, err, tok.Expires)
			}
			if d, m := f.tokens.Lifetimes(); d != tt.def || m != tt.max {
				t.Errorf("Lifetimes() = %v, %v", d, m)
			}
		})
	}
}

func wantForbidden(t *testing.T, what string, err error, missing ...string) {
	t.Helper()
	e, ok := errors.AsType[*errs.Error](err)
	if !ok || e.Kind != errs.Forbidden {
		t.Fatalf("%s = %v, want Forbidden", what, err)
	}
	const prefix = "Strict grant policy: the token cannot grant scopes it does not hold: "
	if !strings.HasPrefix(e.Message, prefix+strings.Join(missing, ", ")) {
		t.Errorf("%s: message %q, want it to name %v", what, e.Message, missing)
	}
}

// TestStrictGrants applies the strict policy on every write path: create,
// rescope, rotate and bound (environment) tokens. The 403 names the scopes
// the token lacks; trusted local callers are not limited.
func TestStrictGrants(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, token.Options{Strict: true})
	granter, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.ClusterTokenManagement, token.SettingsRead}})
	a := actor(granter)

	// Create.
	_, _, err := f.tokens.Create(ctx, a, token.CreateInput{Name: "x",
		Scopes: []token.Scope{token.SettingsRead, token.ServiceProviderAPI, token.SettingsWrite}})
	wantForbidden(t, "Create(scopes not held)", err, "ServiceProviderAPI", "settings.write")
	if _, _, err := f.tokens.Create(ctx, a, token.CreateInput{Name: "x", Scopes: []token.Scope{token.SettingsRead}}); err != nil {
		t.Errorf("Create(scopes held) = %v", err)
	}

	// Update (rescope).
	target, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.SettingsRead}})
	err = f.tokens.Update(ctx, a, target.ID, token.Change{Scopes: []token.Scope{token.Nodekeeper}})
	wantForbidden(t, "Update(rescope to a scope not held)", err, "Nodekeeper")
	if err := f.tokens.Update(ctx, a, target.ID, token.Change{Scopes: []token.Scope{token.SettingsRead, token.ClusterTokenManagement}}); err != nil {
		t.Errorf("Update(rescope to scopes held) = %v", err)
	}

	// Rotate: the new token would hold the old one's scopes.
	big, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.ServiceProviderAPI, token.SettingsRead}})
	_, _, _, err = f.tokens.Rotate(ctx, a, big.ID, time.Hour)
	wantForbidden(t, "Rotate(token with scopes not held)", err, "ServiceProviderAPI")
	if got, _ := f.tokens.Get(ctx, big.ID); got.Successor != "" || !got.Expires.IsZero() {
		t.Errorf("a refused rotation changed the token: %+v", got)
	}
	small, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.SettingsRead}})
	if _, _, _, err := f.tokens.Rotate(ctx, a, small.ID, time.Hour); err != nil {
		t.Errorf("Rotate(token with scopes held) = %v", err)
	}

	// Environment tokens: a token-management token needs
	// EnvironmentTokenManagement (or the scopes themselves).
	bound := token.CreateInput{Name: "tm", EnvironmentID: "env-1",
		Scopes: []token.Scope{token.APITokensRead, token.APITokensWrite, token.TenantTokenManagement}}
	spa, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.ServiceProviderAPI}})
	_, _, err = f.tokens.Create(ctx, actor(spa), bound)
	wantForbidden(t, "Create(bound, by ServiceProviderAPI)", err, "apiTokens.read", "apiTokens.write", "TenantTokenManagement")
	if e, _ := errors.AsType[*errs.Error](err); !strings.Contains(e.Message, "EnvironmentTokenManagement grants") {
		t.Errorf("the refusal does not say which scope would do: %q", e.Message)
	}
	etm, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.EnvironmentTokenManagement}})
	minted, _, err := f.tokens.Create(ctx, actor(etm), bound)
	if err != nil {
		t.Fatalf("Create(bound, by EnvironmentTokenManagement) = %v", err)
	}
	// ... but only on bound tokens, and only those scopes.
	unbound := bound
	unbound.EnvironmentID, unbound.Scopes = "", []token.Scope{token.APITokensRead}
	_, _, err = f.tokens.Create(ctx, actor(etm), unbound)
	wantForbidden(t, "Create(unbound apiTokens.read, by EnvironmentTokenManagement)", err, "apiTokens.read")
	withMore := bound
	withMore.Scopes = append(slices.Clone(bound.Scopes), token.SettingsRead)
	_, _, err = f.tokens.Create(ctx, actor(etm), withMore)
	wantForbidden(t, "Create(bound with settings.read, by EnvironmentTokenManagement)", err, "settings.read")
	// Rescoping and rotating a bound token follow the same rule.
	if err := f.tokens.Update(ctx, actor(spa), minted.ID, token.Change{Scopes: []token.Scope{token.APITokensRead}}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("Update(bound, by ServiceProviderAPI) = %v, want Forbidden", err)
	}
	if _, _, _, err := f.tokens.Rotate(ctx, actor(spa), minted.ID, 0); !errs.Is(err, errs.Forbidden) {
		t.Errorf("Rotate(bound, by ServiceProviderAPI) = %v, want Forbidden", err)
	}
	if _, _, _, err := f.tokens.Rotate(ctx, actor(etm), minted.ID, 0); err != nil {
		t.Errorf("Rotate(bound, by EnvironmentTokenManagement) = %v", err)
	}

	// Trusted local callers may grant anything.
	if _, _, err := f.tokens.Create(ctx, local, token.CreateInput{Name: "x", Scopes: []token.Scope{token.Nodekeeper}}); err != nil {
		t.Errorf("Create(local caller) = %v", err)
	}

	// Without strict mode, ClusterTokenManagement grants anything.
	lax := newFixture(t, token.Options{})
	g, _ := lax.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.ClusterTokenManagement}})
	if _, _, err := lax.tokens.Create(ctx, actor(g), token.CreateInput{Name: "x", Scopes: []token.Scope{token.Nodekeeper}}); err != nil {
		t.Errorf("Create(not strict) = %v", err)
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, token.Options{})
	admin, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.ClusterTokenManagement}})
	old, oldSecret := f.mustCreate(t, token.CreateInput{Name: "pipeline ✓", UserID: "bob",
		Scopes: []token.Scope{token.ServiceProviderAPI, token.SettingsRead}, ExpiresIn: 30 * 24 * time.Hour})
	f.advance(10 * 24 * time.Hour)
	f.sawChange("")

	was, next, secret, err := f.tokens.Rotate(ctx, actor(admin), oldSecret, time.Hour) // {id} may be the full token
	if err != nil {
		t.Fatalf("Rotate = %v", err)
	}
	now := t0.Add(10 * 24 * time.Hour)
	want := &token.Token{ID: secret.Reveal()[:token.IDLen], Hash: token.HashOf(secret.Reveal()), Name: "pipeline ✓",
		UserID: "bob", Scopes: old.Scopes, Created: now, Expires: now.Add(30 * 24 * time.Hour), Predecessor: old.ID}
	if diff := cmp.Diff(want, next); diff != "" {
		t.Errorf("Rotate returned (-want +got):\n%s", diff)
	}
	if !f.sawChange(old.ID) {
		t.Errorf("Rotate did not announce the change of %s", old.ID)
	}
	got, _ := f.tokens.Get(ctx, old.ID)
	if diff := cmp.Diff(got, was); diff != "" {
		t.Errorf("Rotate returned the old token unlike the store (-stored +returned):\n%s", diff)
	}
	if got.Successor != next.ID || !got.Expires.Equal(now.Add(time.Hour)) || got.Revoked {
		t.Errorf("old token after Rotate: successor %q, expires %v, revoked %v; want %s, %v, false",
			got.Successor, got.Expires, got.Revoked, next.ID, now.Add(time.Hour))
	}

	// The old token works until the new one is first used.
	if _, err := f.tokens.Authenticate(ctx, oldSecret); err != nil {
		t.Fatalf("Authenticate(old, in grace) = %v", err)
	}
	if _, err := f.tokens.Authenticate(ctx, secret.Reveal()); err != nil {
		t.Fatalf("Authenticate(new) = %v", err)
	}
	if !f.sawChange(old.ID) {
		t.Errorf("the first use of the new token did not announce the change of %s", old.ID)
	}
	if _, err := f.tokens.Authenticate(ctx, oldSecret); err != token.ErrRevoked {
		t.Errorf("Authenticate(old, after the new one's first use) = %v, want %v", err, token.ErrRevoked)
	}
	if got, _ := f.tokens.Get(ctx, next.ID); got.Predecessor != "" {
		t.Errorf("predecessor %q left after the first use", got.Predecessor)
	}
	if _, err := f.tokens.Authenticate(ctx, secret.Reveal()); err != nil {
		t.Errorf("Authenticate(new, again) = %v", err)
	}

	// A rotated token is not rotated again: the error names both ids.
	_, _, _, err = f.tokens.Rotate(ctx, actor(admin), old.ID, time.Hour)
	var re *token.RotatedError
	if !errors.As(err, &re) || re.ID != old.ID || re.Successor != next.ID || !errs.Is(err, errs.Conflict) {
		t.Fatalf("Rotate(rotated) = %v, want a Conflict naming %s and %s", err, old.ID, next.ID)
	}
	if msg := err.Error(); !strings.Contains(msg, old.ID) || !strings.Contains(msg, next.ID) || strings.Contains(msg, secret.Reveal()[token.IDLen:]) {
		t.Errorf("message %q", msg)
	}
	// The successor itself may be rotated.
	if _, _, _, err := f.tokens.Rotate(ctx, actor(admin), next.ID, 0); err != nil {
		t.Errorf("Rotate(successor) = %v", err)
	}
}

func TestRotateGraceExpires(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, token.Options{})
	admin, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.ClusterTokenManagement}})
	old, oldSecret := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.Nodekeeper}})
	_, next, _, err := f.tokens.Rotate(ctx, actor(admin), old.ID, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// A token that never expired: its successor never does either.
	if !next.Expires.IsZero() {
		t.Errorf("successor of a token that never expires expires at %v", next.Expires)
	}
	f.advance(time.Second)
	if _, err := f.tokens.Authenticate(ctx, oldSecret); err != nil {
		t.Errorf("Authenticate(old, in grace) = %v", err)
	}
	f.advance(time.Second)
	if _, err := f.tokens.Authenticate(ctx, oldSecret); err != token.ErrExpired {
		t.Errorf("Authenticate(old, grace over) = %v, want %v", err, token.ErrExpired)
	}
}

func TestRotateRules(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, token.Options{DefaultLifetime: 7 * 24 * time.Hour, MaxLifetime: 10 * 24 * time.Hour})
	admin, adminSecret := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.ClusterTokenManagement}})
	a := actor(admin)

	// Grace 0 revokes the old token at once.
	tok, secret := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.Nodekeeper}})
	_, next, _, err := f.tokens.Rotate(ctx, a, tok.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.tokens.Authenticate(ctx, secret); err != token.ErrRevoked {
		t.Errorf("Authenticate(old, no grace) = %v, want %v", err, token.ErrRevoked)
	}
	if next.Predecessor != "" {
		t.Errorf("successor without grace has predecessor %q", next.Predecessor)
	}
	// The lifetime policy applies: the old token got the 7-day default.
	if lifetime(next) != 7*24*time.Hour {
		t.Errorf("successor lifetime %v, want the old one's 7 days", lifetime(next))
	}

	// The grace period never outlives the old token.
	short, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.Nodekeeper}, ExpiresIn: time.Hour})
	if _, _, _, err := f.tokens.Rotate(ctx, a, short.ID, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.tokens.Get(ctx, short.ID); !got.Expires.Equal(short.Expires) {
		t.Errorf("old expiry moved from %v to %v by a longer grace", short.Expires, got.Expires)
	}

	// Only active tokens; no negative grace; unknown ids; the ETM cap.
	revoked, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.Nodekeeper}})
	yes := true
	if err := f.tokens.Update(ctx, local, revoked.ID, token.Change{Revoked: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.tokens.Rotate(ctx, a, revoked.ID, time.Hour); !errs.Is(err, errs.Conflict) {
		t.Errorf("Rotate(revoked) = %v, want Conflict", err)
	}
	expiring, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.Nodekeeper}, ExpiresIn: time.Second})
	f.advance(time.Second)
	if _, _, _, err := f.tokens.Rotate(ctx, a, expiring.ID, time.Hour); !errs.Is(err, errs.Conflict) {
		t.Errorf("Rotate(expired) = %v, want Conflict", err)
	}
	if _, _, _, err := f.tokens.Rotate(ctx, a, tok.ID, -time.Second); !errs.Is(err, errs.Invalid) {
		t.Errorf("Rotate(negative grace) = %v, want Invalid", err)
	}
	if _, _, _, err := f.tokens.Rotate(ctx, a, token.Generate().Reveal()[:token.IDLen], time.Hour); !errs.Is(err, errs.NotFound) {
		t.Errorf("Rotate(unknown) = %v, want NotFound", err)
	}
	if _, _, _, err := f.tokens.Rotate(ctx, a, token.WrongSecret(adminSecret), time.Hour); !errs.Is(err, errs.NotFound) {
		t.Errorf("Rotate(full token, wrong secret) = %v, want NotFound", err)
	}
	if _, _, _, err := f.tokens.Rotate(ctx, a, "nonsense", time.Hour); !errs.Is(err, errs.Invalid) {
		t.Errorf("Rotate(malformed id) = %v, want Invalid", err)
	}
	etm, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.EnvironmentTokenManagement}})
	f.advance(23 * time.Hour)
	if _, next, _, err := f.tokens.Rotate(ctx, a, etm.ID, time.Hour); err != nil || lifetime(next) != 24*time.Hour {
		t.Errorf("Rotate(EnvironmentTokenManagement) lifetime %v, %v; want 24 h from now", lifetime(next), err)
	}

	// A token may rotate itself.
	_, self, selfSecret, err := f.tokens.Rotate(ctx, a, admin.ID, time.Hour)
	if err != nil {
		t.Fatalf("Rotate(self) = %v", err)
	}
	if _, err := f.tokens.Authenticate(ctx, adminSecret); err != nil {
		t.Errorf("Authenticate(self-rotated, in grace) = %v", err)
	}
	if _, err := f.tokens.Authenticate(ctx, selfSecret.Reveal()); err != nil || self.UserID != admin.UserID {
		t.Errorf("Authenticate(successor of self) = %v", err)
	}
}

// Concurrent rotations of one token: one wins, the others are told its
// successor.
func TestRotateConcurrently(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, token.Options{})
	admin, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.ClusterTokenManagement}})
	old, _ := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.Nodekeeper}})
	const n = 5
	type result struct {
		next *token.Token
		err  error
	}
	res := make(chan result, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, next, _, err := f.tokens.Rotate(ctx, actor(admin), old.ID, time.Hour)
			res <- result{next, err}
		})
	}
	wg.Wait()
	close(res)
	var winner string
	var losers []*token.RotatedError
	for r := range res {
		if r.err == nil {
			if winner != "" {
				t.Fatalf("two rotations succeeded")
			}
			winner = r.next.ID
			continue
		}
		re, ok := errors.AsType[*token.RotatedError](r.err)
		if !ok {
			t.Fatalf("Rotate = %v, want a RotatedError", r.err)
		}
		losers = append(losers, re)
	}
	for _, re := range losers {
		if re.Successor != winner {
			t.Errorf("RotatedError names %s, the winner is %s", re.Successor, winner)
		}
	}
}

func TestRevokeLeaked(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, token.Options{})
	leaked, leakedSecret := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.Nodekeeper}})
	other, otherSecret := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.Nodekeeper}})
	already, alreadySecret := f.mustCreate(t, token.CreateInput{Scopes: []token.Scope{token.Nodekeeper}})
	yes := true
	if err := f.tokens.Update(ctx, local, already.ID, token.Change{Revoked: &yes}); err != nil {
		t.Fatal(err)
	}
	f.sawChange("")

	ids, err := f.tokens.RevokeLeaked(ctx, []string{
		"", "nonsense", other.ID, // a bare id does nothing
		token.WrongSecret(otherSecret), // nor a wrong secret
		token.Generate().Reveal(),      // nor an unknown token
		" " + leakedSecret + "\r\n",    // whitespace is trimmed
		leakedSecret,                   // twice is once
		alreadySecret,                  // revoked before: not reported
		strings.ToLower(otherSecret),   // malformed
		strings.Repeat("x", 100_000),   // anything
	})
	if err != nil {
		t.Fatalf("RevokeLeaked = %v", err)
	}
	if diff := cmp.Diff([]string{leaked.ID}, ids); diff != "" {
		t.Errorf("RevokeLeaked revoked (-want +got):\n%s", diff)
	}
	if !f.sawChange(leaked.ID) {
		t.Errorf("the revocation was not announced")
	}
	if _, err := f.tokens.Authenticate(ctx, leakedSecret); err != token.ErrRevoked {
		t.Errorf("Authenticate(leaked) = %v, want %v", err, token.ErrRevoked)
	}
	if _, err := f.tokens.Authenticate(ctx, otherSecret); err != nil {
		t.Errorf("Authenticate(other) = %v: a bare id or a wrong secret revoked it", err)
	}
	if ids, err := f.tokens.RevokeLeaked(ctx, []string{leakedSecret}); err != nil || len(ids) != 0 {
		t.Errorf("RevokeLeaked(again) = %v, %v; want nothing new", ids, err)
	}
	if ids, err := f.tokens.RevokeLeaked(ctx, nil); err != nil || len(ids) != 0 {
		t.Errorf("RevokeLeaked(none) = %v, %v", ids, err)
	}
	many := make([]string, token.MaxLeaked+1)
	if _, err := f.tokens.RevokeLeaked(ctx, many); !errs.Is(err, errs.Invalid) {
		t.Errorf("RevokeLeaked(%d entries) = %v, want Invalid", len(many), err)
	}
	if _, err := f.tokens.RevokeLeaked(ctx, many[:token.MaxLeaked]); err != nil {
		t.Errorf("RevokeLeaked(%d entries) = %v", token.MaxLeaked, err)
	}
}
