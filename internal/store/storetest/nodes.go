package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/cluster"
	"clusterapi/internal/errs"
)

func testNodes(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	a := &cluster.Node{Address: "10.0.0.1:8021", BuildVersion: "1.0", Started: base, Heartbeat: base}
	b := &cluster.Node{Address: "10.0.0.2:8021", BuildVersion: "1.0", Started: base, Heartbeat: base.Add(time.Second)}
	for _, n := range []*cluster.Node{a, b} {
		if err := s.RegisterNode(ctx, n); err != nil {
			t.Fatalf("RegisterNode(%s) = %v", n.Address, err)
		}
	}
	if a.ID == 0 || a.ID == b.ID {
		t.Fatalf("node ids %d, %d: want distinct, non-zero", a.ID, b.ID)
	}
	if err := s.HeartbeatNode(ctx, b.ID, base.Add(time.Minute)); err != nil {
		t.Fatalf("HeartbeatNode = %v", err)
	}
	if err := s.HeartbeatNode(ctx, 1<<40, base); !errs.Is(err, errs.NotFound) {
		t.Errorf("HeartbeatNode(unknown) = %v, want NotFound", err)
	}
	// A node restarting on the same address keeps its id.
	again := &cluster.Node{Address: a.Address, BuildVersion: "1.1", Started: base.Add(time.Hour), Heartbeat: base.Add(time.Hour)}
	if err := s.RegisterNode(ctx, again); err != nil || again.ID != a.ID {
		t.Errorf("RegisterNode(same address) = %v, id %d; want id %d", err, again.ID, a.ID)
	}
	b.Heartbeat = base.Add(time.Minute)
	got, err := s.FindNodes(ctx)
	if err != nil {
		t.Fatalf("FindNodes = %v", err)
	}
	if diff := cmp.Diff([]*cluster.Node{again, b}, got); diff != "" {
		t.Errorf("FindNodes (-want +got):\n%s", diff)
	}
	if err := s.DeleteNodes(ctx, base.Add(2*time.Minute)); err != nil {
		t.Fatalf("DeleteNodes = %v", err)
	}
	got, _ = s.FindNodes(ctx)
	if diff := cmp.Diff([]*cluster.Node{again}, got); diff != "" {
		t.Errorf("after DeleteNodes (-want +got):\n%s", diff)
	}
}
