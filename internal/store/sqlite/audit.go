package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"clusterapi/internal/audit"
)

var _ audit.Store = (*DB)(nil)

// AppendAudit stores events in one transaction.
func (db *DB) AppendAudit(ctx context.Context, events []audit.Event) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO audit_events (at, action, actor_user, actor_token, client_addr, target, outcome, detail, count)
		VALUES (?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range events {
		e := &events[i]
		res, err := st.ExecContext(ctx, e.Time.UnixMilli(), e.Action, e.User, e.TokenID, e.ClientAddr, e.Target, e.Outcome, e.Detail, e.Count)
		if err != nil {
			return fmt.Errorf("append audit event: %w", err)
		}
		if e.Seq, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// FindAudit returns the events q selects, newest first.
func (db *DB) FindAudit(ctx context.Context, q audit.Query) ([]audit.Event, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, vs ...any) { where = append(where, cond); args = append(args, vs...) }
	if !q.From.IsZero() {
		add("at >= ?", q.From.UnixMilli())
	}
	if !q.To.IsZero() {
		add("at < ?", q.To.UnixMilli())
	}
	if q.Actor != "" {
		add("(actor_user = ? OR actor_token = ?)", q.Actor, q.Actor)
	}
	if q.Target != "" {
		add("target = ?", q.Target)
	}
	if prefix, ok := strings.CutSuffix(q.Action, "."); ok {
		add("substr(action, 1, ?) = ?", len(prefix)+1, prefix+".")
	} else if q.Action != "" {
		add("action = ?", q.Action)
	}
	if q.Before > 0 {
		add("seq < ?", q.Before)
	}
	sql := `SELECT seq, at, action, actor_user, actor_token, client_addr, target, outcome, detail, count FROM audit_events`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.read.QueryContext(ctx, sql+" ORDER BY seq DESC LIMIT ?", append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("find audit events: %w", err)
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
	return out, rows.Err()
}

// DeleteAuditBefore deletes events older than t.
func (db *DB) DeleteAuditBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM audit_events WHERE at < ?`, t.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete audit events: %w", err)
	}
	return res.RowsAffected()
}
