// Package loadgen is a small HTTP/1.1 load generator for benchmarks on
// loopback: a fixed number of keep-alive connections, each sending one request
// at a time, bounded in count and in time. It writes pre-built request bytes
// and parses only what it must of the answers, so that on a small machine the
// client takes as little CPU from the server under test as it can.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one load run.
type Config struct {
	Addr     string        // host:port, loopback only
	Conns    int           // keep-alive connections, each with one request in flight
	Requests int           // stop after this many requests in all
	Duration time.Duration // or after this long, whichever comes first
	// Request returns the raw bytes of request number i (HTTP/1.1, keep-alive).
	Request func(i int) []byte
	// WantStatus is the status every answer must have; others count as errors.
	WantStatus int
}

// Result is what a run measured.
type Result struct {
	Requests int           // answered with WantStatus
	Errors   int           // answered otherwise, or failed
	Elapsed  time.Duration // wall time of the run
	P50, P99 time.Duration // latency percentiles of the answered requests
}

// RPS is the rate of good answers.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Get returns a Request function for a GET of path with the given headers
// ("Name: value" lines).
func Get(host, path string, headers ...string) func(int) []byte {
	b := requestBytes("GET", host, path, nil, headers...)
	return func(int) []byte { return b }
}

// requestBytes builds a raw HTTP/1.1 request.
func requestBytes(method, host, path string, body []byte, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// Request builds a raw HTTP/1.1 request with an optional body.
func Request(method, host, path string, body []byte, headers ...string) []byte {
	return requestBytes(method, host, path, body, headers...)
}

// Run sends the load and measures it.
func Run(ctx context.Context, c Config) (Result, error) {
	if c.Conns <= 0 || c.Requests <= 0 || c.Duration <= 0 || c.Request == nil {
		return Result{}, errors.New("loadgen: Conns, Requests, Duration and Request are required")
	}
	ctx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	var (
		next   atomic.Int64 // the next request number to send
		errN   atomic.Int64
		mu     sync.Mutex
		lat    []time.Duration
		wg     sync.WaitGroup
		firstE atomic.Value
	)
	start := time.Now()
	for range c.Conns {
		wg.Go(func() {
			mine := make([]time.Duration, 0, c.Requests/c.Conns+1)
			defer func() {
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", c.Addr)
			if err != nil {
				errN.Add(1)
				firstE.CompareAndSwap(nil, err)
				return
			}
			defer conn.Close()
			go func() { <-ctx.Done(); conn.SetDeadline(time.Now()) }()
			br := bufio.NewReaderSize(conn, 64<<10)
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= c.Requests {
					return
				}
				t0 := time.Now()
				if _, err := conn.Write(c.Request(i)); err != nil {
					if ctx.Err() == nil {
						errN.Add(1)
						firstE.CompareAndSwap(nil, err)
					}
					return
				}
				status, err := readResponse(br)
				if err != nil {
					if ctx.Err() == nil {
						errN.Add(1)
						firstE.CompareAndSwap(nil, err)
					}
					return
				}
				if status != c.WantStatus {
					errN.Add(1)
					firstE.CompareAndSwap(nil, fmt.Errorf("status %d, want %d", status, c.WantStatus))
					continue
				}
				mine = append(mine, time.Since(t0))
			}
		})
	}
	wg.Wait()
	r := Result{Requests: len(lat), Errors: int(errN.Load()), Elapsed: time.Since(start)}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50 = lat[len(lat)*50/100]
		r.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	var err error
	if e, ok := firstE.Load().(error); ok && r.Errors > 0 {
		err = fmt.Errorf("loadgen: %d errors, first: %w", r.Errors, e)
	}
	return r, err
}

// readResponse reads one response with a Content-Length body (all the
// servers measured here send one) and returns its status.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length := 0
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		if k, v, ok := bytes.Cut(h, []byte(":")); ok && bytes.EqualFold(bytes.TrimSpace(k), []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", v)
			}
		}
	}
	if _, err := br.Discard(length); err != nil {
		return 0, err
	}
	return status, nil
}
