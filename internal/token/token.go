// Package token owns API tokens: their format (prefix, public id, secret,
// checksum), their scopes, the token record and the rules for creating,
// changing and checking them. Storage is behind the Store interface, which
// the store packages implement.
package token

import (
	"context"
	"crypto/subtle"
	"time"

	"clusterapi/internal/errs"
)

// Token is a stored token. The secret itself is never part of it: only Hash.
type Token struct {
	ID            string // dt0c01.<PUBLIC>, safe to log
	Hash          Hash   // SHA-256 of the full token
	Name          string
	UserID        string // the owner
	Scopes        []Scope
	Created       time.Time
	Expires       time.Time // zero: never
	Revoked       bool
	LastUse       time.Time // zero: never used
	LastUseIP     string
	EnvironmentID string // set for tokens bound to one environment
	// Successor is the id of the token that replaced this one in a
	// rotation (an extension); a token is rotated at most once.
	Successor string
	// Predecessor is the id of the token this one replaced in a rotation,
	// until this one's first use revokes it (see Service.Rotate); empty
	// after that, and for tokens that were not made by a rotation.
	Predecessor string
}

// ScopeSet returns the token's scopes as a set.
func (t *Token) ScopeSet() ScopeSet { return SetOf(t.Scopes...) }

// Status is what a token's state means for its use.
type Status string

// The statuses of a token. A revoked token is revoked whether or not it has
// also expired.
const (
	StatusActive  Status = "active"
	StatusRevoked Status = "revoked"
	StatusExpired Status = "expired"
)

// Status returns the token's status at now.
func (t *Token) Status(now time.Time) Status {
	switch {
	case t.Revoked:
		return StatusRevoked
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return StatusExpired
	}
	return StatusActive
}

// Filter selects tokens for List. Zero fields select everything.
type Filter struct {
	Limit       int     // at most this many; 0 means no limit
	UserID      string  // owned by this user
	Scopes      []Scope // holding every one of these
	LastUseFrom time.Time
	LastUseTo   time.Time
	// Name selects tokens whose name contains it, ignoring the case of
	// ASCII letters.
	Name string
	// Status selects tokens with this status at time At.
	Status Status
	At     time.Time
	// Offset skips this many matching tokens (for the console's pages).
	Offset int
}

// Change is a change to a stored token; nil fields are left as they are.
type Change struct {
	Name    *string
	Revoked *bool
	Scopes  []Scope // nil: unchanged; otherwise replaces the whole set
	// Expires, when set, moves the expiry (the service only ever brings
	// it closer, to apply a lifetime cap).
	Expires *time.Time
}

// Use is one authenticated use of a token, recorded in batches.
type Use struct {
	ID string
	At time.Time
	IP string
}

// Store keeps tokens. Implementations return *errs.Error of kind NotFound for
// unknown ids and Conflict for duplicate ids.
type Store interface {
	CreateToken(ctx context.Context, t *Token) error
	FindToken(ctx context.Context, id string) (*Token, error)
	// FindTokens returns the tokens matching f, newest first (ties in the
	// order of creation, newest first).
	FindTokens(ctx context.Context, f Filter) ([]*Token, error)
	UpdateToken(ctx context.Context, id string, c Change) error
	DeleteToken(ctx context.Context, id string) error
	// DeleteEnvironmentTokens removes every token bound to environment envID
	// and returns their ids.
	DeleteEnvironmentTokens(ctx context.Context, envID string) ([]string, error)
	// RecordUses stores the last use of each token in one statement or
	// transaction; it never moves a lastUse backwards and ignores unknown ids.
	RecordUses(ctx context.Context, uses []Use) error
	// TokenChanges returns the ids of tokens whose revocation, scopes,
	// expiry or existence changed after sequence number after, whoever
	// changed them, with the number to ask from next; lost reports that
	// changes after after were pruned, so the caller must forget everything.
	TokenChanges(ctx context.Context, after int64) (ids []string, next int64, lost bool, err error)
	// LastTokenChange returns the newest change's sequence number.
	LastTokenChange(ctx context.Context) (int64, error)
	// RotateToken stores next, the successor of the token with id old, and
	// in the same transaction sets old's Successor to next.ID and applies
	// c to old (the service sets only Revoked and Expires). It returns
	// NotFound when old does not exist and Conflict when old already has a
	// successor, storing nothing then.
	RotateToken(ctx context.Context, old string, next *Token, c Change) error
	// RetirePredecessor revokes the predecessor of the token with id id and
	// clears that token's Predecessor, in one transaction, and returns the
	// predecessor's id; "" when there was none (already retired, or never
	// one). An unknown id is not an error: it has no predecessor.
	RetirePredecessor(ctx context.Context, id string) (string, error)
}

// The errors of a failed authentication (SPEC 2.2). They are shared values so
// that the request path allocates nothing, and the ones for unknown ids and
// wrong secrets are the same value, so their responses are byte-identical.
var (
	ErrMissing   = errs.E(errs.Unauthorized, "Missing authorization parameter.")
	ErrAuthFail  = errs.E(errs.Unauthorized, "Token Authentication failed")
	ErrRevoked   = errs.E(errs.Unauthorized, "Token has been revoked")
	ErrExpired   = errs.E(errs.Unauthorized, "Token has expired")
	errSelf      = errs.E(errs.Invalid, "You can't update the token used for authentication.")
	errNotFound  = errs.E(errs.NotFound, "Token not found")
	errBadLookup = errs.E(errs.NotFound, "Token not found")
)

// Check decides whether the presented full token authenticates as the record
// with hash h: the hashes are compared in constant time, then revocation and
// expiry are checked at now. It is the single rule used on cache hits and
// misses alike.
func Check(h Hash, presented string, revoked bool, expires time.Time, now time.Time) error {
	got := HashOf(presented)
	// constant-time: do not replace with ==.
	if subtle.ConstantTimeCompare(got[:], h[:]) != 1 {
		return ErrAuthFail
	}
	if revoked {
		return ErrRevoked
	}
	if !expires.IsZero() && !now.Before(expires) {
		return ErrExpired
	}
	return nil
}
