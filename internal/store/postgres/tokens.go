package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"clusterapi/internal/errs"
	"clusterapi/internal/token"
)

var _ token.Store = (*DB)(nil)

const tokenColumns = `id, hash, name, user_id, scopes, created, expires, revoked, last_use, last_use_ip, environment_id,
	successor, predecessor`

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

// millis converts a time to stored milliseconds; the zero time is NULL.
func millis(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

// fromMillis converts stored milliseconds back; NULL is the zero time.
func fromMillis(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.UnixMilli(*n).UTC()
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateToken stores a new token.
func (db *DB) CreateToken(ctx context.Context, t *token.Token) error {
	return insertToken(ctx, db.pool, t)
}

// insertToken stores one new token; q is the pool or a transaction.
func insertToken(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, t *token.Token) error {
	_, err := q.Exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
		t.ID, t.Hash[:], t.Name, t.UserID, joinScopes(t.Scopes), t.Created.UnixMilli(), millis(t.Expires),
		t.Revoked, millis(t.LastUse), nullString(t.LastUseIP), nullString(t.EnvironmentID),
		nullString(t.Successor), nullString(t.Predecessor))
	return formatError(err, "token")
}

func scanToken(row pgx.Row) (*token.Token, error) {
	var (
		t                token.Token
		hash             []byte
		scopes           string
		created          int64
		expires, lastUse *int64
		lastUseIP, envID *string
		succ, pred       *string
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
	t.Created = time.UnixMilli(created).UTC()
	t.Expires = fromMillis(expires)
	t.LastUse = fromMillis(lastUse)
	if lastUseIP != nil {
		t.LastUseIP = *lastUseIP
	}
	if envID != nil {
		t.EnvironmentID = *envID
	}
	if succ != nil {
		t.Successor = *succ
	}
	if pred != nil {
		t.Predecessor = *pred
	}
	return &t, nil
}

// FindToken returns the token with the given id.
func (db *DB) FindToken(ctx context.Context, id string) (*token.Token, error) {
	t, err := scanToken(db.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = $1`, id))
	if err != nil {
		return nil, formatError(err, "token")
	}
	return t, nil
}

// args collects query arguments and names their placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// FindTokens returns the tokens matching f, newest first.
func (db *DB) FindTokens(ctx context.Context, f token.Filter) ([]*token.Token, error) {
	var a args
	where := []string{"true"}
	if f.UserID != "" {
		where = append(where, "user_id = "+a.add(f.UserID))
	}
	for _, s := range f.Scopes {
		where = append(where, "scopes LIKE "+a.add("% "+string(s)+" %"))
	}
	if !f.LastUseFrom.IsZero() {
		where = append(where, "last_use >= "+a.add(f.LastUseFrom.UnixMilli()))
	}
	if !f.LastUseTo.IsZero() {
		where = append(where, "last_use <= "+a.add(f.LastUseTo.UnixMilli()))
	}
	if f.Name != "" {
		where = append(where, "strpos(lower(name COLLATE \"C\"), lower("+a.add(f.Name)+"::text COLLATE \"C\")) > 0")
	}
	switch f.Status {
	case token.StatusActive:
		where = append(where, "NOT revoked AND (expires IS NULL OR expires > "+a.add(f.At.UnixMilli())+")")
	case token.StatusRevoked:
		where = append(where, "revoked")
	case token.StatusExpired:
		where = append(where, "NOT revoked AND expires <= "+a.add(f.At.UnixMilli()))
	}
	limit := a.add(f.Limit)
	offset := a.add(f.Offset)
	rows, err := db.pool.Query(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE `+
		strings.Join(where, " AND ")+` ORDER BY created DESC, seq DESC LIMIT `+limit+` OFFSET `+offset, a...)
	if err != nil {
		return nil, formatError(err, "token")
	}
	defer rows.Close()
	out := []*token.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, formatError(err, "token")
		}
		out = append(out, t)
	}
	return out, formatError(rows.Err(), "token")
}

// UpdateToken applies c to the token with the given id.
func (db *DB) UpdateToken(ctx context.Context, id string, c token.Change) error {
	var a args
	set := changeSet(&a, c)
	if len(set) == 0 {
		_, err := db.FindToken(ctx, id)
		return err
	}
	tag, err := db.pool.Exec(ctx, `UPDATE tokens SET `+strings.Join(set, ", ")+` WHERE id = `+a.add(id), a...)
	return affected(tag, err, "token")
}

// RotateToken stores next as the successor of token old and applies c to
// old, in one transaction; Conflict when old has a successor already.
func (db *DB) RotateToken(ctx context.Context, old string, next *token.Token, c token.Change) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var a args
		set := append(changeSet(&a, c), "successor = "+a.add(next.ID))
		tag, err := tx.Exec(ctx, `UPDATE tokens SET `+strings.Join(set, ", ")+` WHERE id = `+a.add(old)+
			` AND successor IS NULL`, a...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var succ *string
			if err := tx.QueryRow(ctx, `SELECT successor FROM tokens WHERE id = $1`, old).Scan(&succ); err != nil {
				return err
			}
			return errs.E(errs.Conflict, "token "+old+" has a successor already")
		}
		return insertToken(ctx, tx, next)
	})
	return formatError(err, "token")
}

