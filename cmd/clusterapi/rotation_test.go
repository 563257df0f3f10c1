package main

import (
	"bytes"
	"hash/crc32"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"clusterapi/internal/pgtest"
)

// rotatePath is the rotation route of the token with id (or full token) ref.
func rotatePath(ref string) string { return tokensPath + "/" + ref + "/rotate" }

const leakedPath = tokensPath + "/revoke-leaked"

// rotate rotates the token named by ref with body (nil: none) and returns
// the new token, failing the test unless the answer is a 201 like a create's.
func (s *testServer) rotate(t *testing.T, auth, ref string, body any) string {
	t.Helper()
	r := s.do(t, req{method: "POST", path: rotatePath(ref), token: auth, body: body})
	if r.Status != 201 {
		t.Fatalf("rotate %s: %d %s", ref[:min(len(ref), 31)], r.Status, r.Body)
	}
	tok, _ := r.json(t)["token"].(string)
	s.remember(tok)
	if got, want := r.Header.Get("Location"), tokensPath+"/"+tok[:31]; got != want {
		t.Errorf("rotate: Location %q, want %q", got, want)
	}
	return tok
}

// meta returns the metadata of the token with id (or full token) ref.
func (s *testServer) meta(t *testing.T, auth, ref string) map[string]any {
	t.Helper()
	r := s.do(t, req{method: "GET", path: tokensPath + "/" + ref[:31], token: auth})
	if r.Status != 200 {
		t.Fatalf("get %s: %d %s", ref[:31], r.Status, r.Body)
	}
	return r.json(t)
}

// lifetimeOf returns expires - created of a token's metadata; 0 when it
// never expires.
func lifetimeOf(m map[string]any) time.Duration {
	exp, ok := m["expires"].(float64)
	if !ok {
		return 0
	}
	return time.Duration(int64(exp)-int64(m["created"].(float64))) * time.Millisecond
}

// use calls an API route with tok and returns the status and error message.
func (s *testServer) use(t *testing.T, tok string) (int, string) {
	t.Helper()
	r := s.do(t, req{method: "GET", path: tokensPath + "?limit=1", token: tok})
	if r.Status == 200 || r.Status == 403 {
		return r.Status, ""
	}
	return r.Status, r.errorMessage(t)
}

// wrongSecret returns a well-formed token (checksum included) with the id of
// tok and another secret.
func wrongSecret(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte(tok)
	if b[32] == 'A' {
		b[32] = 'B'
	} else {
		b[32] = 'A'
	}
	sum := crc32.ChecksumIEEE(b[:len(b)-7])
	for i := len(b) - 1; i >= len(b)-7; i-- {
		b[i] = alphabet[sum&31]
		sum >>= 5
	}
	return string(b)
}

