package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"clusterapi/internal/auth"
	"clusterapi/internal/errs"
	"clusterapi/internal/requestid"
)

// Leaked-token revocation (an extension): whoever finds a token where it
// does not belong (a secret scanner, a colleague) may revoke it without
// holding any token. It answers 204 whatever the tokens were, so that it
// tells nothing about them, and it is rate-limited per client address.

// The rate limit of leaked-token revocation: leakedCalls calls per client
// address in a window of leakedWindow.
const (
	leakedCalls  = 10
	leakedWindow = time.Minute
)

type revokeLeakedRequest struct {
	Tokens []string `json:"tokens"`
}

func (a *API) revokeLeaked(w http.ResponseWriter, r *http.Request) {
	// Counted before anything is read, so that bad requests count too.
	if ok, wait := a.leakedLimit.allow(clientKey(r)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		const msg = "Too many leaked-token reports from this address; try again later."
		skipAudit(r)
		a.audit.FailedAuth(auth.ClientIP(r), "", http.StatusTooManyRequests, msg)
		a.writeError(w, r, &statusError{http.StatusTooManyRequests, msg})
		return
	}
	req, err := decode[revokeLeakedRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if req.Tokens == nil {
		a.writeError(w, r, errs.Field(errs.Payload, "tokens", "must be given: an array of tokens"))
		return
	}
	ids, err := a.tokens.RevokeLeaked(r.Context(), req.Tokens)
	detail := fmt.Sprintf("%d submitted, %d revoked", len(req.Tokens), len(ids))
	if len(ids) > 0 {
		detail += ": " + strings.Join(ids, " ")
	}
	noteAudit(r, "", "", detail)
	if len(ids) > 0 {
		// Ids only: the secrets were sent to us precisely because they leaked.
		a.log.Warn("revoked leaked tokens", "token_ids", ids, "remote", auth.ClientIP(r),
			"request_id", requestid.FromContext(r.Context()))
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	encode(w, r, http.StatusNoContent, nil)
}

// clientKey is the rate-limit key of r's client: its TCP peer's address
// (forwarding headers are not trusted), or for IPv6 its /64, which one
// client usually holds whole.
func clientKey(r *http.Request) string {
	host := auth.ClientIP(r)
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() != nil {
		return host
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// maxLimitKeys bounds the memory a rateLimiter holds.
const maxLimitKeys = 100_000

// rateLimiter allows a number of calls per key in fixed windows, in memory,
// on this node.
type rateLimiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu sync.Mutex
	m  map[string]*rateWindow
}

type rateWindow struct {
	start time.Time
	n     int
}

func newRateLimiter(limit int, window time.Duration, now func() time.Time) *rateLimiter {
	if now == nil {
		now = time.Now
	}
	return &rateLimiter{limit: limit, window: window, now: now, m: map[string]*rateWindow{}}
}

// allow counts a call for key and reports whether it is within the limit;
// when it is not, wait is how long until the key's window ends. When the
// table is full of live windows, new keys are refused (for a window) rather
// than older ones forgotten: many addresses at once is an attack, not a
// scanner.
func (l *rateLimiter) allow(key string) (ok bool, wait time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	win := l.m[key]
	if win != nil && now.Sub(win.start) >= l.window {
		delete(l.m, key)
		win = nil
	}
	if win == nil {
		if len(l.m) >= maxLimitKeys {
			for k, w := range l.m {
				if now.Sub(w.start) >= l.window {
					delete(l.m, k)
				}
			}
			if len(l.m) >= maxLimitKeys {
				return false, l.window
			}
		}
		win = &rateWindow{start: now}
		l.m[key] = win
	}
	if win.n >= l.limit {
		return false, l.window - now.Sub(win.start)
	}
	win.n++
	return true, 0
}
