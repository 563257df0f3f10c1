package auth_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/auth"
	"clusterapi/internal/metrics"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

// scrape returns every sample of reg by its series.
func scrape(t *testing.T, reg *metrics.Registry) map[string]float64 {
	t.Helper()
	var b bytes.Buffer
	if err := reg.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	fams, err := metrics.Parse(&b)
	if err != nil {
		t.Fatalf("the registry's output does not parse: %v\n%s", err, b.String())
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, s := range f.Samples {
			out[s.String()] = s.Value
		}
	}
	return out
}

// TestVerifierMetrics counts each outcome where the verifier decides it,
// cache hits and misses, and the last-use batches with their lag.
func TestVerifierMetrics(t *testing.T) {
	ctx := context.Background()
	start := time.Unix(1_800_000_000, 0)
	now := start
	clock := func() time.Time { return now }
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := metrics.NewRegistry()
	tokens := token.NewService(db, token.Options{Now: clock})
	v := auth.NewVerifier(tokens, auth.Options{Now: clock, Metrics: reg})
	_, s, err := tokens.Create(ctx, token.Actor{}, token.CreateInput{Name: "a", Scopes: []token.Scope{token.Nodekeeper}})
	if err != nil {
		t.Fatal(err)
	}
	secret := s.Reveal()
	short, s2, err := tokens.Create(ctx, token.Actor{}, token.CreateInput{Name: "b", Scopes: []token.Scope{token.Nodekeeper}, ExpiresIn: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	expiring := s2.Reveal()

	authenticate := func(header string) {
		r := httptest.NewRequest("GET", "/api/x", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if _, err := v.Authenticate(r); err == nil {
			t.Fatalf("Authenticate(%q) succeeded", header)
		}
	}
	authenticate("")                 // missing
	authenticate("Bearer " + secret) // malformed: another scheme
	bad := secret[:len(secret)-1] + "A"
	if bad == secret {
		bad = secret[:len(secret)-1] + "B"
	}
	authenticate("Api-Token " + bad)             // malformed: the checksum does not match
	v.Verify(ctx, token.Generate().Reveal(), "") // failed: unknown id (a miss)
	for range 3 {                                // a miss, then two hits; successes are the caller's to count
		if _, err := v.Verify(ctx, secret, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Verify(ctx, expiring, "10.0.0.2"); err != nil { // a miss
		t.Fatal(err)
	}
	now = start.Add(time.Minute)
	v.Verify(ctx, expiring, "") // expired (a hit)
	if err := tokens.Update(ctx, token.Actor{}, short.ID, token.Change{Revoked: new(true)}); err != nil {
		t.Fatal(err)
	}
	v.Verify(ctx, expiring, "") // revoked (a miss: revoking dropped the entry)
	v.Count(auth.OutcomeThrottled)
	v.Count(auth.OutcomeOK)

	got := scrape(t, reg)
	want := map[string]float64{
		`clusterapi_auth_total{outcome="ok"}`:        1,
		`clusterapi_auth_total{outcome="missing"}`:   1,
		`clusterapi_auth_total{outcome="malformed"}`: 2,
		`clusterapi_auth_total{outcome="failed"}`:    1,
		`clusterapi_auth_total{outcome="revoked"}`:   1,
		`clusterapi_auth_total{outcome="expired"}`:   1,
		`clusterapi_auth_total{outcome="forbidden"}`: 0,
		`clusterapi_auth_total{outcome="throttled"}`: 1,
		`clusterapi_auth_total{outcome="error"}`:     0,
		`clusterapi_auth_cache_hits_total`:           3,
		`clusterapi_auth_cache_misses_total`:         4,
		`clusterapi_auth_cache_entries`:              1,
		`clusterapi_lastuse_pending`:                 2,
		`clusterapi_lastuse_flushes_total`:           0,
		`clusterapi_lastuse_flush_failures_total`:    0,
		`clusterapi_lastuse_flush_lag_seconds_count`: 0,
	}
	checkSamples(t, got, want)

	// Both uses were at start; written a minute and a half later.
	now = start.Add(90 * time.Second)
	v.Flush(ctx)
	got = scrape(t, reg)
	checkSamples(t, got, map[string]float64{
		`clusterapi_lastuse_pending`:                             0,
		`clusterapi_lastuse_flushes_total`:                       1,
		`clusterapi_lastuse_flush_lag_seconds_count`:             1,
		`clusterapi_lastuse_flush_lag_seconds_sum`:               90,
		`clusterapi_lastuse_flush_lag_seconds_bucket{le="60"}`:   0,
		`clusterapi_lastuse_flush_lag_seconds_bucket{le="300"}`:  1,
		`clusterapi_lastuse_flush_lag_seconds_bucket{le="+Inf"}`: 1,
	})
	v.Flush(ctx) // nothing to write: not a flush
	if got := scrape(t, reg)[`clusterapi_lastuse_flushes_total`]; got != 1 {
		t.Errorf("an empty flush counted: flushes_total %v", got)
	}

	// A store that cannot be reached: the verification is an error, the
	// batch fails and stays pending.
	v.Verify(ctx, secret, "10.0.0.3") // a hit, recorded: a second has passed since the last
	db.Close()
	v.InvalidateAll()
	v.Verify(ctx, secret, "")
	v.Flush(ctx)
	checkSamples(t, scrape(t, reg), map[string]float64{
		`clusterapi_auth_total{outcome="error"}`:  1,
		`clusterapi_lastuse_flush_failures_total`: 1,
		`clusterapi_lastuse_flushes_total`:        1,
		`clusterapi_lastuse_pending`:              1,
	})
}

func checkSamples(t *testing.T, got, want map[string]float64) {
	t.Helper()
	sub := map[string]float64{}
	for k := range want {
		v, ok := got[k]
		if !ok {
			v = -1 // absent
		}
		sub[k] = v
	}
	if diff := cmp.Diff(want, sub); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}
