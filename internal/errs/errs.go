// Package errs is the small error vocabulary shared by every package: a Kind
// that says what went wrong in terms a client understands, and an Error whose
// Message is always safe to show to that client. Only httpapi maps kinds to
// HTTP statuses.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error. Kinds are compared and persisted by name, never by
// position, so new kinds may be added anywhere.
type Kind string

// The kinds of error. Anything that is not an *Error is Internal.
const (
	Invalid      Kind = "invalid"      // the request is malformed or violates a constraint
	Unauthorized Kind = "unauthorized" // no valid credentials
	Forbidden    Kind = "forbidden"    // valid credentials without the right
	NotFound     Kind = "not_found"    // no such thing (or not visible to the caller)
	Conflict     Kind = "conflict"     // the change clashes with stored state
	Duplicate    Kind = "duplicate"    // a create names something that exists already (v1: 406)
	TooLarge     Kind = "too_large"    // the request body is over the limit
	Unavailable  Kind = "unavailable"  // a dependency (the store) cannot be reached right now
	Throttled    Kind = "throttled"    // too many recent failures from this client; retry later (429)
	Internal     Kind = "internal"     // a bug or an unexpected failure; detail goes to the log only
)

// Location says where a violating parameter was found, in the wire's terms.
type Location string

// Parameter locations of a constraint violation.
const (
	Path    Location = "PATH"
	Query   Location = "QUERY"
	Payload Location = "PAYLOAD_BODY"
)

// Violation names one parameter at fault and why.
type Violation struct {
	Path     string   // the parameter or JSON path, e.g. "name" or "scopes[2]"
	Message  string   // why it is wrong, safe to show
	Location Location // where the parameter was found
}

// Error is an error whose Message is safe to show to a client.
type Error struct {
	Kind       Kind
	Message    string
	Violations []Violation
}

func (e *Error) Error() string {
	if len(e.Violations) == 0 {
		return e.Message
	}
	v := e.Violations[0]
	return fmt.Sprintf("%s %s: %s", e.Message, v.Path, v.Message)
}

// E returns an error of kind k with a client-safe message.
func E(k Kind, message string) *Error {
	return &Error{Kind: k, Message: message}
}

// ConstraintsViolated is the envelope message of every 400 caused by invalid input.
const ConstraintsViolated = "Constraints violated."

// Violated returns an Invalid error naming the parameters at fault.
func Violated(vs ...Violation) *Error {
	return &Error{Kind: Invalid, Message: ConstraintsViolated, Violations: vs}
}

// Field returns an Invalid error for one parameter.
func Field(loc Location, path, message string) *Error {
	return Violated(Violation{Path: path, Message: message, Location: loc})
}

// KindOf returns the kind of err: the Kind of the first *Error in its chain,
// or Internal when there is none.
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is an *Error of kind k.
func Is(err error, k Kind) bool {
	return err != nil && KindOf(err) == k
}
