// Package cluster keeps the registry of server nodes that share one store
// (SPEC 5, GET /api/v1.0/onpremise/cluster): each node registers itself when
// it starts and heartbeats while it runs; a node that stops heartbeating is
// shown OFFLINE after OfflineAfter and forgotten after ForgetAfter. With the
// embedded SQLite store the cluster is this one node.
package cluster

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"clusterapi/internal/errs"
)

// State is a node's operation state. Its value is the wire name.
type State string

// The operation states of a node.
const (
	Running State = "RUNNING"
	Offline State = "OFFLINE"
)

// Node is a registered server node.
type Node struct {
	ID           int64  // assigned by the store; kept when a node comes back on the same address
	Address      string // host:port other nodes and operators reach it at
	BuildVersion string
	Started      time.Time // when the node's process started
	Heartbeat    time.Time // its last heartbeat
}

// Store keeps the node registry. Implementations return *errs.Error of kind
// NotFound for unknown ids.
type Store interface {
	// RegisterNode records n as just started, under its address: a node that
	// restarts on the same address keeps its id. It sets n.ID.
	RegisterNode(ctx context.Context, n *Node) error
	// HeartbeatNode sets the last heartbeat of node id to at.
	HeartbeatNode(ctx context.Context, id int64, at time.Time) error
	// FindNodes returns every registered node, by id.
	FindNodes(ctx context.Context) ([]*Node, error)
	// DeleteNodes forgets the nodes whose last heartbeat is before t.
	DeleteNodes(ctx context.Context, before time.Time) error
}

// The default timings (documented in the README).
const (
	DefaultHeartbeat = 5 * time.Second
	// OFFLINE after this many heartbeats missed in a row...
	offlineBeats = 3
	// ...and forgotten after this many.
	forgetBeats = 720
)

// Options configure a Registry.
type Options struct {
	// Heartbeat is how often the node heartbeats; a node is OFFLINE after
	// three missed heartbeats and forgotten after 720 (1 hour at the
	// default of 5 s).
	Heartbeat time.Duration
	Now       func() time.Time
	Logger    *slog.Logger
}

// Registry is this node's view of the cluster.
type Registry struct {
	store Store
	self  Node
	every time.Duration
	now   func() time.Time
	log   *slog.Logger
}

// View is a node as the API shows it.
type View struct {
	Node
	State State
}

// New returns the registry for node self over store. Call Register, then Run.
func New(store Store, self Node, o Options) *Registry {
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{store: store, self: self, every: o.Heartbeat, now: o.Now, log: o.Logger}
}

// OfflineAfter is how long without a heartbeat makes a node OFFLINE.
func (r *Registry) OfflineAfter() time.Duration { return offlineBeats * r.every }

// ForgetAfter is how long without a heartbeat removes a node from the list.
func (r *Registry) ForgetAfter() time.Duration { return forgetBeats * r.every }

// Self returns this node as registered.
func (r *Registry) Self() Node { return r.self }

// Register records this node as started.
func (r *Registry) Register(ctx context.Context) error {
	n := r.self
	n.Heartbeat = r.now().Truncate(time.Millisecond)
	if err := r.store.RegisterNode(ctx, &n); err != nil {
		return err
	}
	r.self = n
	return nil
}

// Run heartbeats until ctx ends, registering again if another node forgot
// this one (after a long store outage), and forgets long-dead nodes.
func (r *Registry) Run(ctx context.Context) {
	tick := time.NewTicker(r.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := r.now().Truncate(time.Millisecond)
		err := r.store.HeartbeatNode(ctx, r.self.ID, now)
		if errs.Is(err, errs.NotFound) {
			err = r.Register(ctx)
		}
		if err == nil {
			err = r.store.DeleteNodes(ctx, now.Add(-r.ForgetAfter()))
		}
		if err != nil && ctx.Err() == nil {
			r.log.Warn("node heartbeat", "err", err)
		}
	}
}

// Nodes returns the nodes of the cluster with their state, by id.
func (r *Registry) Nodes(ctx context.Context) ([]View, error) {
	ns, err := r.store.FindNodes(ctx)
	if err != nil {
		return nil, err
	}
	now := r.now()
	out := make([]View, 0, len(ns))
	for _, n := range ns {
		if now.Sub(n.Heartbeat) >= r.ForgetAfter() {
			continue
		}
		st := Running
		if now.Sub(n.Heartbeat) >= r.OfflineAfter() {
			st = Offline
		}
		out = append(out, View{Node: *n, State: st})
	}
	slices.SortFunc(out, func(a, b View) int { return int(a.ID - b.ID) })
	return out, nil
}
