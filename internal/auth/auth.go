// Package auth turns a request's credentials into a Principal: it finds the
// token in the request (SPEC 2.1), verifies it through a bounded cache of
// positive results that every token change invalidates, throttles clients
// that keep failing, and records the token's last use in batches. It also
// says who the client is (ClientIP), believing X-Forwarded-For from trusted
// proxies only.
package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"clusterapi/internal/token"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	TokenID       string
	UserID        string
	Scopes        token.ScopeSet
	EnvironmentID string
}

// Actor returns the principal as the actor of a token change.
func (p Principal) Actor() token.Actor {
	return token.Actor{TokenID: p.TokenID, UserID: p.UserID, Scopes: p.Scopes}
}

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of the request, if it was authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Note carries what the access log may say about a request's credentials:
// the token id, which is public, never the secret.
type Note struct{ TokenID string }

type noteKey struct{}

// WithNote returns ctx carrying a fresh Note for the access log to read after
// the request has been served.
func WithNote(ctx context.Context) (context.Context, *Note) {
	n := &Note{}
	return context.WithValue(ctx, noteKey{}, n), n
}

func noteFrom(ctx context.Context) *Note {
	n, _ := ctx.Value(noteKey{}).(*Note)
	return n
}

// Credential returns the token presented by r, trimmed, and whether any was
// presented. The Authorization header wins over the api-token query
// parameter. A header with another scheme yields ok with an empty token,
// which then fails verification.
func Credential(r *http.Request) (presented string, ok bool) {
	if h := strings.TrimSpace(r.Header.Get("Authorization")); h != "" {
		const scheme = "Api-Token"
		if len(h) > len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) && (h[len(scheme)] == ' ' || h[len(scheme)] == '\t') {
			return token.TrimSpace(h[len(scheme):]), true
		}
		return "", true
	}
	return queryCredential(r.URL.RawQuery)
}

// queryCredential finds the api-token parameter, whose name is matched
// case-insensitively because existing scripts send Api-Token=.
func queryCredential(raw string) (string, bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if !strings.EqualFold(k, "api-token") {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			u, err := url.QueryUnescape(v)
			if err != nil {
				return "", true
			}
			v = u
		}
		return token.TrimSpace(v), true
	}
	return "", false
}

// Authenticate verifies the credentials of r and records the token's use.
// It checks no scope: that is the caller's business, after this succeeds.
// A failure is counted under its outcome (Count); on success the caller
// counts OutcomeOK or OutcomeForbidden once it has checked scopes.
func (v *Verifier) Authenticate(r *http.Request) (Principal, error) {
	presented, ok := Credential(r)
	if !ok {
		// A throttled address is refused whatever it sends, no token too;
		// but sending none is no failure.
		if err := v.throttle.check(v.now().UnixNano(), ClientIP(r), ""); err != nil {
			v.Count(OutcomeThrottled)
			return Principal{}, err
		}
		v.Count(OutcomeMissing)
		return Principal{}, token.ErrMissing
	}
	if n := noteFrom(r.Context()); n != nil && len(presented) >= token.IDLen && token.IsID(presented[:token.IDLen]) {
		n.TokenID = strings.Clone(presented[:token.IDLen])
	}
	return v.Verify(r.Context(), presented, ClientIP(r))
}

// RecordUse notes a use of token id at time at from ip; it is stored with the
// next batch.
func (v *Verifier) recordUse(id string, at time.Time, ip string) {
	v.uses.record(id, at, ip)
}
