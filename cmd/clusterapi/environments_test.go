package main

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const envsPath = "/api/cluster/v2/environments"

// TestEnvironmentsWalkthrough follows what a provisioning script does:
// create with a token, read, disable, delete.
func TestEnvironmentsWalkthrough(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")

	r := s.do(t, req{method: "POST", path: envsPath + "?createToken=true", token: admin, body: map[string]any{
		"name": "customer-a", "tags": []string{"gold", "eu"}, "trial": true,
		"storage": map[string]any{"realUserMonitoringRetention": map[string]any{"maxLimitInDays": 35}},
		"quotas":  map[string]any{"hostUnits": map[string]any{"maxLimit": 120}},
	}})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	created := r.json(t)
	id, _ := created["id"].(string)
	bound, _ := created["tokenManagementToken"].(string)
	s.remember(bound)
	if id == "" || bound == "" || created["name"] != "customer-a" {
		t.Fatalf("create answer %v", created)
	}
	if got := r.Header.Get("Location"); got != envsPath+"/"+id {
		t.Errorf("Location = %q", got)
	}

	// The bound token belongs to the environment: its metadata says so
	// through lookup, and cluster routes refuse it.
	meta := s.do(t, req{method: "POST", path: tokensPath + "/lookup", token: admin, body: map[string]any{"token": bound}}).json(t)
	if diff := cmp.Diff([]any{"apiTokens.read", "apiTokens.write", "TenantTokenManagement"}, meta["scopes"]); diff != "" || meta["userId"] != "admin" {
		t.Errorf("bound token metadata %v (-want +got scopes):\n%s", meta, diff)
	}
	if r := s.do(t, req{method: "GET", path: envsPath, token: bound}); r.Status != 401 {
		t.Errorf("bound token on a cluster route: %d %s", r.Status, r.Body)
	}

	// Read back with both include flags; PUT the same body back: no drift.
	get := func() map[string]any {
		t.Helper()
		r := s.do(t, req{method: "GET", path: envsPath + "/" + id + "?includeConsumptionInfo=true&includeStorageInfo=true", token: admin})
		if r.Status != 200 {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}
		return r.json(t)
	}
	first := get()
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", first["creationDate"].(string)); err != nil {
		t.Errorf("creationDate %v: %v", first["creationDate"], err)
	}
	hu := first["quotas"].(map[string]any)["hostUnits"].(map[string]any)
	rum := first["storage"].(map[string]any)["realUserMonitoringRetention"].(map[string]any)
	if hu["maxLimit"] != 120.0 || rum["maxLimitInDays"] != 35.0 {
		t.Errorf("limits read back as %v and %v", hu, rum)
	}
	if r := s.do(t, req{method: "PUT", path: envsPath + "/" + id, token: admin, body: first}); r.Status != 204 {
		t.Fatalf("put back: %d %s", r.Status, r.Body)
	}
	if diff := cmp.Diff(first, get()); diff != "" {
		t.Errorf("GET-PUT-GET drifted (-first +second):\n%s", diff)
	}
	without := s.do(t, req{method: "GET", path: envsPath + "/" + id, token: admin}).json(t)
	if _, ok := without["quotas"]; ok {
		t.Errorf("quotas returned without includeConsumptionInfo")
	}

	// Deleting an enabled environment is refused and deletes nothing.
	if r := s.do(t, req{method: "DELETE", path: envsPath + "/" + id, token: admin}); r.Status != 400 {
		t.Errorf("delete enabled: %d %s", r.Status, r.Body)
	}
	if r := s.do(t, req{method: "PUT", path: envsPath + "/" + id, token: admin, body: map[string]any{"state": "DISABLED"}}); r.Status != 204 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	after := get()
	if after["state"] != "DISABLED" || after["name"] != "customer-a" || fmt.Sprint(after["tags"]) != "[gold eu]" {
		t.Errorf("partial PUT did not merge: %v", after)
	}
	if r := s.do(t, req{method: "DELETE", path: envsPath + "/" + id, token: admin}); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := s.do(t, req{method: "GET", path: envsPath + "/" + id, token: admin}); r.Status != 404 {
		t.Errorf("get after delete: %d", r.Status)
	}
	// Its bound token went with it.
	if r := s.do(t, req{method: "POST", path: tokensPath + "/lookup", token: admin, body: map[string]any{"token": bound}}); r.Status != 404 {
		t.Errorf("bound token after its environment was deleted: %d %s", r.Status, r.Body)
	}

	// Parameters that take one value refuse two, naming the parameter.
	for _, q := range []string{"?sort=name&sort=bogus", "?pageSize=2&pageSize=5000", "?filter=name(x)&filter=tag(y)", "?includeStorageInfo=true&includeStorageInfo=false"} {
		r := s.do(t, req{method: "GET", path: envsPath + q, token: admin})
		if r.Status != 400 || len(r.violationPaths(t)) == 0 {
			t.Errorf("GET %s: %d %s", q, r.Status, r.Body)
		}
	}

	// PUT on a new id creates (201, short form).
	r = s.do(t, req{method: "PUT", path: envsPath + "/my-env_1", token: admin, body: map[string]any{"name": "mine"}})
	if r.Status != 201 || r.json(t)["id"] != "my-env_1" {
		t.Errorf("PUT create: %d %s", r.Status, r.Body)
	}
}

