package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"clusterapi/internal/cluster"
)

var _ cluster.Store = (*DB)(nil)

// RegisterNode records n as started under its address and sets n.ID.
func (db *DB) RegisterNode(ctx context.Context, n *cluster.Node) error {
	err := db.write.QueryRowContext(ctx, `INSERT INTO nodes (address, build_version, started, heartbeat) VALUES (?,?,?,?)
		ON CONFLICT (address) DO UPDATE SET build_version = excluded.build_version, started = excluded.started,
			heartbeat = excluded.heartbeat
		RETURNING id`, n.Address, n.BuildVersion, n.Started.UnixMilli(), n.Heartbeat.UnixMilli()).Scan(&n.ID)
	if err != nil {
		return fmt.Errorf("register node %s: %w", n.Address, err)
	}
	return nil
}

// HeartbeatNode sets the last heartbeat of node id.
func (db *DB) HeartbeatNode(ctx context.Context, id int64, at time.Time) error {
	res, err := db.write.ExecContext(ctx, `UPDATE nodes SET heartbeat = ? WHERE id = ?`, at.UnixMilli(), id)
	return affected(res, err, "node")
}

// FindNodes returns every registered node, by id.
func (db *DB) FindNodes(ctx context.Context) ([]*cluster.Node, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, address, build_version, started, heartbeat FROM nodes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("find nodes: %w", err)
	}
	defer rows.Close()
	out := []*cluster.Node{}
	for rows.Next() {
		var (
			n                  cluster.Node
			started, heartbeat int64
		)
		if err := rows.Scan(&n.ID, &n.Address, &n.BuildVersion, &started, &heartbeat); err != nil {
			return nil, err
		}
		n.Started = fromMillis(sql.NullInt64{Int64: started, Valid: true})
		n.Heartbeat = fromMillis(sql.NullInt64{Int64: heartbeat, Valid: true})
		out = append(out, &n)
	}
	return out, rows.Err()
}

// DeleteNodes forgets the nodes whose last heartbeat is before t.
func (db *DB) DeleteNodes(ctx context.Context, before time.Time) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM nodes WHERE heartbeat < ?`, before.UnixMilli()); err != nil {
		return fmt.Errorf("delete nodes: %w", err)
	}
	return nil
}
