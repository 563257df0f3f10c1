package auth

import (
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"clusterapi/internal/errs"
)

// ThrottleLimits bound failed authentications, per node and in memory. A
// failure is a 401 for a presented token that is malformed, fails its
// checksum, names an unknown id or carries a wrong secret; a missing token,
// a revoked or an expired one is not (its holder knew the secret).
//
// PerAddress failures from one client address within Window make the
// address refused (429), whatever it presents, until Window has passed since
// its first failure. PerToken failures naming one token id (unknown ids and
// wrong secrets alike, so that the answers still do not tell them apart)
// make that id refused, until its window passes, to the addresses that
// failed on it in their own window; an address that has not failed on the
// id is still heard, so the holder of the right secret elsewhere is never
// locked out. A limit of 0 imposes nothing.
type ThrottleLimits struct {
	PerAddress int
	PerToken   int
	Window     time.Duration
	// MaxKeys bounds what is tracked: addresses, token ids and address and
	// token id pairs together (DefaultThrottleKeys when 0).
	MaxKeys int
}

// DefaultThrottle lets a misconfigured client fail for a while, not a
// guessing run. IPv6 addresses count by their /64.
var DefaultThrottle = ThrottleLimits{PerAddress: 30, PerToken: 10, Window: 3 * time.Minute}

// DefaultThrottleKeys bounds the throttle's memory: 95 to 120 bytes a key
// (measured), so some 12 MB when full.
const DefaultThrottleKeys = 100_000

// evictScan bounds how many keys one insertion into a full table looks at
// for one to drop.
const evictScan = 64

// ThrottledError refuses an authentication while its client address or
// token id is throttled. It is an errs.Throttled error; RetryAfter says when
// the attempt would be heard again.
type ThrottledError struct {
	RetryAfter time.Duration
	err        *errs.Error
}

func (e *ThrottledError) Error() string { return e.err.Message }

// Unwrap returns the client-safe error.
func (e *ThrottledError) Unwrap() error { return e.err }

// The messages of a throttled attempt; shared, so that a refusal allocates
// only its ThrottledError.
var (
	errAddressThrottled = errs.E(errs.Throttled, "Too many failed authentications from this client address. Try again later.")
	errTokenThrottled   = errs.E(errs.Throttled, "Too many failed authentications for this token. Try again later.")
)

// keyKind says what a throttle key counts.
type keyKind uint8

const (
	byAddress keyKind = iota + 1 // failures from one address
	byToken                      // failures naming one token id
	byPair                       // failures naming one token id from one address
)

type throttleKey struct {
	kind keyKind
	addr netip.Addr // the zero Addr for byToken, and for peers that are no IP address
	id   string     // empty for byAddress
}

// window counts the failures of one key since start (unix ns).
type window struct {
	start int64
	n     int32
}

// throttle counts failed authentications per client address, per token id
// and per pair of them, in fixed windows that begin at a key's first
// failure. Refused attempts are not counted.
type throttle struct {
	limits ThrottleLimits
	window int64 // ns

	// until is the end (unix ns) of the last window in which some key
	// reached its limit. Before it, attempts are looked up in m; after it
	// nothing can be refused, and the check is this one atomic load, which
	// is all a valid token pays on the request path.
	until atomic.Int64

	mu    sync.RWMutex
	m     map[throttleKey]window
	swept int64 // when m was last cleared of windows that are over (unix ns)
}

func newThrottle(l ThrottleLimits) *throttle {
	if l.Window <= 0 {
		l.Window = DefaultThrottle.Window
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = DefaultThrottleKeys
	}
	return &throttle{limits: l, window: int64(l.Window), m: make(map[throttleKey]window)}
}

// clientKey is the address failures are counted under: the IP address
// without zone, IPv4 unmapped, IPv6 cut to its /64 (one host usually holds a
// whole /64). Peers that are no IP address share the zero Addr.
func clientKey(ip string) netip.Addr {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}
	}
	a = a.WithZone("").Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	return a
}

// limitOf returns the number of failures at which a key refuses; 0 when it
// never does by itself.
func (t *throttle) limitOf(k keyKind) int {
	switch k {
	case byAddress:
		return t.limits.PerAddress
	case byToken:
		return t.limits.PerToken
	}
	return 0
}

