package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"clusterapi/internal/auth"
	"clusterapi/internal/environment"
	"clusterapi/internal/httpapi"
	"clusterapi/internal/networkzone"
	"clusterapi/internal/server"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPanicIsGeneric500 serves a route that panics: the client gets a 500 in
// the envelope with only the request id; the log gets the detail.
func TestPanicIsGeneric500(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	tokens := token.NewService(db, token.Options{})
	api := httpapi.New(httpapi.Config{Log: log, Verifier: auth.NewVerifier(tokens, auth.Options{}), Tokens: tokens,
		Envs: environment.NewService(db, tokens), Zones: networkzone.NewService(db)})
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.HandleFunc("/api/boom", func(http.ResponseWriter, *http.Request) { panic("boom: internal detail") })
	srv := httptest.NewServer(server.New(server.Config{Logger: log, API: mux, WriteError: api.WriteError, MaxBodyBytes: httpapi.MaxBodyBytes}))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/api/boom")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("X-Request-Id")
	var env struct {
		Error struct {
			Code    int
			Message string
		}
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("500 body is not the envelope: %s", body)
	}
	if resp.StatusCode != 500 || env.Error.Code != 500 || id == "" || !strings.Contains(env.Error.Message, id) {
		t.Errorf("got %d %s (request id %q)", resp.StatusCode, body, id)
	}
	if strings.Contains(string(body), "boom") {
		t.Errorf("500 body leaks the detail: %s", body)
	}
	if l := logs.String(); !strings.Contains(l, "boom: internal detail") || !strings.Contains(l, id) {
		t.Errorf("log lacks the detail or the request id:\n%s", l)
	}

	// The server survives and answers the next request.
	resp, err = http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz after panic: %v %v", resp, err)
	}
	resp.Body.Close()

	// A declared body over the limit is refused before it is read.
	req, _ := http.NewRequest("POST", srv.URL+"/api/cluster/v2/tokens", strings.NewReader("{}"))
	req.ContentLength = httpapi.MaxBodyBytes + 1
	req.Body = io.NopCloser(io.MultiReader(strings.NewReader("{"), bytes.NewReader(make([]byte, httpapi.MaxBodyBytes))))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 && resp.StatusCode != 413 {
		t.Errorf("oversized body: %d", resp.StatusCode)
	}
}

// TestReadyz follows the store: 200 while it answers, 503 with Retry-After
// and no detail once it does not.
func TestReadyz(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	srv := httptest.NewServer(server.New(server.Config{Logger: log, API: http.NotFoundHandler(), Ready: db.Ping}))
	defer srv.Close()
	get := func() (int, string, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}
	if code, _, body := get(); code != 200 || body != "{\"status\":\"ok\"}\n" {
		t.Errorf("readyz with the store open: %d %q", code, body)
	}
	db.Close()
	if code, retry, body := get(); code != 503 || retry == "" || body != "{\"status\":\"unavailable\"}\n" {
		t.Errorf("readyz with the store closed: %d Retry-After=%q %q", code, retry, body)
	}
	if !strings.Contains(logs.String(), "not ready") {
		t.Errorf("the log does not say why:\n%s", logs.String())
	}
}

// TestUncleanAPIPaths sends paths whose cleaned form is under /api/ or /e/:
// the API answers them with its 404 in the envelope, never the root mux's
// redirect (text/html, with the path, secrets and all, in Location).
func TestUncleanAPIPaths(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tokens := token.NewService(db, token.Options{})
	api := httpapi.New(httpapi.Config{Log: log, Verifier: auth.NewVerifier(tokens, auth.Options{}), Tokens: tokens,
		Envs: environment.NewService(db, tokens)})
	console := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("console")) })
	srv := httptest.NewServer(server.New(server.Config{Logger: log, API: api, WriteError: api.WriteError, Console: console}))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{
		"//api/cluster/v2/tokens",
		"///api/cluster/v2/tokens",
		"//api/",
		"/./api/cluster/v2/tokens",
		"/cmc/../api/cluster/v2/tokens",
		"/x/../e/env/api/v2/apiTokens",
		"//e/env/api/v2/apiTokens",
	} {
		req, err := http.NewRequest("GET", srv.URL+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if req.URL.Path != p {
			t.Fatalf("request path %q, want %q sent as written (curl --path-as-is)", req.URL.Path, p)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var env struct{ Error struct{ Code int } }
		if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			json.Unmarshal(body, &env) != nil || env.Error.Code != 404 || resp.Header.Get("Location") != "" {
			t.Errorf("GET %s = %d %q Location=%q %s, want the envelope 404", p, resp.StatusCode,
				resp.Header.Get("Content-Type"), resp.Header.Get("Location"), body)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store as on every API path", p, resp.Header.Get("Cache-Control"))
		}
	}
	// Paths that clean to something else stay with the root mux.
	for _, p := range []string{"/cmc/", "/cmc//x", "/apix", "/api"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s = %d %q, want the root mux's answer", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

// TestSecurityHeaders checks the headers every response carries, whoever
// serves it, and HSTS only over TLS.
func TestSecurityHeaders(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	})
	console := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		w.Write([]byte("<p>console</p>"))
	})
	h := server.New(server.Config{Logger: log, API: api, Console: console})
	for _, tls := range []bool{false, true} {
		srv := httptest.NewUnstartedServer(h)
		if tls {
			srv.StartTLS()
		} else {
			srv.Start()
		}
		c := srv.Client()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		for _, path := range []string{"/healthz", "/readyz", "/api/cluster/v2/tokens", "/e/x/api/v2/apiTokens",
			"/cmc/signin", "/rest-api-doc/", "/rest-api-doc/explorer.js", "/", "/nothing"} {
			resp, err := c.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			hd := resp.Header
			for k, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
			} {
				if got := hd.Get(k); got != want {
					t.Errorf("GET %s (TLS %v): %s = %q, want %q", path, tls, k, got, want)
				}
			}
			if csp := hd.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("GET %s (TLS %v): Content-Security-Policy %q lacks frame-ancestors 'none'", path, tls, csp)
			}
			hsts := hd.Get("Strict-Transport-Security")
			if tls && hsts != "max-age=31536000" || !tls && hsts != "" {
				t.Errorf("GET %s (TLS %v): Strict-Transport-Security = %q", path, tls, hsts)
			}
		}
		srv.Close()
	}
}
