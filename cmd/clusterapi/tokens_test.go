package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const tokensPath = "/api/cluster/v2/tokens"

// tokenCount returns how many tokens the store holds, through the API.
func tokenCount(t *testing.T, s *testServer, auth string) int {
	t.Helper()
	r := s.do(t, req{method: "GET", path: tokensPath + "?limit=1000000", token: auth})
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	return len(r.json(t)["values"].([]any))
}

func TestTokensLifecycle(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")

	// Create: 201, Location, {"token"}; Unicode names round-trip exactly.
	name := "pipeline ✓ Ünïcödé 名前 🚀"
	r := s.do(t, req{method: "POST", path: tokensPath, token: admin, body: map[string]any{
		"name": name, "scopes": []string{"ServiceProviderAPI", "settings.read"},
		"expiresIn": map[string]any{"value": 24, "unit": "HOURS"},
		"id":        "ignored", "userId": "ignored", "created": 1, "unknownField": []int{1}}})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	tok := r.json(t)["token"].(string)
	s.remember(tok)
	id := tok[:31]
	if got := r.Header.Get("Location"); got != tokensPath+"/"+id {
		t.Errorf("Location = %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}

	// Read by id and by full token.
	for _, ref := range []string{id, tok, "%20" + id + "%20"} {
		r = s.do(t, req{method: "GET", path: tokensPath + "/" + ref, token: admin})
		if r.Status != 200 {
			t.Fatalf("get %s: %d %s", ref[:10], r.Status, r.Body)
		}
		m := r.json(t)
		delete(m, "created")
		delete(m, "expires")
		want := map[string]any{"id": id, "name": name, "userId": "admin", "revoked": false,
			"scopes": []any{"ServiceProviderAPI", "settings.read"}, "personalAccessToken": false}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("get (-want +got):\n%s", diff)
		}
	}
	meta := s.do(t, req{method: "GET", path: tokensPath + "/" + id, token: admin}).json(t)
	if d := int64(meta["expires"].(float64)) - int64(meta["created"].(float64)); d != 24*3600*1000 {
		t.Errorf("expires - created = %d", d)
	}
	if _, ok := meta["lastUse"]; ok {
		t.Errorf("lastUse present on an unused token")
	}

	// Rename, rescope, revoke, restore; nulls mean "not given".
	steps := []struct {
		body map[string]any
		want func(m map[string]any) bool
	}{
		{map[string]any{"name": "renamed"}, func(m map[string]any) bool { return m["name"] == "renamed" }},
		{map[string]any{"scopes": []string{"Nodekeeper"}, "name": nil}, func(m map[string]any) bool {
			return m["name"] == "renamed" && fmt.Sprint(m["scopes"]) == "[Nodekeeper]"
		}},
		{map[string]any{"revoked": true, "scopes": nil}, func(m map[string]any) bool {
			return m["revoked"] == true && fmt.Sprint(m["scopes"]) == "[Nodekeeper]"
		}},
		{map[string]any{"revoked": false, "id": "x", "userId": "y"}, func(m map[string]any) bool { return m["revoked"] == false }},
	}
	for i, st := range steps {
		if r := s.do(t, req{method: "PUT", path: tokensPath + "/" + id, token: admin, body: st.body}); r.Status != 204 || len(r.Body) != 0 {
			t.Fatalf("step %d PUT %v: %d %s", i, st.body, r.Status, r.Body)
		}
		m := s.do(t, req{method: "GET", path: tokensPath + "/" + id, token: admin}).json(t)
		if !st.want(m) {
			t.Errorf("step %d after PUT %v: %v", i, st.body, m)
		}
	}

	// Lookup: self without ClusterTokenManagement, another with it.
	r = s.do(t, req{method: "POST", path: tokensPath + "/lookup", token: tok, body: map[string]any{"token": " " + tok + "\n"}})
	if r.Status != 200 || r.json(t)["id"] != id {
		t.Errorf("self lookup: %d %s", r.Status, r.Body)
	}
	r = s.do(t, req{method: "POST", path: tokensPath + "/lookup", token: tok, body: map[string]any{"token": admin}})
	if r.Status != 403 {
		t.Errorf("lookup of another without ClusterTokenManagement: %d %s", r.Status, r.Body)
	}
	r = s.do(t, req{method: "POST", path: "/api/cluster/v1/tokens/lookup", token: admin, body: map[string]any{"token": tok}})
	if r.Status != 200 || r.json(t)["name"] != "renamed" {
		t.Errorf("v1 lookup: %d %s", r.Status, r.Body)
	}
	// Unknown, malformed and wrong-secret lookups are the same 404, and so is
	// a bare token id: lookup needs the full token.
	wrong := tok[:40] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, tok[40:41]) + tok[41:]
	var bodies []string
	for _, bad := range []string{wrong, "dt0c01.nonsense", "", id, id + ".", admin[:31]} {
		r = s.do(t, req{method: "POST", path: tokensPath + "/lookup", token: admin, body: map[string]any{"token": bad}})
		if r.Status != 404 {
			t.Errorf("lookup %q: %d %s", bad, r.Status, r.Body)
		}
		bodies = append(bodies, string(r.Body))
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("lookup 404 bodies differ: %q", bodies)
			break
		}
	}

	// Text/plain only: the bare token. Several types with JSON: JSON.
	r = s.do(t, req{method: "POST", path: tokensPath, token: admin, header: map[string]string{"Accept": "text/plain"},
		body: map[string]any{"name": "plain", "scopes": []string{"Nodekeeper"}}})
	if r.Status != 201 || !strings.HasPrefix(string(r.Body), "dt0c01.") || len(r.Body) != 96 {
		t.Errorf("text/plain create: %d %q", r.Status, r.Body)
	}
	s.remember(string(r.Body))
	r = s.do(t, req{method: "POST", path: tokensPath, token: admin,
		header: map[string]string{"Accept": "application/json; charset=utf-8,text/csv; header=present,text/plain"},
		body:   map[string]any{"name": "multi", "scopes": []string{"Nodekeeper"}}})
	if r.Status != 201 || r.json(t)["token"] == nil {
		t.Errorf("multi-accept create: %d %s", r.Status, r.Body)
	} else {
		s.remember(r.json(t)["token"].(string))
	}

	// Delete, then it is gone.
	if r := s.do(t, req{method: "DELETE", path: "/api/cluster/v1/tokens/" + id, token: admin}); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := s.do(t, req{method: "GET", path: tokensPath + "/" + id, token: admin}); r.Status != 404 {
		t.Errorf("get after delete: %d", r.Status)
	}
	if r := s.do(t, req{method: "DELETE", path: tokensPath + "/" + id, token: admin}); r.Status != 404 {
		t.Errorf("delete twice: %d", r.Status)
	}
}

