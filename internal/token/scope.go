package token

import "strings"

// Scope is a permission a token may hold. Its value is the wire name, which
// is case-sensitive.
type Scope string

// The scopes of SPEC 1.2.
const (
	ClusterTokenManagement       Scope = "ClusterTokenManagement"
	ServiceProviderAPI           Scope = "ServiceProviderAPI"
	EnvironmentTokenManagement   Scope = "EnvironmentTokenManagement"
	ControlManagement            Scope = "ControlManagement"
	UnattendedInstall            Scope = "UnattendedInstall"
	Nodekeeper                   Scope = "Nodekeeper"
	DiagnosticExport             Scope = "DiagnosticExport"
	ExternalSyntheticIntegration Scope = "ExternalSyntheticIntegration"
	ReadSyntheticData            Scope = "ReadSyntheticData"
	SettingsRead                 Scope = "settings.read"
	SettingsWrite                Scope = "settings.write"
	APITokensRead                Scope = "apiTokens.read"
	APITokensWrite               Scope = "apiTokens.write"
	ActiveGateTokensRead         Scope = "activeGateTokenManagement.read"
	ActiveGateTokensCreate       Scope = "activeGateTokenManagement.create"
	ActiveGateTokensWrite        Scope = "activeGateTokenManagement.write"
	TenantTokenManagement        Scope = "TenantTokenManagement"
)

// ScopeInfo describes a scope for people: its display name, what it grants
// and the group the console shows it in.
type ScopeInfo struct {
	Scope  Scope
	Name   string
	Grants string
	Group  string
}

// scopes lists every scope; a scope's index is its bit in a ScopeSet, so the
// list may only grow at the end (sets are never persisted, but keep it tidy).
var scopes = []ScopeInfo{
	{ClusterTokenManagement, "Cluster token management", "the Tokens API: create, list, update and delete cluster tokens", "Cluster"},
	{ServiceProviderAPI, "Service Provider API", "environments, cluster and user management", "Cluster"},
	{EnvironmentTokenManagement, "Environment token management", "minting token-management tokens for one environment", "Cluster"},
	{ControlManagement, "Control management", "cluster operations", "Cluster"},
	{UnattendedInstall, "Unattended install", "node installation flows", "Nodes"},
	{Nodekeeper, "Nodekeeper", "node management", "Nodes"},
	{DiagnosticExport, "Diagnostic export", "diagnostic exports", "Nodes"},
	{ExternalSyntheticIntegration, "External synthetic integration", "synthetic monitors, locations and nodes", "Synthetic"},
	{ReadSyntheticData, "Read synthetic data", "reading synthetic data", "Synthetic"},
	{SettingsRead, "Read settings", "reading cluster settings", "Settings"},
	{SettingsWrite, "Write settings", "writing cluster settings", "Settings"},
	{APITokensRead, "Read API tokens", "environment API tokens, read", "Environment tokens"},
	{APITokensWrite, "Write API tokens", "environment API tokens, write", "Environment tokens"},
	{ActiveGateTokensRead, "Read ActiveGate tokens", "reading ActiveGate tokens", "ActiveGate tokens"},
	{ActiveGateTokensCreate, "Create ActiveGate tokens", "creating ActiveGate tokens", "ActiveGate tokens"},
	{ActiveGateTokensWrite, "Write ActiveGate tokens", "writing ActiveGate tokens", "ActiveGate tokens"},
	{TenantTokenManagement, "Token management", "environment token management (only on tokens bound to an environment)", "Environment tokens"},
}

var scopeIndex = func() map[Scope]int {
	m := make(map[Scope]int, len(scopes))
	for i, s := range scopes {
		m[s.Scope] = i
	}
	return m
}()

// Scopes returns every scope in display order.
func Scopes() []ScopeInfo { return append([]ScopeInfo(nil), scopes...) }

// Known reports whether s is a scope the server knows.
func (s Scope) Known() bool {
	_, ok := scopeIndex[s]
	return ok
}

// DisplayName returns the scope's name for people, or the value itself for an
// unknown scope.
func (s Scope) DisplayName() string {
	if i, ok := scopeIndex[s]; ok {
		return scopes[i].Name
	}
	return string(s)
}

// ScopeSet is a set of known scopes as a bit mask, so that a scope check on
// the request path is one AND.
type ScopeSet uint32

// SetOf returns the set of the known scopes among ss; unknown ones are ignored.
func SetOf(ss ...Scope) ScopeSet {
	var set ScopeSet
	for _, s := range ss {
		if i, ok := scopeIndex[s]; ok {
			set |= 1 << i
		}
	}
	return set
}

// Has reports whether the set holds s.
func (set ScopeSet) Has(s Scope) bool { return set&SetOf(s) != 0 }

// Any reports whether the set holds at least one scope of other.
func (set ScopeSet) Any(other ScopeSet) bool { return set&other != 0 }

// Scopes returns the set's scopes in display order.
func (set ScopeSet) Scopes() []Scope {
	out := []Scope{}
	for i, s := range scopes {
		if set&(1<<i) != 0 {
			out = append(out, s.Scope)
		}
	}
	return out
}

// MissingScopeMessage is the message of the 403 for a token that holds none
// of the acceptable scopes (SPEC 2.2).
func MissingScopeMessage(acceptable ...Scope) string {
	var b strings.Builder
	b.WriteString("Token is missing required scope. Use one of: ")
	for i, s := range acceptable {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(s))
		b.WriteString(" (")
		b.WriteString(s.DisplayName())
		b.WriteString(")")
	}
	return b.String()
}
