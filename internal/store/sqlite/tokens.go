package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"clusterapi/internal/errs"
	"clusterapi/internal/token"
)

var _ token.Store = (*DB)(nil)

const tokenColumns = `id, hash, name, user_id, scopes, created, expires, revoked, last_use, last_use_ip, environment_id,
	successor, predecessor`

// insertToken stores one new token; q is the database or a transaction.
func insertToken(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, t *token.Token) error {
	_, err := q.ExecContext(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		t.ID, t.Hash[:], t.Name, t.UserID, joinScopes(t.Scopes), t.Created.UnixMilli(), millis(t.Expires),
		t.Revoked, millis(t.LastUse), nullString(t.LastUseIP), nullString(t.EnvironmentID),
		nullString(t.Successor), nullString(t.Predecessor))
	return formatError(err, "token")
}

// joinScopes stores scopes as " a b c " so that a LIKE '% x %' tests membership.
func joinScopes(ss []token.Scope) string {
	var b strings.Builder
	b.WriteByte(' ')
	for _, s := range ss {
		b.WriteString(string(s))
		b.WriteByte(' ')
	}
	return b.String()
}

func splitScopes(s string) []token.Scope {
	out := []token.Scope{}
	for _, f := range strings.Fields(s) {
		out = append(out, token.Scope(f))
	}
	return out
}

// CreateToken stores a new token.
func (db *DB) CreateToken(ctx context.Context, t *token.Token) error {
	return insertToken(ctx, db.write, t)
}

// ImportTokens stores many new tokens in one transaction: for bulk loads
// (benchmarks, migrations from another system), not for the API.
func (db *DB) ImportTokens(ctx context.Context, ts []*token.Token) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, t := range ts {
		if _, err := stmt.ExecContext(ctx, t.ID, t.Hash[:], t.Name, t.UserID, joinScopes(t.Scopes), t.Created.UnixMilli(),
			millis(t.Expires), t.Revoked, millis(t.LastUse), nullString(t.LastUseIP), nullString(t.EnvironmentID),
			nullString(t.Successor), nullString(t.Predecessor)); err != nil {
			return formatError(err, "token")
		}
	}
	return tx.Commit()
}

type scanner interface{ Scan(...any) error }

func scanToken(row scanner) (*token.Token, error) {
	var (
		t                token.Token
		hash             []byte
		scopes           string
		created          int64
		expires, lastUse sql.NullInt64
		lastUseIP, envID sql.NullString
		succ, pred       sql.NullString
	)
	if err := row.Scan(&t.ID, &hash, &t.Name, &t.UserID, &scopes, &created, &expires, &t.Revoked,
		&lastUse, &lastUseIP, &envID, &succ, &pred); err != nil {
		return nil, err
	}
	if len(hash) != len(t.Hash) {
		return nil, fmt.Errorf("token %s: stored hash has %d bytes", t.ID, len(hash))
	}
	copy(t.Hash[:], hash)
	t.Scopes = splitScopes(scopes)
	t.Created = fromMillis(sql.NullInt64{Int64: created, Valid: true})
	t.Expires = fromMillis(expires)
	t.LastUse = fromMillis(lastUse)
	t.LastUseIP = lastUseIP.String
	t.EnvironmentID = envID.String
	t.Successor, t.Predecessor = succ.String, pred.String
	return &t, nil
}

// FindToken returns the token with the given id.
func (db *DB) FindToken(ctx context.Context, id string) (*token.Token, error) {
	t, err := scanToken(db.findToken.QueryRowContext(ctx, id))
	if err != nil {
		return nil, formatError(err, "token")
	}
	return t, nil
}