// RetirePredecessor revokes the predecessor of token id and forgets it, in
// one transaction, returning its id ("" when there is none). The revocation
// comes first: its trigger takes the change log's lock before any row lock,
// as every change-logging statement does, so this cannot deadlock with them.
// Of callers racing on one token (nodes that saw the same first use), the one
// that clears the predecessor reports it; the others wait for its row, then
// find nothing left.
func (db *DB) RetirePredecessor(ctx context.Context, id string) (string, error) {
	var pred *string
	err := db.pool.QueryRow(ctx, `SELECT predecessor FROM tokens WHERE id = $1`, id).Scan(&pred)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && pred == nil {
		return "", nil
	}
	if err != nil {
		return "", formatError(err, "token")
	}
	var cleared bool
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE tokens SET revoked = true WHERE id = $1`, *pred); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE tokens SET predecessor = NULL WHERE id = $1 AND predecessor = $2`, id, *pred)
		cleared = tag.RowsAffected() > 0
		return err
	})
	if err != nil {
		return "", formatError(err, "token")
	}
	if !cleared {
		return "", nil
	}
	return *pred, nil
}

// changeSet returns the SET terms of c, adding their arguments to a.
func changeSet(a *args, c token.Change) []string {
	set := []string{}
	if c.Name != nil {
		set = append(set, "name = "+a.add(*c.Name))
	}
	if c.Revoked != nil {
		set = append(set, "revoked = "+a.add(*c.Revoked))
	}
	if c.Scopes != nil {
		set = append(set, "scopes = "+a.add(joinScopes(c.Scopes)))
	}
	if c.Expires != nil {
		set = append(set, "expires = "+a.add(millis(*c.Expires)))
	}
	return set
}

// DeleteToken removes the token with the given id.
func (db *DB) DeleteToken(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM tokens WHERE id = $1`, id)
	return affected(tag, err, "token")
}

// DeleteEnvironmentTokens removes the tokens bound to environment envID.
func (db *DB) DeleteEnvironmentTokens(ctx context.Context, envID string) ([]string, error) {
	rows, err := db.pool.Query(ctx, `DELETE FROM tokens WHERE environment_id = $1 RETURNING id`, envID)
	if err != nil {
		return nil, formatError(err, "token")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, formatError(err, "token")
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// RecordUses stores a batch of last uses in one transaction, never moving a
// last use backwards. Nodes write their batches concurrently: the rows are
// locked in id order first, so that two batches cannot deadlock, and the
// guard is re-checked on the locked row, so the later use always wins.
func (db *DB) RecordUses(ctx context.Context, uses []token.Use) error {
	if len(uses) == 0 {
		return nil
	}
	latest := map[string]token.Use{}
	for _, u := range uses {
		if l, ok := latest[u.ID]; !ok || u.At.After(l.At) {
			latest[u.ID] = u
		}
	}
	ids := make([]string, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	at, ip := make([]int64, len(ids)), make([]string, len(ids))
	for i, id := range ids {
		at[i], ip[i] = latest[id].At.UnixMilli(), latest[id].IP
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM tokens WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE tokens SET last_use = u.at, last_use_ip = u.ip
			FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(id, at, ip)
			WHERE tokens.id = u.id AND (tokens.last_use IS NULL OR tokens.last_use <= u.at)`, ids, at, ip)
		return err
	})
	if err != nil {
		return fmt.Errorf("record token uses: %w", formatError(err, "token"))
	}
	return nil
}

// affected maps "no row changed" to NotFound.
func affected(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return formatError(err, what)
	}
	if tag.RowsAffected() == 0 {
		return errs.E(errs.NotFound, what+" not found")
	}
	return nil
}

// keepChanges is how many token changes the change log keeps; a reader that
// falls further behind is told to drop its whole cache.
const keepChanges = 10000

// TokenChanges returns the ids of tokens changed after sequence number after,
// the sequence number to ask from next time, and whether changes were lost
// (pruned) since after, in which case the caller must forget everything.
func (db *DB) TokenChanges(ctx context.Context, after int64) (ids []string, next int64, lost bool, err error) {
	next = after
	var oldest *int64
	if err := db.pool.QueryRow(ctx, `SELECT min(seq) FROM token_changes`).Scan(&oldest); err != nil {
		return nil, after, false, fmt.Errorf("token changes: %w", formatError(err, "token change"))
	}
	lost = oldest != nil && *oldest > after+1 && after > 0
	rows, err := db.pool.Query(ctx, `SELECT seq, token_id FROM token_changes WHERE seq > $1 ORDER BY seq`, after)
	if err != nil {
		return nil, after, false, fmt.Errorf("token changes: %w", formatError(err, "token change"))
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&next, &id); err != nil {
			return nil, after, false, formatError(err, "token change")
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, after, false, fmt.Errorf("token changes: %w", formatError(err, "token change"))
	}
	if next/1000 != after/1000 { // now and then, not on every poll
		if _, err := db.pool.Exec(ctx, `DELETE FROM token_changes WHERE seq <= $1`, next-keepChanges); err != nil {
			return nil, after, false, fmt.Errorf("prune token changes: %w", formatError(err, "token change"))
		}
	}
	return ids, next, lost, nil
}

// LastTokenChange returns the newest change's sequence number, the point from
// which a fresh cache starts watching.
func (db *DB) LastTokenChange(ctx context.Context) (int64, error) {
	var n *int64
	if err := db.pool.QueryRow(ctx, `SELECT max(seq) FROM token_changes`).Scan(&n); err != nil {
		return 0, fmt.Errorf("last token change: %w", formatError(err, "token change"))
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}
