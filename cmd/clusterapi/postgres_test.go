package main

import (
	"strings"
	"testing"

	"clusterapi/internal/pgtest"
)

// TestPostgresWalkthrough drives the token walkthrough of the README on a
// server whose store is PostgreSQL, with the CLI working on the same store.
func TestPostgresWalkthrough(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := startServerOn(t, dsn)
	if strings.Contains(s.Log.String(), dsn) {
		t.Errorf("the log holds the full store URL")
	}
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")
	tok := s.mint(t, admin, "pipeline", "ServiceProviderAPI")
	id := tok[:31]
	path := tokensPath + "/" + id

	if n := tokenCount(t, s, admin); n != 2 {
		t.Errorf("list: %d tokens, want 2", n)
	}
	if r := s.do(t, req{method: "PUT", path: path, token: admin,
		body: map[string]any{"name": "pipeline-2", "scopes": []string{"ServiceProviderAPI", "settings.read"}}}); r.Status != 204 {
		t.Fatalf("rename, rescope: %d %s", r.Status, r.Body)
	}
	meta := s.do(t, req{method: "GET", path: path, token: admin}).json(t)
	if meta["name"] != "pipeline-2" || len(meta["scopes"].([]any)) != 2 {
		t.Errorf("after PUT: %v", meta)
	}
	r := s.do(t, req{method: "POST", path: tokensPath + "/lookup", token: admin, body: map[string]any{"token": tok}})
	if r.Status != 200 || r.json(t)["id"] != id {
		t.Errorf("lookup: %d %s", r.Status, r.Body)
	}
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/environments", token: tok}); r.Status != 200 {
		t.Errorf("use: %d %s", r.Status, r.Body)
	}
	if r := s.do(t, req{method: "PUT", path: path, token: admin, body: map[string]any{"revoked": true}}); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	r = s.do(t, req{method: "GET", path: "/api/cluster/v2/environments", token: tok})
	if r.Status != 401 || r.errorMessage(t) != "Token has been revoked" {
		t.Errorf("after revoke: %d %s", r.Status, r.Body)
	}

	// The CLI works on the same store: list, restore, delete.
	out, err := s.cli(t, "token", "list")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "revoked") {
		t.Errorf("token list = %q, %v", out, err)
	}
	if _, err := s.cli(t, "token", "restore", id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "CLI restore", func() bool {
		return s.do(t, req{method: "GET", path: "/api/cluster/v2/environments", token: tok}).Status == 200
	})
	if _, err := s.cli(t, "token", "delete", id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "CLI delete", func() bool {
		return s.do(t, req{method: "GET", path: "/api/cluster/v2/environments", token: tok}).Status == 401
	})
	if r := s.do(t, req{method: "GET", path: path, token: admin}); r.Status != 404 {
		t.Errorf("get after delete: %d %s", r.Status, r.Body)
	}
}

func TestDescribeStore(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sqlite:./data/x.db", "sqlite:./data/x.db"},
		{"postgres://app:s3cret@db.example:5432/clusterapi?sslmode=require&password=x", "postgres://app@db.example:5432/clusterapi"},
		{"postgresql://db.example/c", "postgresql://db.example/c"},
		{"postgres://app:s3cret@[bad", "postgres://..."},
	}
	for _, tt := range tests {
		if got := describeStore(tt.in); got != tt.want {
			t.Errorf("describeStore(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
