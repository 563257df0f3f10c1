package main

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"clusterapi/internal/pgtest"
)

// startNodes runs n servers on one PostgreSQL database, as a cluster behind
// a load balancer would.
func startNodes(t *testing.T, dsn string, n int, flags ...string) []*testServer {
	t.Helper()
	nodes := make([]*testServer, n)
	for i := range nodes {
		nodes[i] = startServerOn(t, dsn, flags...)
	}
	return nodes
}

// rememberAll notes minted tokens on every node, for the log checks.
func rememberAll(nodes []*testServer, toks ...string) {
	for _, n := range nodes {
		n.remember(toks...)
	}
}

func useStatus(t *testing.T, s *testServer, tok string) int {
	t.Helper()
	return s.do(t, req{method: "GET", path: tokensPath + "?limit=1", token: tok}).Status
}

// percentile returns the p-th percentile (0-100) of sorted ds.
func percentile(ds []time.Duration, p int) time.Duration {
	return ds[(len(ds)-1)*p/100]
}

// TestNodesSeeEachOthersChanges runs three nodes on one database: a token
// created on A works on B and C; a revocation through A is refused by B and
// C within a second (the delay is measured over many revocations and
// logged); renames, rescopes and deletions travel the same way.
func TestNodesSeeEachOthersChanges(t *testing.T) {
	nodes := startNodes(t, pgtest.DSN(t), 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	admin := a.bootstrap(t, "ClusterTokenManagement")
	rememberAll(nodes, admin)
	victim := a.mint(t, admin, "victim", "ClusterTokenManagement", "ServiceProviderAPI")
	rememberAll(nodes, victim)
	path := tokensPath + "/" + victim[:31]
	put := func(s *testServer, body map[string]any) {
		t.Helper()
		if r := s.do(t, req{method: "PUT", path: path, token: admin, body: body}); r.Status != 204 {
			t.Fatalf("PUT %v: %d %s", body, r.Status, r.Body)
		}
	}

	// Create on A, use on B and C at once.
	var wg sync.WaitGroup
	for _, s := range []*testServer{b, c} {
		wg.Go(func() {
			for range 20 {
				if got := useStatus(t, s, victim); got != 200 {
					t.Errorf("use on another node: %d", got)
					return
				}
			}
		})
	}
	wg.Wait()

	// Revoke through A, many times, and time how long B and C keep
	// accepting the token. Each round first makes sure both have it cached.
	const rounds = 50
	var delays []time.Duration
	for i := range rounds {
		if i > 0 {
			put(a, map[string]any{"revoked": false})
		}
		for _, s := range []*testServer{b, c} {
			waitFor(t, "restore", func() bool { return useStatus(t, s, victim) == 200 })
			useStatus(t, s, victim) // a cache hit
		}
		put(a, map[string]any{"revoked": true})
		committed := time.Now()
		var mu sync.Mutex
		for _, s := range []*testServer{b, c} {
			wg.Go(func() {
				for useStatus(t, s, victim) != 401 {
					if time.Since(committed) > time.Second {
						t.Errorf("round %d: revoked token still accepted after a second", i)
						return
					}
				}
				mu.Lock()
				delays = append(delays, time.Since(committed))
				mu.Unlock()
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
	slices.Sort(delays)
	t.Logf("revocation on A refused by B and C after: p50 %v, p90 %v, p99 %v, max %v (%d samples; each includes one request)",
		percentile(delays, 50), percentile(delays, 90), percentile(delays, 99), delays[len(delays)-1], len(delays))

	// Restore and rescope through C: enforced on A and B.
	put(c, map[string]any{"revoked": false})
	for _, s := range []*testServer{a, b} {
		waitFor(t, "restore", func() bool { return useStatus(t, s, victim) == 200 })
	}
	put(c, map[string]any{"scopes": []string{"ServiceProviderAPI"}})
	for _, s := range []*testServer{a, b} {
		waitFor(t, "rescope", func() bool { return useStatus(t, s, victim) == 403 })
	}
	// Rename through A: B reads the new name.
	put(a, map[string]any{"name": "renamed"})
	if got := b.do(t, req{method: "GET", path: path, token: admin}).json(t)["name"]; got != "renamed" {
		t.Errorf("name on B after rename on A = %v", got)
	}
	// Delete through A: 401 on B and C.
	if r := a.do(t, req{method: "DELETE", path: path, token: admin}); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	for _, s := range []*testServer{b, c} {
		waitFor(t, "delete", func() bool { return useStatus(t, s, victim) == 401 })
	}
}

// TestNodesNotificationConnectionKilled cuts every node's notification
// connection (as a database restart or a network fault would) and shows
// that a revoked token is still refused, and that the nodes listen again.
func TestNodesNotificationConnectionKilled(t *testing.T) {
	dsn := pgtest.DSN(t)
	nodes := startNodes(t, dsn, 2)
	a, b := nodes[0], nodes[1]
	admin := a.bootstrap(t, "ClusterTokenManagement")
	rememberAll(nodes, admin)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	kill := func() {
		t.Helper()
		var n int
		if err := conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n < 2 {
			t.Fatalf("terminated %d listening connections, want one per node", n)
		}
	}
	for i := range 5 {
		victim := a.mint(t, admin, "victim", "ClusterTokenManagement")
		rememberAll(nodes, victim)
		waitFor(t, "new token", func() bool { return useStatus(t, b, victim) == 200 })
		useStatus(t, b, victim) // cached on B
		kill()
		if r := a.do(t, req{method: "PUT", path: tokensPath + "/" + victim[:31], token: admin,
			body: map[string]any{"revoked": true}}); r.Status != 204 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		d := waitFor(t, "revocation after the notification connection was cut", func() bool { return useStatus(t, b, victim) == 401 })
		t.Logf("round %d: refused on B after %v", i, d)
		// Every node listens again (the wait also covers reconnection).
		waitWithin(t, 5*time.Second, "listeners back", func() bool {
			var n int
			conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&n)
			return n >= 2
		})
	}
}

// TestNodesConcurrentCreates spreads 200 concurrent creates over three
// nodes: every one succeeds, with a unique id.
func TestNodesConcurrentCreates(t *testing.T) {
	nodes := startNodes(t, pgtest.DSN(t), 3)
	admin := nodes[0].bootstrap(t, "ClusterTokenManagement")
	rememberAll(nodes, admin)
	const n = 200
	toks := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 24)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			s := nodes[i%len(nodes)]
			r := s.do(t, req{method: "POST", path: tokensPath, token: admin,
				body: map[string]any{"name": "concurrent", "scopes": []string{"Nodekeeper"}}})
			if r.Status != 201 {
				t.Errorf("create %d on node %d: %d %s", i, i%len(nodes), r.Status, r.Body)
				return
			}
			toks[i], _ = r.json(t)["token"].(string)
		})
	}
	wg.Wait()
	rememberAll(nodes, toks...)
	seen := map[string]bool{}
	for _, tok := range toks {
		if len(tok) > 31 {
			seen[tok[:31]] = true
		}
	}
	if len(seen) != n {
		t.Errorf("%d unique ids, want %d", len(seen), n)
	}
	for _, s := range nodes {
		if got := tokenCount(t, s, admin); got != n+1 {
			t.Errorf("list on a node: %d tokens, want %d", got, n+1)
		}
	}
}