// TestEnvironmentTokenManagementToken mints environment tokens with a token
// that holds only EnvironmentTokenManagement, whose life is capped at 24 h.
func TestEnvironmentTokenManagementToken(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")
	capped := func(body map[string]any) (string, int64) {
		t.Helper()
		r := s.do(t, req{method: "POST", path: tokensPath, token: admin, body: body})
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		tok := r.json(t)["token"].(string)
		s.remember(tok)
		m := s.do(t, req{method: "GET", path: tokensPath + "/" + tok[:31], token: admin}).json(t)
		exp, _ := m["expires"].(float64)
		return tok, int64(exp) - int64(m["created"].(float64))
	}
	etm, life := capped(map[string]any{"name": "etm", "scopes": []string{"EnvironmentTokenManagement"}})
	if life != 24*3600*1000 {
		t.Errorf("EnvironmentTokenManagement token without expiresIn lives %d ms, want 24 h", life)
	}
	if _, life := capped(map[string]any{"name": "etm2", "scopes": []string{"EnvironmentTokenManagement"},
		"expiresIn": map[string]any{"value": 48, "unit": "HOURS"}}); life != 24*3600*1000 {
		t.Errorf("48 h EnvironmentTokenManagement token lives %d ms, want 24 h", life)
	}
	if _, life := capped(map[string]any{"name": "etm3", "scopes": []string{"EnvironmentTokenManagement"},
		"expiresIn": map[string]any{"value": 2, "unit": "HOURS"}}); life != 2*3600*1000 {
		t.Errorf("2 h EnvironmentTokenManagement token lives %d ms", life)
	}

	// Rescoping a token that never expires to EnvironmentTokenManagement
	// brings the cap: it then expires within 24 hours.
	plain, _ := capped(map[string]any{"name": "plain", "scopes": []string{"settings.read"}})
	if r := s.do(t, req{method: "PUT", path: tokensPath + "/" + plain[:31], token: admin,
		body: map[string]any{"scopes": []string{"EnvironmentTokenManagement"}}}); r.Status != 204 {
		t.Fatalf("rescope: %d %s", r.Status, r.Body)
	}
	m := s.do(t, req{method: "GET", path: tokensPath + "/" + plain[:31], token: admin}).json(t)
	if exp, ok := m["expires"].(float64); !ok || int64(exp) > time.Now().Add(24*time.Hour).UnixMilli() {
		t.Errorf("rescoped to EnvironmentTokenManagement, expires = %v, want within 24 h", m["expires"])
	}

	var ids []string
	for _, name := range []string{"a", "b"} {
		r := s.do(t, req{method: "POST", path: envsPath, token: admin, body: map[string]any{"name": name}})
		if r.Status != 201 {
			t.Fatalf("create env: %d %s", r.Status, r.Body)
		}
		ids = append(ids, r.json(t)["id"].(string))
	}
	for _, id := range ids {
		r := s.do(t, req{method: "POST", path: envsPath + "/" + id + "/tokenManagementToken", token: etm,
			body: map[string]any{"name": "for " + id}})
		if r.Status != 201 {
			t.Fatalf("tokenManagementToken: %d %s", r.Status, r.Body)
		}
		tok := r.json(t)["token"].(string)
		s.remember(tok)
		// The minting token may not read environments or tokens itself.
		if r := s.do(t, req{method: "GET", path: envsPath, token: etm}); r.Status != 403 {
			t.Errorf("EnvironmentTokenManagement token listing environments: %d", r.Status)
		}
		// A cluster token-management script looks the new token up and deletes it.
		m := s.do(t, req{method: "POST", path: tokensPath + "/lookup", token: admin, body: map[string]any{"token": tok}}).json(t)
		if m["name"] != "for "+id {
			t.Errorf("lookup of minted token: %v", m)
		}
		if r := s.do(t, req{method: "DELETE", path: tokensPath + "/" + tok[:31], token: admin}); r.Status != 204 {
			t.Errorf("delete minted token: %d", r.Status)
		}
	}
	if r := s.do(t, req{method: "POST", path: envsPath + "/nope/tokenManagementToken", token: etm, body: map[string]any{"name": "x"}}); r.Status != 404 {
		t.Errorf("tokenManagementToken for unknown environment: %d %s", r.Status, r.Body)
	}
}

