package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

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

func scanEnvironment(row pgx.Row) (*environment.Environment, error) {
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
	e.Created = fromMillis(&created)
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
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO environments (`+environmentColumns+`, name_fold) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
			e.ID, e.Name, e.Trial, string(e.State), r.tags, e.Created.UnixMilli(), r.quotas, r.storage, e.Revision,
			environment.Fold(e.Name)); err != nil {
			return err
		}
		return insertTags(ctx, tx, e.ID, e.Tags)
	})
	return formatError(err, "environment")
}

func insertTags(ctx context.Context, tx pgx.Tx, id string, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	// ON CONFLICT DO NOTHING: the tags are a set; a duplicate from a careless
	// caller is not an error.
	_, err := tx.Exec(ctx, `INSERT INTO environment_tags (environment_id, tag) SELECT $1, unnest($2::text[])
		ON CONFLICT DO NOTHING`, id, tags)
	if err != nil {
		return fmt.Errorf("store tags of environment %s: %w", id, err)
	}
	return nil
}

// FindEnvironment returns the environment with the given id.
func (db *DB) FindEnvironment(ctx context.Context, id string) (*environment.Environment, error) {
	e, err := scanEnvironment(db.pool.QueryRow(ctx, `SELECT `+environmentColumns+` FROM environments WHERE id = $1`, id))
	if err != nil {
		return nil, formatError(err, "environment")
	}
	return e, nil
}

// environmentFilter returns the WHERE clause (on the alias e) for f, adding
// its arguments to a.
func environmentFilter(f environment.Filter, a *args) string {
	where := []string{"true"}
	for _, n := range f.Names {
		where = append(where, "strpos(e.name_fold, "+a.add(environment.Fold(n))+") > 0")
	}
	for _, t := range f.Trials {
		where = append(where, "e.trial = "+a.add(t))
	}
	for _, s := range f.States {
		where = append(where, "e.state = "+a.add(string(s)))
	}
	for _, group := range f.Tags {
		if len(group) == 0 {
			where = append(where, "false") // at least one of no tags: nothing matches
			continue
		}
		where = append(where, `EXISTS (SELECT 1 FROM environment_tags t WHERE t.environment_id = e.id AND t.tag = ANY(`+
			a.add(group)+`::text[]))`)
	}
	return strings.Join(where, " AND ")
}

// FindEnvironments returns one page of environments and the count of all
// that match the filter, both read in one repeatable-read transaction so
// that they agree.
func (db *DB) FindEnvironments(ctx context.Context, q environment.Query) ([]*environment.Environment, int, error) {
	var a args
	where := environmentFilter(q.Filter, &a)
	filterArgs := append(args(nil), a...)

	col, cmp, dir := "e.name_fold", ">", "ASC"
	if q.Sort == environment.ByCreationDate || q.Sort == environment.ByCreationDateDesc {
		col = "e.created"
	}
	if q.Sort.Desc() {
		cmp, dir = "<", "DESC"
	}
	page := where
	if k := q.After; k != nil {
		var v any = k.Name
		if col == "e.created" {
			v = k.Created.UnixMilli()
		}
		page += fmt.Sprintf(" AND (%s, e.id) %s (%s, %s)", col, cmp, a.add(v), a.add(k.ID))
	}
	limit := a.add(q.Limit)

	var (
		out   = []*environment.Environment{}
		total int
	)
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM environments e WHERE `+where, filterArgs...).Scan(&total); err != nil {
			return fmt.Errorf("count environments: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT `+prefixed("e.", environmentColumns)+` FROM environments e WHERE `+page+
			fmt.Sprintf(` ORDER BY %s %s, e.id %s LIMIT %s`, col, dir, dir, limit), a...)
		if err != nil {
			return fmt.Errorf("list environments: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEnvironment(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, formatError(err, "environment")
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
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE environments SET name = $1, name_fold = $2, trial = $3, state = $4, tags = $5,
			quotas = $6, storage = $7, revision = revision + 1 WHERE id = $8 AND revision = $9`,
			e.Name, environment.Fold(e.Name), e.Trial, string(e.State), r.tags, r.quotas, r.storage, e.ID, e.Revision)
		if err != nil {
			return err
		}
		if err := revisionAffected(ctx, tx, tag.RowsAffected(), e.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM environment_tags WHERE environment_id = $1`, e.ID); err != nil {
			return fmt.Errorf("update tags of environment %s: %w", e.ID, err)
		}
		return insertTags(ctx, tx, e.ID, e.Tags)
	})
	if err != nil {
		return formatError(err, "environment")
	}
	e.Revision++
	return nil
}

// revisionAffected tells a missing environment (NotFound) from one changed
// since it was read (Conflict) when a guarded statement changed no row.
func revisionAffected(ctx context.Context, tx pgx.Tx, n int64, id string) error {
	if n > 0 {
		return nil
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM environments WHERE id = $1)`, id).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return errs.E(errs.NotFound, "environment not found")
	}
	return errs.E(errs.Conflict, "environment changed concurrently")
}

// DeleteEnvironment removes the environment with the given id if its
// revision is still revision.
func (db *DB) DeleteEnvironment(ctx context.Context, id string, revision int64) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM environments WHERE id = $1 AND revision = $2`, id, revision)
		if err != nil {
			return err
		}
		// The tags go with it (ON DELETE CASCADE).
		return revisionAffected(ctx, tx, tag.RowsAffected(), id)
	})
	return formatError(err, "environment")
}
