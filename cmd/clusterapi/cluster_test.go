package main

import (
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"clusterapi/internal/pgtest"
)

const clusterPath = "/api/v1.0/onpremise/cluster"

// clusterNodeJSON is a node as GET /cluster shows it.
type clusterNodeJSON struct {
	ID                   int64    `json:"id"`
	ClusterMemberAddress string   `json:"clusterMemberAddress"`
	OperationState       string   `json:"operationState"`
	BuildVersion         string   `json:"buildVersion"`
	CommunicationURIs    []string `json:"communicationUris"`
	StartupTime          int64    `json:"startupTime"`
	LastHeartbeat        int64    `json:"lastHeartbeat"`
}

func clusterNodes(t *testing.T, s *testServer, tok string) map[string]clusterNodeJSON {
	t.Helper()
	r := s.do(t, req{method: "GET", path: clusterPath, token: tok})
	if r.Status != 200 {
		t.Fatalf("GET cluster: %d %s", r.Status, r.Body)
	}
	var ns []clusterNodeJSON
	if err := json.Unmarshal(r.Body, &ns); err != nil {
		t.Fatalf("GET cluster: %v: %s", err, r.Body)
	}
	out := map[string]clusterNodeJSON{}
	for _, n := range ns {
		out[n.ClusterMemberAddress] = n
	}
	return out
}

// TestClusterSingleNode lists the one node of an SQLite server, and checks
// the scopes the route accepts.
func TestClusterSingleNode(t *testing.T) {
	before := time.Now().UnixMilli()
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	for _, scope := range []string{"ServiceProviderAPI", "ControlManagement", "Nodekeeper"} {
		tok := s.mint(t, admin, scope, scope)
		ns := clusterNodes(t, s, tok)
		n, ok := ns[strings.TrimPrefix(s.URL, "http://")]
		if len(ns) != 1 || !ok {
			t.Fatalf("with %s: nodes %v, want this one", scope, ns)
		}
		if n.ID == 0 || n.OperationState != "RUNNING" || n.BuildVersion == "" || n.CommunicationURIs == nil ||
			n.StartupTime < before || n.StartupTime > time.Now().UnixMilli() {
			t.Errorf("node = %+v", n)
		}
	}
	r := s.do(t, req{method: "GET", path: clusterPath, token: admin})
	if r.Status != 403 || !strings.Contains(r.errorMessage(t), "ServiceProviderAPI (Service Provider API), ControlManagement") {
		t.Errorf("without the scope: %d %s", r.Status, r.Body)
	}
	if r := s.do(t, req{method: "GET", path: clusterPath}); r.Status != 401 {
		t.Errorf("without a token: %d", r.Status)
	}
}

// TestClusterNodes runs three nodes on one database with a short heartbeat:
// each lists all three RUNNING; a stopped node turns OFFLINE after three
// missed heartbeats; a restarted one comes back under its id.
func TestClusterNodes(t *testing.T) {
	const heartbeat = 100 * time.Millisecond
	nodes := startNodes(t, pgtest.DSN(t), 3, "--heartbeat", heartbeat.String())
	a, b, c := nodes[0], nodes[1], nodes[2]
	admin := a.bootstrap(t, "ServiceProviderAPI")
	rememberAll(nodes, admin)
	addr := func(s *testServer) string { return strings.TrimPrefix(s.URL, "http://") }
	for _, s := range nodes {
		ns := clusterNodes(t, s, admin)
		if len(ns) != 3 {
			t.Fatalf("nodes = %v, want 3", ns)
		}
		for _, o := range nodes {
			if n := ns[addr(o)]; n.OperationState != "RUNNING" {
				t.Errorf("node %s: %+v, want RUNNING", addr(o), n)
			}
		}
	}
	cID := clusterNodes(t, a, admin)[addr(c)].ID
	c.Stop(t)
	d := waitWithin(t, 10*time.Second, "stopped node OFFLINE", func() bool {
		return clusterNodes(t, b, admin)[addr(c)].OperationState == "OFFLINE"
	})
	t.Logf("stopped node OFFLINE after %v (heartbeat %v)", d, heartbeat)
	if n := clusterNodes(t, a, admin)[addr(a)]; n.OperationState != "RUNNING" {
		t.Errorf("running node: %+v", n)
	}
	// Back on the same address: the same id, RUNNING again.
	c2 := startServerOn(t, c.Store, "--listen", addr(c), "--heartbeat", heartbeat.String())
	c2.remember(admin)
	if n := clusterNodes(t, b, admin)[addr(c)]; n.ID != cID || n.OperationState != "RUNNING" {
		t.Errorf("restarted node: %+v, want id %d RUNNING", n, cID)
	}
}

func TestAdvertiseAddress(t *testing.T) {
	host := func() string { h, _ := os.Hostname(); return h }
	tests := []struct {
		given string
		addr  net.Addr
		want  string
	}{
		{"", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8021}, "127.0.0.1:8021"},
		{"node-a.internal:8021", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8021}, "node-a.internal:8021"},
		{"", &net.TCPAddr{IP: net.IPv4zero, Port: 8021}, net.JoinHostPort(host(), "8021")},
		{"", &net.TCPAddr{IP: net.IPv6unspecified, Port: 9000}, net.JoinHostPort(host(), "9000")},
	}
	for _, tt := range tests {
		if got := advertiseAddress(tt.given, tt.addr); got != tt.want {
			t.Errorf("advertiseAddress(%q, %v) = %q, want %q", tt.given, tt.addr, got, tt.want)
		}
	}
}