// TestEnvironmentsPagingUnderWrites walks 260 environments page by page while
// other environments are created: every environment that existed before the
// walk is seen exactly once.
func TestEnvironmentsPagingUnderWrites(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ServiceProviderAPI")
	before := map[string]bool{}
	for i := range 260 {
		r := s.do(t, req{method: "PUT", path: fmt.Sprintf("%s/env-%03d", envsPath, i), token: admin,
			body: map[string]any{"name": fmt.Sprintf("Env %03d", i)}})
		if r.Status != 201 {
			t.Fatalf("create %d: %d %s", i, r.Status, r.Body)
		}
		before[fmt.Sprintf("env-%03d", i)] = true
	}
	for _, sort := range []string{"name", "-name", "creationDate", "-creationDate"} {
		t.Run(sort, func(t *testing.T) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var n atomic.Int64
			wg.Go(func() { // a concurrent writer
				for {
					select {
					case <-stop:
						return
					default:
					}
					i := n.Add(1)
					s.do(t, req{method: "POST", path: envsPath, token: admin, body: map[string]any{"name": fmt.Sprintf("%s new %d", sort, i)}})
				}
			})
			seen := map[string]int{}
			path := envsPath + "?pageSize=25&sort=" + url.QueryEscape(sort)
			pages := 0
			for path != "" {
				r := s.do(t, req{method: "GET", path: path, token: admin})
				if r.Status != 200 {
					t.Fatalf("page %d: %d %s", pages, r.Status, r.Body)
				}
				body := r.json(t)
				for _, e := range body["environments"].([]any) {
					seen[e.(map[string]any)["id"].(string)]++
				}
				path = ""
				if key, ok := body["nextPageKey"].(string); ok && key != "" {
					path = envsPath + "?nextPageKey=" + url.QueryEscape(key)
				}
				pages++
			}
			close(stop)
			wg.Wait()
			for id := range before {
				if seen[id] != 1 {
					t.Errorf("%s seen %d times", id, seen[id])
				}
			}
			for id, c := range seen {
				if c > 1 {
					t.Errorf("%s seen %d times", id, c)
				}
			}
			if pages < 11 || n.Load() < 2 {
				t.Errorf("%d pages with %d concurrent creates: the walk did not overlap writes", pages, n.Load())
			}
		})
	}
}

// TestEnvironmentsConcurrentPartialPuts sends partial PUTs that each set a
// different limit, all at once: none may be lost to another's merge.
func TestEnvironmentsConcurrentPartialPuts(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ServiceProviderAPI")
	if r := s.do(t, req{method: "PUT", path: envsPath + "/merge", token: admin, body: map[string]any{"name": "merge"}}); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	quotas := map[string]map[string]any{
		"hostUnits": {"maxLimit": 11}, "customMetrics": {"maxLimit": 12},
		"demUnits": {"monthlyLimit": 13}, "syntheticMonitors": {"monthlyLimit": 14},
		"davisDataUnits": {"monthlyLimit": 15}, "logMonitoring": {"monthlyLimit": 16},
		"userSessions": {"totalMonthlyLimit": 17},
	}
	for round := range 3 {
		var wg sync.WaitGroup
		for name, q := range quotas {
			wg.Go(func() {
				r := s.do(t, req{method: "PUT", path: envsPath + "/merge", token: admin,
					body: map[string]any{"quotas": map[string]any{name: q}, "tags": []string{fmt.Sprint(round)}}})
				if r.Status != 204 {
					t.Errorf("PUT %s: %d %s", name, r.Status, r.Body)
				}
			})
		}
		wg.Wait()
	}
	got := s.do(t, req{method: "GET", path: envsPath + "/merge?includeConsumptionInfo=true", token: admin}).json(t)
	q := got["quotas"].(map[string]any)
	for name, want := range quotas {
		for field, v := range want {
			if q[name].(map[string]any)[field] != float64(v.(int)) {
				t.Errorf("quotas.%s.%s = %v, want %v: a concurrent PUT was lost", name, field, q[name].(map[string]any)[field], v)
			}
		}
	}
}

