package auth_test

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"clusterapi/internal/auth"
	"clusterapi/internal/errs"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

// clock is a settable time for the throttle tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// newThrottled returns a verifier with the given limits on a clock the test
// moves.
func newThrottled(t *testing.T, l auth.ThrottleLimits) (*auth.Verifier, *token.Service, *clock) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Now()}
	tokens := token.NewService(db, token.Options{Now: c.now})
	return auth.NewVerifier(tokens, auth.Options{Now: c.now, Throttle: &l}), tokens, c
}

// withSecret returns a well-formed token with full's id and another secret
// (one for each n below 1550): it passes the checksum, so only the stored
// hash can refuse it.
func withSecret(full string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte(full[:token.Len-7])
	i := token.IDLen + 1 + n%50
	b[i] = alphabet[(strings.IndexByte(alphabet, b[i])+1+n/50%31)%32] // shifted by 1 to 31: never itself
	v := crc32.ChecksumIEEE(b)
	var sum [7]byte
	for i := 6; i >= 0; i-- {
		sum[i] = alphabet[v&31]
		v >>= 5
	}
	return string(b) + string(sum[:])
}

// throttled returns err's retry delay, or fails unless err is a throttle's.
func throttled(t *testing.T, what string, err error) time.Duration {
	t.Helper()
	te, ok := errors.AsType[*auth.ThrottledError](err)
	if !ok || !errs.Is(err, errs.Throttled) {
		t.Fatalf("%s = %v, want a throttled refusal", what, err)
	}
	return te.RetryAfter
}

