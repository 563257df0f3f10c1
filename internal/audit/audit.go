// Package audit is the audit log: who did what to which token, environment,
// user or group, from where, and how it ended. Events are recorded in
// memory and written to the store in batches; failed authentications are
// counted per client address and reason and written as one event a minute,
// so an attack does not become one row per attempt. No event holds a
// secret: every text passes through token.Redact before it is kept.
package audit

import (
	"context"
	"time"
)

// Event is one audited action.
type Event struct {
	Seq        int64 // the store's position, increasing; set by the store
	Time       time.Time
	Action     string // e.g. "token.create", "environment.delete", "auth.failed"
	User       string // the acting user (a token's owner, or the console user)
	TokenID    string // the acting token's id, when a token acted
	ClientAddr string
	Target     string // what was acted on: a token id, an environment id, a user id, ...
	Outcome    string // "success", or "failure: <status> <reason>"
	Detail     string // e.g. the scope change of a token update
	Count      int    // how many occurrences the event stands for (aggregated failures); at least 1
}

// Query selects events, newest first.
type Query struct {
	From, To time.Time // [From, To); zero: unbounded
	Actor    string    // matches User or TokenID exactly; empty: any
	Target   string    // exact; empty: any
	Action   string    // exact, or a prefix ending in "." ("token."); empty: any
	Limit    int       // at most this many
	Before   int64     // only events with Seq < Before; 0: from the newest
}

// Store keeps audit events.
type Store interface {
	// AppendAudit stores events in one batch, giving each a Seq.
	AppendAudit(ctx context.Context, events []Event) error
	// FindAudit returns the events q selects, newest (highest Seq) first.
	FindAudit(ctx context.Context, q Query) ([]Event, error)
	// DeleteAuditBefore deletes events older than t and returns how many.
	DeleteAuditBefore(ctx context.Context, t time.Time) (int64, error)
}

// Outcomes.
const Success = "success"
