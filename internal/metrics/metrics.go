// Package metrics keeps counters, gauges and histograms in memory and writes
// them in the Prometheus text exposition format, version 0.0.4.
//
// It is deliberately small: integer counters, float gauges, histograms with
// fixed buckets, and families whose series are created by label values. The
// hot path (Counter.Inc, Histogram.Observe) is a few atomic operations with
// no lock and no allocation; creating a series (the With methods) takes a
// lock and allocates, so callers look a series up once and keep the pointer.
// Label values must come from a set the program bounds (route patterns,
// outcomes, status codes), never from what a client sends.
package metrics

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Registry holds metric families and writes them out. The zero value is not
// usable; call NewRegistry.
type Registry struct {
	mu       sync.Mutex
	families map[string]*family
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{families: make(map[string]*family)}
}

// Metric types, as written on # TYPE lines.
const (
	typeCounter   = "counter"
	typeGauge     = "gauge"
	typeHistogram = "histogram"
)

// family is one metric name with its help, type, label names and series.
type family struct {
	name, help, typ string
	labels          []string
	buckets         []float64 // histograms only

	mu     sync.Mutex
	series map[string]*series // by label values joined with labelSep
}

// labelSep joins label values into a map key; it cannot occur in UTF-8 text.
const labelSep = "\xff"

type series struct {
	values []string
	metric any // *Counter, *Gauge, *Histogram or gaugeFunc
}

type gaugeFunc func() float64

// register adds a family; a bad or repeated name is a programming error.
func (r *Registry) register(name, help, typ string, buckets []float64, labels []string) *family {
	if !validName(name, true) {
		panic("metrics: invalid metric name " + strconv.Quote(name))
	}
	for i, l := range labels {
		if !validName(l, false) || strings.HasPrefix(l, "__") || (typ == typeHistogram && l == "le") || slices.Contains(labels[:i], l) {
			panic("metrics: invalid label name " + strconv.Quote(l) + " for " + name)
		}
	}
	f := &family{name: name, help: help, typ: typ, labels: slices.Clone(labels), buckets: buckets,
		series: make(map[string]*series)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.families[name]; dup {
		panic("metrics: " + name + " registered twice")
	}
	r.families[name] = f
	return f
}

// validName reports whether s is a metric name (colons allowed) or a label
// name: [a-zA-Z_][a-zA-Z0-9_]*.
func validName(s string, colon bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || colon && c == ':' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// with returns the series for values, creating it with mk.
func (f *family) with(values []string, mk func() any) any {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	key := strings.Join(values, labelSep)
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.series[key]
	if s == nil {
		s = &series{values: slices.Clone(values), metric: mk()}
		f.series[key] = s
	}
	return s.metric
}

// Counter is a count that only goes up. Its zero value counts from 0.
type Counter struct{ n atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.n.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.n.Add(n) }

// Value returns the count.
func (c *Counter) Value() uint64 { return c.n.Load() }

// Gauge is a value that goes up and down.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the gauge to v.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Add adds d (which may be negative).
func (g *Gauge) Add(d float64) { addFloat(&g.bits, d) }

// Value returns the gauge's value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

func addFloat(bits *atomic.Uint64, d float64) {
	for {
		old := bits.Load()
		if bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Histogram counts observations in buckets with fixed upper bounds.
type Histogram struct {
	bounds []float64       // ascending upper bounds, without +Inf; shared, never written
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Uint64   // float64 bits
}

func newHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe records v: it falls in the first bucket whose bound is >= v.
func (h *Histogram) Observe(v float64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] { // a dozen bounds: faster than a binary search
		i++
	}
	h.counts[i].Add(1)
	addFloat(&h.sum, v)
}

// checkBuckets validates upper bounds: ascending, finite, at least one.
func checkBuckets(name string, b []float64) []float64 {
	if len(b) == 0 {
		panic("metrics: histogram " + name + " has no buckets")
	}
	for i, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) || i > 0 && v <= b[i-1] {
			panic("metrics: histogram " + name + " buckets must be finite and ascending")
		}
	}
	return slices.Clone(b)
}

// Counter registers a counter without labels.
func (r *Registry) Counter(name, help string) *Counter {
	return r.CounterVec(name, help).With()
}

// CounterVec is a counter family with labels.
type CounterVec struct{ f *family }

// CounterVec registers a counter family with the given label names.
func (r *Registry) CounterVec(name, help string, labels ...string) *CounterVec {
	return &CounterVec{r.register(name, help, typeCounter, nil, labels)}
}

// With returns the counter for the label values (in the order of the label
// names), creating it at 0. It takes a lock: keep the result.
func (v *CounterVec) With(values ...string) *Counter {
	return v.f.with(values, func() any { return new(Counter) }).(*Counter)
}

// Gauge registers a gauge without labels.
func (r *Registry) Gauge(name, help string) *Gauge {
	return r.GaugeVec(name, help).With()
}

// GaugeVec is a gauge family with labels.
type GaugeVec struct{ f *family }

// GaugeVec registers a gauge family with the given label names.
func (r *Registry) GaugeVec(name, help string, labels ...string) *GaugeVec {
	return &GaugeVec{r.register(name, help, typeGauge, nil, labels)}
}

// With returns the gauge for the label values, creating it at 0.
func (v *GaugeVec) With(values ...string) *Gauge {
	return v.f.with(values, func() any { return new(Gauge) }).(*Gauge)
}

// GaugeFunc registers a gauge without labels whose value f computes at each
// scrape. f runs with no lock of the registry held.
func (r *Registry) GaugeFunc(name, help string, f func() float64) {
	r.register(name, help, typeGauge, nil, nil).with(nil, func() any { return gaugeFunc(f) })
}

// Histogram registers a histogram without labels, with the given bucket
// upper bounds (ascending; +Inf is implied).
func (r *Registry) Histogram(name, help string, buckets []float64) *Histogram {
	return r.HistogramVec(name, help, buckets).With()
}

// HistogramVec is a histogram family with labels.
type HistogramVec struct{ f *family }

// HistogramVec registers a histogram family with the given buckets and label
// names.
func (r *Registry) HistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	return &HistogramVec{r.register(name, help, typeHistogram, checkBuckets(name, buckets), labels)}
}