func TestThrottleAddress(t *testing.T) {
	ctx := context.Background()
	v, tokens, c := newThrottled(t, auth.ThrottleLimits{PerAddress: 4, PerToken: 100, Window: time.Minute})
	_, good := mustCreate(t, tokens, token.ClusterTokenManagement)
	rv, revoked := mustCreate(t, tokens, token.Nodekeeper)
	yes := true
	if err := tokens.Update(ctx, token.Actor{}, rv.ID, token.Change{Revoked: &yes}); err != nil {
		t.Fatal(err)
	}
	_, short, err := tokens.Create(ctx, token.Actor{}, token.CreateInput{Name: "short", Scopes: []token.Scope{token.Nodekeeper}, ExpiresIn: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	gone := token.Generate().Reveal() // well formed, never stored
	const a, b = "192.0.2.1", "192.0.2.2"

	// A revoked or expired token proves its holder knew the secret: no
	// count, however often.
	c.t = c.t.Add(2 * time.Second)
	for range 10 {
		if _, err := v.Verify(ctx, revoked, a); err != token.ErrRevoked {
			t.Fatalf("Verify(revoked) = %v", err)
		}
		if _, err := v.Verify(ctx, short.Reveal(), a); err != token.ErrExpired {
			t.Fatalf("Verify(expired) = %v", err)
		}
	}
	start := c.t
	failures := []struct{ name, tok string }{
		{"malformed", "dt0c01.nonsense"},
		{"bad checksum", good[:len(good)-1] + map[bool]string{true: "B", false: "A"}[good[len(good)-1] == 'A']},
		{"unknown id", gone},
		{"wrong secret", withSecret(good, 1)},
	}
	for _, f := range failures {
		if _, err := v.Verify(ctx, f.tok, a); err != token.ErrAuthFail {
			t.Fatalf("Verify(%s) = %v, want %v", f.name, err, token.ErrAuthFail)
		}
		c.t = c.t.Add(time.Second)
	}
	// The fourth failure reached the limit: now even the right token is
	// refused from that address, until a minute after the first failure.
	_, err = v.Verify(ctx, good, a)
	if d := throttled(t, "Verify(good) from the throttled address", err); d != time.Minute-4*time.Second {
		t.Errorf("RetryAfter = %v, want %v", d, time.Minute-4*time.Second)
	}
	if err.Error() != "Too many failed authentications from this client address. Try again later." {
		t.Errorf("message %q", err)
	}
	if _, err := v.Verify(ctx, "garbage", a); !errs.Is(err, errs.Throttled) {
		t.Errorf("Verify(garbage) from the throttled address = %v", err)
	}
	if _, err := v.Verify(ctx, good, b); err != nil {
		t.Errorf("Verify(good) from another address = %v", err)
	}
	if _, err := v.Verify(ctx, "garbage", b); err != token.ErrAuthFail {
		t.Errorf("Verify(garbage) from another address = %v", err)
	}
	c.t = start.Add(time.Minute - time.Nanosecond)
	if _, err := v.Verify(ctx, good, a); !errs.Is(err, errs.Throttled) {
		t.Errorf("Verify just before the window ends = %v", err)
	}
	c.t = start.Add(time.Minute)
	if _, err := v.Verify(ctx, good, a); err != nil {
		t.Errorf("Verify when the window ends = %v", err)
	}
	// A new window: four more failures are needed.
	for i := range 3 {
		if _, err := v.Verify(ctx, "garbage", a); err != token.ErrAuthFail {
			t.Fatalf("failure %d of the new window: %v", i+1, err)
		}
	}
	if _, err := v.Verify(ctx, good, a); err != nil {
		t.Errorf("Verify after three failures of the new window = %v", err)
	}
}

func TestThrottleToken(t *testing.T) {
	ctx := context.Background()
	v, tokens, c := newThrottled(t, auth.ThrottleLimits{PerAddress: 100, PerToken: 3, Window: time.Minute})
	_, victim := mustCreate(t, tokens, token.ClusterTokenManagement)
	_, other := mustCreate(t, tokens, token.ClusterTokenManagement)
	if _, err := v.Verify(ctx, victim, "10.9.9.9"); err != nil { // cached: wrong secrets take the hit path
		t.Fatal(err)
	}
	unknown := token.Generate().Reveal()
	start := c.t
	for i, tok := range []string{victim, unknown} {
		for j, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
			if _, err := v.Verify(ctx, withSecret(tok, i*10+j+1), ip); err != token.ErrAuthFail {
				t.Fatalf("wrong secret %d from %s = %v", j+1, ip, err)
			}
		}
	}
	c.t = c.t.Add(10 * time.Second)
	// The id is throttled for the addresses that failed on it, the right
	// secret too; unknown ids exactly like known ones.
	var msgs []string
	for _, tok := range []string{victim, unknown} {
		for _, try := range []string{tok, withSecret(tok, 99)} {
			_, err := v.Verify(ctx, try, "10.0.0.1")
			if d := throttled(t, "Verify from an address that failed on the id", err); d != 50*time.Second {
				t.Errorf("RetryAfter = %v, want 50s", d)
			}
			msgs = append(msgs, err.Error())
		}
	}
	for _, m := range msgs {
		if m != "Too many failed authentications for this token. Try again later." {
			t.Errorf("message %q", m)
		}
	}
	// The same addresses are heard on other tokens.
	if _, err := v.Verify(ctx, other, "10.0.0.1"); err != nil {
		t.Errorf("Verify(other token) from an address that failed on the victim = %v", err)
	}
	// An address that has not failed on the id is heard: the holder is not
	// locked out, and a guess from there fails once, then is refused.
	const holder, guesser = "10.0.0.7", "10.0.0.8"
	if _, err := v.Verify(ctx, victim, holder); err != nil {
		t.Errorf("Verify(right secret) from a fresh address = %v", err)
	}
	if _, err := v.Verify(ctx, withSecret(victim, 5), guesser); err != token.ErrAuthFail {
		t.Errorf("first wrong secret from a fresh address = %v", err)
	}
	if _, err := v.Verify(ctx, victim, guesser); !errs.Is(err, errs.Throttled) {
		t.Errorf("right secret after a wrong one from that address = %v", err)
	}
	if _, err := v.Verify(ctx, victim, holder); err != nil {
		t.Errorf("Verify(right secret) from the holder's address, later = %v", err)
	}
	c.t = start.Add(time.Minute)
	for _, ip := range []string{"10.0.0.1", "10.0.0.8"} {
		if _, err := v.Verify(ctx, victim, ip); err != nil {
			t.Errorf("Verify from %s after the window = %v", ip, err)
		}
	}
}

// TestThrottleIPv6 counts IPv6 clients by their /64 and IPv4-mapped
// addresses as IPv4.
func TestThrottleIPv6(t *testing.T) {
	ctx := context.Background()
	v, tokens, _ := newThrottled(t, auth.ThrottleLimits{PerAddress: 2, Window: time.Minute})
	_, good := mustCreate(t, tokens, token.ClusterTokenManagement)
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"} {
		v.Verify(ctx, "garbage", ip)
	}
	for ip, want := range map[string]bool{
		"2001:db8:1:2::abcd":   true,
		"2001:db8:1:3::1":      false,
		"fe80::1%eth0":         false,
		"::ffff:198.51.100.1":  false,
		"2001:db8:1:2::1%eth1": true,
	} {
		_, err := v.Verify(ctx, good, ip)
		if got := errs.Is(err, errs.Throttled); got != want {
			t.Errorf("Verify from %s: throttled %v, want %v (%v)", ip, got, want, err)
		}
	}
	v.Verify(ctx, "garbage", "198.51.100.1")
	v.Verify(ctx, "garbage", "::ffff:198.51.100.1")
	if _, err := v.Verify(ctx, good, "198.51.100.1"); !errs.Is(err, errs.Throttled) {
		t.Errorf("IPv4 and IPv4-mapped addresses are counted apart: %v", err)
	}
}