// FindTokens returns the tokens matching f, newest first.
func (db *DB) FindTokens(ctx context.Context, f token.Filter) ([]*token.Token, error) {
	where, args := []string{"1=1"}, []any{}
	if f.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, f.UserID)
	}
	for _, s := range f.Scopes {
		where, args = append(where, "scopes LIKE ?"), append(args, "% "+string(s)+" %")
	}
	if !f.LastUseFrom.IsZero() {
		where, args = append(where, "last_use >= ?"), append(args, f.LastUseFrom.UnixMilli())
	}
	if !f.LastUseTo.IsZero() {
		where, args = append(where, "last_use <= ?"), append(args, f.LastUseTo.UnixMilli())
	}
	if f.Name != "" {
		where, args = append(where, "instr(lower(name), lower(?)) > 0"), append(args, f.Name)
	}
	switch f.Status {
	case token.StatusActive:
		where, args = append(where, "NOT revoked AND (expires IS NULL OR expires > ?)"), append(args, f.At.UnixMilli())
	case token.StatusRevoked:
		where = append(where, "revoked")
	case token.StatusExpired:
		where, args = append(where, "NOT revoked AND expires <= ?"), append(args, f.At.UnixMilli())
	}
	args = append(args, f.Limit, f.Offset)
	rows, err := db.read.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE `+
		strings.Join(where, " AND ")+` ORDER BY created DESC, seq DESC LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, formatError(err, "token")
	}
	defer rows.Close()
	out := []*token.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// changeSet returns the SET terms of c and their arguments.
func changeSet(c token.Change) (set []string, args []any) {
	if c.Name != nil {
		set, args = append(set, "name = ?"), append(args, *c.Name)
	}
	if c.Revoked != nil {
		set, args = append(set, "revoked = ?"), append(args, *c.Revoked)
	}
	if c.Scopes != nil {
		set, args = append(set, "scopes = ?"), append(args, joinScopes(c.Scopes))
	}
	if c.Expires != nil {
		set, args = append(set, "expires = ?"), append(args, millis(*c.Expires))
	}
	return set, args
}

// UpdateToken applies c to the token with the given id.
func (db *DB) UpdateToken(ctx context.Context, id string, c token.Change) error {
	set, args := changeSet(c)
	if len(set) == 0 {
		_, err := db.FindToken(ctx, id)
		return err
	}
	res, err := db.write.ExecContext(ctx, `UPDATE tokens SET `+strings.Join(set, ", ")+` WHERE id = ?`, append(args, id)...)
	return affected(res, err, "token")
}

// RotateToken stores next as the successor of token old and applies c to
// old, in one transaction; Conflict when old has a successor already.
func (db *DB) RotateToken(ctx context.Context, old string, next *token.Token, c token.Change) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return formatError(err, "token")
	}
	defer tx.Rollback()
	set, args := changeSet(c)
	set, args = append(set, "successor = ?"), append(args, next.ID)
	res, err := tx.ExecContext(ctx, `UPDATE tokens SET `+strings.Join(set, ", ")+` WHERE id = ? AND successor IS NULL`,
		append(args, old)...)
	if err != nil {
		return formatError(err, "token")
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		var succ sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT successor FROM tokens WHERE id = ?`, old).Scan(&succ); err != nil {
			return formatError(err, "token")
		}
		return errs.E(errs.Conflict, "token "+old+" has a successor already")
	}
	if err := insertToken(ctx, tx, next); err != nil {
		return err
	}
	return formatError(tx.Commit(), "token")
}

// RetirePredecessor revokes the predecessor of token id and forgets it, in
// one transaction, returning its id ("" when there is none).
func (db *DB) RetirePredecessor(ctx context.Context, id string) (string, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return "", formatError(err, "token")
	}
	defer tx.Rollback()
	var pred sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT predecessor FROM tokens WHERE id = ?`, id).Scan(&pred)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !pred.Valid {
		return "", nil
	}
	if err != nil {
		return "", formatError(err, "token")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE id = ?`, pred.String); err != nil {
		return "", formatError(err, "token")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tokens SET predecessor = NULL WHERE id = ?`, id); err != nil {
		return "", formatError(err, "token")
	}
	if err := tx.Commit(); err != nil {
		return "", formatError(err, "token")
	}
	return pred.String, nil
}

