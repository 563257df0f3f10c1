// Package account owns the console's users and their sign-in sessions:
// password hashing (argon2id), sign-in throttling, and server-side sessions
// that expire after a period of inactivity. Storage is behind the Store
// interface, which the store packages implement.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// AdminName is the user created on first start with an empty user table.
const AdminName = "admin"

// User is a console user. The password itself is never part of it: only
// PasswordHash, in the PHC string format of argon2id.
type User struct {
	ID           string // the sign-in name, e.g. "admin"
	PasswordHash string
	Created      time.Time
}

// Session is a signed-in browser. Only the SHA-256 of the cookie value is
// stored (IDHash), so a copy of the store opens no session.
type Session struct {
	IDHash   string // hex SHA-256 of the cookie value
	UserID   string
	Created  time.Time
	LastSeen time.Time
}

// Store keeps users and sessions. Implementations return *errs.Error of kind
// NotFound for unknown ids and Conflict for duplicate ids.
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	FindUser(ctx context.Context, id string) (*User, error)
	CountUsers(ctx context.Context) (int, error)
	// SetPassword replaces the user's password hash.
	SetPassword(ctx context.Context, id, hash string) error

	CreateSession(ctx context.Context, s *Session) error
	FindSession(ctx context.Context, idHash string) (*Session, error)
	// TouchSession moves the session's LastSeen to at; never backwards.
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteUserSessions signs the user out everywhere.
	DeleteUserSessions(ctx context.Context, userID string) error
	// DeleteIdleSessions removes sessions last seen before t.
	DeleteIdleSessions(ctx context.Context, before time.Time) error
}

// SessionKey is the secret a browser holds in its session cookie. Like
// token.Secret it does not print itself.
type SessionKey string

// String redacts the key, so that it cannot reach a log by accident.
func (SessionKey) String() string { return "REDACTED" }

// Reveal returns the cookie value.
func (k SessionKey) Reveal() string { return string(k) }

// newSessionKey returns 256 random bits, base64url-encoded.
func newSessionKey() SessionKey {
	return SessionKey(base64.RawURLEncoding.EncodeToString(randomBytes(32)))
}

// hashKey is what the store keeps of a session key.
func hashKey(k string) string {
	h := sha256.Sum256([]byte(k))
	return hex.EncodeToString(h[:])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return b
}
