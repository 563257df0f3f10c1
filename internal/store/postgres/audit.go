package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"clusterapi/internal/audit"
)

var _ audit.Store = (*DB)(nil)

// AppendAudit stores events in one transaction.
func (db *DB) AppendAudit(ctx context.Context, events []audit.Event) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for i := range events {
			e := &events[i]
			if err := tx.QueryRow(ctx, `INSERT INTO audit_events (at, action, actor_user, actor_token, client_addr, target, outcome, detail, count)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING seq`,
				e.Time.UnixMilli(), e.Action, e.User, e.TokenID, e.ClientAddr, e.Target, e.Outcome, e.Detail, e.Count).Scan(&e.Seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append audit events: %w", formatError(err, "audit event"))
	}
	return nil
}

// FindAudit returns the events q selects, newest first.
func (db *DB) FindAudit(ctx context.Context, q audit.Query) ([]audit.Event, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if !q.From.IsZero() {
		where = append(where, "at >= "+arg(q.From.UnixMilli()))
	}
	if !q.To.IsZero() {
		where = append(where, "at < "+arg(q.To.UnixMilli()))
	}
	if q.Actor != "" {
		a := arg(q.Actor)
		where = append(where, "(actor_user = "+a+" OR actor_token = "+a+")")
	}
	if q.Target != "" {
		where = append(where, "target = "+arg(q.Target))
	}
	if prefix, ok := strings.CutSuffix(q.Action, "."); ok {
		where = append(where, "left(action, "+arg(len(prefix)+1)+") = "+arg(prefix+"."))
	} else if q.Action != "" {
		where = append(where, "action = "+arg(q.Action))
	}
	if q.Before > 0 {
		where = append(where, "seq < "+arg(q.Before))
	}
	sql := `SELECT seq, at, action, actor_user, actor_token, client_addr, target, outcome, detail, count FROM audit_events`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.pool.Query(ctx, sql+" ORDER BY seq DESC LIMIT "+arg(q.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("find audit events: %w", formatError(err, "audit event"))
	}
	defer rows.Close()
	out := []audit.Event{}
	for rows.Next() {
		var (
			e  audit.Event
			at int64
		)
		if err := rows.Scan(&e.Seq, &at, &e.Action, &e.User, &e.TokenID, &e.ClientAddr, &e.Target, &e.Outcome, &e.Detail, &e.Count); err != nil {
			return nil, fmt.Errorf("find audit events: %w", err)
		}
		e.Time = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, formatError(rows.Err(), "audit event")
}

// DeleteAuditBefore deletes events older than t.
func (db *DB) DeleteAuditBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM audit_events WHERE at < $1`, t.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete audit events: %w", formatError(err, "audit event"))
	}
	return tag.RowsAffected(), nil
}
