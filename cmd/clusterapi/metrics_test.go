package main

import (
	"bytes"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/metrics"
	"clusterapi/internal/token"
)

// scrapeMetrics reads GET /metrics with tok and returns every sample by its
// series, checking the content type and that the text parses.
func (s *testServer) scrapeMetrics(t *testing.T, tok string) (map[string]float64, string) {
	t.Helper()
	r := s.do(t, req{method: "GET", path: "/metrics", token: tok})
	if r.Status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("GET /metrics: Content-Type %q", ct)
	}
	fams, err := metrics.Parse(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("GET /metrics does not parse: %v\n%s", err, r.Body)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.Help == "" || f.Type == "untyped" {
			t.Errorf("%s: no HELP or TYPE", f.Name)
		}
		for _, sm := range f.Samples {
			out[sm.String()] = sm.Value
		}
	}
	return out, string(r.Body)
}

// TestMetrics makes requests of every kind through the real server and
// checks that the counters moved by exactly what they should, and that the
// metrics name routes, never paths, tokens or callers.
func TestMetrics(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	scraper := s.mint(t, admin, "prometheus", "DiagnosticExport")
	id := func(tok string) string { return tok[:token.IDLen] }
	unknown := token.Generate().Reveal() // well formed, never stored
	s.remember(unknown)

	before, _ := s.scrapeMetrics(t, scraper)
	for _, rq := range []struct {
		req
		want int
	}{
		{req{method: "GET", path: "/api/cluster/v2/tokens/" + id(admin), token: admin}, 200},
		{req{method: "GET", path: "/api/cluster/v2/tokens/" + unknown, token: admin}, 404}, // a full token in the path
		{req{method: "GET", path: "/api/cluster/v2/tokens", token: unknown}, 401},
		{req{method: "GET", path: "/api/cluster/v2/tokens", token: "not-a-token"}, 401},
		{req{method: "GET", path: "/api/cluster/v2/tokens"}, 401},
		{req{method: "GET", path: "/api/cluster/v2/tokens", token: scraper}, 403},
		{req{method: "GET", path: "/api/cluster/v2/no/such/route/" + id(admin)}, 404},
	} {
		if r := s.do(t, rq.req); r.Status != rq.want {
			t.Fatalf("%s %s: %d, want %d: %s", rq.method, rq.path, r.Status, rq.want, r.Body)
		}
	}
	// The console's own mux names its routes too; its catch-all is unmatched.
	for path, want := range map[string]int{"/cmc/signin": 200, "/cmc/no/such/page": 404} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	after, text := s.scrapeMetrics(t, scraper)

	delta := map[string]float64{}
	for k, v := range after {
		name, _, _ := strings.Cut(k, "{")
		if d := v - before[k]; d != 0 && !strings.HasSuffix(name, "_bucket") && !strings.HasSuffix(name, "_sum") &&
			!strings.HasPrefix(name, "clusterapi_auth_cache_") && !strings.HasPrefix(name, "clusterapi_lastuse_") {
			delta[k] = d
		}
	}
	want := map[string]float64{
		`clusterapi_http_requests_total{method="GET",route="/api/cluster/v2/tokens/{id}",status="200"}`:    1,
		`clusterapi_http_requests_total{method="GET",route="/api/cluster/v2/tokens/{id}",status="404"}`:    1,
		`clusterapi_http_requests_total{method="GET",route="/api/cluster/v2/tokens",status="401"}`:         3,
		`clusterapi_http_requests_total{method="GET",route="/api/cluster/v2/tokens",status="403"}`:         1,
		`clusterapi_http_requests_total{method="GET",route="unmatched",status="404"}`:                      2,
		`clusterapi_http_requests_total{method="GET",route="/cmc/signin",status="200"}`:                    1,
		`clusterapi_http_requests_total{method="GET",route="/metrics",status="200"}`:                       1, // the first scrape
		`clusterapi_http_request_duration_seconds_count{method="GET",route="/api/cluster/v2/tokens/{id}"}`: 2,
		`clusterapi_http_request_duration_seconds_count{method="GET",route="/api/cluster/v2/tokens"}`:      4,
		`clusterapi_http_request_duration_seconds_count{method="GET",route="unmatched"}`:                   2,
		`clusterapi_http_request_duration_seconds_count{method="GET",route="/cmc/signin"}`:                 1,
		`clusterapi_http_request_duration_seconds_count{method="GET",route="/metrics"}`:                    1,
		`clusterapi_auth_total{outcome="ok"}`:                                                              3, // the 200, the 404 of a route, the second scrape
		`clusterapi_auth_total{outcome="failed"}`:                                                          1,
		`clusterapi_auth_total{outcome="malformed"}`:                                                       1,
		`clusterapi_auth_total{outcome="missing"}`:                                                         1,
		`clusterapi_auth_total{outcome="forbidden"}`:                                                       1,
	}
	if diff := cmp.Diff(want, delta); diff != "" {
		t.Errorf("metrics moved (-want +got):\n%s", diff)
	}
	// Five verifications reached the cache (the malformed and the missing
	// token did not); whether the poll of the change log dropped a fresh
	// entry in between decides which were hits, not how many.
	hits := after["clusterapi_auth_cache_hits_total"] - before["clusterapi_auth_cache_hits_total"]
	misses := after["clusterapi_auth_cache_misses_total"] - before["clusterapi_auth_cache_misses_total"]
	if hits+misses != 5 || misses < 1 {
		t.Errorf("cache hits %v, misses %v; want 5 lookups, at least 1 miss (the unknown token)", hits, misses)
	}
	if n := after["clusterapi_auth_cache_entries"]; n < 1 || n > 2 {
		t.Errorf("cache entries %v, want 1 or 2", n)
	}
	if after[`clusterapi_build_info{goversion="`+goVersion(after)+`",version="`+buildVersion()+`"}`] != 1 {
		t.Errorf("no clusterapi_build_info with version %q", buildVersion())
	}
	if st, now := after["process_start_time_seconds"], float64(time.Now().UnixMicro())/1e6; st < now-60 || st > now {
		t.Errorf("process_start_time_seconds %v", st)
	}

	// Nothing a caller sent or owns is in a label.
	for _, secret := range []string{"dt0c01", id(scraper)[7:], id(admin)[7:], unknown[7:31], "not-a-token", "127.0.0.1", "admin", "/no/such/"} {
		if strings.Contains(text, secret) {
			t.Errorf("the metrics contain %q", secret)
		}
	}

	// The uses are written within a flush interval or so, and the batch's
	// lag is within the 5 seconds SPEC 2.2 allows.
	var last map[string]float64
	waitWithin(t, 5*time.Second, "a last-use flush", func() bool {
		last, _ = s.scrapeMetrics(t, scraper)
		return last["clusterapi_lastuse_flushes_total"] > after["clusterapi_lastuse_flushes_total"]
	})
	flushes := last["clusterapi_lastuse_flush_lag_seconds_count"] - after["clusterapi_lastuse_flush_lag_seconds_count"]
	lag := last["clusterapi_lastuse_flush_lag_seconds_sum"] - after["clusterapi_lastuse_flush_lag_seconds_sum"]
	if flushes < 1 || lag < 0 || lag/flushes > 5 {
		t.Errorf("%v flushes with %v s of lag in all", flushes, lag)
	}
	if _, ok := last["clusterapi_lastuse_pending"]; !ok {
		t.Error("no clusterapi_lastuse_pending")
	}
	if last["clusterapi_lastuse_flush_failures_total"] != 0 {
		t.Errorf("flush failures: %v", last["clusterapi_lastuse_flush_failures_total"])
	}
}

