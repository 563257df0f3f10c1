package postgres

import (
	"context"
	"fmt"
	"time"

	"clusterapi/internal/cluster"
)

var _ cluster.Store = (*DB)(nil)

// RegisterNode records n as started under its address and sets n.ID.
func (db *DB) RegisterNode(ctx context.Context, n *cluster.Node) error {
	err := db.pool.QueryRow(ctx, `INSERT INTO nodes (address, build_version, started, heartbeat) VALUES ($1,$2,$3,$4)
		ON CONFLICT (address) DO UPDATE SET build_version = excluded.build_version, started = excluded.started,
			heartbeat = excluded.heartbeat
		RETURNING id`, n.Address, n.BuildVersion, n.Started.UnixMilli(), n.Heartbeat.UnixMilli()).Scan(&n.ID)
	if err != nil {
		return fmt.Errorf("register node %s: %w", n.Address, formatError(err, "node"))
	}
	return nil
}

// HeartbeatNode sets the last heartbeat of node id.
func (db *DB) HeartbeatNode(ctx context.Context, id int64, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE nodes SET heartbeat = $1 WHERE id = $2`, at.UnixMilli(), id)
	return affected(tag, err, "node")
}

// FindNodes returns every registered node, by id.
func (db *DB) FindNodes(ctx context.Context) ([]*cluster.Node, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, address, build_version, started, heartbeat FROM nodes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("find nodes: %w", formatError(err, "node"))
	}
	defer rows.Close()
	out := []*cluster.Node{}
	for rows.Next() {
		var (
			n                  cluster.Node
			started, heartbeat int64
		)
		if err := rows.Scan(&n.ID, &n.Address, &n.BuildVersion, &started, &heartbeat); err != nil {
			return nil, formatError(err, "node")
		}
		n.Started, n.Heartbeat = fromMillis(&started), fromMillis(&heartbeat)
		out = append(out, &n)
	}
	return out, formatError(rows.Err(), "node")
}

// DeleteNodes forgets the nodes whose last heartbeat is before t.
func (db *DB) DeleteNodes(ctx context.Context, before time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM nodes WHERE heartbeat < $1`, before.UnixMilli()); err != nil {
		return fmt.Errorf("delete nodes: %w", formatError(err, "node"))
	}
	return nil
}
