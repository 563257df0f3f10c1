// Package environment owns the tenant environments of the cluster (SPEC 4):
// the Environment record with its quotas and storage limits, the rules for
// creating, merging and deleting environments, the list filter grammar and
// the opaque paging cursor. Storage is behind the Store interface, which the
// store packages implement.
package environment

import (
	"context"
	"strings"
	"time"
)

// State says whether an environment is enabled. Its value is the wire name.
type State string

// The states of an environment.
const (
	Enabled  State = "ENABLED"
	Disabled State = "DISABLED"
)

// Known reports whether s is a state the API accepts.
func (s State) Known() bool { return s == Enabled || s == Disabled }

// Environment is a stored tenant environment.
type Environment struct {
	ID      string // [a-zA-Z0-9_-]{1,70}
	Name    string // 1-100 code points
	Trial   bool
	State   State
	Tags    []string  // a set, in the order first given; never nil
	Created time.Time // millisecond precision, UTC
	Quotas  Quotas
	Storage Storage
	// Revision is the stored record's version: updates and deletes carry
	// the revision they read, and fail with Conflict if it has moved on.
	Revision int64
}

// The limit types below hold operator-configured limits only: usage figures
// are not stored (they are 0 on the wire until something reports usage). A
// nil *int64 is "unlimited" (null on the wire), so null round-trips exactly.
//
// Quotas and Storage are also the stored form: the store packages keep them
// as JSON with these tags, so the tags are append-only names, not to be
// renamed. They match the wire names, but the wire has its own structs.

// Limit is a single maximum, e.g. host units or a storage size in bytes.
type Limit struct {
	MaxLimit *int64 `json:"maxLimit,omitempty"`
}

// PeriodLimits is a monthly and an annual quota, e.g. DEM units.
type PeriodLimits struct {
	MonthlyLimit *int64 `json:"monthlyLimit,omitempty"`
	AnnualLimit  *int64 `json:"annualLimit,omitempty"`
}

// Retention is a maximum data retention in days.
type Retention struct {
	MaxLimitInDays *int64 `json:"maxLimitInDays,omitempty"`
}

// Quotas are the consumption quotas of an environment (the wire's
// EnvironmentQuotas). A nil sub-object means every limit in it is unlimited.
// Session properties have no limit, so they have no field here.
type Quotas struct {
	HostUnits         *Limit        `json:"hostUnits,omitempty"`
	DEMUnits          *PeriodLimits `json:"demUnits,omitempty"`
	UserSessions      *PeriodLimits `json:"userSessions,omitempty"` // totalMonthlyLimit / totalAnnualLimit on the wire
	SyntheticMonitors *PeriodLimits `json:"syntheticMonitors,omitempty"`
	CustomMetrics     *Limit        `json:"customMetrics,omitempty"`
	DavisDataUnits    *PeriodLimits `json:"davisDataUnits,omitempty"`
	LogMonitoring     *PeriodLimits `json:"logMonitoring,omitempty"`
}

// Storage are the storage and retention limits of an environment (the wire's
// EnvironmentStorage). Nil sub-objects mean what they mean in Quotas.
type Storage struct {
	TransactionStorage           *Limit     `json:"transactionStorage,omitempty"`
	SessionReplayStorage         *Limit     `json:"sessionReplayStorage,omitempty"`
	SymbolFilesFromMobileApps    *Limit     `json:"symbolFilesFromMobileApps,omitempty"`
	LogMonitoringStorage         *Limit     `json:"logMonitoringStorage,omitempty"`
	ServiceRequestLevelRetention *Retention `json:"serviceRequestLevelRetention,omitempty"`
	ServiceCodeLevelRetention    *Retention `json:"serviceCodeLevelRetention,omitempty"`
	RealUserMonitoringRetention  *Retention `json:"realUserMonitoringRetention,omitempty"`
	SyntheticMonitoringRetention *Retention `json:"syntheticMonitoringRetention,omitempty"`
	SessionReplayRetention       *Retention `json:"sessionReplayRetention,omitempty"`
	LogMonitoringRetention       *Retention `json:"logMonitoringRetention,omitempty"`
	UserActionsPerMinute         *Limit     `json:"userActionsPerMinute,omitempty"`
	TransactionTrafficQuota      *Limit     `json:"transactionTrafficQuota,omitempty"`
}

// Input is an environment as a client sends it, for a create or a (partial)
// update. Nil fields were not given (absent or null on the wire).
type Input struct {
	ID      *string // only checked on PUT, where it must equal the path id; ignored on POST
	Name    *string
	Trial   *bool
	State   *State
	Tags    []string // nil: not given; empty: no tags
	Quotas  *QuotasInput
	Storage *StorageInput
}

// Opt is one limit inside a sub-object of an Input. A sub-object may name
// some of its limits and leave others out, and null is not the same as
// absent there (SPEC 4): a limit left out keeps its stored value (on a
// create: unlimited), null makes it unlimited, a number sets it.
type Opt struct {
	Set   bool   // the client sent the field; false: keep the stored value
	Value *int64 // what it sent when Set; nil is null, unlimited
}