func TestTokensList(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	var names []string
	for i := range 5 {
		scopes := []string{"Nodekeeper"}
		if i%2 == 0 {
			scopes = append(scopes, "settings.read")
		}
		n := fmt.Sprintf("t%d", i)
		s.mint(t, admin, n, scopes...)
		names = append(names, n)
	}
	list := func(q string) []string {
		t.Helper()
		r := s.do(t, req{method: "GET", path: tokensPath + q, token: admin})
		if r.Status != 200 {
			t.Fatalf("list %s: %d %s", q, r.Status, r.Body)
		}
		var out []string
		for _, v := range r.json(t)["values"].([]any) {
			m := v.(map[string]any)
			if len(m) != 2 {
				t.Errorf("list item has fields %v, want id and name", m)
			}
			out = append(out, m["name"].(string))
		}
		return out
	}
	all := append(slices.Clone(names), "bootstrap")
	slices.Reverse(all[:5])
	tests := []struct {
		query string
		want  []string
	}{
		{"", all},
		{"?limit=2", all[:2]},
		{"?limit=0", nil},
		{"?permissions=settings.read", []string{"t4", "t2", "t0"}},
		{"?permissions=settings.read&permissions=Nodekeeper", []string{"t4", "t2", "t0"}},
		{"?permissions=ClusterTokenManagement", []string{"bootstrap"}},
		{"?user=admin&limit=1", []string{"t4"}},
		{"?user=nobody", nil},
		{"?from=0&to=1", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, list(tt.query)); diff != "" {
			t.Errorf("list %q (-want +got):\n%s", tt.query, diff)
		}
	}
	for _, q := range []string{"?limit=-1", "?limit=1000001", "?limit=x", "?permissions=bogus", "?from=yesterday", "?limit=1&limit=2", "?user=a&user=b"} {
		r := s.do(t, req{method: "GET", path: tokensPath + q, token: admin})
		if r.Status != 400 || len(r.violationPaths(t)) == 0 {
			t.Errorf("list %s: %d %s", q, r.Status, r.Body)
		}
	}
}

