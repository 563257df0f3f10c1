package main

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAuthOutcomes walks every row of SPEC 2.2 through the real server.
func TestAuthOutcomes(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")
	noScope := s.mint(t, admin, "settings only", "settings.read")
	revoked := s.mint(t, admin, "to revoke", "ClusterTokenManagement")
	id := func(tok string) string { return tok[:31] }
	if r := s.do(t, req{method: "PUT", path: "/api/cluster/v2/tokens/" + id(revoked), token: admin,
		body: map[string]any{"revoked": true}}); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	// A token whose last character is changed fails the checksum.
	flip := func(tok string, i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	// A well-formed token that is no longer stored.
	gone := s.mint(t, admin, "deleted", "ClusterTokenManagement")
	if r := s.do(t, req{method: "DELETE", path: "/api/cluster/v2/tokens/" + id(gone), token: admin}); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}

	list := "/api/cluster/v2/tokens"
	tests := []struct {
		name       string
		header     string // Authorization header, if any
		query      string // raw query, if any
		wantStatus int
		wantMsg    string
	}{
		{"no credentials", "", "", 401, "Missing authorization parameter."},
		{"bearer scheme", "Bearer " + admin, "", 401, "Token Authentication failed"},
		{"basic scheme", "Basic YWRtaW46YWRtaW4=", "", 401, "Token Authentication failed"},
		{"scheme without token", "Api-Token", "", 401, "Token Authentication failed"},
		{"malformed", "Api-Token dt0c01.abc", "", 401, "Token Authentication failed"},
		{"bad checksum", "Api-Token " + flip(admin, len(admin)-1), "", 401, "Token Authentication failed"},
		{"wrong secret", "Api-Token " + flip(admin, 40), "", 401, "Token Authentication failed"},
		{"unknown id", "Api-Token " + gone, "", 401, "Token Authentication failed"},
		{"lower-case prefix", "Api-Token " + strings.ToLower(admin), "", 401, "Token Authentication failed"},
		{"space inside", "Api-Token " + admin[:40] + " " + admin[40:], "", 401, "Token Authentication failed"},
		{"revoked", "Api-Token " + revoked, "", 401, "Token has been revoked"},
		{"missing scope", "Api-Token " + noScope, "", 403, "Token is missing required scope. Use one of: ClusterTokenManagement (Cluster token management)"},
		{"ok", "Api-Token " + admin, "", 200, ""},
		{"scheme lower case", "api-token " + admin, "", 200, ""},
		{"scheme upper case, many spaces", "API-TOKEN    " + admin, "", 200, ""},
		{"trailing CRLF and spaces", "Api-Token " + admin + "  ", "", 200, ""},
		{"query", "", "api-token=" + admin, 200, ""},
		{"query capitalised", "", "Api-Token=" + admin, 200, ""},
		{"query with whitespace", "", "api-token=" + url.QueryEscape(" "+admin+"\r\n"), 200, ""},
		{"query bad", "", "api-token=" + flip(admin, 40), 401, "Token Authentication failed"},
		{"header wins over query", "Api-Token " + noScope, "api-token=" + admin, 403, ""},
		{"header wins, bad header", "Api-Token xyz", "api-token=" + admin, 401, "Token Authentication failed"},
	}
	bodies := map[string][]byte{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := list
			if tt.query != "" {
				path += "?" + tt.query
			}
			r := s.do(t, req{method: "GET", path: path, header: map[string]string{"Authorization": tt.header}})
			if r.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.wantStatus, r.Body)
			}
			if tt.wantStatus == 200 {
				return
			}
			if msg := r.errorMessage(t); tt.wantMsg != "" && msg != tt.wantMsg {
				t.Errorf("message %q, want %q", msg, tt.wantMsg)
			}
			if got := r.Header.Get("WWW-Authenticate"); tt.wantStatus == 401 && got != `Api-Token realm="clusterapi"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			bodies[tt.name] = r.Body
		})
	}
	if !bytes.Equal(bodies["unknown id"], bodies["wrong secret"]) {
		t.Errorf("401 bodies differ: unknown id %s, wrong secret %s", bodies["unknown id"], bodies["wrong secret"])
	}
}

// TestChangesTakeEffectAtOnce checks that revocation, restoration, deletion
// and scope changes apply to the very next request.
func TestChangesTakeEffectAtOnce(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	victim := s.mint(t, admin, "victim", "ClusterTokenManagement", "ServiceProviderAPI")
	path := "/api/cluster/v2/tokens/" + victim[:31]
	use := func() response { return s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: victim}) }
	put := func(body map[string]any) {
		t.Helper()
		if r := s.do(t, req{method: "PUT", path: path, token: admin, body: body}); r.Status != 204 {
			t.Fatalf("PUT %v: %d %s", body, r.Status, r.Body)
		}
	}
	if r := use(); r.Status != 200 {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}
	put(map[string]any{"revoked": true})
	if r := use(); r.Status != 401 || r.errorMessage(t) != "Token has been revoked" {
		t.Errorf("after revoke: %d %s", r.Status, r.Body)
	}
	put(map[string]any{"revoked": false})
	if r := use(); r.Status != 200 {
		t.Errorf("after restore: %d %s", r.Status, r.Body)
	}
	put(map[string]any{"scopes": []string{"ServiceProviderAPI"}})
	if r := use(); r.Status != 403 {
		t.Errorf("after rescope: %d %s", r.Status, r.Body)
	}
	put(map[string]any{"scopes": []string{"ClusterTokenManagement"}})
	if r := use(); r.Status != 200 {
		t.Errorf("after rescope back: %d %s", r.Status, r.Body)
	}
	if r := s.do(t, req{method: "DELETE", path: path, token: admin}); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := use(); r.Status != 401 || r.errorMessage(t) != "Token Authentication failed" {
		t.Errorf("after delete: %d %s", r.Status, r.Body)
	}
}

// TestCLIChangesReachRunningServer revokes and deletes through the command
// line, beside a running server that has the tokens cached.
func TestCLIChangesReachRunningServer(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	victim := s.mint(t, admin, "victim", "ClusterTokenManagement")
	use := func(tok string) response {
		return s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: tok})
	}
	if r := use(victim); r.Status != 200 {
		t.Fatalf("before: %d", r.Status)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		start := time.Now()
		for !ok() {
			if time.Since(start) > time.Second {
				t.Fatalf("%s not seen within a second", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%s seen after %v", what, time.Since(start).Round(time.Millisecond))
	}
	if _, err := s.cli(t, "token", "revoke", victim[:31]); err != nil {
		t.Fatal(err)
	}
	waitFor("CLI revoke", func() bool { return use(victim).Status == 401 })
	if _, err := s.cli(t, "token", "restore", victim[:31]); err != nil {
		t.Fatal(err)
	}
	if r := use(victim); r.Status != 200 {
		t.Errorf("after CLI restore: %d %s", r.Status, r.Body)
	}
	if _, err := s.cli(t, "token", "delete", victim[:31]); err != nil {
		t.Fatal(err)
	}
	waitFor("CLI delete", func() bool { return use(victim).Status == 401 })
	out, err := s.cli(t, "token", "list")
	if err != nil || !strings.Contains(out, admin[:31]) || strings.Contains(out, victim[:31]) || strings.Contains(out, admin[32:]) {
		t.Errorf("token list = %q, %v", out, err)
	}
}

// TestAccessLog checks one line per request with the token id, and never the
// secret or the api-token query value.
func TestAccessLog(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens?api-token=" + admin + "&limit=5"})
	s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens/" + admin, token: admin})
	s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens?Api-Token=" + admin[:40]})
	// Mangled copies of the token in a path: upper-case prefix, all lower
	// case, an id one character short.
	s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens/DT0C01" + admin[6:], token: admin})
	s.do(t, req{method: "GET", path: "/api/cluster/v2/nothing/" + strings.ToLower(admin), token: admin})
	s.do(t, req{method: "GET", path: "/api/cluster/v2/nothing/" + admin[:30] + admin[31:], token: admin})
	// The log is written in batches: wait for the lines, then look at them.
	const lines = 7 // 6 + the readiness probe
	logs := s.Log.String()
	for deadline := time.Now().Add(5 * time.Second); strings.Count(logs, "msg=request ") < lines && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		logs = s.Log.String()
	}
	if n := strings.Count(logs, "msg=request "); n != lines {
		t.Errorf("%d access-log lines, want %d:\n%s", n, lines, logs)
	}
	if !strings.Contains(logs, "token_id="+admin[:31]) {
		t.Errorf("access log lacks the token id:\n%s", logs)
	}
	if strings.Contains(logs, admin[32:]) || strings.Contains(logs, admin[31:40]) || strings.Contains(logs, "limit=5") {
		t.Errorf("access log holds a secret or a query string:\n%s", logs)
	}
	if low := strings.ToLower(logs); strings.Contains(low, strings.ToLower(admin[40:60])) {
		t.Errorf("access log holds part of a mangled secret:\n%s", logs)
	}
}

// TestExpiry lets a short-lived token cross its expiry.
func TestExpiry(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	r := s.do(t, req{method: "POST", path: "/api/cluster/v2/tokens", token: admin, body: map[string]any{
		"name": "short", "scopes": []string{"ClusterTokenManagement"}, "expiresIn": map[string]any{"value": 1500, "unit": "MILLIS"}}})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	short := r.json(t)["token"].(string)
	s.remember(short)
	meta := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens/" + short[:31], token: admin}).json(t)
	created, expires := int64(meta["created"].(float64)), int64(meta["expires"].(float64))
	if expires-created != 1500 {
		t.Errorf("expires - created = %d ms, want 1500", expires-created)
	}
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: short}); r.Status != 200 {
		t.Fatalf("before expiry: %d %s", r.Status, r.Body)
	}
	time.Sleep(time.Until(time.UnixMilli(expires)) + 50*time.Millisecond)
	r = s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: short})
	if r.Status != 401 || r.errorMessage(t) != "Token has expired" {
		t.Errorf("after expiry: %d %s", r.Status, r.Body)
	}
}

// TestLastUse checks that a use is recorded (also on a 403) and that a clean
// shutdown writes the last batch.
func TestLastUse(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	other := s.mint(t, admin, "other", "settings.read")
	before := time.Now().UnixMilli()
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: other}); r.Status != 403 {
		t.Fatalf("want 403, got %d", r.Status)
	}
	s.Stop(t) // flushes the batch
	s2 := startServerOn(t, s.Store)
	s2.remember(admin, other)
	meta := s2.do(t, req{method: "GET", path: "/api/cluster/v2/tokens/" + other[:31], token: admin}).json(t)
	lastUse, ok := meta["lastUse"].(float64)
	if !ok || int64(lastUse) < before-5000 || int64(lastUse) > time.Now().UnixMilli() {
		t.Errorf("lastUse = %v, want about %d", meta["lastUse"], before)
	}
}

// TestRoutingErrors checks 404 and 405 in the envelope.
func TestRoutingErrors(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	r := s.do(t, req{method: "GET", path: "/api/cluster/v2/nothing", token: admin})
	if r.Status != 404 {
		t.Errorf("unknown route: %d", r.Status)
	}
	r.errorMessage(t)
	r = s.do(t, req{method: "PATCH", path: "/api/cluster/v2/tokens", token: admin})
	if r.Status != http.StatusMethodNotAllowed || !strings.Contains(r.Header.Get("Allow"), "GET") {
		t.Errorf("PATCH tokens: %d Allow=%q", r.Status, r.Header.Get("Allow"))
	}
	r.errorMessage(t)

	// A huge path is quoted short: the first 200 bytes, then "…".
	long := strings.Repeat("x", 200<<10)
	for _, p := range []string{"/api/cluster/v2/nothing/" + long, "/api/cluster/v2//" + long, "/e/" + long} {
		r = s.do(t, req{method: "GET", path: p, token: admin})
		msg := r.errorMessage(t)
		if r.Status != 404 || len(r.Body) > 1024 || msg != "No API route matches "+p[:200]+"…" {
			t.Errorf("GET %.40s… (%d bytes): %d, %d-byte body %.300s", p, len(p), r.Status, len(r.Body), r.Body)
		}
	}
	// A long method is quoted short too.
	r = s.do(t, req{method: strings.Repeat("M", 10<<10), path: "/api/cluster/v2/tokens", token: admin})
	if r.Status != http.StatusMethodNotAllowed || len(r.Body) > 1024 {
		t.Errorf("long method: %d, %d-byte body", r.Status, len(r.Body))
	}
}
