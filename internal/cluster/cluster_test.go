package cluster_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"clusterapi/internal/cluster"
	"clusterapi/internal/store/sqlite"
)

// TestStates walks a node through RUNNING, OFFLINE and forgotten on a
// clock the test moves.
func TestStates(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "nodes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	self := cluster.Node{Address: "10.0.0.1:8021", BuildVersion: "1.0", Started: now}
	r := cluster.New(db, self, cluster.Options{Heartbeat: 5 * time.Second, Now: clock})
	if err := r.Register(ctx); err != nil {
		t.Fatalf("Register = %v", err)
	}
	if got, want := r.OfflineAfter(), 15*time.Second; got != want {
		t.Errorf("OfflineAfter = %v, want %v", got, want)
	}
	if got, want := r.ForgetAfter(), time.Hour; got != want {
		t.Errorf("ForgetAfter = %v, want %v", got, want)
	}
	tests := []struct {
		name    string
		advance time.Duration // since the heartbeat
		want    []cluster.State
	}{
		{"just registered", 0, []cluster.State{cluster.Running}},
		{"two beats missed", 14999 * time.Millisecond, []cluster.State{cluster.Running}},
		{"three beats missed", 15 * time.Second, []cluster.State{cluster.Offline}},
		{"almost forgotten", time.Hour - time.Millisecond, []cluster.State{cluster.Offline}},
		{"forgotten", time.Hour, nil},
	}
	start := now
	for _, tt := range tests {
		now = start.Add(tt.advance)
		vs, err := r.Nodes(ctx)
		if err != nil {
			t.Fatalf("%s: Nodes = %v", tt.name, err)
		}
		var got []cluster.State
		for _, v := range vs {
			got = append(got, v.State)
			if v.ID != r.Self().ID || v.Address != self.Address || !v.Started.Equal(self.Started) {
				t.Errorf("%s: node %+v, want %+v", tt.name, v.Node, r.Self())
			}
		}
		if len(got) != len(tt.want) || len(got) > 0 && got[0] != tt.want[0] {
			t.Errorf("%s: states %v, want %v", tt.name, got, tt.want)
		}
	}
}
