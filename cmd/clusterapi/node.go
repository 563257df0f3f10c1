package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"time"

	"clusterapi/internal/cluster"
)

// nodeOptions are the serve flags about this node's place in the cluster.
type nodeOptions struct {
	advertise *string
	heartbeat *time.Duration
}

func nodeFlags(fs *flag.FlagSet, getenv func(string) string) (nodeOptions, error) {
	hb := cluster.DefaultHeartbeat
	if v := getenv("CLUSTERAPI_HEARTBEAT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nodeOptions{}, fmt.Errorf("CLUSTERAPI_HEARTBEAT: %w", err)
		}
		hb = d
	}
	return nodeOptions{
		advertise: fs.String("advertise-address", getenv("CLUSTERAPI_ADVERTISE_ADDRESS"),
			"host:port this node is listed under in the cluster (env CLUSTERAPI_ADVERTISE_ADDRESS; default: the listen address)"),
		heartbeat: fs.Duration("heartbeat", hb,
			"node heartbeat interval; OFFLINE after 3 missed, forgotten after 720 (env CLUSTERAPI_HEARTBEAT)"),
	}, nil
}

// registerNode records this node in the store's node registry.
func registerNode(ctx context.Context, store cluster.Store, ln net.Listener, o nodeOptions, log *slog.Logger) (*cluster.Registry, error) {
	self := cluster.Node{Address: advertiseAddress(*o.advertise, ln.Addr()), BuildVersion: buildVersion(), Started: time.Now()}
	r := cluster.New(store, self, cluster.Options{Heartbeat: *o.heartbeat, Logger: log})
	if err := r.Register(ctx); err != nil {
		return nil, fmt.Errorf("register node: %w", err)
	}
	return r, nil
}

// advertiseAddress is the address a node is listed under: the given one, or
// the listen address, with the host name in place of a wildcard host (two
// machines both listening on 0.0.0.0:8021 are different nodes).
func advertiseAddress(given string, addr net.Addr) string {
	if given != "" {
		return given
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return addr.String()
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// buildVersion names this build: the module version, or the VCS revision
// of a development build.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}
