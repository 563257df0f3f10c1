// Package storetest is the behavioural suite every store engine must pass:
// one set of expectations, run against SQLite and PostgreSQL alike, so that
// a difference between engines is a failing test rather than a surprise.
package storetest

import (
	"testing"

	"clusterapi/internal/account"
	"clusterapi/internal/audit"
	"clusterapi/internal/cluster"
	"clusterapi/internal/environment"
	"clusterapi/internal/networkzone"
	"clusterapi/internal/token"
)

// Store is everything a store engine implements.
type Store interface {
	token.Store
	environment.Store
	cluster.Store
	account.Store
	networkzone.Store
	audit.Store
}

// Run runs the suite. open must return a fresh, empty store for each call and
// arrange for it to be closed when the test ends.
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open) })
	t.Run("Rotation", func(t *testing.T) { testRotation(t, open) })
	t.Run("Environments", func(t *testing.T) { testEnvironments(t, open) })
	t.Run("Nodes", func(t *testing.T) { testNodes(t, open) })
	t.Run("TokenPages", func(t *testing.T) { testTokenPages(t, open) })
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open) })
	t.Run("Groups", func(t *testing.T) { testGroups(t, open) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open) })
	t.Run("NetworkZones", func(t *testing.T) { testNetworkZones(t, open) })
}
