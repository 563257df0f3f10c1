package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"clusterapi/internal/account"
)

var _ account.Store = (*DB)(nil)

// CreateUser stores a new user and its memberships.
func (db *DB) CreateUser(ctx context.Context, u *account.User) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO users (id, email, first_name, last_name, password_hash, created) VALUES ($1,$2,$3,$4,$5,$6)`,
			u.ID, u.Email, u.FirstName, u.LastName, u.PasswordHash, u.Created.UnixMilli()); err != nil {
			return formatError(err, "user")
		}
		return setMemberships(ctx, tx, u)
	})
	return formatError(err, "user")
}

// setMemberships replaces the memberships of u with u.Groups.
func setMemberships(ctx context.Context, tx pgx.Tx, u *account.User) error {
	if _, err := tx.Exec(ctx, `DELETE FROM memberships WHERE user_id = $1`, u.ID); err != nil {
		return err
	}
	for i, g := range u.Groups {
		if _, err := tx.Exec(ctx, `INSERT INTO memberships (user_id, group_id, pos) VALUES ($1,$2,$3)`, u.ID, g, i); err != nil {
			return formatError(err, "group membership")
		}
	}
	return nil
}

const userColumns = `id, email, first_name, last_name, password_hash, created`

func scanUser(row pgx.Row) (*account.User, error) {
	var (
		u       account.User
		created int64
	)
	if err := row.Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash, &created); err != nil {
		return nil, err
	}
	u.Created = time.UnixMilli(created).UTC()
	u.Groups = []string{}
	return &u, nil
}

// FindUser returns the user with the given id.
func (db *DB) FindUser(ctx context.Context, id string) (*account.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, formatError(err, "user")
	}
	if err := db.loadMemberships(ctx, map[string]*account.User{u.ID: u}, `WHERE user_id = $1`, u.ID); err != nil {
		return nil, err
	}
	return u, nil
}

// ListUsers returns every user, ordered by id.
func (db *DB) ListUsers(ctx context.Context) ([]*account.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", formatError(err, "user"))
	}
	defer rows.Close()
	out := []*account.User{}
	byID := map[string]*account.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
		byID[u.ID] = u
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", formatError(err, "user"))
	}
	return out, db.loadMemberships(ctx, byID, ``)
}

// loadMemberships fills in the groups of the users in byID from the
// memberships that where selects.
func (db *DB) loadMemberships(ctx context.Context, byID map[string]*account.User, where string, args ...any) error {
	rows, err := db.pool.Query(ctx, `SELECT user_id, group_id FROM memberships `+where+` ORDER BY user_id, pos`, args...)
	if err != nil {
		return fmt.Errorf("memberships: %w", formatError(err, "membership"))
	}
	defer rows.Close()
	for rows.Next() {
		var uid, gid string
		if err := rows.Scan(&uid, &gid); err != nil {
			return fmt.Errorf("memberships: %w", err)
		}
		if u := byID[uid]; u != nil {
			u.Groups = append(u.Groups, gid)
		}
	}
	return formatError(rows.Err(), "membership")
}

// UpdateUser replaces the user's email, names and memberships.
func (db *DB) UpdateUser(ctx context.Context, u *account.User) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET email = $1, first_name = $2, last_name = $3 WHERE id = $4`,
			u.Email, u.FirstName, u.LastName, u.ID)
		if err := affected(tag, err, "user"); err != nil {
			return err
		}
		return setMemberships(ctx, tx, u)
	})
	return formatError(err, "user")
}

// DeleteUser deletes the user; memberships and sessions go with it.
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	return affected(tag, err, "user")
}

const groupColumns = `id, name, cluster_admin, access_account, manage_account, ldap_group_names, sso_group_names, access_right, created`

func scanGroup(row pgx.Row) (*account.Group, error) {
	var (
		g         account.Group
		ldap, sso string
		access    *string
		created   int64
	)
	if err := row.Scan(&g.ID, &g.Name, &g.ClusterAdmin, &g.AccessAccount, &g.ManageAccount, &ldap, &sso, &access, &created); err != nil {
		return nil, err
	}
	var a string
	if access != nil {
		a = *access
	}
	if err := account.DecodeGroupLists(&g, ldap, sso, a, access != nil); err != nil {
		return nil, err
	}
	g.Created = time.UnixMilli(created).UTC()
	return &g, nil
}