// TestTokensBadInput sends every kind of wrong input: each answers in the
// envelope, names the field where one is at fault, and stores nothing.
func TestTokensBadInput(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")
	victim := s.mint(t, admin, "victim", "Nodekeeper")
	before := tokenCount(t, s, admin)

	ok := []string{"Nodekeeper"}
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		wantPath   string // a violation path that must be named, if any
		wantMsg    string
	}{
		{"empty name", "POST", tokensPath, map[string]any{"name": "", "scopes": ok}, 400, "name", ""},
		{"missing name", "POST", tokensPath, map[string]any{"scopes": ok}, 400, "name", ""},
		{"null name", "POST", tokensPath, map[string]any{"name": nil, "scopes": ok}, 400, "name", ""},
		{"name 256 chars", "POST", tokensPath, map[string]any{"name": strings.Repeat("é", 256), "scopes": ok}, 400, "name", ""},
		{"name newline", "POST", tokensPath, map[string]any{"name": "a\nb", "scopes": ok}, 400, "name", ""},
		{"name control", "POST", tokensPath, map[string]any{"name": "a\u0007b", "scopes": ok}, 400, "name", ""},
		{"name blank", "POST", tokensPath, map[string]any{"name": "   ", "scopes": ok}, 400, "name", ""},
		{"name number", "POST", tokensPath, map[string]any{"name": 5, "scopes": ok}, 400, "name", ""},
		{"no scopes", "POST", tokensPath, map[string]any{"name": "x", "scopes": []string{}}, 400, "scopes", ""},
		{"missing scopes", "POST", tokensPath, map[string]any{"name": "x"}, 400, "scopes", ""},
		{"unknown scope", "POST", tokensPath, map[string]any{"name": "x", "scopes": []string{"Nodekeeper", "DataExport", "Bogus"}}, 400, "scopes[1]", ""},
		{"wrong-case scope", "POST", tokensPath, map[string]any{"name": "x", "scopes": []string{"nodekeeper"}}, 400, "scopes[0]", ""},
		{"duplicate scope", "POST", tokensPath, map[string]any{"name": "x", "scopes": []string{"Nodekeeper", "settings.read", "Nodekeeper"}}, 400, "scopes[2]", ""},
		{"tenant scope on unbound token", "POST", tokensPath, map[string]any{"name": "x", "scopes": []string{"Nodekeeper", "TenantTokenManagement"}}, 400, "scopes[1]", ""},
		{"put tenant scope on unbound token", "PUT", tokensPath + "/" + victim[:31], map[string]any{"scopes": []string{"TenantTokenManagement"}}, 400, "scopes[0]", ""},
		{"empty scope", "POST", tokensPath, map[string]any{"name": "x", "scopes": []string{""}}, 400, "scopes[0]", ""},
		{"scopes not array", "POST", tokensPath, map[string]any{"name": "x", "scopes": "Nodekeeper"}, 400, "scopes", ""},
		{"scope not string", "POST", tokensPath, map[string]any{"name": "x", "scopes": []any{"Nodekeeper", 1}}, 400, "scopes[1]", ""},
		{"invalid UTF-8", "POST", tokensPath, "{\"name\":\"a\xff\xfeb\",\"scopes\":[\"Nodekeeper\"]}", 400, "", ""},
		{"lone surrogate", "POST", tokensPath, `{"name":"a\ud800b","scopes":["Nodekeeper"]}`, 400, "", ""},
		{"lone low surrogate", "POST", tokensPath, `{"name":"\udc00","scopes":["Nodekeeper"]}`, 400, "", ""},
		{"expiresIn zero", "POST", tokensPath, map[string]any{"name": "x", "scopes": ok, "expiresIn": map[string]any{"value": 0, "unit": "DAYS"}}, 400, "expiresIn.value", ""},
		{"expiresIn negative", "POST", tokensPath, map[string]any{"name": "x", "scopes": ok, "expiresIn": map[string]any{"value": -5}}, 400, "expiresIn.value", ""},
		{"expiresIn huge", "POST", tokensPath, map[string]any{"name": "x", "scopes": ok, "expiresIn": map[string]any{"value": 9e15, "unit": "DAYS"}}, 400, "expiresIn.value", ""},
		{"expiresIn overflow", "POST", tokensPath, map[string]any{"name": "x", "scopes": ok, "expiresIn": map[string]any{"value": 1e30}}, 400, "", ""},
		{"expiresIn fraction", "POST", tokensPath, map[string]any{"name": "x", "scopes": ok, "expiresIn": map[string]any{"value": 1.5, "unit": "DAYS"}}, 400, "expiresIn.value", ""},
		{"unclean path", "GET", "/api/cluster/v2/x/../tokens", nil, 404, "", ""},
		{"double slash", "GET", "/api/cluster/v2//tokens", nil, 404, "", ""},
		{"leading double slash", "GET", "//api/cluster/v2/tokens", nil, 404, "", ""},
		{"dot segment before /api", "GET", "/cmc/../api/cluster/v2/tokens", nil, 404, "", ""},
		{"expiresIn unit", "POST", tokensPath, map[string]any{"name": "x", "scopes": ok, "expiresIn": map[string]any{"value": 1, "unit": "WEEKS"}}, 400, "expiresIn.unit", ""},
		{"expiresIn unit lower", "POST", tokensPath, map[string]any{"name": "x", "scopes": ok, "expiresIn": map[string]any{"value": 1, "unit": "days"}}, 400, "expiresIn.unit", ""},
		{"expiresIn string", "POST", tokensPath, map[string]any{"name": "x", "scopes": ok, "expiresIn": "24h"}, 400, "expiresIn", ""},
		{"expiresIn value string", "POST", tokensPath, map[string]any{"name": "x", "scopes": ok, "expiresIn": map[string]any{"value": "24"}}, 400, "expiresIn.value", ""},
		{"malformed JSON", "POST", tokensPath, `{"name": "x", "scopes": [`, 400, "", ""},
		{"truncated JSON", "POST", tokensPath, `{"name": "x"`, 400, "", ""},
		{"not an object", "POST", tokensPath, `["x"]`, 400, "", ""},
		{"trailing garbage", "POST", tokensPath, `{"name":"x","scopes":["Nodekeeper"]} {}`, 400, "", ""},
		{"empty body", "POST", tokensPath, ``, 400, "", ""},
		{"huge body", "POST", tokensPath, `{"name":"` + strings.Repeat("x", 1<<20+10) + `"}`, 413, "", ""},
		{"bad id", "GET", tokensPath + "/not-a-token", nil, 400, "id", ""},
		{"bad id chars", "GET", tokensPath + "/dt0c01.abc%3Cscript%3E", nil, 400, "id", ""},
		{"unknown id", "GET", tokensPath + "/dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA", nil, 404, "", ""},
		{"put unknown", "PUT", tokensPath + "/dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA", map[string]any{"name": "x"}, 404, "", ""},
		{"delete unknown", "DELETE", tokensPath + "/dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA", nil, 404, "", ""},
		{"put self", "PUT", tokensPath + "/" + admin[:31], map[string]any{"revoked": true}, 400, "", "You can't update the token used for authentication."},
		{"put self by full token", "PUT", tokensPath + "/" + admin, map[string]any{"name": "x"}, 400, "", "You can't update the token used for authentication."},
		{"delete self", "DELETE", tokensPath + "/" + admin[:31], nil, 400, "", "You can't update the token used for authentication."},
		{"put bad name", "PUT", tokensPath + "/" + victim[:31], map[string]any{"name": ""}, 400, "name", ""},
		{"put empty scopes", "PUT", tokensPath + "/" + victim[:31], map[string]any{"scopes": []string{}}, 400, "scopes", ""},
		{"put bad scope", "PUT", tokensPath + "/" + victim[:31], map[string]any{"scopes": []string{"x"}}, 400, "scopes[0]", ""},
		{"put revoked string", "PUT", tokensPath + "/" + victim[:31], map[string]any{"revoked": "yes"}, 400, "revoked", ""},
		{"lookup no token", "POST", tokensPath + "/lookup", map[string]any{}, 400, "token", ""},
		{"lookup number", "POST", tokensPath + "/lookup", map[string]any{"token": 7}, 400, "token", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, req{method: tt.method, path: tt.path, token: admin, body: tt.body})
			if r.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.wantStatus, r.Body)
			}
			msg := r.errorMessage(t)
			if tt.wantMsg != "" && msg != tt.wantMsg {
				t.Errorf("message %q, want %q", msg, tt.wantMsg)
			}
			if paths := r.violationPaths(t); tt.wantPath != "" && !slices.Contains(paths, tt.wantPath) {
				t.Errorf("violation paths %q, want %q among them (%s)", paths, tt.wantPath, r.Body)
			}
		})
	}
	// A full token pasted where it does not belong is not echoed back, nor
	// is a mangled copy of one: no 8 characters of its secret, in any case.
	secret := strings.ToLower(victim[32:])
	leaks := func(text string) bool {
		text = strings.ToLower(text)
		for i := 0; i+8 <= len(secret); i++ {
			if strings.Contains(text, secret[i:i+8]) {
				return true
			}
		}
		return false
	}
	for _, bad := range []string{
		victim,
		"DT0C01" + victim[6:],           // upper-case prefix
		victim[:30] + victim[31:],       // id one character short
		victim[:50] + "a" + victim[51:], // a lower-case character in the secret
		strings.ToLower(victim),         // all lower case
		victim[:31] + victim[32:],       // no second dot
	} {
		for _, rq := range []req{
			{method: "POST", path: tokensPath, token: admin, body: map[string]any{"name": "x", "scopes": []string{bad}}},
			{method: "GET", path: tokensPath + "?permissions=" + bad, token: admin},
			{method: "GET", path: "/api/cluster/v2/x/../tokens/" + bad, token: admin},
			{method: "GET", path: "/api/cluster/v2/nothing/" + bad, token: admin},
			{method: "GET", path: "/api/cluster/v2/environments?filter=name(" + bad + ",", token: admin},
		} {
			r := s.do(t, rq)
			if r.Status < 400 || leaks(string(r.Body)) || leaks(r.Header.Get("Location")) {
				t.Errorf("%s %.40s: %d echoes the secret: %s", rq.method, rq.path, r.Status, r.Body)
			}
		}
	}
	// Escaped pairs (an emoji) are fine and round-trip.
	r := s.do(t, req{method: "POST", path: tokensPath, token: admin, body: `{"name":"rocket \ud83d\ude80","scopes":["Nodekeeper"]}`})
	if r.Status != 201 {
		t.Fatalf("surrogate pair: %d %s", r.Status, r.Body)
	}
	rocket := r.json(t)["token"].(string)
	s.remember(rocket)
	if m := s.do(t, req{method: "GET", path: tokensPath + "/" + rocket[:31], token: admin}).json(t); m["name"] != "rocket 🚀" {
		t.Errorf("name read back as %q", m["name"])
	}
	if r := s.do(t, req{method: "DELETE", path: tokensPath + "/" + rocket[:31], token: admin}); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}

	if after := tokenCount(t, s, admin); after != before {
		t.Errorf("bad input changed the token count from %d to %d", before, after)
	}
	m := s.do(t, req{method: "GET", path: tokensPath + "/" + victim[:31], token: admin}).json(t)
	if m["name"] != "victim" || fmt.Sprint(m["scopes"]) != "[Nodekeeper]" || m["revoked"] != false {
		t.Errorf("bad PUTs changed the token: %v", m)
	}
	if r := s.do(t, req{method: "GET", path: tokensPath, token: admin}); r.Status != 200 {
		t.Errorf("the caller's token was changed by a refused self-update: %d", r.Status)
	}
}