// TestRotation: the old token works until the new one is first used, then
// is refused at once; the new one has the old one's name, scopes, owner and
// lifetime; a second rotation of the old token is refused and logged.
func TestRotation(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	old := s.do(t, req{method: "POST", path: tokensPath, token: admin, body: map[string]any{
		"name": "ci ✓", "scopes": []string{"ClusterTokenManagement", "settings.read"},
		"expiresIn": map[string]any{"value": 30, "unit": "DAYS"}}}).json(t)["token"].(string)
	s.remember(old)
	before := time.Now()
	next := s.rotate(t, admin, old, map[string]any{"gracePeriod": map[string]any{"value": 1, "unit": "HOURS"}})

	om, nm := s.meta(t, admin, old), s.meta(t, admin, next)
	for _, k := range []string{"name", "userId", "personalAccessToken"} {
		if om[k] != nm[k] {
			t.Errorf("%s: old %v, new %v", k, om[k], nm[k])
		}
	}
	if got := scopesOf(nm); !slices.Equal(got, []string{"ClusterTokenManagement", "settings.read"}) {
		t.Errorf("new token scopes %q", got)
	}
	if d := lifetimeOf(nm); d != 30*24*time.Hour {
		t.Errorf("new token lives %v, want the old one's 30 days", d)
	}
	if exp := time.UnixMilli(int64(om["expires"].(float64))); exp.Before(before.Add(time.Hour-time.Second)) || exp.After(time.Now().Add(time.Hour)) {
		t.Errorf("old token expires %v, want at the end of the 1-hour grace period", exp)
	}

	// Both work, the old one first; the new one's first use ends the grace.
	for range 2 {
		if st, msg := s.use(t, old); st != 200 {
			t.Fatalf("old token in its grace period: %d %s", st, msg)
		}
	}
	if st, msg := s.use(t, next); st != 200 {
		t.Fatalf("new token: %d %s", st, msg)
	}
	if st, msg := s.use(t, old); st != 401 || msg != "Token has been revoked" {
		t.Errorf("old token right after the new one's first use: %d %q, want 401 Token has been revoked", st, msg)
	}
	if m := s.meta(t, admin, old); m["revoked"] != true {
		t.Errorf("old token metadata after retirement: %v", m)
	}
	if st, _ := s.use(t, next); st != 200 {
		t.Errorf("new token again: %d", st)
	}

	// Rotating the old token again is a 409 naming the successor, logged
	// with both ids and no secret.
	r := s.do(t, req{method: "POST", path: rotatePath(old[:31]), token: admin})
	if r.Status != 409 {
		t.Fatalf("second rotation: %d %s", r.Status, r.Body)
	}
	if msg := r.errorMessage(t); !strings.Contains(msg, next[:31]+" ") || !strings.Contains(msg, old[:31]+" ") || strings.Contains(msg, "REDACTED") {
		t.Errorf("second rotation: message %q does not name both ids", msg)
	}
	waitFor(t, "the WARN line of the second rotation", func() bool {
		for _, line := range strings.Split(s.Log.String(), "\n") {
			if strings.Contains(line, "level=WARN") && strings.Contains(line, "rotated before") &&
				strings.Contains(line, old[:31]) && strings.Contains(line, next[:31]) {
				return true
			}
		}
		return false
	})
	if n := tokenCount(t, s, admin); n != 3 {
		t.Errorf("%d tokens after a refused rotation, want 3", n)
	}
	// The successor may be rotated in turn, by its full token, bare text
	// answered when asked for.
	r = s.do(t, req{method: "POST", path: rotatePath(next), token: admin, header: map[string]string{"Accept": "text/plain"}})
	if r.Status != 201 || !regexp.MustCompile(`^dt0c01\.[A-Z2-7]{24}\.[A-Z2-7]{64}$`).Match(r.Body) {
		t.Fatalf("rotate the successor, text/plain: %d %s", r.Status, r.Body)
	}
	s.remember(string(r.Body))
}

// scopesOf returns the scopes of a token's metadata.
func scopesOf(m map[string]any) []string {
	var out []string
	for _, v := range m["scopes"].([]any) {
		out = append(out, v.(string))
	}
	return out
}

// TestRotationGraceExpiry: with a short grace period and the new token never
// used, the old one is refused once the grace period is over.
func TestRotationGraceExpiry(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	old := s.mint(t, admin, "ci", "ClusterTokenManagement")
	next := s.rotate(t, admin, old, map[string]any{"gracePeriod": map[string]any{"value": 1, "unit": "SECONDS"}})
	if st, msg := s.use(t, old); st != 200 {
		t.Fatalf("old token in its grace period: %d %s", st, msg)
	}
	waitWithin(t, 3*time.Second, "the old token refused after its grace period", func() bool {
		st, msg := s.use(t, old)
		return st == 401 && msg == "Token has expired"
	})
	if st, _ := s.use(t, next); st != 200 {
		t.Errorf("new token after the grace period: %d", st)
	}
	if st, msg := s.use(t, old); st != 401 || msg != "Token has been revoked" {
		t.Errorf("old token after the new one's use: %d %q", st, msg)
	}
}

