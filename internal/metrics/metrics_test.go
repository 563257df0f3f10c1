package metrics_test

import (
	"bytes"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/metrics"
)

// tricky is a label value holding every character the format escapes.
const tricky = "a\"b\\c\nd"

func newTestRegistry() *metrics.Registry {
	r := metrics.NewRegistry()
	r.Counter("jobs_total", "Jobs done.").Add(3)
	v := r.CounterVec("requests_total", "Requests by route.\nSecond line with a \\.", "route", "code")
	v.With("/b", "200").Inc()
	v.With("/a", "404").Add(2)
	v.With(tricky, "200").Inc()
	r.Gauge("temperature", "A gauge.").Set(-1.5)
	r.GaugeFunc("queue", "A gauge computed at scrape.", func() float64 { return 7 })
	r.GaugeVec("build_info", "Build.", "version").With("v1.2.3").Set(1)
	h := r.HistogramVec("latency_seconds", "A histogram.", []float64{0.1, 0.5, 1}, "route")
	for _, x := range []float64{0.0625, 0.09375, 0.25, 0.5, 2, 0.75} {
		h.With("/a").Observe(x)
	}
	h.With("/b") // created, never observed
	r.Histogram("empty_seconds", "No labels.", []float64{1e-05, 2.5})
	return r
}

// want is the text newTestRegistry writes: families sorted by name, series
// by label values, histogram buckets cumulative.
const want = `# HELP build_info Build.
# TYPE build_info gauge
build_info{version="v1.2.3"} 1
# HELP empty_seconds No labels.
# TYPE empty_seconds histogram
empty_seconds_bucket{le="1e-05"} 0
empty_seconds_bucket{le="2.5"} 0
empty_seconds_bucket{le="+Inf"} 0
empty_seconds_sum 0
empty_seconds_count 0
# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total 3
# HELP latency_seconds A histogram.
# TYPE latency_seconds histogram
latency_seconds_bucket{route="/a",le="0.1"} 2
latency_seconds_bucket{route="/a",le="0.5"} 4
latency_seconds_bucket{route="/a",le="1"} 5
latency_seconds_bucket{route="/a",le="+Inf"} 6
latency_seconds_sum{route="/a"} 3.65625
latency_seconds_count{route="/a"} 6
latency_seconds_bucket{route="/b",le="0.1"} 0
latency_seconds_bucket{route="/b",le="0.5"} 0
latency_seconds_bucket{route="/b",le="1"} 0
latency_seconds_bucket{route="/b",le="+Inf"} 0
latency_seconds_sum{route="/b"} 0
latency_seconds_count{route="/b"} 0
# HELP queue A gauge computed at scrape.
# TYPE queue gauge
queue 7
# HELP requests_total Requests by route.\nSecond line with a \\.
# TYPE requests_total counter
requests_total{route="/a",code="404"} 2
requests_total{route="/b",code="200"} 1
requests_total{route="a\"b\\c\nd",code="200"} 1
# HELP temperature A gauge.
# TYPE temperature gauge
temperature -1.5
`

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	if err := newTestRegistry().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteText (-want +got):\n%s", diff)
	}
}

// TestParseBack reads the output back line by line and checks what the
// format requires of it.
func TestParseBack(t *testing.T) {
	var b bytes.Buffer
	newTestRegistry().WriteText(&b)
	fams, err := metrics.Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]metrics.Family{}
	for _, f := range fams {
		byName[f.Name] = f
		if f.Help == "" || f.Type == "untyped" {
			t.Errorf("%s: help %q, type %q", f.Name, f.Help, f.Type)
		}
	}
	if got := byName["requests_total"].Help; got != "Requests by route.\nSecond line with a \\." {
		t.Errorf("help read back as %q", got)
	}
	var routes []string
	for _, s := range byName["requests_total"].Samples {
		routes = append(routes, s.Label("route"))
	}
	if diff := cmp.Diff([]string{"/a", "/b", tricky}, routes); diff != "" {
		t.Errorf("label values read back (-want +got):\n%s", diff)
	}

	h := byName["latency_seconds"]
	checkHistogram(t, h)
	type bucket struct {
		Route, Le string
		N         float64
	}
	var got []bucket
	for _, s := range h.Samples {
		if s.Name == "latency_seconds_bucket" && s.Label("route") == "/a" {
			got = append(got, bucket{s.Label("route"), s.Label("le"), s.Value})
		}
	}
	wantBuckets := []bucket{{"/a", "0.1", 2}, {"/a", "0.5", 4}, {"/a", "1", 5}, {"/a", "+Inf", 6}}
	if diff := cmp.Diff(wantBuckets, got); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
	checkHistogram(t, byName["empty_seconds"])
}

// checkHistogram checks every series of a histogram family: buckets in
// ascending le order, cumulative, ending with +Inf equal to _count, then a
// _sum and a _count.
func checkHistogram(t *testing.T, f metrics.Family) {
	t.Helper()
	if f.Type != "histogram" {
		t.Fatalf("%s: type %s", f.Name, f.Type)
	}
	type state struct {
		lastLe, lastN float64
		inf, sum      bool
		count         float64
		haveCount     bool
	}
	series := map[string]*state{}
	key := func(s metrics.Sample) string {
		var b strings.Builder
		for _, l := range s.Labels {
			if l.Name != "le" {
				b.WriteString(l.Name + "=" + l.Value + ",")
			}
		}
		return b.String()
	}
	for _, s := range f.Samples {
		st := series[key(s)]
		if st == nil {
			st = &state{lastLe: math.Inf(-1)}
			series[key(s)] = st
		}
		switch s.Name {
		case f.Name + "_bucket":
			if st.inf {
				t.Errorf("%s: bucket after +Inf", s)
			}
			le, err := parseLe(s.Label("le"))
			if err != nil {
				t.Errorf("%s: %v", s, err)
				continue
			}
			if le <= st.lastLe || s.Value < st.lastN {
				t.Errorf("%s: not ascending or not cumulative", s)
			}
			st.lastLe, st.lastN, st.inf = le, s.Value, math.IsInf(le, 1)
		case f.Name + "_sum":
			st.sum = true
		case f.Name + "_count":
			st.count, st.haveCount = s.Value, true
		default:
			t.Errorf("%s: unexpected sample in a histogram", s)
		}
	}
	for k, st := range series {
		if !st.inf || !st.sum || !st.haveCount || st.count != st.lastN {
			t.Errorf("%s{%s}: +Inf %v, _sum %v, _count %v (%v, +Inf bucket %v)", f.Name, k, st.inf, st.sum, st.haveCount, st.count, st.lastN)
		}
	}
}