// TestNodesLastUse uses one token on two nodes at once, for a few flush
// intervals: the lastUse that a third node reads never goes backwards and
// ends at about the latest use.
func TestNodesLastUse(t *testing.T) {
	nodes := startNodes(t, pgtest.DSN(t), 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	admin := a.bootstrap(t, "ClusterTokenManagement")
	rememberAll(nodes, admin)
	user := a.mint(t, admin, "user", "ServiceProviderAPI")
	rememberAll(nodes, user)
	lastUse := func() int64 {
		m := a.do(t, req{method: "GET", path: tokensPath + "/" + user[:31], token: admin}).json(t)
		ms, _ := m["lastUse"].(float64)
		return int64(ms)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range []*testServer{b, c} {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s.do(t, req{method: "GET", path: "/api/cluster/v2/environments", token: user})
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	var prev int64
	deadline := time.Now().Add(3500 * time.Millisecond)
	for time.Now().Before(deadline) {
		got := lastUse()
		if got < prev {
			t.Errorf("lastUse went back from %d to %d", prev, got)
		}
		prev = got
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	lastRequest := time.Now().UnixMilli()
	var final int64
	waitWithin(t, 5*time.Second, "lastUse of the latest use", func() bool {
		final = lastUse()
		return final >= lastRequest-1500 // uses are handed over once a second per token
	})
	if final < prev || final > time.Now().UnixMilli() {
		t.Errorf("final lastUse %d, earlier %d, now %d", final, prev, time.Now().UnixMilli())
	}
}
