package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These tests send what existing clients send (SPEC 2.4): generated OpenAPI
// clients, infrastructure-as-code providers and operators' scripts.

// fullEnvironment is an environment with every quota and storage limit set,
// as a declarative tool would declare it.
func fullEnvironment(name string) map[string]any {
	return map[string]any{
		"name": name, "trial": false, "state": "ENABLED", "tags": []string{"gold", "eu"},
		"quotas": map[string]any{
			"hostUnits":         map[string]any{"maxLimit": 120},
			"demUnits":          map[string]any{"monthlyLimit": 1000, "annualLimit": 12000},
			"userSessions":      map[string]any{"totalMonthlyLimit": 5000, "totalAnnualLimit": 60000},
			"sessionProperties": map[string]any{},
			"syntheticMonitors": map[string]any{"monthlyLimit": 10, "annualLimit": 120},
			"customMetrics":     map[string]any{"maxLimit": 50},
			"davisDataUnits":    map[string]any{"monthlyLimit": 7, "annualLimit": 84},
			"logMonitoring":     map[string]any{"monthlyLimit": 3, "annualLimit": nil},
		},
		"storage": map[string]any{
			"transactionStorage":           map[string]any{"maxLimit": 1 << 40},
			"sessionReplayStorage":         map[string]any{"maxLimit": 1 << 30},
			"symbolFilesFromMobileApps":    map[string]any{"maxLimit": 1 << 20},
			"logMonitoringStorage":         map[string]any{"maxLimit": nil},
			"serviceRequestLevelRetention": map[string]any{"maxLimitInDays": 35},
			"serviceCodeLevelRetention":    map[string]any{"maxLimitInDays": 10},
			"realUserMonitoringRetention":  map[string]any{"maxLimitInDays": 35},
			"syntheticMonitoringRetention": map[string]any{"maxLimitInDays": 14},
			"sessionReplayRetention":       map[string]any{"maxLimitInDays": 1},
			"logMonitoringRetention":       map[string]any{"maxLimitInDays": 90},
			"userActionsPerMinute":         map[string]any{"maxLimit": 3500},
			"transactionTrafficQuota":      map[string]any{"maxLimit": 100},
		},
	}
}

// limitsOf keeps only the limit fields of a quotas or storage object as
// read back, dropping the usage figures a server adds.
func limitsOf(v any) map[string]any {
	out := map[string]any{}
	for name, sub := range v.(map[string]any) {
		m := map[string]any{}
		for k, x := range sub.(map[string]any) {
			if strings.Contains(strings.ToLower(k), "limit") {
				m[k] = x
			}
		}
		out[name] = m
	}
	return out
}

// asJSON turns v into what it reads back as from JSON, for comparisons.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDeclarativeToolsConverge: an environment declared with every limit
// reads back exactly as declared, and sending a GET's body back changes
// nothing, so a second "plan" sees no difference.
func TestDeclarativeToolsConverge(t *testing.T) {
	s := startServer(t)
	tok := s.bootstrap(t, "ServiceProviderAPI")
	want := fullEnvironment("customer-a")
	r := s.do(t, req{method: "POST", path: envsPath, token: tok, body: want})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.json(t)["id"].(string)
	get := func() map[string]any {
		t.Helper()
		r := s.do(t, req{method: "GET", path: envsPath + "/" + id + "?includeConsumptionInfo=true&includeStorageInfo=true", token: tok})
		if r.Status != 200 {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}
		return r.json(t)
	}
	first := get()
	wantQuotas := asJSON(t, want["quotas"]).(map[string]any)
	delete(wantQuotas, "sessionProperties") // usage only: no limit to echo
	for _, part := range []struct {
		name string
		want any
	}{{"quotas", wantQuotas}, {"storage", asJSON(t, want["storage"])}} {
		got := limitsOf(first[part.name])
		delete(got, "sessionProperties")
		if diff := cmp.Diff(part.want, any(got)); diff != "" {
			t.Errorf("%s read back differ from what was sent (-sent +read):\n%s", part.name, diff)
		}
	}
	if first["name"] != "customer-a" || !cmp.Equal(first["tags"], []any{"gold", "eu"}) || first["trial"] != false {
		t.Errorf("environment read back: %v", first)
	}

	// The GET body goes back whole: id, creationDate, usage figures and all.
	r = s.do(t, req{method: "PUT", path: envsPath + "/" + id, token: tok, body: first})
	if r.Status != 204 {
		t.Fatalf("PUT of the GET body: %d %s", r.Status, r.Body)
	}
	if diff := cmp.Diff(first, get()); diff != "" {
		t.Errorf("PUT of the GET body changed the environment (-before +after):\n%s", diff)
	}

	// A partial PUT with explicit nulls changes only what it names.
	r = s.do(t, req{method: "PUT", path: envsPath + "/" + id, token: tok,
		body: `{"name":null,"trial":null,"tags":null,"quotas":null,"storage":null,"state":"DISABLED"}`})
	if r.Status != 204 {
		t.Fatalf("partial PUT: %d %s", r.Status, r.Body)
	}
	after := get()
	if after["state"] != "DISABLED" {
		t.Errorf("state after disabling: %v", after["state"])
	}
	after["state"] = "ENABLED"
	if diff := cmp.Diff(first, after); diff != "" {
		t.Errorf("a PUT of only the state changed more (-before +after):\n%s", diff)
	}
	// GET, then disable (done), then DELETE, as cleanup scripts do.
	if r := s.do(t, req{method: "DELETE", path: envsPath + "/" + id, token: tok}); r.Status != 204 {
		t.Errorf("DELETE after disabling: %d %s", r.Status, r.Body)
	}
	if r := s.do(t, req{method: "GET", path: envsPath + "/" + id, token: tok}); r.Status != 404 {
		t.Errorf("GET after DELETE: %d", r.Status)
	}
}