func parseLe(s string) (float64, error) {
	fams, err := metrics.Parse(strings.NewReader("x " + s + "\n"))
	if err != nil {
		return 0, err
	}
	return fams[0].Samples[0].Value, nil
}

func TestHistogramBounds(t *testing.T) {
	r := metrics.NewRegistry()
	h := r.Histogram("h", "h", []float64{1, 2})
	for _, x := range []float64{1, 1.0000001, 2, 3, math.Inf(1), -5} {
		h.Observe(x)
	}
	var b bytes.Buffer
	r.WriteText(&b)
	for _, line := range []string{`h_bucket{le="1"} 2`, `h_bucket{le="2"} 4`, `h_bucket{le="+Inf"} 6`, `h_sum +Inf`, `h_count 6`} {
		if !strings.Contains(b.String(), line+"\n") {
			t.Errorf("missing %q in\n%s", line, b.String())
		}
	}
}

func TestConcurrentUpdates(t *testing.T) {
	r := metrics.NewRegistry()
	c := r.Counter("c_total", "c")
	h := r.Histogram("h", "h", []float64{0.5})
	g := r.Gauge("g", "g")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				c.Inc()
				h.Observe(0.25)
				g.Add(1)
				var b bytes.Buffer
				if c.Value()%100 == 0 {
					r.WriteText(&b) // scrapes race with updates
				}
			}
		})
	}
	wg.Wait()
	var b bytes.Buffer
	r.WriteText(&b)
	for _, line := range []string{"c_total 4000", `h_bucket{le="0.5"} 4000`, "h_sum 1000", "h_count 4000", "g 4000"} {
		if !strings.Contains(b.String(), line+"\n") {
			t.Errorf("missing %q in\n%s", line, b.String())
		}
	}
}

func TestSameSeries(t *testing.T) {
	r := metrics.NewRegistry()
	v := r.CounterVec("c_total", "c", "a", "b")
	a, b := v.With("x", "y"), v.With("x", "y")
	if a != b || a == v.With("xy", "") {
		t.Error("With does not return one counter per label values")
	}
}

func TestRegisterMisuse(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    func(r *metrics.Registry)
	}{
		{"duplicate", func(r *metrics.Registry) { r.Counter("a", ""); r.Gauge("a", "") }},
		{"bad name", func(r *metrics.Registry) { r.Counter("1a", "") }},
		{"bad label", func(r *metrics.Registry) { r.CounterVec("a", "", "a-b") }},
		{"reserved label", func(r *metrics.Registry) { r.CounterVec("a", "", "__x") }},
		{"le on a histogram", func(r *metrics.Registry) { r.HistogramVec("a", "", []float64{1}, "le") }},
		{"repeated label", func(r *metrics.Registry) { r.CounterVec("a", "", "x", "x") }},
		{"no buckets", func(r *metrics.Registry) { r.Histogram("a", "", nil) }},
		{"unsorted buckets", func(r *metrics.Registry) { r.Histogram("a", "", []float64{2, 1}) }},
		{"wrong label count", func(r *metrics.Registry) { r.CounterVec("a", "", "x").With() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.f(metrics.NewRegistry())
		})
	}
}

func TestHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	newTestRegistry().Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if got := rec.Header().Get("Content-Type"); got != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if rec.Body.String() != want {
		t.Errorf("body differs from WriteText:\n%s", rec.Body)
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		"a{b=\"c\" 1\n",
		"a{b=c} 1\n",
		"a{b=\"\\t\"} 1\n",
		"a{b=\"x\",b=\"y\"} 1\n",
		"a 1x\n",
		"a\n",
		"a 1 2 3\n",
		"a 0x10\n",
		"# TYPE a counter\n# TYPE a counter\n",
		"# TYPE a flux\n",
		"a 1\n# TYPE a counter\n",
		"a 1\nb 1\na 2\n",
		"a 1\na 2\n",
		"# HELP a x\\y\n",
		"1a 1\n",
	} {
		if _, err := metrics.Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q) accepted it", in)
		}
	}
	fams, err := metrics.Parse(strings.NewReader("# a comment\n\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1 1700000000000\nh_sum 0.5\nh_count 1\nx NaN\n"))
	if err != nil || len(fams) != 2 || len(fams[0].Samples) != 3 || !math.IsNaN(fams[1].Samples[0].Value) {
		t.Errorf("Parse of a valid exposition: %v %+v", err, fams)
	}
}

func BenchmarkCounterInc(b *testing.B) {
	c := metrics.NewRegistry().Counter("c_total", "c")
	b.ReportAllocs()
	for b.Loop() {
		c.Inc()
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	h := metrics.NewRegistry().Histogram("h", "h",
		[]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Observe(0.0003)
		}
	})
}