// groupArgs are a group's stored values after its id, in groupColumns order.
func groupArgs(g *account.Group) ([]any, error) {
	ldap, sso, access, err := account.EncodeGroupLists(g)
	if err != nil {
		return nil, err
	}
	return []any{g.Name, account.NameKey(g.Name), g.ClusterAdmin, g.AccessAccount, g.ManageAccount, ldap, sso, access}, nil
}

// CreateGroup stores a new group.
func (db *DB) CreateGroup(ctx context.Context, g *account.Group) error {
	args, err := groupArgs(g)
	if err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO usergroups (id, name, name_key, cluster_admin, access_account, manage_account,
		ldap_group_names, sso_group_names, access_right, created) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		append(append([]any{g.ID}, args...), g.Created.UnixMilli())...)
	return formatError(err, "group")
}

// FindGroup returns the group with the given id.
func (db *DB) FindGroup(ctx context.Context, id string) (*account.Group, error) {
	g, err := scanGroup(db.pool.QueryRow(ctx, `SELECT `+groupColumns+` FROM usergroups WHERE id = $1`, id))
	return g, formatError(err, "group")
}

// ListGroups returns every group, ordered by id.
func (db *DB) ListGroups(ctx context.Context) ([]*account.Group, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+groupColumns+` FROM usergroups ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", formatError(err, "group"))
	}
	defer rows.Close()
	out := []*account.Group{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		out = append(out, g)
	}
	return out, formatError(rows.Err(), "group")
}

// UpdateGroup replaces everything of the group but its id and creation time.
func (db *DB) UpdateGroup(ctx context.Context, g *account.Group) error {
	args, err := groupArgs(g)
	if err != nil {
		return err
	}
	tag, err := db.pool.Exec(ctx, `UPDATE usergroups SET name = $1, name_key = $2, cluster_admin = $3, access_account = $4,
		manage_account = $5, ldap_group_names = $6, sso_group_names = $7, access_right = $8 WHERE id = $9`, append(args, g.ID)...)
	return affected(tag, err, "group")
}

// DeleteGroup deletes the group; memberships in it go with it.
func (db *DB) DeleteGroup(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM usergroups WHERE id = $1`, id)
	return affected(tag, err, "group")
}

// CountUsers returns how many users there are.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", formatError(err, "user"))
	}
	return n, nil
}

// SetPassword replaces the user's password hash.
func (db *DB) SetPassword(ctx context.Context, id, hash string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, id)
	return affected(tag, err, "user")
}

// CreateSession stores a new session.
func (db *DB) CreateSession(ctx context.Context, s *account.Session) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, created, last_seen) VALUES ($1,$2,$3,$4)`,
		s.IDHash, s.UserID, s.Created.UnixMilli(), s.LastSeen.UnixMilli())
	return formatError(err, "session")
}

// FindSession returns the session stored under idHash.
func (db *DB) FindSession(ctx context.Context, idHash string) (*account.Session, error) {
	var (
		s                 account.Session
		created, lastSeen int64
	)
	err := db.pool.QueryRow(ctx, `SELECT id_hash, user_id, created, last_seen FROM sessions WHERE id_hash = $1`, idHash).
		Scan(&s.IDHash, &s.UserID, &created, &lastSeen)
	if err != nil {
		return nil, formatError(err, "session")
	}
	s.Created, s.LastSeen = time.UnixMilli(created).UTC(), time.UnixMilli(lastSeen).UTC()
	return &s, nil
}

// TouchSession moves the session's last use forward to at.
func (db *DB) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE sessions SET last_seen = GREATEST(last_seen, $1) WHERE id_hash = $2`,
		at.UnixMilli(), idHash)
	return affected(tag, err, "session")
}

// DeleteSession removes one session.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return affected(tag, err, "session")
}

// DeleteUserSessions removes every session of a user.
func (db *DB) DeleteUserSessions(ctx context.Context, userID string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete sessions of %s: %w", userID, formatError(err, "session"))
	}
	return nil
}

// DeleteIdleSessions removes sessions last seen before t.
func (db *DB) DeleteIdleSessions(ctx context.Context, before time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE last_seen < $1`, before.UnixMilli()); err != nil {
		return fmt.Errorf("delete idle sessions: %w", formatError(err, "session"))
	}
	return nil
}