// TestThrottleBounded keeps the table within MaxKeys, dropping counts that
// refuse nothing before those that do.
func TestThrottleBounded(t *testing.T) {
	ctx := context.Background()
	v, tokens, c := newThrottled(t, auth.ThrottleLimits{PerAddress: 2, PerToken: 2, Window: time.Minute, MaxKeys: 50})
	_, good := mustCreate(t, tokens, token.ClusterTokenManagement)
	const blocked = "203.0.113.1"
	v.Verify(ctx, "garbage", blocked)
	v.Verify(ctx, "garbage", blocked)
	for i := range 1000 {
		ip := fmt.Sprintf("10.%d.%d.1", i/250, i%250)
		v.Verify(ctx, withSecret(token.Generate().Reveal(), 1), ip)
		if n := v.ThrottleKeys(); n > 50 {
			t.Fatalf("after %d addresses the throttle tracks %d keys, want at most 50", i+1, n)
		}
	}
	if _, err := v.Verify(ctx, good, blocked); !errs.Is(err, errs.Throttled) {
		t.Errorf("the throttled address was dropped from a full table: %v", err)
	}
	// Windows that are over are swept, at the latest by the next failure
	// a window later.
	c.t = c.t.Add(time.Minute)
	v.Verify(ctx, "garbage", "192.0.2.1")
	if n := v.ThrottleKeys(); n != 1 {
		t.Errorf("a window later the throttle tracks %d keys, want 1", n)
	}
}

func TestThrottleOff(t *testing.T) {
	ctx := context.Background()
	v, tokens, _ := newThrottled(t, auth.ThrottleLimits{})
	_, good := mustCreate(t, tokens, token.ClusterTokenManagement)
	for range 1000 {
		v.Verify(ctx, withSecret(good, 3), "192.0.2.1")
	}
	if _, err := v.Verify(ctx, good, "192.0.2.1"); err != nil {
		t.Errorf("Verify with throttling off = %v", err)
	}
	if n := v.ThrottleKeys(); n != 0 {
		t.Errorf("throttling off tracks %d keys", n)
	}
}

// TestThrottleDefaults are the documented ones.
func TestThrottleDefaults(t *testing.T) {
	if d := auth.DefaultThrottle; d.PerAddress != 30 || d.PerToken != 10 || d.Window != 3*time.Minute {
		t.Errorf("DefaultThrottle = %+v", d)
	}
	ctx := context.Background()
	v, tokens, _ := newVerifier(t)
	_, good := mustCreate(t, tokens, token.ClusterTokenManagement)
	for i := range 30 {
		if _, err := v.Verify(ctx, "garbage", "192.0.2.9"); err != token.ErrAuthFail {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if _, err := v.Verify(ctx, good, "192.0.2.9"); !errs.Is(err, errs.Throttled) {
		t.Errorf("after 30 failures: %v", err)
	}
}
