package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRun checks that every request is sent once, over the configured number
// of connections, and that answers with another status count as errors.
func TestRun(t *testing.T) {
	var served, teapots atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.URL.Path == "/teapot" {
			teapots.Add(1)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		w.Write([]byte("hello"))
	}))
	srv.Start()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	ok := Get(addr, "/ok")
	teapot := Get(addr, "/teapot")
	r, err := Run(context.Background(), Config{
		Addr: addr, Conns: 4, Requests: 1000, Duration: 30 * time.Second, WantStatus: 200,
		Request: func(i int) []byte {
			if i%100 == 99 {
				return teapot(i)
			}
			return ok(i)
		},
	})
	if err == nil || !strings.Contains(err.Error(), "status 418") {
		t.Errorf("err = %v, want the first wrong status named", err)
	}
	if r.Requests != 990 || r.Errors != 10 {
		t.Errorf("requests %d errors %d, want 990 and 10", r.Requests, r.Errors)
	}
	if served.Load() != 1000 || teapots.Load() != 10 {
		t.Errorf("server saw %d requests (%d teapots), want 1000 (10)", served.Load(), teapots.Load())
	}
	if r.P50 <= 0 || r.P99 < r.P50 || r.RPS() <= 0 {
		t.Errorf("p50 %v p99 %v rps %v: want positive and ordered", r.P50, r.P99, r.RPS())
	}
}

// TestRunStopsAtDuration checks the time bound against a server slower than it.
func TestRunStopsAtDuration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	start := time.Now()
	r, _ := Run(context.Background(), Config{Addr: addr, Conns: 2, Requests: 1 << 20, Duration: 300 * time.Millisecond,
		WantStatus: 200, Request: Get(addr, "/")})
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("run took %v, want it stopped near 300ms", el)
	}
	if r.Requests == 0 || r.Requests > 100 {
		t.Errorf("requests = %d, want a few (each takes 50ms)", r.Requests)
	}
}

func TestRunRefusesEmptyConfig(t *testing.T) {
	if _, err := Run(context.Background(), Config{}); err == nil {
		t.Error("empty config accepted")
	}
}
