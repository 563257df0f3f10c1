package httpapi

import (
	"clusterapi/internal/openapi"
	"clusterapi/internal/token"
)

// routes registers every route of the API, in the order of the API document.
func (a *API) routes() {
	// Tokens API (SPEC 3), with the v1 paths older scripts still call.
	for _, base := range []string{"/api/cluster/v2/tokens", "/api/cluster/v1/tokens"} {
		a.handle("GET "+base, a.listTokens, token.ClusterTokenManagement)
		a.handle("POST "+base, a.audited("token.create", a.createToken), token.ClusterTokenManagement)
		a.handle("POST "+base+"/lookup", a.audited("token.lookup", a.lookupToken)) // any valid token; the rule is in token.Service
		a.handle("GET "+base+"/{id}", a.getToken, token.ClusterTokenManagement)
		a.handle("PUT "+base+"/{id}", a.audited("token.update", a.updateToken), token.ClusterTokenManagement)
		a.handle("DELETE "+base+"/{id}", a.audited("token.delete", a.deleteToken), token.ClusterTokenManagement)
	}
	// Extensions of the Tokens API, on the v2 paths only: the v1 paths are
	// aliases for what older scripts call, and those scripts call neither.
	a.handle("POST /api/cluster/v2/tokens/{id}/rotate", a.audited("token.rotate", a.rotateToken), token.ClusterTokenManagement)
	a.public("POST /api/cluster/v2/tokens/revoke-leaked", a.audited("token.revoke-leaked", a.revokeLeaked)) // no token: see leaked.go

	// Environments API (SPEC 4).
	// -- environments routes start --
	a.handle("GET "+environmentsPath, a.listEnvironments, token.ServiceProviderAPI)
	a.handle("POST "+environmentsPath, a.audited("environment.create", a.createEnvironment), token.ServiceProviderAPI)
	a.handle("GET "+environmentsPath+"/{id}", a.getEnvironment, token.ServiceProviderAPI)
	a.handle("PUT "+environmentsPath+"/{id}", a.audited("environment.put", a.putEnvironment), token.ServiceProviderAPI)
	a.handle("DELETE "+environmentsPath+"/{id}", a.audited("environment.delete", a.deleteEnvironment), token.ServiceProviderAPI)
	a.handle("POST "+environmentsPath+"/{id}/tokenManagementToken", a.audited("environment.tokenManagementToken", a.createTokenManagementToken), token.EnvironmentTokenManagement)
	// -- environments routes end --

	// Network zones API (SPEC 4.7).
	a.handle("GET "+networkZonesPath, a.listNetworkZones, token.ServiceProviderAPI)
	a.handle("GET "+networkZonesPath+"/{id}", a.getNetworkZone, token.ServiceProviderAPI)
	a.handle("PUT "+networkZonesPath+"/{id}", a.audited("networkzone.put", a.putNetworkZone), token.ServiceProviderAPI)
	a.handle("DELETE "+networkZonesPath+"/{id}", a.audited("networkzone.delete", a.deleteNetworkZone), token.ServiceProviderAPI)

	// Cluster API v1 (SPEC 5).
	a.handle("GET /api/v1.0/onpremise/cluster", a.listClusterNodes,
		token.ServiceProviderAPI, token.ControlManagement, token.Nodekeeper)
	a.handle("GET "+usersPath, a.listUsers, token.ServiceProviderAPI)
	a.handle("POST "+usersPath, a.audited("user.create", a.createUser), token.ServiceProviderAPI)
	a.handle("PUT "+usersPath, a.audited("user.update", a.updateUser), token.ServiceProviderAPI)
	a.handle("GET "+usersPath+"/{id}", a.getUser, token.ServiceProviderAPI)
	a.handle("DELETE "+usersPath+"/{id}", a.audited("user.delete", a.deleteUser), token.ServiceProviderAPI)
	a.handle("GET "+groupsPath, a.listGroups, token.ServiceProviderAPI)
	a.handle("POST "+groupsPath, a.audited("group.create", a.createGroup), token.ServiceProviderAPI)
	a.handle("PUT "+groupsPath, a.audited("group.update", a.updateGroup), token.ServiceProviderAPI)
	a.handle("GET "+groupsPath+"/{groupId}", a.getGroup, token.ServiceProviderAPI)
	a.handle("DELETE "+groupsPath+"/{groupId}", a.audited("group.delete", a.deleteGroup), token.ServiceProviderAPI)

	// The audit log (extension).
	a.handle("GET "+auditlogPath, a.listAuditLog, token.ClusterTokenManagement)

	// The API documents (SPEC 7), without authentication.
	a.public("GET "+openapi.V2.Path, openapi.V2.Handler())
	a.public("GET "+openapi.V1.Path, openapi.V1.Handler())
}

// metricsScopes are the scopes that let a token read GET /metrics, which is
// not an API route (internal/server serves it, through GuardMetrics) and is
// in no API document. DiagnosticExport grants nothing else here, so it is
// the one to give a scraper; ServiceProviderAPI and ControlManagement, which
// administer the cluster, may read the metrics too.
var metricsScopes = []token.Scope{token.DiagnosticExport, token.ServiceProviderAPI, token.ControlManagement}
