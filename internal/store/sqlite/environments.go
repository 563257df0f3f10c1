package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"clusterapi/internal/environment"
	"clusterapi/internal/errs"
)

var _ environment.Store = (*DB)(nil)

const environmentColumns = `id, name, trial, state, tags, created, quotas, storage, revision`

// environmentRow is an environment in its stored form.
type environmentRow struct {
	tags, quotas, storage string
}

func encodeEnvironment(e *environment.Environment) (environmentRow, error) {
	tags := e.Tags
	if tags == nil {
		tags = []string{}
	}
	t, err := json.Marshal(tags)
	if err != nil {
		return environmentRow{}, err
	}
	q, err := json.Marshal(e.Quotas)
	if err != nil {
		return environmentRow{}, err
	}
	s, err := json.Marshal(e.Storage)
	if err != nil {
		return environmentRow{}, err
	}
	return environmentRow{tags: string(t), quotas: string(q), storage: string(s)}, nil
}

func scanEnvironment(row scanner) (*environment.Environment, error) {
	var (
		e       environment.Environment
		state   string
		created int64
		r       environmentRow
	)
	if err := row.Scan(&e.ID, &e.Name, &e.Trial, &state, &r.tags, &created, &r.quotas, &r.storage, &e.Revision); err != nil {
		return nil, err
	}
	e.State = environment.State(state)
	e.Created = fromMillis(sql.NullInt64{Int64: created, Valid: true})
	if err := json.Unmarshal([]byte(r.tags), &e.Tags); err != nil {
		return nil, fmt.Errorf("environment %s: stored tags: %w", e.ID, err)
	}
	if e.Tags == nil {
		e.Tags = []string{}
	}
	if err := json.Unmarshal([]byte(r.quotas), &e.Quotas); err != nil {
		return nil, fmt.Errorf("environment %s: stored quotas: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(r.storage), &e.Storage); err != nil {
		return nil, fmt.Errorf("environment %s: stored storage: %w", e.ID, err)
	}
	return &e, nil
}

// CreateEnvironment stores a new environment.
func (db *DB) CreateEnvironment(ctx context.Context, e *environment.Environment) error {
	r, err := encodeEnvironment(e)
	if err != nil {
		return fmt.Errorf("create environment %s: %w", e.ID, err)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO environments (`+environmentColumns+`, name_fold) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		e.ID, e.Name, e.Trial, string(e.State), r.tags, e.Created.UnixMilli(), r.quotas, r.storage, e.Revision, environment.Fold(e.Name))
	if err != nil {
		return formatError(err, "environment")
	}
	if err := insertTags(ctx, tx, e.ID, e.Tags); err != nil {
		return err
	}
	return tx.Commit()
}

func insertTags(ctx context.Context, tx *sql.Tx, id string, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	values := strings.Repeat("(?,?),", len(tags))
	args := make([]any, 0, 2*len(tags))
	for _, t := range tags {
		args = append(args, id, t)
	}
	// OR IGNORE: the tags are a set; a duplicate from a careless caller is not an error.
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO environment_tags (environment_id, tag) VALUES `+values[:len(values)-1], args...)
	if err != nil {
		return fmt.Errorf("store tags of environment %s: %w", id, err)
	}
	return nil
}

// FindEnvironment returns the environment with the given id.
func (db *DB) FindEnvironment(ctx context.Context, id string) (*environment.Environment, error) {
	e, err := scanEnvironment(db.findEnvironment.QueryRowContext(ctx, id))
	if err != nil {
		return nil, formatError(err, "environment")
	}
	return e, nil
}

// environmentFilter returns the WHERE clause (on the alias e) and arguments
// for f.
func environmentFilter(f environment.Filter) (string, []any) {
	where, args := []string{"1=1"}, []any{}
	for _, n := range f.Names {
		where, args = append(where, "instr(e.name_fold, ?) > 0"), append(args, environment.Fold(n))
	}
	for _, t := range f.Trials {
		where, args = append(where, "e.trial = ?"), append(args, t)
	}
	for _, s := range f.States {
		where, args = append(where, "e.state = ?"), append(args, string(s))
	}
	for _, group := range f.Tags {
		if len(group) == 0 {
			where = append(where, "0=1") // at least one of no tags: nothing matches
			continue
		}
		where = append(where, `EXISTS (SELECT 1 FROM environment_tags t WHERE t.environment_id = e.id AND t.tag IN (`+
			strings.TrimSuffix(strings.Repeat("?,", len(group)), ",")+`))`)
		for _, t := range group {
			args = append(args, t)
		}
	}
	return strings.Join(where, " AND "), args
}

// FindEnvironments returns one page of environments and the count of all
// that match the filter, both read in one transaction so that they agree.
func (db *DB) FindEnvironments(ctx context.Context, q environment.Query) ([]*environment.Environment, int, error) {
	where, args := environmentFilter(q.Filter)
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM environments e WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count environments: %w", err)
	}

	col, cmp, dir := "e.name_fold", ">", "ASC"
	if q.Sort == environment.ByCreationDate || q.Sort == environment.ByCreationDateDesc {
		col = "e.created"
	}
	if q.Sort.Desc() {
		cmp, dir = "<", "DESC"
	}
	if k := q.After; k != nil {
		var v any = k.Name
		if col == "e.created" {
			v = k.Created.UnixMilli()
		}
		where += fmt.Sprintf(" AND (%s, e.id) %s (?, ?)", col, cmp)
		args = append(args, v, k.ID)
	}
	args = append(args, q.Limit)
	rows, err := tx.QueryContext(ctx, `SELECT `+prefixed("e.", environmentColumns)+` FROM environments e WHERE `+where+
		fmt.Sprintf(` ORDER BY %s %s, e.id %s LIMIT ?`, col, dir, dir), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list environments: %w", err)
	}
	defer rows.Close()
	out := []*environment.Environment{}
	for rows.Next() {
		e, err := scanEnvironment(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list environments: %w", err)
	}
	return out, total, nil
}

// prefixed qualifies each column of a comma-separated list with p.
func prefixed(p, columns string) string {
	cs := strings.Split(columns, ", ")
	for i := range cs {
		cs[i] = p + cs[i]
	}
	return strings.Join(cs, ", ")
}

// UpdateEnvironment replaces the stored environment with e's id by e, except
// for its creation time, if its revision is still e.Revision; it then bumps
// e.Revision.
func (db *DB) UpdateEnvironment(ctx context.Context, e *environment.Environment) error {
	r, err := encodeEnvironment(e)
	if err != nil {
		return fmt.Errorf("update environment %s: %w", e.ID, err)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE environments SET name = ?, name_fold = ?, trial = ?, state = ?, tags = ?,
		quotas = ?, storage = ?, revision = revision + 1 WHERE id = ? AND revision = ?`,
		e.Name, environment.Fold(e.Name), e.Trial, string(e.State), r.tags, r.quotas, r.storage, e.ID, e.Revision)
	if err := revisionAffected(ctx, tx, res, err, e.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM environment_tags WHERE environment_id = ?`, e.ID); err != nil {
		return fmt.Errorf("update tags of environment %s: %w", e.ID, err)
	}
	if err := insertTags(ctx, tx, e.ID, e.Tags); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	e.Revision++
	return nil
}

// revisionAffected tells a missing environment (NotFound) from one changed
// since it was read (Conflict) when a guarded statement changed no row.
func revisionAffected(ctx context.Context, tx *sql.Tx, res sql.Result, err error, id string) error {
	if err != nil {
		return formatError(err, "environment")
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM environments WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.E(errs.NotFound, "environment not found")
	}
	return errs.E(errs.Conflict, "environment changed concurrently")
}

// DeleteEnvironment removes the environment with the given id if its
// revision is still revision.
func (db *DB) DeleteEnvironment(ctx context.Context, id string, revision int64) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Explicit rather than relying on ON DELETE CASCADE alone.
	if _, err := tx.ExecContext(ctx, `DELETE FROM environment_tags WHERE environment_id = ?`, id); err != nil {
		return fmt.Errorf("delete tags of environment %s: %w", id, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM environments WHERE id = ? AND revision = ?`, id, revision)
	if err := revisionAffected(ctx, tx, res, err, id); err != nil {
		return err
	}
	return tx.Commit()
}
