package httpapi

import (
	"net/http"

	"clusterapi/internal/networkzone"
)

// networkZonesPath is the base of the Network zones API (SPEC 4.7).
const networkZonesPath = "/api/cluster/v2/networkZones"

// networkZoneOut is the reference NetworkZone object. The counters are
// always 0 here: no OneAgent or ActiveGate reports to this cluster.
type networkZoneOut struct {
	ID                           string   `json:"id"`
	Description                  string   `json:"description"`
	AlternativeZones             []string `json:"alternativeZones"`
	FallbackMode                 string   `json:"fallbackMode"`
	NumOfOneAgentsUsing          int64    `json:"numOfOneAgentsUsing"`
	NumOfConfiguredOneAgents     int64    `json:"numOfConfiguredOneAgents"`
	NumOfOneAgentsFromOtherZones int64    `json:"numOfOneAgentsFromOtherZones"`
	NumOfConfiguredActiveGates   int64    `json:"numOfConfiguredActiveGates"`
}

type networkZoneListOut struct {
	NetworkZones []networkZoneOut `json:"networkZones"`
}

func toNetworkZoneOut(z *networkzone.Zone) networkZoneOut {
	out := networkZoneOut{ID: z.ID, Description: z.Description, AlternativeZones: z.AlternativeZones, FallbackMode: string(z.FallbackMode)}
	if out.AlternativeZones == nil {
		out.AlternativeZones = []string{}
	}
	return out
}

// networkZoneIn takes the writable fields only: the counters and the
// reference's managed-only fields (overridesGlobal, scope) a client sends
// back from a GET are unknown here and so ignored (SPEC 2.4). A null or
// absent field is "not given".
type networkZoneIn struct {
	ID               *string  `json:"id"`
	Description      *string  `json:"description"`
	AlternativeZones []string `json:"alternativeZones"`
	FallbackMode     *string  `json:"fallbackMode"`
}

func (in *networkZoneIn) input() networkzone.Input {
	out := networkzone.Input{ID: in.ID, Description: in.Description, AlternativeZones: in.AlternativeZones}
	if in.FallbackMode != nil {
		m := networkzone.FallbackMode(*in.FallbackMode)
		out.FallbackMode = &m
	}
	return out
}

func (a *API) listNetworkZones(w http.ResponseWriter, r *http.Request) {
	zs, err := a.zones.List(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := networkZoneListOut{NetworkZones: make([]networkZoneOut, 0, len(zs))}
	for _, z := range zs {
		out.NetworkZones = append(out.NetworkZones, toNetworkZoneOut(z))
	}
	encode(w, r, http.StatusOK, out)
}

func (a *API) getNetworkZone(w http.ResponseWriter, r *http.Request) {
	z, err := a.zones.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	encode(w, r, http.StatusOK, toNetworkZoneOut(z))
}

func (a *API) putNetworkZone(w http.ResponseWriter, r *http.Request) {
	// The body is required, as in the reference; {} states a zone with
	// every default.
	in, err := decode[networkZoneIn](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := a.zones.Put(r.Context(), r.PathValue("id"), in.input())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if res.Created {
		w.Header().Set("Location", networkZonesPath+"/"+res.Zone.ID)
		encode(w, r, http.StatusCreated, toNetworkZoneOut(res.Zone))
		return
	}
	encode(w, r, http.StatusNoContent, nil)
}

func (a *API) deleteNetworkZone(w http.ResponseWriter, r *http.Request) {
	if err := a.zones.Delete(r.Context(), r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	encode(w, r, http.StatusNoContent, nil)
}
