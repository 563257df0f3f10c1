package sqlite

import (
	"context"
	"fmt"
	"time"

	"clusterapi/internal/account"
)

var _ account.Store = (*DB)(nil)

// CreateUser stores a new user.
func (db *DB) CreateUser(ctx context.Context, u *account.User) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO users (id, password_hash, created) VALUES (?,?,?)`,
		u.ID, u.PasswordHash, u.Created.UnixMilli())
	return formatError(err, "user")
}

// FindUser returns the user with the given id.
func (db *DB) FindUser(ctx context.Context, id string) (*account.User, error) {
	var (
		u       account.User
		created int64
	)
	err := db.read.QueryRowContext(ctx, `SELECT id, password_hash, created FROM users WHERE id = ?`, id).
		Scan(&u.ID, &u.PasswordHash, &created)
	if err != nil {
		return nil, formatError(err, "user")
	}
	u.Created = time.UnixMilli(created).UTC()
	return &u, nil
}

// CountUsers returns how many users there are.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// SetPassword replaces the user's password hash.
func (db *DB) SetPassword(ctx context.Context, id, hash string) error {
	res, err := db.write.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id)
	return affected(res, err, "user")
}

// CreateSession stores a new session.
func (db *DB) CreateSession(ctx context.Context, s *account.Session) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, created, last_seen) VALUES (?,?,?,?)`,
		s.IDHash, s.UserID, s.Created.UnixMilli(), s.LastSeen.UnixMilli())
	return formatError(err, "session")
}

// FindSession returns the session stored under idHash.
func (db *DB) FindSession(ctx context.Context, idHash string) (*account.Session, error) {
	var (
		s                 account.Session
		created, lastSeen int64
	)
	err := db.read.QueryRowContext(ctx, `SELECT id_hash, user_id, created, last_seen FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&s.IDHash, &s.UserID, &created, &lastSeen)
	if err != nil {
		return nil, formatError(err, "session")
	}
	s.Created, s.LastSeen = time.UnixMilli(created).UTC(), time.UnixMilli(lastSeen).UTC()
	return &s, nil
}

// TouchSession moves the session's last use forward to at.
func (db *DB) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	res, err := db.write.ExecContext(ctx, `UPDATE sessions SET last_seen = max(last_seen, ?) WHERE id_hash = ?`,
		at.UnixMilli(), idHash)
	return affected(res, err, "session")
}

// DeleteSession removes one session.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return affected(res, err, "session")
}

// DeleteUserSessions removes every session of a user.
func (db *DB) DeleteUserSessions(ctx context.Context, userID string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete sessions of %s: %w", userID, err)
	}
	return nil
}

// DeleteIdleSessions removes sessions last seen before t.
func (db *DB) DeleteIdleSessions(ctx context.Context, before time.Time) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen < ?`, before.UnixMilli()); err != nil {
		return fmt.Errorf("delete idle sessions: %w", err)
	}
	return nil
}
