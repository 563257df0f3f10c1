package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/errs"
	"clusterapi/internal/token"
)

// base is a fixed, millisecond-precise instant for stored times.
var base = time.Date(2026, 12, 3, 18, 59, 8, 123_000_000, time.UTC)

// newToken returns a token record with a fresh id, created n minutes after base.
func newToken(name string, n int, scopes ...token.Scope) *token.Token {
	secret := token.Generate()
	return &token.Token{
		ID:      secret.Reveal()[:token.IDLen],
		Hash:    token.HashOf(secret.Reveal()),
		Name:    name,
		UserID:  "admin",
		Scopes:  scopes,
		Created: base.Add(time.Duration(n) * time.Minute),
	}
}

func mustCreate(t *testing.T, s Store, tok *token.Token) {
	t.Helper()
	if err := s.CreateToken(context.Background(), tok); err != nil {
		t.Fatalf("CreateToken(%s) = %v", tok.ID, err)
	}
}

func testTokens(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("CreateFind", func(t *testing.T) {
		s := open(t)
		want := newToken("név ✓ 名前", 0, token.ClusterTokenManagement, token.SettingsRead)
		want.Expires = base.Add(24 * time.Hour)
		want.EnvironmentID = "env-1"
		mustCreate(t, s, want)
		got, err := s.FindToken(ctx, want.ID)
		if err != nil {
			t.Fatalf("FindToken = %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("FindToken mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		id := newToken("x", 0).ID
		if _, err := s.FindToken(ctx, id); !errs.Is(err, errs.NotFound) {
			t.Errorf("FindToken(unknown) = %v, want NotFound", err)
		}
		name := "y"
		if err := s.UpdateToken(ctx, id, token.Change{Name: &name}); !errs.Is(err, errs.NotFound) {
			t.Errorf("UpdateToken(unknown) = %v, want NotFound", err)
		}
		if err := s.DeleteToken(ctx, id); !errs.Is(err, errs.NotFound) {
			t.Errorf("DeleteToken(unknown) = %v, want NotFound", err)
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		tok := newToken("a", 0, token.Nodekeeper)
		mustCreate(t, s, tok)
		if err := s.CreateToken(ctx, tok); !errs.Is(err, errs.Conflict) {
			t.Errorf("CreateToken(duplicate) = %v, want Conflict", err)
		}
	})

	t.Run("Update", func(t *testing.T) {
		s := open(t)
		tok := newToken("before", 0, token.Nodekeeper)
		mustCreate(t, s, tok)
		name, revoked, expires := "after", true, base.Add(time.Hour)
		if err := s.UpdateToken(ctx, tok.ID, token.Change{Name: &name, Revoked: &revoked, Expires: &expires,
			Scopes: []token.Scope{token.SettingsWrite, token.APITokensRead}}); err != nil {
			t.Fatalf("UpdateToken = %v", err)
		}
		got, err := s.FindToken(ctx, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *tok
		want.Name, want.Revoked, want.Expires = name, true, expires
		want.Scopes = []token.Scope{token.SettingsWrite, token.APITokensRead}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("after UpdateToken (-want +got):\n%s", diff)
		}
		// An empty change changes nothing and still succeeds.
		if err := s.UpdateToken(ctx, tok.ID, token.Change{}); err != nil {
			t.Errorf("UpdateToken(empty change) = %v", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		tok := newToken("gone", 0, token.Nodekeeper)
		mustCreate(t, s, tok)
		if err := s.DeleteToken(ctx, tok.ID); err != nil {
			t.Fatalf("DeleteToken = %v", err)
		}
		if _, err := s.FindToken(ctx, tok.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("FindToken after delete = %v, want NotFound", err)
		}
	})

	t.Run("DeleteEnvironmentTokens", func(t *testing.T) {
		s := open(t)
		a, b, c := newToken("a", 0, token.APITokensRead), newToken("b", 1, token.APITokensRead), newToken("c", 2, token.Nodekeeper)
		a.EnvironmentID, b.EnvironmentID = "env-1", "env-2"
		for _, tok := range []*token.Token{a, b, c} {
			mustCreate(t, s, tok)
		}
		ids, err := s.DeleteEnvironmentTokens(ctx, "env-1")
		if err != nil || len(ids) != 1 || ids[0] != a.ID {
			t.Fatalf("DeleteEnvironmentTokens(env-1) = %v, %v; want [%s]", ids, err, a.ID)
		}
		if _, err := s.FindToken(ctx, a.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("bound token still there: %v", err)
		}
		for _, tok := range []*token.Token{b, c} {
			if _, err := s.FindToken(ctx, tok.ID); err != nil {
				t.Errorf("other token %s gone: %v", tok.Name, err)
			}
		}
		if ids, err := s.DeleteEnvironmentTokens(ctx, "none"); err != nil || len(ids) != 0 {
			t.Errorf("DeleteEnvironmentTokens(none) = %v, %v", ids, err)
		}
	})

	t.Run("FindTokens", func(t *testing.T) {
		s := open(t)
		a := newToken("a", 1, token.ClusterTokenManagement, token.ServiceProviderAPI)
		b := newToken("b", 2, token.ServiceProviderAPI)
		b.UserID = "bob"
		c := newToken("c", 3, token.SettingsRead, token.ClusterTokenManagement)
		c.LastUse = base.Add(time.Hour)
		for _, tok := range []*token.Token{a, b, c} {
			mustCreate(t, s, tok)
		}
		ids := func(ts []*token.Token) []string {
			out := []string{}
			for _, t := range ts {
				out = append(out, t.Name)
			}
			return out
		}
		tests := []struct {
			name string
			f    token.Filter
			want []string
		}{
			{"all newest first", token.Filter{Limit: 10}, []string{"c", "b", "a"}},
			{"limit", token.Filter{Limit: 2}, []string{"c", "b"}},
			{"limit zero", token.Filter{Limit: 0}, []string{}},
			{"user", token.Filter{Limit: 10, UserID: "bob"}, []string{"b"}},
			{"one scope", token.Filter{Limit: 10, Scopes: []token.Scope{token.ClusterTokenManagement}}, []string{"c", "a"}},
			{"all scopes", token.Filter{Limit: 10, Scopes: []token.Scope{token.ClusterTokenManagement, token.ServiceProviderAPI}}, []string{"a"}},
			{"last use window", token.Filter{Limit: 10, LastUseFrom: base, LastUseTo: base.Add(2 * time.Hour)}, []string{"c"}},
			{"last use before", token.Filter{Limit: 10, LastUseTo: base}, []string{}},
		}
		for _, tt := range tests {
			got, err := s.FindTokens(ctx, tt.f)
			if err != nil {
				t.Fatalf("%s: FindTokens = %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("%s: FindTokens(%+v) (-want +got):\n%s", tt.name, tt.f, diff)
			}
		}
	})

	t.Run("RecordUses", func(t *testing.T) {
		s := open(t)
		var toks []*token.Token
		for i := range 3 {
			tok := newToken(fmt.Sprint(i), i, token.Nodekeeper)
			mustCreate(t, s, tok)
			toks = append(toks, tok)
		}
		t1, t2 := base.Add(time.Hour), base.Add(2*time.Hour)
		uses := []token.Use{
			{ID: toks[0].ID, At: t2, IP: "10.0.0.2"},
			{ID: toks[1].ID, At: t1, IP: "::1"},
			{ID: newToken("unknown", 9).ID, At: t1, IP: "10.0.0.9"}, // ignored
		}
		if err := s.RecordUses(ctx, uses); err != nil {
			t.Fatalf("RecordUses = %v", err)
		}
		// An older use never moves lastUse backwards.
		if err := s.RecordUses(ctx, []token.Use{{ID: toks[0].ID, At: t1, IP: "10.0.0.1"}}); err != nil {
			t.Fatalf("RecordUses(older) = %v", err)
		}
		for i, want := range []struct {
			at time.Time
			ip string
		}{{t2, "10.0.0.2"}, {t1, "::1"}, {time.Time{}, ""}} {
			got, err := s.FindToken(ctx, toks[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.LastUse.Equal(want.at) || got.LastUseIP != want.ip {
				t.Errorf("token %d: lastUse = %v %q, want %v %q", i, got.LastUse, got.LastUseIP, want.at, want.ip)
			}
		}
		// Many uses in one batch.
		var many []token.Use
		for i := range 1200 {
			many = append(many, token.Use{ID: toks[i%3].ID, At: t2.Add(time.Duration(i) * time.Millisecond), IP: "10.1.1.1"})
		}
		if err := s.RecordUses(ctx, many); err != nil {
			t.Fatalf("RecordUses(1200) = %v", err)
		}
		got, _ := s.FindToken(ctx, toks[2].ID)
		if want := t2.Add(1199 * time.Millisecond); !got.LastUse.Equal(want) {
			t.Errorf("after big batch lastUse = %v, want %v", got.LastUse, want)
		}
		// One token several times in a batch, the latest use not last.
		t3 := t2.Add(time.Hour)
		if err := s.RecordUses(ctx, []token.Use{{ID: toks[1].ID, At: t3, IP: "10.3.3.3"},
			{ID: toks[1].ID, At: t3.Add(-time.Minute), IP: "10.3.3.2"}}); err != nil {
			t.Fatalf("RecordUses(repeated id) = %v", err)
		}
		if got, _ := s.FindToken(ctx, toks[1].ID); !got.LastUse.Equal(t3) || got.LastUseIP != "10.3.3.3" {
			t.Errorf("after repeated id lastUse = %v %q, want %v %q", got.LastUse, got.LastUseIP, t3, "10.3.3.3")
		}
	})

	// Several nodes flush their batches at once, each with its own view of
	// the latest use: whatever the interleaving, lastUse ends at the latest
	// use of all and never moves backwards on the way.
	t.Run("RecordUsesConcurrently", func(t *testing.T) {
		s := open(t)
		var toks []*token.Token
		var ids []string
		for i := range 4 {
			tok := newToken(fmt.Sprint(i), i, token.Nodekeeper)
			mustCreate(t, s, tok)
			toks = append(toks, tok)
			ids = append(ids, tok.ID)
		}
		const nodes, batches = 3, 30
		var wg sync.WaitGroup
		errc := make(chan error, nodes)
		for n := range nodes {
			wg.Go(func() {
				for i := range batches {
					var batch []token.Use
					for k := range toks {
						// Node n's uses lag the others' by n minutes, and the
						// token order differs per node.
						at := base.Add(time.Duration(i)*time.Hour - time.Duration(n)*time.Minute)
						batch = append(batch, token.Use{ID: toks[(k+n)%len(toks)].ID, At: at, IP: fmt.Sprintf("10.0.0.%d", n)})
					}
					if err := s.RecordUses(ctx, batch); err != nil {
						errc <- err
						return
					}
				}
			})
		}
		// Meanwhile, lastUse only ever moves forwards.
		done := make(chan struct{})
		var watchErr error
		go func() {
			defer close(done)
			last := map[string]time.Time{}
			for range 50 {
				for _, id := range ids {
					got, err := s.FindToken(ctx, id)
					if err != nil {
						watchErr = err
						return
					}
					if got.LastUse.Before(last[id]) {
						watchErr = fmt.Errorf("token %s: lastUse moved back from %v to %v", id, last[id], got.LastUse)
						return
					}
					last[id] = got.LastUse
				}
			}
		}()
		wg.Wait()
		<-done
		close(errc)
		for err := range errc {
			t.Fatalf("RecordUses = %v", err)
		}
		if watchErr != nil {
			t.Error(watchErr)
		}
		want := base.Add((batches - 1) * time.Hour)
		for _, id := range ids {
			if got, _ := s.FindToken(ctx, id); !got.LastUse.Equal(want) || got.LastUseIP != "10.0.0.0" {
				t.Errorf("token %s: lastUse = %v %q, want %v from node 0", id, got.LastUse, got.LastUseIP, want)
			}
		}
	})

	t.Run("TokenChanges", func(t *testing.T) {
		s := open(t)
		start, err := s.LastTokenChange(ctx)
		if err != nil {
			t.Fatal(err)
		}
		a, b := newToken("a", 0, token.Nodekeeper), newToken("b", 1, token.Nodekeeper)
		mustCreate(t, s, a)
		mustCreate(t, s, b)
		name, revoked := "renamed", true
		// A rename and a last use matter to no cache; revocation, rescoping
		// and deletion do.
		steps := []func() error{
			func() error { return s.UpdateToken(ctx, a.ID, token.Change{Name: &name}) },
			func() error { return s.RecordUses(ctx, []token.Use{{ID: a.ID, At: base, IP: "::1"}}) },
			func() error { return s.UpdateToken(ctx, a.ID, token.Change{Revoked: &revoked}) },
			func() error { return s.UpdateToken(ctx, b.ID, token.Change{Scopes: []token.Scope{token.SettingsRead}}) },
			func() error { return s.DeleteToken(ctx, a.ID) },
		}
		for i, step := range steps {
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		ids, next, lost, err := s.TokenChanges(ctx, start)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{a.ID, b.ID, a.ID}, ids); diff != "" || lost {
			t.Errorf("TokenChanges(%d) lost=%v (-want +got):\n%s", start, lost, diff)
		}
		if last, _ := s.LastTokenChange(ctx); last != next {
			t.Errorf("LastTokenChange = %d, TokenChanges next = %d", last, next)
		}
		ids, next2, _, err := s.TokenChanges(ctx, next)
		if err != nil || len(ids) != 0 || next2 != next {
			t.Errorf("TokenChanges(next) = %v, %d, %v; want nothing new", ids, next2, err)
		}
	})
}
