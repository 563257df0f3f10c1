package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/errs"
	"clusterapi/internal/token"
)

// testRotation covers RotateToken and RetirePredecessor: one transaction
// each, a token rotated at most once, and the change log told of what the
// caches must drop.
func testRotation(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("RotateWithGrace", func(t *testing.T) {
		s := open(t)
		old := newToken("ci", 0, token.ServiceProviderAPI, token.SettingsRead)
		old.Expires = base.Add(30 * 24 * time.Hour)
		old.EnvironmentID = "env-1"
		mustCreate(t, s, old)
		start, err := s.LastTokenChange(ctx)
		if err != nil {
			t.Fatal(err)
		}
		next := newToken("ci", 5, token.ServiceProviderAPI, token.SettingsRead)
		next.EnvironmentID, next.Predecessor = "env-1", old.ID
		next.Expires = base.Add(31 * 24 * time.Hour)
		graceEnd := base.Add(5*time.Minute + 24*time.Hour)
		if err := s.RotateToken(ctx, old.ID, next, token.Change{Expires: &graceEnd}); err != nil {
			t.Fatalf("RotateToken = %v", err)
		}
		got, err := s.FindToken(ctx, next.ID)
		if err != nil {
			t.Fatalf("FindToken(new) = %v", err)
		}
		if diff := cmp.Diff(next, got); diff != "" {
			t.Errorf("new token (-want +got):\n%s", diff)
		}
		want := *old
		want.Successor, want.Expires = next.ID, graceEnd
		if got, err := s.FindToken(ctx, old.ID); err != nil {
			t.Fatal(err)
		} else if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("old token (-want +got):\n%s", diff)
		}
		// The old token's expiry moved: its cached verifications must go.
		ids, _, _, err := s.TokenChanges(ctx, start)
		if err != nil || !slices.Contains(ids, old.ID) {
			t.Errorf("TokenChanges after rotation = %v, %v; want %s among them", ids, err, old.ID)
		}

		// A second rotation of the same token is a Conflict and stores
		// nothing.
		again := newToken("ci", 6, token.ServiceProviderAPI)
		if err := s.RotateToken(ctx, old.ID, again, token.Change{}); !errs.Is(err, errs.Conflict) {
			t.Errorf("RotateToken(rotated) = %v, want Conflict", err)
		}
		if _, err := s.FindToken(ctx, again.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("the refused successor was stored: %v", err)
		}
		if got, _ := s.FindToken(ctx, old.ID); got.Successor != next.ID {
			t.Errorf("successor after refused rotation = %q, want %q", got.Successor, next.ID)
		}

		// The first use retires the predecessor, once.
		start, _ = s.LastTokenChange(ctx)
		pred, err := s.RetirePredecessor(ctx, next.ID)
		if err != nil || pred != old.ID {
			t.Fatalf("RetirePredecessor = %q, %v; want %q", pred, err, old.ID)
		}
		if got, _ := s.FindToken(ctx, old.ID); !got.Revoked {
			t.Errorf("the predecessor is not revoked")
		}
		if got, _ := s.FindToken(ctx, next.ID); got.Predecessor != "" || got.Revoked {
			t.Errorf("after RetirePredecessor the new token has predecessor %q, revoked %v", got.Predecessor, got.Revoked)
		}
		ids, _, _, err = s.TokenChanges(ctx, start)
		if err != nil || !slices.Contains(ids, old.ID) || slices.Contains(ids, next.ID) {
			t.Errorf("TokenChanges after retirement = %v, %v; want %s and not %s", ids, err, old.ID, next.ID)
		}
		if pred, err := s.RetirePredecessor(ctx, next.ID); err != nil || pred != "" {
			t.Errorf("RetirePredecessor again = %q, %v; want nothing", pred, err)
		}
	})

	t.Run("RotateRevokingAtOnce", func(t *testing.T) {
		s := open(t)
		old := newToken("ci", 0, token.Nodekeeper)
		mustCreate(t, s, old)
		next := newToken("ci", 1, token.Nodekeeper)
		yes := true
		if err := s.RotateToken(ctx, old.ID, next, token.Change{Revoked: &yes}); err != nil {
			t.Fatalf("RotateToken = %v", err)
		}
		got, err := s.FindToken(ctx, old.ID)
		if err != nil || !got.Revoked || got.Successor != next.ID || !got.Expires.IsZero() {
			t.Errorf("old token = %+v, %v; want revoked, successor %s, expiry unchanged", got, err, next.ID)
		}
		if pred, err := s.RetirePredecessor(ctx, next.ID); err != nil || pred != "" {
			t.Errorf("RetirePredecessor(no predecessor) = %q, %v", pred, err)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		next := newToken("x", 0, token.Nodekeeper)
		if err := s.RotateToken(ctx, newToken("gone", 0).ID, next, token.Change{}); !errs.Is(err, errs.NotFound) {
			t.Errorf("RotateToken(unknown) = %v, want NotFound", err)
		}
		if _, err := s.FindToken(ctx, next.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("the successor of an unknown token was stored: %v", err)
		}
		if pred, err := s.RetirePredecessor(ctx, next.ID); err != nil || pred != "" {
			t.Errorf("RetirePredecessor(unknown) = %q, %v; want nothing", pred, err)
		}
	})

	// A predecessor deleted before the first use: nothing to revoke, and the
	// link is cleared all the same.
	t.Run("PredecessorDeleted", func(t *testing.T) {
		s := open(t)
		old := newToken("ci", 0, token.Nodekeeper)
		mustCreate(t, s, old)
		next := newToken("ci", 1, token.Nodekeeper)
		next.Predecessor = old.ID
		if err := s.RotateToken(ctx, old.ID, next, token.Change{}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteToken(ctx, old.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RetirePredecessor(ctx, next.ID); err != nil {
			t.Errorf("RetirePredecessor(deleted predecessor) = %v", err)
		}
		if got, _ := s.FindToken(ctx, next.ID); got.Predecessor != "" {
			t.Errorf("predecessor %q left after retirement", got.Predecessor)
		}
	})

	// Nodes rotating one token at once: exactly one rotation wins.
	t.Run("RotateConcurrently", func(t *testing.T) {
		s := open(t)
		old := newToken("ci", 0, token.Nodekeeper)
		mustCreate(t, s, old)
		const n = 6
		errc := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				next := newToken("ci", i+1, token.Nodekeeper)
				next.Predecessor = old.ID
				errc <- s.RotateToken(ctx, old.ID, next, token.Change{})
			})
		}
		wg.Wait()
		close(errc)
		won := 0
		for err := range errc {
			switch {
			case err == nil:
				won++
			case !errs.Is(err, errs.Conflict):
				t.Errorf("RotateToken = %v, want nil or Conflict", err)
			}
		}
		if won != 1 {
			t.Errorf("%d concurrent rotations succeeded, want 1", won)
		}
		all, err := s.FindTokens(ctx, token.Filter{Limit: 100})
		if err != nil || len(all) != 2 {
			t.Errorf("FindTokens = %d tokens, %v; want the old one and one successor", len(all), err)
		}
	})

	// Nodes seeing the new token's first use at once: the predecessor is
	// revoked, and reported by one of them only.
	t.Run("RetireConcurrently", func(t *testing.T) {
		s := open(t)
		old := newToken("ci", 0, token.Nodekeeper)
		mustCreate(t, s, old)
		next := newToken("ci", 1, token.Nodekeeper)
		next.Predecessor = old.ID
		if err := s.RotateToken(ctx, old.ID, next, token.Change{}); err != nil {
			t.Fatal(err)
		}
		const n = 6
		type result struct {
			pred string
			err  error
		}
		res := make(chan result, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				p, err := s.RetirePredecessor(ctx, next.ID)
				res <- result{p, err}
			})
		}
		wg.Wait()
		close(res)
		reported := 0
		for r := range res {
			if r.err != nil {
				t.Errorf("RetirePredecessor = %v", r.err)
			}
			if r.pred != "" {
				reported++
			}
		}
		if reported != 1 {
			t.Errorf("%d callers reported the predecessor, want 1", reported)
		}
		if got, _ := s.FindToken(ctx, old.ID); !got.Revoked {
			t.Errorf("the predecessor is not revoked")
		}
	})
}
