package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/auth"
	"clusterapi/internal/environment"
	"clusterapi/internal/httpapi"
	"clusterapi/internal/metrics"
	"clusterapi/internal/networkzone"
	"clusterapi/internal/server"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

// TestRequestMetrics counts requests by the pattern that served them, never
// by their path, with unmatched for the catch-alls and a bounded method.
func TestRequestMetrics(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := metrics.NewRegistry()
	tokens := token.NewService(db, token.Options{})
	verifier := auth.NewVerifier(tokens, auth.Options{Metrics: reg})
	api := httpapi.New(httpapi.Config{Log: log, Verifier: verifier, Tokens: tokens, Envs: environment.NewService(db, tokens),
		Zones: networkzone.NewService(db)})
	srv := httptest.NewServer(server.New(server.Config{Logger: log, API: api, WriteError: api.WriteError,
		MaxBodyBytes: httpapi.MaxBodyBytes, Metrics: reg, GuardMetrics: api.GuardMetrics}))
	defer srv.Close()
	_, s, err := tokens.Create(ctx, token.Actor{}, token.CreateInput{Name: "m", Scopes: []token.Scope{token.DiagnosticExport}})
	if err != nil {
		t.Fatal(err)
	}
	secret := s.Reveal()

	do := func(method, path, tok string) int {
		t.Helper()
		r, _ := http.NewRequest(method, srv.URL+path, nil)
		if tok != "" {
			r.Header.Set("Authorization", "Api-Token "+tok)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	do("GET", "/api/cluster/v2/tokens/"+secret, secret) // 403: a full token in the path
	do("HEAD", "/api/cluster/v2/tokens/"+secret, "")    // 401
	do("GET", "/api/cluster/v2/nothing/"+secret, "")    // 404, the API's catch-all
	do("POST", "/api/cluster/v2/spec3.json", "")        // 405
	do("GET", "/e/x/api/v2/apiTokens", "")              // 404, the API's other catch-all
	do("GET", "/nothing", "")                           // 404 of the root mux
	do("BREW", "/healthz", "")                          // 405 of the root mux, an invented method
	do("GET", "/healthz", "")
	do("GET", "/api//cluster/v2/tokens", "") // not clean: 404
	if got := do("GET", "/metrics", ""); got != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a token: %d, want 401", got)
	}

	r, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
	r.Header.Set("Authorization", "Api-Token "+secret)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != metrics.ContentType {
		t.Fatalf("GET /metrics: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	fams, err := metrics.Parse(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.Name != "clusterapi_http_requests_total" {
			continue
		}
		for _, s := range f.Samples {
			got[s.String()] = s.Value
		}
	}
	want := map[string]float64{
		`clusterapi_http_requests_total{method="GET",route="/api/cluster/v2/tokens/{id}",status="403"}`:  1,
		`clusterapi_http_requests_total{method="HEAD",route="/api/cluster/v2/tokens/{id}",status="401"}`: 1,
		`clusterapi_http_requests_total{method="GET",route="unmatched",status="404"}`:                    4,
		`clusterapi_http_requests_total{method="POST",route="unmatched",status="405"}`:                   1,
		`clusterapi_http_requests_total{method="other",route="unmatched",status="405"}`:                  1,
		`clusterapi_http_requests_total{method="GET",route="/healthz",status="200"}`:                     1,
		`clusterapi_http_requests_total{method="GET",route="/metrics",status="401"}`:                     1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if strings.Contains(string(body), secret[:token.IDLen]) || strings.Contains(string(body), "BREW") {
		t.Errorf("the metrics hold a token id or a method sent:\n%s", body)
	}
}

// TestMetricsNotServedUnguarded: without a rule of who may read them, the
// metrics are not served at all.
func TestMetricsNotServedUnguarded(t *testing.T) {
	srv := httptest.NewServer(server.New(server.Config{Logger: slog.New(slog.DiscardHandler), API: http.NotFoundHandler(),
		Metrics: metrics.NewRegistry()}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics without GuardMetrics: %d, want 404", resp.StatusCode)
	}
}

// BenchmarkMiddleware measures what the middleware costs a request, without
// and with the request metrics, in process (no network): the difference is
// what counting a request costs.
func BenchmarkMiddleware(b *testing.B) {
	log := slog.New(slog.DiscardHandler)
	for _, tt := range []struct {
		name string
		reg  *metrics.Registry
	}{{"plain", nil}, {"metrics", metrics.NewRegistry()}} {
		h := server.New(server.Config{Logger: log, API: http.NotFoundHandler(), Metrics: tt.reg})
		r := httptest.NewRequest("GET", "/healthz", nil)
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
			}
		})
	}
}
