package account_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"clusterapi/internal/account"
	"clusterapi/internal/errs"
	"clusterapi/internal/store/sqlite"
)

// cheap keeps argon2 fast in tests; the format and code path are the same.
var cheap = account.HashParams{Memory: 64, Time: 1, Threads: 1}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newService(t *testing.T, o account.Options) (*account.Service, *clock) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	o.Now = c.Now
	o.Hash = cheap
	return account.NewService(db, o), c
}

func TestHashPassword(t *testing.T) {
	h := account.HashPassword("correct horse", cheap)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("HashPassword = %q, want an argon2id PHC string", h)
	}
	if h2 := account.HashPassword("correct horse", cheap); h2 == h {
		t.Errorf("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		name, hash, pw string
		want           bool
		wantErr        bool
	}{
		{"right", h, "correct horse", true, false},
		{"wrong", h, "correct horsE", false, false},
		{"empty", h, "", false, false},
		{"not argon2id", "$2a$10$abc", "x", false, true},
		{"bad params", "$argon2id$v=19$m=x$c2FsdA$a2V5", "x", false, true},
		{"bad base64", "$argon2id$v=19$m=64,t=1,p=1$!!$a2V5", "x", false, true},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$c2FsdA$a2V5", "x", false, true},
		{"empty", "", "x", false, true},
	}
	for _, tt := range tests {
		got, err := account.CheckPassword(tt.hash, tt.pw)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: CheckPassword(%q) = %v, %v; want %v, error %v", tt.name, tt.hash, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, account.Options{})
	if _, _, _, err := s.EnsureAdmin(ctx, "short"); !errs.Is(err, errs.Invalid) {
		t.Errorf("EnsureAdmin(short password) = %v, want Invalid", err)
	}
	pw, created, generated, err := s.EnsureAdmin(ctx, "")
	if err != nil || !created || !generated || len(pw) < 20 {
		t.Fatalf("EnsureAdmin(\"\") = %d characters, %v, %v, %v; want a generated password", len(pw), created, generated, err)
	}
	if _, created, _, err := s.EnsureAdmin(ctx, "another-password"); err != nil || created {
		t.Errorf("second EnsureAdmin = created %v, %v; want nothing done", created, err)
	}
	if _, _, err := s.SignIn(ctx, "admin", pw, "192.0.2.1"); err != nil {
		t.Errorf("SignIn with the generated password = %v", err)
	}
}

func TestSignIn(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t, account.Options{IdleTimeout: 10 * time.Minute})
	if _, _, _, err := s.EnsureAdmin(ctx, "s3cret-admin"); err != nil {
		t.Fatal(err)
	}
	// Wrong user and wrong password answer the same.
	_, _, e1 := s.SignIn(ctx, "nobody", "s3cret-admin", "192.0.2.1")
	_, _, e2 := s.SignIn(ctx, "admin", "wrong-password", "192.0.2.1")
	if e1 != account.ErrSignIn || e2 != account.ErrSignIn {
		t.Errorf("SignIn(unknown user), SignIn(wrong password) = %v, %v; want ErrSignIn twice", e1, e2)
	}
	u, key, err := s.SignIn(ctx, "admin", "s3cret-admin", "192.0.2.1")
	if err != nil || u.ID != "admin" || key.Reveal() == "" {
		t.Fatalf("SignIn = %v, %q, %v", u, key, err)
	}
	if key.String() != "REDACTED" {
		t.Errorf("SessionKey.String() = %q, want REDACTED", key.String())
	}
	if got, err := s.Authenticate(ctx, key.Reveal()); err != nil || got.ID != "admin" {
		t.Errorf("Authenticate = %v, %v", got, err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("a", 200), key.Reveal() + "x"} {
		if _, err := s.Authenticate(ctx, bad); !errs.Is(err, errs.Unauthorized) {
			t.Errorf("Authenticate(%q) = %v, want Unauthorized", bad, err)
		}
	}

	// Use keeps the session alive; idleness ends it.
	for range 3 {
		c.Add(6 * time.Minute)
		if _, err := s.Authenticate(ctx, key.Reveal()); err != nil {
			t.Fatalf("Authenticate after 6 idle minutes = %v", err)
		}
	}
	c.Add(10 * time.Minute)
	if _, err := s.Authenticate(ctx, key.Reveal()); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("Authenticate after 10 idle minutes = %v, want Unauthorized", err)
	}

	// Sign-out ends the session on the server.
	_, key, _ = s.SignIn(ctx, "admin", "s3cret-admin", "192.0.2.1")
	if err := s.SignOut(ctx, key.Reveal()); err != nil {
		t.Fatalf("SignOut = %v", err)
	}
	if _, err := s.Authenticate(ctx, key.Reveal()); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("Authenticate after SignOut = %v, want Unauthorized", err)
	}

	// A new password ends every session.
	_, key, _ = s.SignIn(ctx, "admin", "s3cret-admin", "192.0.2.1")
	if err := s.SetPassword(ctx, "admin", "new-password"); err != nil {
		t.Fatalf("SetPassword = %v", err)
	}
	if _, err := s.Authenticate(ctx, key.Reveal()); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("Authenticate after SetPassword = %v, want Unauthorized", err)
	}
	if _, _, err := s.SignIn(ctx, "admin", "new-password", "192.0.2.1"); err != nil {
		t.Errorf("SignIn with the new password = %v", err)
	}
	if err := s.SetPassword(ctx, "nobody", "new-password"); !errs.Is(err, errs.NotFound) {
		t.Errorf("SetPassword(unknown user) = %v, want NotFound", err)
	}
	if err := s.SetPassword(ctx, "admin", "short"); !errs.Is(err, errs.Invalid) {
		t.Errorf("SetPassword(short) = %v, want Invalid", err)
	}
}

func TestThrottle(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t, account.Options{Throttle: account.ThrottleLimits{PerUser: 3, PerClient: 5, Window: time.Minute}})
	if _, _, _, err := s.EnsureAdmin(ctx, "s3cret-admin"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, _, err := s.SignIn(ctx, "admin", "wrong", "192.0.2.1"); err != account.ErrSignIn {
			t.Fatalf("failure %d: %v, want ErrSignIn", i, err)
		}
	}
	// Throttled per user, even with the right password and from elsewhere.
	if _, _, err := s.SignIn(ctx, "ADMIN", "s3cret-admin", "192.0.2.9"); err != account.ErrThrottled {
		t.Errorf("SignIn after 3 failures = %v, want ErrThrottled", err)
	}
	// Per client address: two more failures for other names block the address.
	for _, name := range []string{"x", "y"} {
		s.SignIn(ctx, name, "wrong", "192.0.2.1")
	}
	if _, _, err := s.SignIn(ctx, "z", "wrong", "192.0.2.1"); err != account.ErrThrottled {
		t.Errorf("SignIn after 5 failures from one address = %v, want ErrThrottled", err)
	}
	if _, _, err := s.SignIn(ctx, "z", "wrong", "192.0.2.2"); err != account.ErrSignIn {
		t.Errorf("SignIn from another address = %v, want ErrSignIn", err)
	}
	c.Add(time.Minute)
	if _, _, err := s.SignIn(ctx, "admin", "s3cret-admin", "192.0.2.1"); err != nil {
		t.Errorf("SignIn after the window = %v", err)
	}
}
