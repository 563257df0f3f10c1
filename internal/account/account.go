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
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AdminName is the user created on first start with an empty user table.
const AdminName = "admin"

// User is a console user (SPEC 5). The password itself is never part of it:
// only PasswordHash, in the PHC string format of argon2id; empty when no
// password was ever set, and then the user cannot sign in.
type User struct {
	ID           string // the sign-in name, e.g. "admin"
	Email        string
	FirstName    string
	LastName     string
	Groups       []string // group ids, a set in the order given; never nil
	PasswordHash string
	Created      time.Time
}

// Group is a user group (SPEC 5). Members of a group with ClusterAdmin may
// sign in to the console.
type Group struct {
	ID            string
	Name          string // unique, ignoring case
	ClusterAdmin  bool   // isClusterAdminGroup
	AccessAccount bool   // hasAccessAccountRole
	ManageAccount bool   // hasManageAccountAndViewProductUsageRole
	LDAPGroups    []string
	SSOGroups     []string
	// AccessRight maps a permission to the environment ids it is granted
	// on; nil when it was never set (the wire then leaves it out).
	AccessRight map[string][]string
	Created     time.Time
}

// AdminGroupID is the cluster-admin group the store starts with; the first
// admin is made a member of it.
const AdminGroupID = "cluster-admins"

// Session is a signed-in browser. Only the SHA-256 of the cookie value is
// stored (IDHash), so a copy of the store opens no session.
type Session struct {
	IDHash   string // hex SHA-256 of the cookie value
	UserID   string
	Created  time.Time
	LastSeen time.Time
}

// Store keeps users, groups and sessions. Implementations return
// *errs.Error of kind NotFound for unknown ids, Conflict for a duplicate user
// id, group id or group name (compared by NameKey), and Invalid when a user
// names a group that does not exist.
type Store interface {
	// CreateUser stores a new user with its group memberships.
	CreateUser(ctx context.Context, u *User) error
	FindUser(ctx context.Context, id string) (*User, error)
	// ListUsers returns every user, ordered by id.
	ListUsers(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int, error)
	// UpdateUser replaces the user's email, names and groups (not its
	// password or creation time).
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser deletes the user, its memberships and its sessions.
	DeleteUser(ctx context.Context, id string) error
	// SetPassword replaces the user's password hash.
	SetPassword(ctx context.Context, id, hash string) error

	CreateGroup(ctx context.Context, g *Group) error
	FindGroup(ctx context.Context, id string) (*Group, error)
	// ListGroups returns every group, ordered by id.
	ListGroups(ctx context.Context) ([]*Group, error)
	// UpdateGroup replaces everything of the group but its id and creation time.
	UpdateGroup(ctx context.Context, g *Group) error
	// DeleteGroup deletes the group; its members lose the membership.
	DeleteGroup(ctx context.Context, id string) error

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

// NameKey is what group names are compared by for uniqueness: the name
// with letters folded to lower case. Both stores keep it, so that they agree.
func NameKey(name string) string { return strings.ToLower(name) }

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

// EncodeGroupLists returns the stored form of a group's lists, the same in
// every store: JSON arrays, and the access rights as a JSON object, or nil
// (NULL) when they were never set.
func EncodeGroupLists(g *Group) (ldap, sso string, access *string, err error) {
	enc := func(v any) string {
		if err != nil {
			return ""
		}
		var b []byte
		b, err = json.Marshal(v)
		return string(b)
	}
	ldap, sso = enc(nonNil(g.LDAPGroups)), enc(nonNil(g.SSOGroups))
	if g.AccessRight != nil {
		a := enc(g.AccessRight)
		access = &a
	}
	return ldap, sso, access, err
}

// DecodeGroupLists reads what EncodeGroupLists wrote into g; accessSet is
// false when the stored access rights are NULL.
func DecodeGroupLists(g *Group, ldap, sso, access string, accessSet bool) error {
	if err := json.Unmarshal([]byte(ldap), &g.LDAPGroups); err != nil {
		return fmt.Errorf("group %s: ldap group names: %w", g.ID, err)
	}
	if err := json.Unmarshal([]byte(sso), &g.SSOGroups); err != nil {
		return fmt.Errorf("group %s: sso group names: %w", g.ID, err)
	}
	g.LDAPGroups, g.SSOGroups = nonNil(g.LDAPGroups), nonNil(g.SSOGroups)
	g.AccessRight = nil
	if accessSet {
		if err := json.Unmarshal([]byte(access), &g.AccessRight); err != nil {
			return fmt.Errorf("group %s: access rights: %w", g.ID, err)
		}
		if g.AccessRight == nil {
			g.AccessRight = map[string][]string{}
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