// refusing reports whether w of a key of kind k refuses attempts at now.
func (t *throttle) refusing(k keyKind, w window, now int64) bool {
	limit := t.limitOf(k)
	return limit > 0 && int(w.n) >= limit && now-w.start < t.window
}

// check returns a *ThrottledError when an attempt from ip, presenting token
// id (empty when the token is malformed), must be refused at ns (unix ns).
// It is inlined: while nothing is throttled the request path pays the
// atomic load only.
func (t *throttle) check(ns int64, ip, id string) error {
	if ns < t.until.Load() {
		return t.lookup(ns, ip, id)
	}
	return nil
}

// lookup is check while some key refuses.
func (t *throttle) lookup(ns int64, ip, id string) error {
	addr := clientKey(ip)
	t.mu.RLock()
	defer t.mu.RUnlock()
	if w, ok := t.m[throttleKey{kind: byAddress, addr: addr}]; ok && t.refusing(byAddress, w, ns) {
		return &ThrottledError{RetryAfter: time.Duration(w.start + t.window - ns), err: errAddressThrottled}
	}
	if id == "" {
		return nil
	}
	w, ok := t.m[throttleKey{kind: byToken, id: id}]
	if !ok || !t.refusing(byToken, w, ns) {
		return nil
	}
	// The id is under attack: refuse it to the addresses that failed on it.
	p, ok := t.m[throttleKey{kind: byPair, addr: addr, id: id}]
	if !ok || ns-p.start >= t.window {
		return nil
	}
	end := min(w.start, p.start) + t.window
	return &ThrottledError{RetryAfter: time.Duration(end - ns), err: errTokenThrottled}
}

// tripped names a key that reached its limit with a failure.
type tripped struct {
	kind  keyKind
	addr  netip.Addr
	id    string
	until time.Time
}

// fail counts a failed authentication from ip, naming token id (empty when
// the token was malformed), and returns the keys it made reach their limit.
func (t *throttle) fail(now time.Time, ip, id string) []tripped {
	if t.limits.PerAddress <= 0 && (t.limits.PerToken <= 0 || id == "") {
		return nil
	}
	ns := now.UnixNano()
	addr := clientKey(ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	if ns-t.swept >= t.window {
		t.sweep(ns)
	}
	var out []tripped
	if t.limits.PerAddress > 0 {
		out = t.add(out, throttleKey{kind: byAddress, addr: addr}, ns)
	}
	if t.limits.PerToken > 0 && id != "" {
		out = t.add(out, throttleKey{kind: byToken, id: id}, ns)
		out = t.add(out, throttleKey{kind: byPair, addr: addr, id: id}, ns)
	}
	return out
}

// add counts one failure of k; the caller holds mu for writing.
func (t *throttle) add(out []tripped, k throttleKey, ns int64) []tripped {
	w, ok := t.m[k]
	if !ok {
		if !t.room(ns) {
			return out // full of keys that all refuse: this one goes uncounted
		}
		k.id = strings.Clone(k.id) // the id may share a request's memory
	}
	if !ok || ns-w.start >= t.window {
		w = window{start: ns}
	}
	w.n++
	t.m[k] = w
	if limit := t.limitOf(k.kind); limit > 0 && int(w.n) == limit {
		end := w.start + t.window
		if end > t.until.Load() { // every writer holds mu
			t.until.Store(end)
		}
		out = append(out, tripped{kind: k.kind, addr: k.addr, id: k.id, until: time.Unix(0, end)})
	}
	return out
}

// room makes room for one more key if it can: windows that are over go
// first (at most once a second, as that scans everything), then any key
// that refuses nothing.
func (t *throttle) room(ns int64) bool {
	if len(t.m) < t.limits.MaxKeys {
		return true
	}
	if ns-t.swept >= int64(time.Second) {
		t.sweep(ns)
		if len(t.m) < t.limits.MaxKeys {
			return true
		}
	}
	n := 0
	for k, w := range t.m { // map order is random: no key is always first
		if !t.refusing(k.kind, w, ns) {
			delete(t.m, k)
			return true
		}
		if n++; n == evictScan {
			break
		}
	}
	return false
}

// sweep drops every window that is over; the caller holds mu for writing.
func (t *throttle) sweep(ns int64) {
	for k, w := range t.m {
		if ns-w.start >= t.window {
			delete(t.m, k)
		}
	}
	t.swept = ns
}

// size returns the number of keys tracked.
func (t *throttle) size() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}