// TestRotationRules: no grace, rotating oneself, the default grace, and bad
// input, none of which may answer 500.
func TestRotationRules(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")

	// gracePeriod 0: the old token is refused at once.
	old := s.mint(t, admin, "no grace", "ClusterTokenManagement")
	next := s.rotate(t, admin, old[:31], map[string]any{"gracePeriod": map[string]any{"value": 0, "unit": "DAYS"}})
	if st, msg := s.use(t, old); st != 401 || msg != "Token has been revoked" {
		t.Errorf("old token after a rotation without grace: %d %q", st, msg)
	}
	if st, _ := s.use(t, next); st != 200 {
		t.Errorf("new token: %d", st)
	}

	// A token rotates itself, without a body: 24 hours of grace.
	self := s.rotate(t, next, next[:31], nil)
	if d := time.Until(time.UnixMilli(int64(s.meta(t, admin, next)["expires"].(float64)))); d < 23*time.Hour || d > 24*time.Hour {
		t.Errorf("self-rotated token expires in %v, want 24 h (the default grace)", d)
	}
	if st, _ := s.use(t, next); st != 200 {
		t.Errorf("self-rotated token in its grace period: %d", st)
	}
	if st, _ := s.use(t, self); st != 200 {
		t.Errorf("successor of a self-rotation: %d", st)
	}
	if st, _ := s.use(t, next); st != 401 {
		t.Errorf("self-rotated token after its successor's use: %d", st)
	}

	// A revoked token is not rotated.
	revoked := s.mint(t, admin, "revoked", "settings.read")
	if r := s.do(t, req{method: "PUT", path: tokensPath + "/" + revoked[:31], token: admin, body: map[string]any{"revoked": true}}); r.Status != 204 {
		t.Fatalf("revoke: %d", r.Status)
	}
	if r := s.do(t, req{method: "POST", path: rotatePath(revoked[:31]), token: admin}); r.Status != 409 {
		t.Errorf("rotate a revoked token: %d %s", r.Status, r.Body)
	}

	target := s.mint(t, admin, "target", "settings.read")
	tests := []struct {
		name   string
		path   string
		body   any
		status int
		field  string // the violation's path, for 400s
	}{
		{"negative grace", rotatePath(target[:31]), map[string]any{"gracePeriod": map[string]any{"value": -1}}, 400, "gracePeriod.value"},
		{"grace without value", rotatePath(target[:31]), map[string]any{"gracePeriod": map[string]any{"unit": "DAYS"}}, 400, "gracePeriod.value"},
		{"unknown unit", rotatePath(target[:31]), map[string]any{"gracePeriod": map[string]any{"value": 1, "unit": "WEEKS"}}, 400, "gracePeriod.unit"},
		{"grace over 100 years", rotatePath(target[:31]), map[string]any{"gracePeriod": map[string]any{"value": 40000, "unit": "DAYS"}}, 400, "gracePeriod.value"},
		{"grace not an object", rotatePath(target[:31]), map[string]any{"gracePeriod": 5}, 400, "gracePeriod"},
		{"malformed JSON", rotatePath(target[:31]), "{", 400, ""},
		{"malformed id", rotatePath("nonsense"), nil, 400, "id"},
		{"unknown id", rotatePath("dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA"), nil, 404, ""},
		{"full token, wrong secret", rotatePath(wrongSecret(target)), nil, 404, ""},
		{"v1 path is not served", "/api/cluster/v1/tokens/" + target[:31] + "/rotate", nil, 404, ""},
		{"GET", rotatePath(target[:31]), nil, 405, ""},
	}
	for _, tt := range tests {
		method := "POST"
		if tt.name == "GET" {
			method = "GET"
		}
		r := s.do(t, req{method: method, path: tt.path, token: admin, body: tt.body})
		if r.Status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, r.Status, r.Body, tt.status)
			continue
		}
		if tt.field != "" && !slices.Contains(r.violationPaths(t), tt.field) {
			t.Errorf("%s: violations %v, want %s", tt.name, r.violationPaths(t), tt.field)
		}
	}
	// Nothing of that rotated the target.
	if r := s.do(t, req{method: "GET", path: tokensPath + "/" + target[:31], token: admin}); r.Status != 200 || r.json(t)["expires"] != nil {
		t.Errorf("the target after refused rotations: %d %s", r.Status, r.Body)
	}
	// Without ClusterTokenManagement: 403.
	if r := s.do(t, req{method: "POST", path: rotatePath(target[:31]), token: target}); r.Status != 403 {
		t.Errorf("rotate without ClusterTokenManagement: %d", r.Status)
	}
}

// TestRotationAcrossNodes: a rotation through one node, the new token's first
// use through another, and the old token is refused on every node.
func TestRotationAcrossNodes(t *testing.T) {
	nodes := startNodes(t, pgtest.DSN(t), 2)
	a, b := nodes[0], nodes[1]
	admin := a.bootstrap(t, "ClusterTokenManagement")
	old := a.mint(t, admin, "ci", "ClusterTokenManagement")
	for _, n := range nodes { // cached on both nodes
		if st, _ := n.use(t, old); st != 200 {
			t.Fatalf("old token: %d", st)
		}
	}
	next := a.rotate(t, admin, old, nil)
	b.remember(next)
	for _, n := range nodes {
		if st, msg := n.use(t, old); st != 200 {
			t.Fatalf("old token in its grace period: %d %s", st, msg)
		}
	}
	if st, _ := b.use(t, next); st != 200 {
		t.Fatalf("new token on node B: %d", st)
	}
	if st, msg := b.use(t, old); st != 401 || msg != "Token has been revoked" {
		t.Errorf("old token on node B right after the new one's first use there: %d %q", st, msg)
	}
	waitFor(t, "the old token refused on node A", func() bool { st, _ := a.use(t, old); return st == 401 })
}