func TestTokensConcurrentCreates(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	const n = 50
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		toks = map[string]bool{}
	)
	for i := range n {
		wg.Go(func() {
			tok := s.mint(t, admin, fmt.Sprintf("c%d", i), "Nodekeeper")
			mu.Lock()
			toks[tok] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(toks) != n {
		t.Errorf("%d distinct tokens, want %d", len(toks), n)
	}
	if got := tokenCount(t, s, admin); got != n+1 {
		t.Errorf("%d tokens listed, want %d", got, n+1)
	}
	for tok := range toks {
		if r := s.do(t, req{method: "POST", path: tokensPath + "/lookup", token: tok, body: map[string]any{"token": tok}}); r.Status != 200 {
			t.Errorf("new token does not work: %d", r.Status)
		}
	}
}

// TestCLITokenCreateExpiry holds `token create --expires-in` to the API's
// bound: at most 100 years, so every expiry is a time both stores and every
// client can represent.
func TestCLITokenCreateExpiry(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	for _, d := range []string{"2500000h", "876001h"} {
		out, err := s.cli(t, "token", "create", "--name", "far", "--scope", "Nodekeeper", "--expires-in", d)
		if err == nil || !strings.Contains(err.Error(), "100 years") || out != "" {
			s.remember(strings.TrimSpace(out))
			t.Errorf("token create --expires-in %s = %d bytes out, %v; want an error naming 100 years", d, len(out), err)
		}
	}
	out, err := s.cli(t, "token", "create", "--name", "century", "--scope", "Nodekeeper", "--expires-in", "876000h")
	if err != nil {
		t.Fatalf("token create --expires-in 876000h (100 years) = %v", err)
	}
	tok := strings.TrimSpace(out)
	s.remember(tok)
	meta := s.do(t, req{method: "GET", path: tokensPath + "/" + tok[:31], token: admin}).json(t)
	if d := int64(meta["expires"].(float64)) - int64(meta["created"].(float64)); d != 876000*3600*1000 {
		t.Errorf("expires - created = %d ms, want 100 years", d)
	}
	if n := tokenCount(t, s, admin); n != 2 {
		t.Errorf("%d tokens stored, want 2: a refused create stored one", n)
	}
}
