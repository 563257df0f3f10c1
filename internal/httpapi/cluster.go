package httpapi

import (
	"net/http"

	"clusterapi/internal/cluster"
)

// clusterNode is a server node on the wire (SPEC 5, GET /cluster), in the
// reference model's shape. The URI arrays are always present and empty: a
// node does not know how clients reach it through a load balancer.
// startupTime and lastHeartbeat are extensions (epoch ms).
type clusterNode struct {
	ID                   int64    `json:"id"`
	ClusterMemberAddress string   `json:"clusterMemberAddress"`
	OperationState       string   `json:"operationState"`
	BuildVersion         string   `json:"buildVersion"`
	CommunicationURIs    []string `json:"communicationUris"`
	RestServiceRootURIs  []string `json:"restServiceRootUris"`
	DNSEntryPointURIs    []string `json:"dnsEntryPointUris"`
	StartupTime          int64    `json:"startupTime"`
	LastHeartbeat        int64    `json:"lastHeartbeat"`
}

// listClusterNodes answers a bare array of the nodes sharing the store.
func (a *API) listClusterNodes(w http.ResponseWriter, r *http.Request) {
	out := []clusterNode{}
	if a.nodes == nil { // an API built without a registry (tests of other routes)
		encode(w, r, http.StatusOK, out)
		return
	}
	views, err := a.nodes.Nodes(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	for _, v := range views {
		out = append(out, toClusterNode(v))
	}
	encode(w, r, http.StatusOK, out)
}

func toClusterNode(v cluster.View) clusterNode {
	return clusterNode{
		ID: v.ID, ClusterMemberAddress: v.Address, OperationState: string(v.State), BuildVersion: v.BuildVersion,
		CommunicationURIs: []string{}, RestServiceRootURIs: []string{}, DNSEntryPointURIs: []string{},
		StartupTime: v.Started.UnixMilli(), LastHeartbeat: v.Heartbeat.UnixMilli(),
	}
}