// TestLeakedTokenRevocation: full tokens that match are revoked at once;
// every input answers the same bytes; no token is needed.
func TestLeakedTokenRevocation(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	victim := s.mint(t, admin, "leaked", "ClusterTokenManagement")
	other := s.mint(t, admin, "other", "ClusterTokenManagement")
	unknown := s.mint(t, admin, "deleted", "settings.read")
	if r := s.do(t, req{method: "DELETE", path: tokensPath + "/" + unknown[:31], token: admin}); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}

	// Ten calls in all: the rate limit's worth.
	inputs := []struct {
		name   string
		tokens []string
		auth   string // sent along, to no effect
	}{
		{"id only", []string{other[:31]}, ""},
		{"wrong secret", []string{wrongSecret(other)}, ""},
		{"malformed", []string{"dt0c01.nonsense", "", strings.ToLower(other), other + "x"}, ""},
		{"unknown, with a bad Authorization header", []string{unknown}, "garbage"},
		{"matching", []string{" " + victim + "\n"}, ""},
	}
	var first response
	for i, in := range inputs {
		r := s.do(t, req{method: "POST", path: leakedPath, token: in.auth, body: map[string]any{"tokens": in.tokens}})
		if r.Status != 204 || len(r.Body) != 0 {
			t.Errorf("%s: %d %q, want 204 without a body", in.name, r.Status, r.Body)
		}
		if i == 0 {
			first = r
		} else if r.Status != first.Status || !bytes.Equal(r.Body, first.Body) ||
			r.Header.Get("Content-Type") != first.Header.Get("Content-Type") ||
			r.Header.Get("Content-Length") != first.Header.Get("Content-Length") {
			t.Errorf("%s: answered %d %q %v, unlike %s", in.name, r.Status, r.Body, r.Header, inputs[0].name)
		}
	}
	if st, msg := s.use(t, victim); st != 401 || msg != "Token has been revoked" {
		t.Errorf("the leaked token on the next request: %d %q", st, msg)
	}
	if st, _ := s.use(t, other); st != 200 {
		t.Errorf("the other token, reported by id and with a wrong secret: %d", st)
	}
	waitFor(t, "the WARN line naming the leaked token", func() bool {
		for _, line := range strings.Split(s.Log.String(), "\n") {
			if strings.Contains(line, "level=WARN") && strings.Contains(line, "revoked leaked tokens") {
				return strings.Contains(line, victim[:31]) && !strings.Contains(line, other[:31])
			}
		}
		return false
	})

	// Bad requests are 400s.
	many := make([]string, 101)
	for i := range many {
		many[i] = victim
	}
	for _, tt := range []struct {
		name  string
		body  any
		field string
	}{
		{"101 tokens", map[string]any{"tokens": many}, "tokens"},
		{"tokens missing", map[string]any{}, "tokens"},
		{"tokens not an array", map[string]any{"tokens": other}, "tokens"},
		{"a number", map[string]any{"tokens": []any{other, 7}}, "tokens[1]"},
		{"malformed JSON", `{"tokens": [`, ""},
	} {
		r := s.do(t, req{method: "POST", path: leakedPath, body: tt.body})
		if r.Status != 400 {
			t.Errorf("%s: %d %s, want 400", tt.name, r.Status, r.Body)
		} else if tt.field != "" && !slices.Contains(r.violationPaths(t), tt.field) {
			t.Errorf("%s: violations %v, want %s", tt.name, r.violationPaths(t), tt.field)
		}
	}
	if r := s.do(t, req{method: "GET", path: leakedPath, token: admin}); r.Status != 400 {
		t.Errorf("GET revoke-leaked (an {id} that is no token): %d", r.Status)
	}
}

// TestLeakedTokenRateLimit: past 10 calls a minute from one address, 429 in
// the envelope with Retry-After.
func TestLeakedTokenRateLimit(t *testing.T) {
	s := startServer(t)
	for i := range 10 {
		if r := s.do(t, req{method: "POST", path: leakedPath, body: `{"tokens":[]}`}); r.Status != 204 {
			t.Fatalf("call %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	for _, body := range []string{`{"tokens":[]}`, `not even JSON`} {
		r := s.do(t, req{method: "POST", path: leakedPath, body: body})
		if r.Status != 429 || !strings.Contains(r.errorMessage(t), "Too many") {
			t.Fatalf("call past the limit: %d %s", r.Status, r.Body)
		}
		if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 || n > 60 {
			t.Errorf("Retry-After %q, want 1 to 60 seconds", r.Header.Get("Retry-After"))
		}
	}
	// Other routes are not limited by it.
	admin := s.bootstrap(t, "ClusterTokenManagement")
	if st, _ := s.use(t, admin); st != 200 {
		t.Errorf("another route after the limit: %d", st)
	}
}
