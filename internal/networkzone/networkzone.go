// Package networkzone owns the network zones of the cluster (SPEC 4.7): the
// Zone record, the rules for zone ids and the other fields of a PUT, and the
// Service that creates, replaces, lists and deletes zones. Storage is behind
// the Store interface, which the store packages implement.
package networkzone

import "context"

// FallbackMode says where OneAgents of a zone connect when no ActiveGate of
// the zone or of its alternative zones is available. Its value is the wire
// name.
type FallbackMode string

// The fallback modes of the reference API.
const (
	None            FallbackMode = "NONE"
	AnyActiveGate   FallbackMode = "ANY_ACTIVE_GATE"
	OnlyDefaultZone FallbackMode = "ONLY_DEFAULT_ZONE"
)

// DefaultFallbackMode is the mode of a zone that names none, as in the
// reference.
const DefaultFallbackMode = AnyActiveGate

// Known reports whether m is a mode the API accepts. Modes are matched
// exactly: the wire names are upper case.
func (m FallbackMode) Known() bool {
	switch m {
	case None, AnyActiveGate, OnlyDefaultZone:
		return true
	}
	return false
}

// Zone is a stored network zone. Every id in it, its own and its alternative
// zones', is in the lower-case form Normalize returns.
type Zone struct {
	ID               string
	Description      string   // at most MaxDescriptionLen code points; "" when none
	AlternativeZones []string // in the order given, no duplicates, never the zone itself; never nil
	FallbackMode     FallbackMode
}

// Input is a zone as a client PUTs it. Nil fields were not given (absent or
// null on the wire) and take their defaults: a PUT replaces the whole zone.
type Input struct {
	ID               *string // if given and not empty, it must name the zone of the path
	Description      *string
	AlternativeZones []string // nil: not given; empty: none
	FallbackMode     *FallbackMode
}

// Store keeps network zones, by their normalized id. Implementations return
// *errs.Error of kind NotFound for unknown ids and Conflict for duplicate ids.
type Store interface {
	CreateNetworkZone(ctx context.Context, z *Zone) error
	FindNetworkZone(ctx context.Context, id string) (*Zone, error)
	// FindNetworkZones returns every zone, sorted by id (bytewise).
	FindNetworkZones(ctx context.Context) ([]*Zone, error)
	// UpdateNetworkZone replaces the stored zone with z's id by z.
	UpdateNetworkZone(ctx context.Context, z *Zone) error
	DeleteNetworkZone(ctx context.Context, id string) error
}
