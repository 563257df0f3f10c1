package httpapi

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	now := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	l := newRateLimiter(3, time.Minute, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("call %d refused", i+1)
		}
	}
	now = now.Add(20 * time.Second)
	if ok, wait := l.allow("a"); ok || wait != 40*time.Second {
		t.Errorf("call 4 = %v, wait %v; want refused for 40s", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Errorf("another key was refused")
	}
	now = now.Add(40 * time.Second)
	if ok, _ := l.allow("a"); !ok {
		t.Errorf("a call after the window was refused")
	}

	// A table full of live windows refuses new keys, not old ones.
	for i := range maxLimitKeys - len(l.m) {
		l.m[fmt.Sprint("k", i)] = &rateWindow{start: now}
	}
	if ok, wait := l.allow("new"); ok || wait != time.Minute {
		t.Errorf("new key with a full table = %v, wait %v; want refused", ok, wait)
	}
	if ok, _ := l.allow("a"); !ok {
		t.Errorf("a known key was refused with a full table")
	}
	// Once their windows are over, the entries make room.
	now = now.Add(time.Minute)
	if ok, _ := l.allow("new"); !ok || len(l.m) != 1 {
		t.Errorf("new key after the windows passed = %v with %d keys; want allowed, the rest pruned", ok, len(l.m))
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"192.0.2.7:4242", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:4242", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:1", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.7]:1", "::ffff:192.0.2.7"},
		{"not an address", "not an address"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/", nil)
		r.RemoteAddr = tt.remote
		if got := clientKey(r); got != tt.want {
			t.Errorf("clientKey(%q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}