// TestEnvironmentsPartialLimits PUTs sub-objects that leave limits out, as a
// declarative tool or a script changing one figure does: a limit left out
// keeps its stored value, an explicit null makes it unlimited, a number sets
// it, and usage figures sent back change nothing. Each GET reads back exactly
// what was asked for, so such tools see no drift.
func TestEnvironmentsPartialLimits(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ServiceProviderAPI")
	r := s.do(t, req{method: "POST", path: envsPath, token: admin, body: map[string]any{
		"name": "partial",
		"quotas": map[string]any{
			"demUnits":     map[string]any{"monthlyLimit": 100, "annualLimit": 1200},
			"hostUnits":    map[string]any{"maxLimit": 50},
			"userSessions": map[string]any{"totalMonthlyLimit": 7, "totalAnnualLimit": 70},
		},
		"storage": map[string]any{"serviceRequestLevelRetention": map[string]any{"maxLimitInDays": 30}},
	}})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	path := envsPath + "/" + r.json(t)["id"].(string)
	// limits reads the limits of one sub-object, usage figures left out.
	limits := func(section, name string) map[string]any {
		t.Helper()
		r := s.do(t, req{method: "GET", path: path + "?includeConsumptionInfo=true&includeStorageInfo=true", token: admin})
		if r.Status != 200 {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}
		out := map[string]any{}
		for k, v := range r.json(t)[section].(map[string]any)[name].(map[string]any) {
			if strings.Contains(strings.ToLower(k), "limit") {
				out[k] = v
			}
		}
		return out
	}
	steps := []struct {
		name         string
		body         map[string]any
		section, obj string
		want         map[string]any
	}{
		{"one limit sent keeps the other", map[string]any{"quotas": map[string]any{"demUnits": map[string]any{"monthlyLimit": 5}}},
			"quotas", "demUnits", map[string]any{"monthlyLimit": 5.0, "annualLimit": 1200.0}},
		{"usage figures only change nothing", map[string]any{"quotas": map[string]any{"hostUnits": map[string]any{"currentUsage": 1}}},
			"quotas", "hostUnits", map[string]any{"maxLimit": 50.0}},
		{"usage figures beside a limit", map[string]any{"quotas": map[string]any{"demUnits": map[string]any{"consumedThisMonth": 3, "annualLimit": 999}}},
			"quotas", "demUnits", map[string]any{"monthlyLimit": 5.0, "annualLimit": 999.0}},
		{"explicit null is unlimited, the other kept", map[string]any{"quotas": map[string]any{"userSessions": map[string]any{"totalAnnualLimit": nil}}},
			"quotas", "userSessions", map[string]any{"totalMonthlyLimit": 7.0, "totalAnnualLimit": nil}},
		{"an empty sub-object changes nothing", map[string]any{"quotas": map[string]any{"demUnits": map[string]any{}}},
			"quotas", "demUnits", map[string]any{"monthlyLimit": 5.0, "annualLimit": 999.0}},
		{"a null sub-object changes nothing", map[string]any{"quotas": map[string]any{"hostUnits": nil}},
			"quotas", "hostUnits", map[string]any{"maxLimit": 50.0}},
		{"storage usage figures only", map[string]any{"storage": map[string]any{"serviceRequestLevelRetention": map[string]any{"currentlyUsedInDays": 4}}},
			"storage", "serviceRequestLevelRetention", map[string]any{"maxLimitInDays": 30.0}},
		{"every limit null", map[string]any{"quotas": map[string]any{"demUnits": map[string]any{"monthlyLimit": nil, "annualLimit": nil}}},
			"quotas", "demUnits", map[string]any{"monthlyLimit": nil, "annualLimit": nil}},
		{"a limit on an unlimited sub-object", map[string]any{"quotas": map[string]any{"demUnits": map[string]any{"annualLimit": 12}}},
			"quotas", "demUnits", map[string]any{"monthlyLimit": nil, "annualLimit": 12.0}},
	}
	for _, st := range steps {
		if r := s.do(t, req{method: "PUT", path: path, token: admin, body: st.body}); r.Status != 204 {
			t.Fatalf("%s: PUT %v: %d %s", st.name, st.body, r.Status, r.Body)
		}
		if diff := cmp.Diff(st.want, limits(st.section, st.obj)); diff != "" {
			t.Errorf("%s: %s.%s after PUT %v (-want +got):\n%s", st.name, st.section, st.obj, st.body, diff)
		}
	}
	// What the steps did not touch is as created.
	if diff := cmp.Diff(map[string]any{"maxLimit": 50.0}, limits("quotas", "hostUnits")); diff != "" {
		t.Errorf("hostUnits at the end (-want +got):\n%s", diff)
	}
}
