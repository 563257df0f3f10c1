package auth

import (
	"errors"

	"clusterapi/internal/metrics"
	"clusterapi/internal/token"
)

// Outcome is how the authentication of one request ended, as counted in
// clusterapi_auth_total{outcome}. Each request to a route that takes a token
// is counted once: the verifier counts the failures it decides, and the
// caller, which goes on to check scopes, counts OK or Forbidden.
type Outcome uint8

// The outcomes. Their names (String) are the label values; the numbers are
// never stored or sent.
const (
	OutcomeOK        Outcome = iota // authenticated and allowed
	OutcomeMissing                  // no credentials at all
	OutcomeMalformed                // not a token: another scheme, bad shape or checksum
	OutcomeFailed                   // well formed, but unknown id, wrong secret, or not for this route
	OutcomeRevoked                  // the token is revoked
	OutcomeExpired                  // the token has expired
	OutcomeForbidden                // valid, without a scope the route needs (403)
	OutcomeThrottled                // refused for load (429) before or instead of verifying
	OutcomeError                    // the store could not be asked (503, 500)
	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	OutcomeOK:        "ok",
	OutcomeMissing:   "missing",
	OutcomeMalformed: "malformed",
	OutcomeFailed:    "failed",
	OutcomeRevoked:   "revoked",
	OutcomeExpired:   "expired",
	OutcomeForbidden: "forbidden",
	OutcomeThrottled: "throttled",
	OutcomeError:     "error",
}

// String returns the outcome's label value.
func (o Outcome) String() string {
	if o >= numOutcomes {
		return "unknown"
	}
	return outcomeNames[o]
}

// Count counts one request under outcome o. Callers of Authenticate count
// OutcomeOK or OutcomeForbidden after their scope check; a throttle that
// refuses a request instead of verifying its token counts OutcomeThrottled.
func (v *Verifier) Count(o Outcome) {
	if o < numOutcomes {
		v.m.outcomes[o].Inc()
	}
}

// countFailure counts a failed verification under the outcome its error
// names; anything else is the store failing.
func (v *Verifier) countFailure(err error) {
	switch {
	case errors.Is(err, token.ErrAuthFail):
		v.Count(OutcomeFailed)
	case errors.Is(err, token.ErrRevoked):
		v.Count(OutcomeRevoked)
	case errors.Is(err, token.ErrExpired):
		v.Count(OutcomeExpired)
	default:
		v.Count(OutcomeError)
	}
}

// verifierMetrics are the verifier's counters, looked up once so that
// counting is a single atomic add.
type verifierMetrics struct {
	outcomes               [numOutcomes]*metrics.Counter
	hits, misses           *metrics.Counter
	flushes, flushFailures *metrics.Counter
	flushLag               *metrics.Histogram
}

// flushLagBuckets bound the age of the oldest use in a written batch: about
// the flush interval normally, growing while writes fail. SPEC 2.2 allows
// lastUse to lag by 5 seconds.
var flushLagBuckets = []float64{0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300}

func newVerifierMetrics(r *metrics.Registry, v *Verifier) verifierMetrics {
	var m verifierMetrics
	outcomes := r.CounterVec("clusterapi_auth_total",
		"Authentications of API requests by outcome: ok, missing, malformed, failed, revoked, expired, forbidden (scope), throttled, error (store).",
		"outcome")
	for o := range numOutcomes {
		m.outcomes[o] = outcomes.With(o.String())
	}
	m.hits = r.Counter("clusterapi_auth_cache_hits_total", "Token verifications answered from the cache, without a store read.")
	m.misses = r.Counter("clusterapi_auth_cache_misses_total", "Token verifications that read the store (token not cached, or the cache not trusted).")
	r.GaugeFunc("clusterapi_auth_cache_entries", "Tokens held verified in the cache.", func() float64 {
		v.mu.RLock()
		defer v.mu.RUnlock()
		return float64(len(v.entries))
	})
	m.flushes = r.Counter("clusterapi_lastuse_flushes_total", "Batches of token last uses written to the store.")
	m.flushFailures = r.Counter("clusterapi_lastuse_flush_failures_total", "Batches of token last uses that could not be written (kept for the next flush).")
	m.flushLag = r.Histogram("clusterapi_lastuse_flush_lag_seconds",
		"Age of the oldest use in a batch of last uses when the batch was written.", flushLagBuckets)
	r.GaugeFunc("clusterapi_lastuse_pending", "Tokens whose last use waits to be written.", func() float64 {
		return float64(v.uses.len())
	})
	return m
}
