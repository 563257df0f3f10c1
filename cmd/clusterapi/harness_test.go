package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink the server writes while tests read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is a real clusterapi server started through run on a loopback
// port with a real SQLite file.
type testServer struct {
	URL    string // http:// or, with --tls-cert, https://
	Store  string // the --store value
	Log    *syncBuffer
	Client *http.Client // what requests to it go through

	stop context.CancelFunc
	done chan error

	mu      sync.Mutex
	secrets []string // every token minted in the test, to scan logs for
}

// remember notes a minted token, so the log check can look for it.
func (s *testServer) remember(toks ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = append(s.secrets, toks...)
}

var listenRE = regexp.MustCompile(`msg=listening addr=(\S+)(?: scheme=(\w+))?`)

// startServer runs `clusterapi serve` on 127.0.0.1:0 with a fresh store in a
// temporary folder, waits for /healthz and stops the server when the test ends.
func startServer(t *testing.T) *testServer {
	t.Helper()
	store := "sqlite:" + filepath.Join(t.TempDir(), "data", "clusterapi.db")
	return startServerOn(t, store)
}

// startServerOn is startServer on a given store, with extra serve flags.
func startServerOn(t *testing.T, store string, flags ...string) *testServer {
	t.Helper()
	return startServerEnv(t, store, nil, flags...)
}

// startServerEnv is startServerOn with environment variables for run.
func startServerEnv(t *testing.T, store string, env map[string]string, flags ...string) *testServer {
	t.Helper()
	return startServerWith(t, store, env, http.DefaultClient, flags...)
}

// startServerWith is startServerEnv with the client that talks to the
// server: one that trusts its certificate, when it serves HTTPS.
func startServerWith(t *testing.T, store string, env map[string]string, client *http.Client, flags ...string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{Store: store, Log: &syncBuffer{}, Client: client, stop: cancel, done: make(chan error, 1)}
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--store", store}, flags...)
	go func() {
		s.done <- run(ctx, args, func(k string) string { return env[k] }, io.Discard, s.Log)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for s.URL == "" {
		if m := listenRE.FindStringSubmatch(s.Log.String()); m != nil {
			s.URL = m[2] + "://" + m[1]
			break
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited early: %v\n%s", err, s.Log)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", s.Log)
		}
	}
	for {
		resp, err := s.client().Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz never answered 200: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		s.Stop(t)
		s.assertNoSecretsLogged(t)
	})
	return s
}

// client returns the client that talks to the server.
func (s *testServer) client() *http.Client {
	if s.Client == nil {
		return http.DefaultClient
	}
	return s.Client
}

// Stop shuts the server down as SIGTERM would and waits for it.
func (s *testServer) Stop(t *testing.T) {
	t.Helper()
	if s.stop == nil {
		return
	}
	s.stop()
	s.stop = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("server did not stop")
	}
}

// assertNoSecretsLogged fails if any token minted during the test, or its
// secret part, appears in the server's log.
func (s *testServer) assertNoSecretsLogged(t *testing.T) {
	t.Helper()
	logs := s.Log.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sec := range s.secrets {
		if strings.Contains(logs, sec) || strings.Contains(logs, sec[32:]) {
			t.Errorf("the log contains a token secret")
		}
	}
}

// cli runs a clusterapi command against the server's store and returns stdout.
func (s *testServer) cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append(args, "--store", s.Store), func(string) string { return "" }, &out, &errOut)
	if err != nil {
		return out.String(), fmt.Errorf("%v: %s", err, errOut.String())
	}
	return out.String(), nil
}

// bootstrap mints a token through the CLI, as an operator would.
func (s *testServer) bootstrap(t *testing.T, scopes ...string) string {
	t.Helper()
	args := []string{"token", "create", "--name", "bootstrap"}
	for _, sc := range scopes {
		args = append(args, "--scope", sc)
	}
	out, err := s.cli(t, args...)
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	tok := strings.TrimSpace(out)
	s.remember(tok)
	return tok
}

// response is what a test request got back.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// errorMessage returns error.message of an envelope.
func (r response) errorMessage(t *testing.T) string {
	t.Helper()
	env := r.json(t)
	e, ok := env["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error envelope: %s", r.Body)
	}
	if code, _ := e["code"].(float64); int(code) != r.Status {
		t.Errorf("envelope code %v, HTTP status %d", e["code"], r.Status)
	}
	msg, _ := e["message"].(string)
	return msg
}

// violationPaths returns the paths of the envelope's constraint violations.
func (r response) violationPaths(t *testing.T) []string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	vs, _ := e["constraintViolations"].([]any)
	var out []string
	for _, v := range vs {
		m, _ := v.(map[string]any)
		p, _ := m["path"].(string)
		out = append(out, p)
	}
	return out
}

// req describes a request; auth is the full "Authorization" value or, when it
// has no space, a token to send as Api-Token.
type req struct {
	method, path, token string
	body                any // string or []byte are sent as is; anything else as JSON
	header              map[string]string
}

func (s *testServer) do(t *testing.T, rq req) response {
	t.Helper()
	var body io.Reader
	switch b := rq.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	r, err := http.NewRequest(rq.method, s.URL+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if rq.token != "" {
		r.Header.Set("Authorization", "Api-Token "+rq.token)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	resp, err := s.client().Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if len(b) > 0 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") &&
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("%s %s: body with Content-Type %q", rq.method, rq.path, resp.Header.Get("Content-Type"))
	}
	checkDocumented(t, r, out)
	return out
}

// mint creates a token through the API and returns it.
func (s *testServer) mint(t *testing.T, auth, name string, scopes ...string) string {
	t.Helper()
	if scopes == nil {
		scopes = []string{}
	}
	r := s.do(t, req{method: "POST", path: "/api/cluster/v2/tokens", token: auth,
		body: map[string]any{"name": name, "scopes": scopes}})
	if r.Status != 201 {
		t.Fatalf("create token %q: %d %s", name, r.Status, r.Body)
	}
	tok, _ := r.json(t)["token"].(string)
	s.remember(tok)
	return tok
}

// waitFor polls ok until it holds, failing the test after a second (the
// multi-node bound of SPEC 2.2), and returns how long it took.
func waitFor(t *testing.T, what string, ok func() bool) time.Duration {
	t.Helper()
	return waitWithin(t, time.Second, what, ok)
}

func waitWithin(t *testing.T, limit time.Duration, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > limit {
			t.Fatalf("%s not seen within %v", what, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}