// With returns the histogram for the label values, creating it empty.
func (v *HistogramVec) With(values ...string) *Histogram {
	return v.f.with(values, func() any { return newHistogram(v.f.buckets) }).(*Histogram)
}

// Handler serves the registry in the text format.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var buf bytes.Buffer
		r.WriteText(&buf) // a bytes.Buffer does not fail
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Cache-Control", "no-store")
		w.Write(buf.Bytes())
	})
}

// WriteText writes every family, sorted by name, each series sorted by its
// label values. A histogram's buckets, _sum and _count are read one after
// another, not as one snapshot: _count is the +Inf bucket, so those two
// always agree, but _sum may already include an observation the buckets do
// not.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	fams := make([]*family, 0, len(r.families))
	for _, f := range r.families {
		fams = append(fams, f)
	}
	r.mu.Unlock()
	slices.SortFunc(fams, func(a, b *family) int { return strings.Compare(a.name, b.name) })

	bw := bufio.NewWriter(w)
	for _, f := range fams {
		f.write(bw)
	}
	return bw.Flush()
}

func (f *family) write(w *bufio.Writer) {
	f.mu.Lock()
	ss := make([]*series, 0, len(f.series))
	for _, s := range f.series {
		ss = append(ss, s)
	}
	f.mu.Unlock()
	slices.SortFunc(ss, func(a, b *series) int { return slices.Compare(a.values, b.values) })

	w.WriteString("# HELP ")
	w.WriteString(f.name)
	w.WriteByte(' ')
	w.WriteString(helpEscaper.Replace(f.help))
	w.WriteString("\n# TYPE ")
	w.WriteString(f.name)
	w.WriteByte(' ')
	w.WriteString(f.typ)
	w.WriteByte('\n')
	for _, s := range ss {
		switch m := s.metric.(type) {
		case *Counter:
			f.sample(w, "", s.values, "", strconv.FormatUint(m.Value(), 10))
		case *Gauge:
			f.sample(w, "", s.values, "", formatFloat(m.Value()))
		case gaugeFunc:
			f.sample(w, "", s.values, "", formatFloat(m()))
		case *Histogram:
			var cum uint64
			for i := range m.counts {
				cum += m.counts[i].Load()
				le := "+Inf"
				if i < len(m.bounds) {
					le = formatFloat(m.bounds[i])
				}
				f.sample(w, "_bucket", s.values, le, strconv.FormatUint(cum, 10))
			}
			f.sample(w, "_sum", s.values, "", formatFloat(math.Float64frombits(m.sum.Load())))
			f.sample(w, "_count", s.values, "", strconv.FormatUint(cum, 10))
		}
	}
}

// sample writes one line: the name with suffix, the labels (and le, when
// given) and the value.
func (f *family) sample(w *bufio.Writer, suffix string, values []string, le, value string) {
	w.WriteString(f.name)
	w.WriteString(suffix)
	if len(values) > 0 || le != "" {
		w.WriteByte('{')
		for i, v := range values {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(f.labels[i])
			w.WriteString(`="`)
			w.WriteString(labelEscaper.Replace(v))
			w.WriteByte('"')
		}
		if le != "" {
			if len(values) > 0 {
				w.WriteByte(',')
			}
			w.WriteString(`le="`)
			w.WriteString(le)
			w.WriteByte('"')
		}
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(value)
	w.WriteByte('\n')
}

// The format escapes backslash and newline in help text, and also the
// double quote in label values.
var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// formatFloat writes v as the format expects: Go's shortest representation,
// and +Inf, -Inf and NaN spelled so.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
