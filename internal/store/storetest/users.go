package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/account"
	"clusterapi/internal/errs"
)

func mustCreateUser(t *testing.T, s Store, id string) *account.User {
	t.Helper()
	u := &account.User{ID: id, PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$a2V5", Created: base}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%q) = %v", id, err)
	}
	return u
}

func testUsers(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	if n, err := s.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers on an empty store = %d, %v; want 0, nil", n, err)
	}
	admin := mustCreateUser(t, s, "admin")
	mustCreateUser(t, s, "Admin") // ids are case-sensitive
	if n, err := s.CountUsers(ctx); err != nil || n != 2 {
		t.Errorf("CountUsers = %d, %v; want 2, nil", n, err)
	}
	if err := s.CreateUser(ctx, &account.User{ID: "admin", PasswordHash: "x", Created: base}); !errs.Is(err, errs.Conflict) {
		t.Errorf("CreateUser(duplicate) = %v, want Conflict", err)
	}
	got, err := s.FindUser(ctx, "admin")
	if err != nil {
		t.Fatalf("FindUser = %v", err)
	}
	if diff := cmp.Diff(admin, got); diff != "" {
		t.Errorf("FindUser (-want +got):\n%s", diff)
	}
	if _, err := s.FindUser(ctx, "nobody"); !errs.Is(err, errs.NotFound) {
		t.Errorf("FindUser(unknown) = %v, want NotFound", err)
	}
	if err := s.SetPassword(ctx, "admin", "new-hash"); err != nil {
		t.Fatalf("SetPassword = %v", err)
	}
	if got, _ := s.FindUser(ctx, "admin"); got == nil || got.PasswordHash != "new-hash" {
		t.Errorf("after SetPassword, FindUser = %+v, want hash new-hash", got)
	}
	if err := s.SetPassword(ctx, "nobody", "x"); !errs.Is(err, errs.NotFound) {
		t.Errorf("SetPassword(unknown) = %v, want NotFound", err)
	}
}

func testSessions(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	mustCreateUser(t, s, "admin")
	mustCreateUser(t, s, "ops")
	mk := func(id, user string, last time.Time) *account.Session {
		t.Helper()
		sess := &account.Session{IDHash: id, UserID: user, Created: base, LastSeen: last}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession(%s) = %v", id, err)
		}
		return sess
	}
	a := mk("aaaa", "admin", base)
	mk("bbbb", "admin", base.Add(time.Minute))
	c := mk("cccc", "ops", base.Add(2*time.Minute))
	if err := s.CreateSession(ctx, &account.Session{IDHash: "aaaa", UserID: "ops", Created: base, LastSeen: base}); !errs.Is(err, errs.Conflict) {
		t.Errorf("CreateSession(duplicate) = %v, want Conflict", err)
	}
	got, err := s.FindSession(ctx, "aaaa")
	if err != nil {
		t.Fatalf("FindSession = %v", err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("FindSession (-want +got):\n%s", diff)
	}
	if _, err := s.FindSession(ctx, "zzzz"); !errs.Is(err, errs.NotFound) {
		t.Errorf("FindSession(unknown) = %v, want NotFound", err)
	}

	// Touch moves last use forward, never back.
	if err := s.TouchSession(ctx, "aaaa", base.Add(time.Hour)); err != nil {
		t.Fatalf("TouchSession = %v", err)
	}
	if err := s.TouchSession(ctx, "aaaa", base.Add(time.Minute)); err != nil {
		t.Fatalf("TouchSession(earlier) = %v", err)
	}
	if got, _ := s.FindSession(ctx, "aaaa"); got == nil || !got.LastSeen.Equal(base.Add(time.Hour)) {
		t.Errorf("after touches, FindSession = %+v, want LastSeen %v", got, base.Add(time.Hour))
	}
	if err := s.TouchSession(ctx, "zzzz", base); !errs.Is(err, errs.NotFound) {
		t.Errorf("TouchSession(unknown) = %v, want NotFound", err)
	}

	// Idle sessions go; recent ones stay.
	if err := s.DeleteIdleSessions(ctx, base.Add(90*time.Second)); err != nil {
		t.Fatalf("DeleteIdleSessions = %v", err)
	}
	if _, err := s.FindSession(ctx, "bbbb"); !errs.Is(err, errs.NotFound) {
		t.Errorf("idle session bbbb: FindSession = %v, want NotFound", err)
	}
	for _, id := range []string{"aaaa", "cccc"} {
		if _, err := s.FindSession(ctx, id); err != nil {
			t.Errorf("recent session %s: FindSession = %v", id, err)
		}
	}

	// Signing a user out everywhere leaves other users alone.
	if err := s.DeleteUserSessions(ctx, "admin"); err != nil {
		t.Fatalf("DeleteUserSessions = %v", err)
	}
	if _, err := s.FindSession(ctx, "aaaa"); !errs.Is(err, errs.NotFound) {
		t.Errorf("after DeleteUserSessions: FindSession(aaaa) = %v, want NotFound", err)
	}
	if got, err := s.FindSession(ctx, "cccc"); err != nil || got.UserID != c.UserID {
		t.Errorf("other user's session: FindSession = %v, %v", got, err)
	}
	if err := s.DeleteSession(ctx, "cccc"); err != nil {
		t.Fatalf("DeleteSession = %v", err)
	}
	if err := s.DeleteSession(ctx, "cccc"); !errs.Is(err, errs.NotFound) {
		t.Errorf("DeleteSession(gone) = %v, want NotFound", err)
	}
}
