package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const zonesPath = "/api/cluster/v2/networkZones"

// zoneJSON is a zone as the server writes it, counters at 0.
func zoneJSON(id, description string, alts []any, mode string) map[string]any {
	if alts == nil {
		alts = []any{}
	}
	return map[string]any{
		"id": id, "description": description, "alternativeZones": alts, "fallbackMode": mode,
		"numOfOneAgentsUsing": 0.0, "numOfConfiguredOneAgents": 0.0,
		"numOfOneAgentsFromOtherZones": 0.0, "numOfConfiguredActiveGates": 0.0,
	}
}

// zoneIDs lists the ids of GET networkZones.
func zoneIDs(t *testing.T, s *testServer, tok string) []string {
	t.Helper()
	r := s.do(t, req{method: "GET", path: zonesPath, token: tok})
	if r.Status != 200 {
		t.Fatalf("list zones: %d %s", r.Status, r.Body)
	}
	var body struct {
		NetworkZones []struct{ ID string } `json:"networkZones"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.NetworkZones == nil {
		t.Fatalf("list zones: %v: %s", err, r.Body)
	}
	ids := []string{}
	for _, z := range body.NetworkZones {
		ids = append(ids, z.ID)
	}
	return ids
}

// TestNetworkZonesWalkthrough follows what an infrastructure-as-code tool
// does: create, read, put back what it read, change, list, delete.
func TestNetworkZonesWalkthrough(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ServiceProviderAPI")
	if ids := zoneIDs(t, s, admin); len(ids) != 0 {
		t.Errorf("a new cluster lists zones %q, want none", ids)
	}

	// Create: 201 with the zone, ids in lower case, counters at 0.
	r := s.do(t, req{method: "PUT", path: zonesPath + "/AWS.US-East-1", token: admin, body: map[string]any{
		"description": "Virginia ✓", "alternativeZones": []string{"AWS.US-East-2", "aws.us-west-1"}, "fallbackMode": "NONE",
	}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	want := zoneJSON("aws.us-east-1", "Virginia ✓", []any{"aws.us-east-2", "aws.us-west-1"}, "NONE")
	if diff := cmp.Diff(want, r.json(t)); diff != "" {
		t.Errorf("create answer (-want +got):\n%s", diff)
	}
	if got := r.Header.Get("Location"); got != zonesPath+"/aws.us-east-1" {
		t.Errorf("Location = %q", got)
	}

	// Read in any case; PUT back what was read (counters and all): 204, no drift.
	get := func(id string) map[string]any {
		t.Helper()
		r := s.do(t, req{method: "GET", path: zonesPath + "/" + id, token: admin})
		if r.Status != 200 {
			t.Fatalf("get %s: %d %s", id, r.Status, r.Body)
		}
		return r.json(t)
	}
	for _, id := range []string{"aws.us-east-1", "AWS.US-EAST-1"} {
		if diff := cmp.Diff(want, get(id)); diff != "" {
			t.Errorf("get %s (-want +got):\n%s", id, diff)
		}
	}
	first := get("aws.us-east-1")
	first["numOfOneAgentsUsing"] = 7 // read-only: ignored
	if r := s.do(t, req{method: "PUT", path: zonesPath + "/aws.us-east-1", token: admin, body: first}); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("put back: %d %s", r.Status, r.Body)
	}
	if diff := cmp.Diff(want, get("aws.us-east-1")); diff != "" {
		t.Errorf("GET-PUT-GET drifted (-want +got):\n%s", diff)
	}

	// An update replaces the zone: what it leaves out or sends as null takes
	// its default. The body's id may differ from the path in case only.
	r = s.do(t, req{method: "PUT", path: zonesPath + "/aws.us-east-1", token: admin,
		body: `{"id":"AWS.us-east-1","description":"Virginia 2","alternativeZones":null,"fallbackMode":null,"scope":"x"}`})
	if r.Status != http.StatusNoContent {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if diff := cmp.Diff(zoneJSON("aws.us-east-1", "Virginia 2", nil, "ANY_ACTIVE_GATE"), get("aws.us-east-1")); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}

	// More zones; the list is sorted by id and every zone has all its fields.
	for _, id := range []string{"b", "a-b", "a.b", "A_B", "default"} {
		if r := s.do(t, req{method: "PUT", path: zonesPath + "/" + id, token: admin, body: `{}`}); r.Status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", id, r.Status, r.Body)
		}
	}
	if diff := cmp.Diff([]string{"a-b", "a.b", "a_b", "aws.us-east-1", "b", "default"}, zoneIDs(t, s, admin)); diff != "" {
		t.Errorf("list order (-want +got):\n%s", diff)
	}
	list := s.do(t, req{method: "GET", path: zonesPath, token: admin}).json(t)
	if diff := cmp.Diff(zoneJSON("a-b", "", nil, "ANY_ACTIVE_GATE"), list["networkZones"].([]any)[0]); diff != "" {
		t.Errorf("listed zone (-want +got):\n%s", diff)
	}

	// Delete in any case; then it is gone, and a second delete is 404.
	if r := s.do(t, req{method: "DELETE", path: zonesPath + "/AWS.US-EAST-1", token: admin}); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	for _, rq := range []req{
		{method: "GET", path: zonesPath + "/aws.us-east-1", token: admin},
		{method: "DELETE", path: zonesPath + "/aws.us-east-1", token: admin},
	} {
		r := s.do(t, rq)
		if r.Status != http.StatusNotFound || r.errorMessage(t) != "Network zone aws.us-east-1 not found" {
			t.Errorf("%s after delete: %d %s", rq.method, r.Status, r.Body)
		}
	}
	if r := s.do(t, req{method: "PATCH", path: zonesPath + "/b", token: admin}); r.Status != http.StatusMethodNotAllowed ||
		r.Header.Get("Allow") != "GET, PUT, DELETE" {
		t.Errorf("PATCH a zone: %d Allow=%q", r.Status, r.Header.Get("Allow"))
	}
}

// violationsAt returns "path LOCATION" of each constraint violation.
func violationsAt(t *testing.T, r response) []string {
	t.Helper()
	var env struct {
		Error struct {
			ConstraintViolations []struct{ Path, ParameterLocation string }
		}
	}
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("not the envelope: %v: %s", err, r.Body)
	}
	var out []string
	for _, v := range env.Error.ConstraintViolations {
		out = append(out, v.Path+" "+v.ParameterLocation)
	}
	return out
}

// TestNetworkZonesBadInput: every bad request is a 400 (413 when too large)
// in the envelope naming what is at fault, and changes nothing.
func TestNetworkZonesBadInput(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ServiceProviderAPI")
	keep := map[string]any{"description": "keep", "alternativeZones": []string{"other"}, "fallbackMode": "NONE"}
	if r := s.do(t, req{method: "PUT", path: zonesPath + "/kept", token: admin, body: keep}); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	kept := s.do(t, req{method: "GET", path: zonesPath + "/kept", token: admin}).json(t)

	badIDs := []string{"a%20b", "a$b", "a%3Cscript%3E", "%C3%A9", "%E2%84%AA" /* KELVIN SIGN */, ".lead", "trail.", "a..b", strings.Repeat("x", 257)}
	many := make([]string, 101)
	for i := range many {
		many[i] = "z" + strings.Repeat("x", i)
	}
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		want       string // a violation "path LOCATION" that must be named, if any
	}{
		{"unknown fallbackMode", "PUT", "/new", map[string]any{"fallbackMode": "SOMETIMES"}, 400, "fallbackMode PAYLOAD_BODY"},
		{"lower-case fallbackMode", "PUT", "/new", map[string]any{"fallbackMode": "none"}, 400, "fallbackMode PAYLOAD_BODY"},
		{"empty fallbackMode", "PUT", "/new", map[string]any{"fallbackMode": ""}, 400, "fallbackMode PAYLOAD_BODY"},
		{"fallbackMode number", "PUT", "/new", map[string]any{"fallbackMode": 1}, 400, "fallbackMode PAYLOAD_BODY"},
		{"description number", "PUT", "/new", map[string]any{"description": 5}, 400, "description PAYLOAD_BODY"},
		{"description too long", "PUT", "/new", map[string]any{"description": strings.Repeat("é", 1025)}, 400, "description PAYLOAD_BODY"},
		{"description control", "PUT", "/new", map[string]any{"description": "a\u0007b"}, 400, "description PAYLOAD_BODY"},
		{"alternativeZones string", "PUT", "/new", map[string]any{"alternativeZones": "other"}, 400, "alternativeZones PAYLOAD_BODY"},
		{"alternativeZones object", "PUT", "/new", map[string]any{"alternativeZones": map[string]any{}}, 400, "alternativeZones PAYLOAD_BODY"},
		{"alternative number", "PUT", "/new", map[string]any{"alternativeZones": []any{"a", 1}}, 400, "alternativeZones[1] PAYLOAD_BODY"},
		{"alternative bad id", "PUT", "/new", map[string]any{"alternativeZones": []string{"a", "b c"}}, 400, "alternativeZones[1] PAYLOAD_BODY"},
		{"alternative null", "PUT", "/new", `{"alternativeZones":["a",null]}`, 400, "alternativeZones[1] PAYLOAD_BODY"},
		{"alternative duplicate", "PUT", "/new", map[string]any{"alternativeZones": []string{"a", "b", "A"}}, 400, "alternativeZones[2] PAYLOAD_BODY"},
		{"alternative itself", "PUT", "/new", map[string]any{"alternativeZones": []string{"a", "NEW"}}, 400, "alternativeZones[1] PAYLOAD_BODY"},
		{"too many alternatives", "PUT", "/new", map[string]any{"alternativeZones": many}, 400, "alternativeZones PAYLOAD_BODY"},
		{"mismatched body id", "PUT", "/new", map[string]any{"id": "other"}, 400, "id PAYLOAD_BODY"},
		{"body id number", "PUT", "/new", map[string]any{"id": 5}, 400, "id PAYLOAD_BODY"},
		{"update with mismatched id", "PUT", "/kept", map[string]any{"id": "new", "description": "changed"}, 400, "id PAYLOAD_BODY"},
		{"update with bad mode", "PUT", "/kept", map[string]any{"description": "changed", "fallbackMode": "ALWAYS"}, 400, "fallbackMode PAYLOAD_BODY"},
		{"malformed JSON", "PUT", "/new", `{"description": "x"`, 400, ""},
		{"syntax error", "PUT", "/new", `{"description": }`, 400, ""},
		{"not an object", "PUT", "/new", `["x"]`, 400, ""},
		{"trailing garbage", "PUT", "/new", `{} {}`, 400, ""},
		{"empty body", "PUT", "/new", ``, 400, ""},
		{"invalid UTF-8", "PUT", "/new", "{\"description\":\"a\xffb\"}", 400, ""},
		{"lone surrogate", "PUT", "/new", `{"description":"a\ud800b"}`, 400, ""},
		{"form body", "PUT", "/new", nil, 400, ""}, // body and Content-Type set below
		{"huge body", "PUT", "/new", `{"description":"` + strings.Repeat("x", 1<<20+10) + `"}`, 413, ""},
		{"unknown zone", "GET", "/nope", nil, 404, ""},
		{"delete unknown zone", "DELETE", "/nope", nil, 404, ""},
	}
	for _, id := range badIDs {
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			var body any
			if m == "PUT" {
				body = map[string]any{}
			}
			tests = append(tests, struct {
				name       string
				method     string
				path       string
				body       any
				wantStatus int
				want       string
			}{m + " bad id " + id[:min(len(id), 12)], m, "/" + id, body, 400, "id PATH"})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rq := req{method: tt.method, path: zonesPath + tt.path, token: admin, body: tt.body}
			if tt.name == "form body" {
				rq.body, rq.header = "description=x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			}
			r := s.do(t, rq)
			if r.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.wantStatus, r.Body)
			}
			msg := r.errorMessage(t)
			got := violationsAt(t, r)
			if tt.want != "" && (!slices.Contains(got, tt.want) || msg != "Constraints violated.") {
				t.Errorf("violations %q with message %q, want %q among them: %s", got, msg, tt.want, r.Body)
			}
		})
	}

	// Nothing was created or changed by any of it.
	if diff := cmp.Diff([]string{"kept"}, zoneIDs(t, s, admin)); diff != "" {
		t.Errorf("zones after bad requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(kept, s.do(t, req{method: "GET", path: zonesPath + "/kept", token: admin}).json(t)); diff != "" {
		t.Errorf("bad PUTs changed the zone (-before +after):\n%s", diff)
	}
}

// TestNetworkZonesScope: a token without ServiceProviderAPI is refused on
// every operation, and its PUT and DELETE change nothing.
func TestNetworkZonesScope(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")
	weak := s.mint(t, admin, "weak", "settings.read", "settings.write", "ControlManagement")
	if r := s.do(t, req{method: "PUT", path: zonesPath + "/kept", token: admin, body: map[string]any{"description": "keep"}}); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	for _, rq := range []req{
		{method: "GET", path: zonesPath},
		{method: "GET", path: zonesPath + "/kept"},
		{method: "PUT", path: zonesPath + "/kept", body: map[string]any{"description": "changed"}},
		{method: "PUT", path: zonesPath + "/new", body: map[string]any{}},
		{method: "DELETE", path: zonesPath + "/kept"},
		{method: "GET", path: zonesPath + "/bad%20id"}, // the scope is checked before the input
	} {
		rq.token = weak
		r := s.do(t, rq)
		want := "Token is missing required scope. Use one of: ServiceProviderAPI (Service Provider API)"
		if r.Status != http.StatusForbidden || r.errorMessage(t) != want {
			t.Errorf("%s %s with a weak token: %d %s", rq.method, rq.path, r.Status, r.Body)
		}
		rq.token = ""
		if r := s.do(t, rq); r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d %s", rq.method, rq.path, r.Status, r.Body)
		}
	}
	if diff := cmp.Diff([]string{"kept"}, zoneIDs(t, s, admin)); diff != "" {
		t.Errorf("zones after refused requests (-want +got):\n%s", diff)
	}
	if got := s.do(t, req{method: "GET", path: zonesPath + "/kept", token: admin}).json(t); got["description"] != "keep" {
		t.Errorf("a refused PUT changed the zone: %v", got)
	}
}

// TestNetworkZonesConcurrentPuts: many PUTs of one new id at once create it
// exactly once; the others update it, and none fails.
func TestNetworkZonesConcurrentPuts(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ServiceProviderAPI")
	const n = 20
	var created, updated atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			r := s.do(t, req{method: "PUT", path: zonesPath + "/race", token: admin, body: map[string]any{"fallbackMode": "NONE"}})
			switch r.Status {
			case http.StatusCreated:
				created.Add(1)
			case http.StatusNoContent:
				updated.Add(1)
			default:
				t.Errorf("PUT: %d %s", r.Status, r.Body)
			}
		})
	}
	wg.Wait()
	if created.Load() != 1 || updated.Load() != n-1 {
		t.Errorf("%d concurrent PUTs: %d created, %d updated; want 1 and %d", n, created.Load(), updated.Load(), n-1)
	}
	if diff := cmp.Diff([]string{"race"}, zoneIDs(t, s, admin)); diff != "" {
		t.Errorf("zones (-want +got):\n%s", diff)
	}
}
