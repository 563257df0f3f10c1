package server

import (
	"testing"
	"time"

	"clusterapi/internal/metrics"
)

// BenchmarkObserve is the cost of counting one request once its series
// exists: a map lookup, a counter and a histogram.
func BenchmarkObserve(b *testing.B) {
	m := newHTTPMetrics(metrics.NewRegistry())
	m.observe("GET /api/cluster/v2/tokens/{id}", "GET", 200, time.Millisecond)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.observe("GET /api/cluster/v2/tokens/{id}", "GET", 200, 300*time.Microsecond)
		}
	})
}

func TestRouteLabel(t *testing.T) {
	for _, tt := range []struct{ pattern, want string }{
		{"GET /api/cluster/v2/tokens/{id}", "/api/cluster/v2/tokens/{id}"},
		{"/cmc/static/", "/cmc/static/"},
		{"GET /{$}", "/{$}"},
		{"", unmatched},
		{"/api/", unmatched},
		{"/e/", unmatched},
		{"GET /cmc/", unmatched},
		{"/cmc/", unmatched},
	} {
		if got := routeLabel(tt.pattern); got != tt.want {
			t.Errorf("routeLabel(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}
