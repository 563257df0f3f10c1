package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"clusterapi/internal/pgtest"
)

func probe(t *testing.T, s *testServer, path string) int {
	t.Helper()
	resp, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPostgresOutage stops PostgreSQL under two running nodes: every API
// call answers 503 in the envelope with Retry-After (a cached token is not
// trusted without the store), /readyz says 503 and /healthz 200. When the
// database is back, the same nodes serve again, nothing acknowledged before
// the outage is lost, and revocations travel between the nodes again.
func TestPostgresOutage(t *testing.T) {
	pg := pgtest.New(t)
	// The test server trusts every connection; the password is there to
	// show it never reaches the log, whatever fails.
	dsn := strings.Replace(pg.NewDatabase(t), "postgres@", "postgres:pw-s3cret@", 1)
	nodes := startNodes(t, dsn, 2)
	a, b := nodes[0], nodes[1]
	admin := a.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")
	rememberAll(nodes, admin)
	victim := a.mint(t, admin, "victim", "ServiceProviderAPI")
	rememberAll(nodes, victim)
	r := a.do(t, req{method: "POST", path: "/api/cluster/v2/environments", token: admin, body: map[string]any{"name": "kept"}})
	if r.Status != 201 {
		t.Fatalf("create environment: %d %s", r.Status, r.Body)
	}
	envID := r.json(t)["id"].(string)
	for _, s := range nodes {
		if got := probe(t, s, "/readyz"); got != 200 {
			t.Errorf("readyz before the outage: %d", got)
		}
		useStatus(t, s, admin) // cached
		if got := useStatus(t, s, admin); got != 200 {
			t.Fatalf("before the outage: %d", got)
		}
	}

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	calls := []req{
		{method: "GET", path: tokensPath, token: admin},
		{method: "GET", path: tokensPath + "/" + victim[:31], token: admin},
		{method: "POST", path: tokensPath, token: admin, body: map[string]any{"name": "x", "scopes": []string{"Nodekeeper"}}},
		{method: "PUT", path: tokensPath + "/" + victim[:31], token: admin, body: map[string]any{"revoked": true}},
		{method: "GET", path: "/api/cluster/v2/environments", token: admin},
		{method: "GET", path: "/api/cluster/v2/environments/" + envID, token: admin},
		{method: "GET", path: clusterPath, token: admin},
		{method: "GET", path: "/api/cluster/v2/environments", token: victim},
	}
	for _, s := range nodes {
		// The cached admin token is refused as soon as the node notices the
		// notification connection is gone; wait for that, then check all.
		waitWithin(t, 5*time.Second, "503 on a cached token", func() bool { return useStatus(t, s, admin) == 503 })
		for _, c := range calls {
			r := s.do(t, c)
			if r.Status != 503 || r.Header.Get("Retry-After") == "" {
				t.Errorf("%s %s during the outage: %d Retry-After=%q %s", c.method, c.path, r.Status, r.Header.Get("Retry-After"), r.Body)
				continue
			}
			if msg := r.errorMessage(t); !strings.Contains(msg, "retry") {
				t.Errorf("%s %s: message %q", c.method, c.path, msg)
			}
		}
		if got := probe(t, s, "/readyz"); got != 503 {
			t.Errorf("readyz during the outage: %d", got)
		}
		if got := probe(t, s, "/healthz"); got != 200 {
			t.Errorf("healthz during the outage: %d", got)
		}
	}

	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	for _, s := range nodes {
		d := waitWithin(t, 15*time.Second, "200 after the outage", func() bool { return useStatus(t, s, admin) == 200 })
		t.Logf("node serves again %v after PostgreSQL was back", d)
		if got := probe(t, s, "/readyz"); got != 200 {
			t.Errorf("readyz after the outage: %d", got)
		}
		if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/environments/" + envID, token: admin}); r.Status != 200 {
			t.Errorf("environment after the outage: %d %s", r.Status, r.Body)
		}
		if got := useStatus(t, s, victim); got != 403 { // a valid token without ClusterTokenManagement
			t.Errorf("victim after the outage: %d", got)
		}
	}
	// A revocation on A reaches B again.
	if r := a.do(t, req{method: "PUT", path: tokensPath + "/" + victim[:31], token: admin, body: map[string]any{"revoked": true}}); r.Status != 204 {
		t.Fatalf("revoke after the outage: %d %s", r.Status, r.Body)
	}
	waitFor(t, "revocation after the outage", func() bool { return useStatus(t, b, victim) == 401 })
	for _, s := range nodes {
		if logs := s.Log.String(); strings.Contains(logs, "pw-s3cret") {
			t.Errorf("the log holds the database password")
		}
	}
}
