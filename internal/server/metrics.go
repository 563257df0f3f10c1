package server

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"clusterapi/internal/metrics"
)

// requestBuckets are the upper bounds of clusterapi_http_request_duration_seconds:
// from a cached token check on loopback (well under a millisecond) to a
// console sign-in (argon2id, about 100 ms) and a slow store.
var requestBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// unmatched is the route label of requests that no pattern served.
const unmatched = "unmatched"

// catchAll are the route labels of patterns that only answer 404 or 405 for
// paths below them (httpapi's /api/ and /e/, the console's GET /cmc/) or
// that mount a subtree on the root mux: a request they serve matched no
// route, and counts as unmatched. "" is the root mux's own 404.
var catchAll = map[string]bool{"": true, "/api/": true, "/e/": true, "/cmc/": true}

// methods are the method label values; anything else is "other", so that a
// client cannot add series by inventing methods.
var methods = [...]string{"other", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func methodIndex(m string) uint8 {
	for i, s := range methods[1:] {
		if m == s {
			return uint8(i + 1)
		}
	}
	return 0
}

// httpMetrics counts requests by route, method and status. The route is the
// mux pattern that served the request (its path: the method is a label of
// its own), never the request's path, which may hold a token; patterns are
// fixed in the code, so the series are bounded by routes × methods ×
// statuses the server writes.
type httpMetrics struct {
	requests  *metrics.CounterVec
	durations *metrics.HistogramVec

	// series maps what a request tells to its counter and histogram. Reads
	// are one atomic load and a map lookup; a combination seen for the
	// first time copies the map under mu.
	series atomic.Pointer[map[seriesKey]requestSeries]
	mu     sync.Mutex
}

type seriesKey struct {
	pattern string
	method  uint8
	status  uint16
}

type requestSeries struct {
	count    *metrics.Counter
	duration *metrics.Histogram
}

func newHTTPMetrics(r *metrics.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: r.CounterVec("clusterapi_http_requests_total",
			"HTTP requests served, by route (the pattern that matched, or unmatched), method and status.",
			"route", "method", "status"),
		durations: r.HistogramVec("clusterapi_http_request_duration_seconds",
			"Time from a request's headers to its handler's return, by route and method.",
			requestBuckets, "route", "method"),
	}
	m.series.Store(&map[seriesKey]requestSeries{})
	return m
}

// observe counts one request served by pattern (r.Pattern after the mux
// ran) with status, taking d.
func (m *httpMetrics) observe(pattern, method string, status int, d time.Duration) {
	k := seriesKey{pattern: pattern, method: methodIndex(method), status: uint16(status)}
	s, ok := (*m.series.Load())[k]
	if !ok {
		s = m.add(k)
	}
	s.count.Inc()
	s.duration.Observe(d.Seconds())
}

func (m *httpMetrics) add(k seriesKey) requestSeries {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.series.Load()
	if s, ok := old[k]; ok {
		return s
	}
	route := routeLabel(k.pattern)
	method := methods[k.method]
	s := requestSeries{
		count:    m.requests.With(route, method, strconv.Itoa(int(k.status))),
		duration: m.durations.With(route, method),
	}
	next := make(map[seriesKey]requestSeries, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[k] = s
	m.series.Store(&next)
	return s
}

// routeLabel is the path of a mux pattern ("GET /api/cluster/v2/tokens/{id}"
// is "/api/cluster/v2/tokens/{id}"), or unmatched for a catch-all.
func routeLabel(pattern string) string {
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = strings.TrimLeft(path, " \t")
	}
	if catchAll[pattern] {
		return unmatched
	}
	return pattern
}