// TestClientRequestShapes covers the requests of generated clients and
// scripts against the Tokens API.
func TestClientRequestShapes(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")

	// A generated client's multi-type Accept gets JSON; text/plain alone gets
	// the bare token.
	accept := "application/json; charset=utf-8,text/csv; header=present,text/plain"
	r := s.do(t, req{method: "POST", path: "/api/cluster/v2/tokens", token: admin, header: map[string]string{"Accept": accept},
		body: `{"name":"generated","scopes":["ServiceProviderAPI"],"expiresIn":null,"id":null,"personalAccessToken":false}`})
	if r.Status != 201 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("create with a multi-type Accept: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	tok := r.json(t)["token"].(string)
	s.remember(tok)
	r = s.do(t, req{method: "POST", path: "/api/cluster/v1/tokens", token: admin, header: map[string]string{"Accept": "text/plain"},
		body: map[string]any{"name": "script", "scopes": []string{"ServiceProviderAPI"}}})
	bare := strings.TrimSpace(string(r.Body))
	if r.Status != 201 || !strings.HasPrefix(bare, "dt0c01.") || len(bare) != 96 {
		t.Fatalf("create with Accept: text/plain: %d %s", r.Status, r.Body)
	}
	s.remember(bare)

	// Both tokens work with the forms scripts use: a lower-case scheme, and
	// the query parameter written Api-Token.
	for _, c := range []struct {
		name   string
		path   string
		header map[string]string
	}{
		{"lower-case scheme", envsPath, map[string]string{"Authorization": "api-token " + tok}},
		{"upper-case scheme, two spaces", envsPath, map[string]string{"Authorization": "API-TOKEN  " + bare}},
		{"Api-Token= query", envsPath + "?Api-Token=" + bare, nil},
		{"api-token= query", envsPath + "?pageSize=1&api-token=" + tok, nil},
	} {
		if r := s.do(t, req{method: "GET", path: c.path, header: c.header}); r.Status != 200 {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}

	// An update that sends back the GET body (read-only fields, nulls)
	// changes only what the client changed; through the v1 alias too.
	for _, base := range []string{"/api/cluster/v2/tokens", "/api/cluster/v1/tokens"} {
		path := base + "/" + tok[:31]
		before := s.do(t, req{method: "GET", path: path, token: admin}).json(t)
		body := map[string]any{}
		for k, v := range before {
			body[k] = v
		}
		body["name"] = "renamed via " + base
		body["expires"], body["lastUse"] = nil, nil
		if r := s.do(t, req{method: "PUT", path: path, token: admin, body: body}); r.Status != 204 {
			t.Fatalf("PUT of the GET body through %s: %d %s", base, r.Status, r.Body)
		}
		after := s.do(t, req{method: "GET", path: path, token: admin}).json(t)
		before["name"] = body["name"]
		delete(before, "lastUse")
		delete(after, "lastUse") // the requests above used the token
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("PUT through %s changed more than the name (-want +got):\n%s", base, diff)
		}
	}
	// The aliases answer as their twins.
	v1 := s.do(t, req{method: "POST", path: "/api/cluster/v1/tokens/lookup", token: admin, body: map[string]any{"token": tok}})
	v2 := s.do(t, req{method: "POST", path: "/api/cluster/v2/tokens/lookup", token: admin, body: map[string]any{"token": tok}})
	if v1.Status != 200 || string(v1.Body) != string(v2.Body) {
		t.Errorf("lookup v1 = %d %s, v2 = %d %s", v1.Status, v1.Body, v2.Status, v2.Body)
	}
	list := s.do(t, req{method: "GET", path: "/api/cluster/v1/tokens", token: admin})
	if list.Status != 200 || !strings.Contains(string(list.Body), tok[:31]) {
		t.Errorf("v1 list: %d %s", list.Status, list.Body)
	}
	if r := s.do(t, req{method: "DELETE", path: "/api/cluster/v1/tokens/" + tok[:31], token: admin}); r.Status != 204 {
		t.Errorf("v1 delete: %d %s", r.Status, r.Body)
	}
	if r := s.do(t, req{method: "GET", path: envsPath, header: map[string]string{"Authorization": "api-token " + tok}}); r.Status != 401 {
		t.Errorf("deleted through v1, still accepted: %d", r.Status)
	}
	// Every answer came with a JSON (or, when asked, plain text) content
	// type: the harness checks each.
}

// TestEnvironmentTokenFlow is the automation flow of SPEC 4.6: a short-lived
// EnvironmentTokenManagement token mints token-management tokens for several
// environments; a ClusterTokenManagement token looks them up and deletes
// them. Bound tokens are refused on every cluster route.
func TestEnvironmentTokenFlow(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")
	etm := s.mint(t, admin, "env tokens", "EnvironmentTokenManagement")
	meta := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens/" + etm[:31], token: admin}).json(t)
	if life := int64(meta["expires"].(float64) - meta["created"].(float64)); life != (24 * time.Hour).Milliseconds() {
		t.Errorf("EnvironmentTokenManagement token lives %d ms, want 24 h", life)
	}

	var minted []string
	for _, name := range []string{"tenant-1", "tenant-2", "tenant-3"} {
		r := s.do(t, req{method: "POST", path: envsPath, token: admin, body: map[string]any{"name": name}})
		if r.Status != 201 {
			t.Fatalf("create %s: %d %s", name, r.Status, r.Body)
		}
		id := r.json(t)["id"].(string)
		r = s.do(t, req{method: "POST", path: envsPath + "/" + id + "/tokenManagementToken", token: etm,
			body: map[string]any{"name": "ci " + name, "expiresIn": map[string]any{"value": 2, "unit": "HOURS"}}})
		if r.Status != 201 {
			t.Fatalf("tokenManagementToken for %s: %d %s", name, r.Status, r.Body)
		}
		tok := r.json(t)["token"].(string)
		s.remember(tok)
		minted = append(minted, tok)
	}

	// Routes to call with a bound token, one per registered cluster route.
	routes := []struct{ method, path string }{
		{"GET", "/api/cluster/v2/tokens"}, {"POST", "/api/cluster/v2/tokens"}, {"GET", "/api/cluster/v2/tokens/" + etm[:31]},
		{"PUT", "/api/cluster/v2/tokens/" + etm[:31]}, {"DELETE", "/api/cluster/v2/tokens/" + etm[:31]},
		{"POST", "/api/cluster/v2/tokens/lookup"}, {"GET", "/api/cluster/v1/tokens"},
		{"GET", envsPath}, {"POST", envsPath}, {"GET", envsPath + "/x"}, {"PUT", envsPath + "/x"}, {"DELETE", envsPath + "/x"},
		{"POST", envsPath + "/x/tokenManagementToken"},
		{"GET", "/api/cluster/v2/networkZones"}, {"GET", "/api/v1.0/onpremise/cluster"},
		{"GET", "/api/v1.0/onpremise/users"}, {"GET", "/api/v1.0/onpremise/groups"},
	}
	for i, tok := range minted {
		m := s.do(t, req{method: "POST", path: "/api/cluster/v2/tokens/lookup", token: admin, body: map[string]any{"token": tok}})
		if m.Status != 200 || m.json(t)["name"] != "ci tenant-"+string(rune('1'+i)) {
			t.Errorf("lookup of minted token %d: %d %s", i, m.Status, m.Body)
		}
		if i == 0 {
			for _, rt := range routes {
				r := s.do(t, req{method: rt.method, path: rt.path, token: tok, body: map[string]any{"token": tok}})
				if r.Status != 401 || r.errorMessage(t) != "Token Authentication failed" {
					t.Errorf("bound token on %s %s: %d %s, want 401", rt.method, rt.path, r.Status, r.Body)
				}
			}
		}
		if r := s.do(t, req{method: "DELETE", path: "/api/cluster/v2/tokens/" + tok[:31], token: admin}); r.Status != 204 {
			t.Errorf("delete minted token %d: %d %s", i, r.Status, r.Body)
		}
		if r := s.do(t, req{method: "POST", path: "/api/cluster/v2/tokens/lookup", token: admin, body: map[string]any{"token": tok}}); r.Status != 404 {
			t.Errorf("lookup after delete: %d", r.Status)
		}
	}
	// The minting token itself may do nothing else.
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: etm}); r.Status != http.StatusForbidden {
		t.Errorf("EnvironmentTokenManagement token listing tokens: %d", r.Status)
	}
}
