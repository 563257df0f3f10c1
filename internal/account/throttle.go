package account

import (
	"sync"
	"time"
)

// ThrottleLimits bound failed sign-ins: after PerUser failures for one user
// name, or PerClient failures from one client address, within Window, further
// attempts for that name or from that address are refused until the window
// has passed since the last failure.
type ThrottleLimits struct {
	PerUser   int
	PerClient int
	Window    time.Duration
}

// DefaultThrottle allows a few typos, not a password-guessing run.
var DefaultThrottle = ThrottleLimits{PerUser: 5, PerClient: 20, Window: 5 * time.Minute}

// maxThrottleKeys bounds the memory the throttle holds; past it, entries
// whose window is over are dropped first, then the table is reset.
const maxThrottleKeys = 100_000

type failures struct {
	n    int
	last time.Time
}

// throttle counts recent failures per key, in memory, on this node.
type throttle struct {
	limits ThrottleLimits
	mu     sync.Mutex
	m      map[string]*failures
}

func newThrottle(l ThrottleLimits) *throttle {
	return &throttle{limits: l, m: map[string]*failures{}}
}

// over reports whether key has reached limit at now; the caller holds mu.
func (t *throttle) over(key string, limit int, now time.Time) bool {
	f := t.m[key]
	if f == nil {
		return false
	}
	if now.Sub(f.last) >= t.limits.Window {
		delete(t.m, key)
		return false
	}
	return f.n >= limit
}

// allow reports whether a sign-in for userKey from ipKey may be tried now.
func (t *throttle) allow(userKey, ipKey string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.over(userKey, t.limits.PerUser, now) && !t.over(ipKey, t.limits.PerClient, now)
}

// fail counts a failure against both keys.
func (t *throttle) fail(userKey, ipKey string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= maxThrottleKeys {
		for k, f := range t.m {
			if now.Sub(f.last) >= t.limits.Window {
				delete(t.m, k)
			}
		}
		if len(t.m) >= maxThrottleKeys {
			clear(t.m)
		}
	}
	for _, k := range []string{userKey, ipKey} {
		f := t.m[k]
		if f == nil || now.Sub(f.last) >= t.limits.Window {
			f = &failures{}
			t.m[k] = f
		}
		f.n++
		f.last = now
	}
}

// succeed forgets the user's failures (not the address's: one good password
// must not reset a guessing run against other users).
func (t *throttle) succeed(userKey string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, userKey)
}