// goVersion returns the goversion label of clusterapi_build_info.
func goVersion(m map[string]float64) string {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if rest, ok := strings.CutPrefix(k, `clusterapi_build_info{goversion="`); ok {
			v, _, _ := strings.Cut(rest, `"`)
			return v
		}
	}
	return ""
}

// TestMetricsAccess: /metrics takes a token with one of the metrics scopes,
// in the header or the query like any API call, and refuses everyone else
// in the API's envelope.
func TestMetricsAccess(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI", "EnvironmentTokenManagement")
	tokensOnly := s.mint(t, admin, "tokens only", "ClusterTokenManagement")
	nodekeeper := s.mint(t, admin, "nodekeeper", "Nodekeeper")
	revoked := s.mint(t, admin, "revoked", "DiagnosticExport")
	if r := s.do(t, req{method: "PUT", path: "/api/cluster/v2/tokens/" + revoked[:token.IDLen], token: admin,
		body: map[string]any{"revoked": true}}); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	bound := boundToken(t, s, admin)
	for _, scope := range []string{"DiagnosticExport", "ServiceProviderAPI", "ControlManagement"} {
		tok := s.mint(t, admin, scope, scope)
		s.scrapeMetrics(t, tok)
		if r := s.do(t, req{method: "GET", path: "/metrics?api-token=" + tok}); r.Status != 200 {
			t.Errorf("GET /metrics?api-token= (%s): %d", scope, r.Status)
		}
	}

	const wantForbidden = "Token is missing required scope. Use one of: DiagnosticExport (Diagnostic export), " +
		"ServiceProviderAPI (Service Provider API), ControlManagement (Control management)"
	for _, tt := range []struct {
		name, token string
		status      int
		msg         string
	}{
		{"no token", "", 401, "Missing authorization parameter."},
		{"malformed", "dt0c01.nope", 401, "Token Authentication failed"},
		{"revoked", revoked, 401, "Token has been revoked"},
		{"bound to an environment", bound, 401, "Token Authentication failed"},
		{"another scope", tokensOnly, 403, wantForbidden},
		{"nodekeeper", nodekeeper, 403, wantForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, req{method: "GET", path: "/metrics", token: tt.token})
			if r.Status != tt.status || r.errorMessage(t) != tt.msg {
				t.Errorf("GET /metrics: %d %s, want %d %q", r.Status, r.Body, tt.status, tt.msg)
			}
			if tt.status == 401 && r.Header.Get("WWW-Authenticate") != `Api-Token realm="clusterapi"` {
				t.Errorf("401 without WWW-Authenticate")
			}
			if strings.Contains(string(r.Body), "clusterapi_") {
				t.Errorf("a refusal carries metrics: %s", r.Body)
			}
		})
	}
	if r := s.do(t, req{method: "POST", path: "/metrics", token: admin}); r.Status != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d, want 405", r.Status)
	}
}

// boundToken creates an environment with its token-management token, which
// is bound to that environment, and returns the token.
func boundToken(t *testing.T, s *testServer, admin string) string {
	t.Helper()
	r := s.do(t, req{method: "POST", path: envsPath + "?createToken=true", token: admin, body: map[string]any{"name": "bound"}})
	if r.Status != 201 {
		t.Fatalf("create environment: %d %s", r.Status, r.Body)
	}
	tok, _ := r.json(t)["tokenManagementToken"].(string)
	if tok == "" {
		t.Fatalf("no tokenManagementToken in %s", r.Body)
	}
	s.remember(tok)
	return tok
}