// SetTo returns an Opt that sets a limit to v; nil is unlimited.
func SetTo(v *int64) Opt { return Opt{Set: true, Value: v} }

// applyTo sets *dst to the limit sent, if one was.
func (o Opt) applyTo(dst **int64) {
	if o.Set {
		*dst = o.Value
	}
}

// LimitInput is a Limit as a client sends it.
type LimitInput struct{ MaxLimit Opt }

// PeriodInput is a PeriodLimits as a client sends it.
type PeriodInput struct{ MonthlyLimit, AnnualLimit Opt }

// RetentionInput is a Retention as a client sends it.
type RetentionInput struct{ MaxLimitInDays Opt }

// QuotasInput is Quotas as a client sends them: a nil sub-object was not
// sent (absent or null) and keeps what is stored.
type QuotasInput struct {
	HostUnits         *LimitInput
	DEMUnits          *PeriodInput
	UserSessions      *PeriodInput
	SyntheticMonitors *PeriodInput
	CustomMetrics     *LimitInput
	DavisDataUnits    *PeriodInput
	LogMonitoring     *PeriodInput
}

// StorageInput is Storage as a client sends it, nil sub-objects as in
// QuotasInput.
type StorageInput struct {
	TransactionStorage           *LimitInput
	SessionReplayStorage         *LimitInput
	SymbolFilesFromMobileApps    *LimitInput
	LogMonitoringStorage         *LimitInput
	ServiceRequestLevelRetention *RetentionInput
	ServiceCodeLevelRetention    *RetentionInput
	RealUserMonitoringRetention  *RetentionInput
	SyntheticMonitoringRetention *RetentionInput
	SessionReplayRetention       *RetentionInput
	LogMonitoringRetention       *RetentionInput
	UserActionsPerMinute         *LimitInput
	TransactionTrafficQuota      *LimitInput
}

// Fold returns the form of a name that filters and the name sort compare:
// lower case, computed in Go so that every store engine agrees.
func Fold(name string) string { return strings.ToLower(name) }

// Sort is the order of a list. Its value is the wire name.
type Sort string

// The sort orders of SPEC 4. Every order breaks ties by id, ascending for the
// ascending orders and descending for the descending ones, so that paging
// has a total order to resume from.
const (
	ByName             Sort = "name"          // by Fold(name), then id
	ByNameDesc         Sort = "-name"         //
	ByCreationDate     Sort = "creationDate"  // by created, then id
	ByCreationDateDesc Sort = "-creationDate" //
)

// DefaultSort is the order of a list that names none (ours).
const DefaultSort = ByName

// Known reports whether s is a sort order the API accepts.
func (s Sort) Known() bool {
	switch s {
	case ByName, ByNameDesc, ByCreationDate, ByCreationDateDesc:
		return true
	}
	return false
}

// Desc reports whether s is a descending order.
func (s Sort) Desc() bool { return strings.HasPrefix(string(s), "-") }

// Filter selects environments; every criterion must hold. The zero Filter
// selects everything.
type Filter struct {
	Names  []string   // each, folded, is a substring of Fold(name)
	Trials []bool     // trial equals each
	States []State    // state equals each
	Tags   [][]string // for each group, the environment has at least one of its tags
}

// Key is a position in a sorted list: the sort values of the last
// environment of a page. Stores resume strictly after it.
type Key struct {
	Name    string    // Fold(name), used by the name orders
	Created time.Time // used by the creation date orders
	ID      string
}

// KeyOf returns the position of e in any order.
func KeyOf(e *Environment) Key {
	return Key{Name: Fold(e.Name), Created: e.Created, ID: e.ID}
}

// Query asks a store for one page of a list.
type Query struct {
	Filter Filter
	Sort   Sort // a known order
	After  *Key // resume strictly after this position; nil: from the start
	Limit  int  // at most this many environments (> 0)
}

// Store keeps environments. Implementations return *errs.Error of kind
// NotFound for unknown ids and Conflict for duplicate ids.
type Store interface {
	CreateEnvironment(ctx context.Context, e *Environment) error
	FindEnvironment(ctx context.Context, id string) (*Environment, error)
	// FindEnvironments returns up to q.Limit environments matching q.Filter
	// in q.Sort order after q.After, and the number of environments matching
	// q.Filter in all (regardless of q.After and q.Limit).
	FindEnvironments(ctx context.Context, q Query) ([]*Environment, int, error)
	// UpdateEnvironment replaces the stored record with e's id by e if its
	// revision is still e.Revision (else Conflict), and bumps e.Revision;
	// the creation time is never changed.
	UpdateEnvironment(ctx context.Context, e *Environment) error
	// DeleteEnvironment removes the environment if its revision is still
	// revision (else Conflict).
	DeleteEnvironment(ctx context.Context, id string, revision int64) error
}