// DeleteToken removes the token with the given id.
func (db *DB) DeleteToken(ctx context.Context, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM tokens WHERE id = ?`, id)
	return affected(res, err, "token")
}

// DeleteEnvironmentTokens removes the tokens bound to environment envID.
func (db *DB) DeleteEnvironmentTokens(ctx context.Context, envID string) ([]string, error) {
	rows, err := db.write.QueryContext(ctx, `DELETE FROM tokens WHERE environment_id = ? RETURNING id`, envID)
	if err != nil {
		return nil, formatError(err, "token")
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// RecordUses stores a batch of last uses in one statement per chunk of rows,
// never moving a last use backwards.
func (db *DB) RecordUses(ctx context.Context, uses []token.Use) error {
	// UPDATE ... FROM uses an arbitrary one of several rows that match a
	// token: keep only each token's latest use.
	latest := make(map[string]int, len(uses))
	var dedup []token.Use
	for _, u := range uses {
		if i, ok := latest[u.ID]; !ok {
			latest[u.ID] = len(dedup)
			dedup = append(dedup, u)
		} else if u.At.After(dedup[i].At) {
			dedup[i] = u
		}
	}
	uses = dedup
	const chunk = 500
	for len(uses) > 0 {
		n := min(chunk, len(uses))
		values := strings.Repeat("(?,?,?),", n)
		args := make([]any, 0, 3*n)
		for _, u := range uses[:n] {
			args = append(args, u.ID, u.At.UnixMilli(), u.IP)
		}
		_, err := db.write.ExecContext(ctx, `UPDATE tokens SET last_use = u.column2, last_use_ip = u.column3
			FROM (VALUES `+values[:len(values)-1]+`) AS u
			WHERE tokens.id = u.column1 AND (tokens.last_use IS NULL OR tokens.last_use <= u.column2)`, args...)
		if err != nil {
			return fmt.Errorf("record token uses: %w", err)
		}
		uses = uses[n:]
	}
	return nil
}

// affected maps "no row changed" to NotFound.
func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return formatError(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.E(errs.NotFound, what+" not found")
	}
	return nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// keepChanges is how many token changes the change log keeps; a reader that
// falls further behind is told to drop its whole cache.
const keepChanges = 10000

// TokenChanges returns the ids of tokens changed after sequence number after,
// the sequence number to ask from next time, and whether changes were lost
// (pruned) since after, in which case the caller must forget everything.
func (db *DB) TokenChanges(ctx context.Context, after int64) (ids []string, next int64, lost bool, err error) {
	next = after
	var oldest sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT min(seq) FROM token_changes`).Scan(&oldest); err != nil {
		return nil, after, false, fmt.Errorf("token changes: %w", err)
	}
	lost = oldest.Valid && oldest.Int64 > after+1 && after > 0
	rows, err := db.read.QueryContext(ctx, `SELECT seq, token_id FROM token_changes WHERE seq > ? ORDER BY seq`, after)
	if err != nil {
		return nil, after, false, fmt.Errorf("token changes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&next, &id); err != nil {
			return nil, after, false, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, after, false, err
	}
	if next/1000 != after/1000 { // now and then, not on every poll
		if _, err := db.write.ExecContext(ctx, `DELETE FROM token_changes WHERE seq <= ?`, next-keepChanges); err != nil {
			return nil, after, false, fmt.Errorf("prune token changes: %w", err)
		}
	}
	return ids, next, lost, nil
}

// LastTokenChange returns the newest change's sequence number, the point from
// which a fresh cache starts watching.
func (db *DB) LastTokenChange(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT max(seq) FROM token_changes`).Scan(&n); err != nil {
		return 0, fmt.Errorf("last token change: %w", err)
	}
	return n.Int64, nil
}
