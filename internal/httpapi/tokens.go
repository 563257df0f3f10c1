package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"clusterapi/internal/errs"
	"clusterapi/internal/token"
)

// tokenMetadata is a token on the wire (SPEC 1.3, wire fields only).
type tokenMetadata struct {
	ID                  string        `json:"id"`
	Name                string        `json:"name"`
	UserID              string        `json:"userId"`
	Revoked             bool          `json:"revoked"`
	Created             int64         `json:"created"`
	Expires             *int64        `json:"expires,omitempty"`
	LastUse             *int64        `json:"lastUse,omitempty"`
	Scopes              []token.Scope `json:"scopes"`
	PersonalAccessToken bool          `json:"personalAccessToken"`
}

func toMetadata(t *token.Token) tokenMetadata {
	m := tokenMetadata{
		ID: t.ID, Name: t.Name, UserID: t.UserID, Revoked: t.Revoked,
		Created: t.Created.UnixMilli(), Expires: optMillis(t.Expires), LastUse: optMillis(t.LastUse),
		Scopes: t.Scopes,
	}
	if m.Scopes == nil {
		m.Scopes = []token.Scope{}
	}
	return m
}

func optMillis(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

type tokenListItem struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type tokenList struct {
	Values []tokenListItem `json:"values"`
}

// expiresIn is a Duration on the wire: a positive value and a unit.
type expiresIn struct {
	Value *int64  `json:"value"`
	Unit  *string `json:"unit"`
}

// maxLifetime bounds expiresIn: token.Service refuses longer lifetimes on
// every path; checking here too names expiresIn.value, in the unit sent.
const maxLifetime = token.MaxLifetime

var units = map[string]time.Duration{
	"DAYS": 24 * time.Hour, "HOURS": time.Hour, "MINUTES": time.Minute,
	"SECONDS": time.Second, "MILLIS": time.Millisecond,
}

// duration converts the wire Duration, naming the field at fault.
func (e *expiresIn) duration(path string) (time.Duration, error) {
	if e == nil {
		return 0, nil
	}
	unit := "MILLIS"
	if e.Unit != nil {
		unit = *e.Unit
	}
	per, ok := units[unit]
	if !ok {
		return 0, errs.Field(errs.Payload, path+".unit", "must be one of DAYS, HOURS, MINUTES, SECONDS, MILLIS")
	}
	if e.Value == nil {
		return 0, errs.Field(errs.Payload, path+".value", "must be given")
	}
	v := *e.Value
	if v <= 0 {
		return 0, errs.Field(errs.Payload, path+".value", "must be greater than 0")
	}
	if v > int64(maxLifetime/per) {
		return 0, errs.Field(errs.Payload, path+".value", fmt.Sprintf("must be at most %d %s (100 years)", int64(maxLifetime/per), unit))
	}
	return time.Duration(v) * per, nil
}

type createTokenRequest struct {
	Name      *string       `json:"name"`
	Scopes    []token.Scope `json:"scopes"`
	ExpiresIn *expiresIn    `json:"expiresIn"`
}

type createTokenResponse struct {
	Token string `json:"token"`
}

type updateTokenRequest struct {
	Name    *string       `json:"name"`
	Revoked *bool         `json:"revoked"`
	Scopes  []token.Scope `json:"scopes"`
}

type lookupRequest struct {
	Token *string `json:"token"`
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) {
	f, err := tokenFilter(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ts, err := a.tokens.List(r.Context(), f)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := tokenList{Values: make([]tokenListItem, 0, len(ts))}
	for _, t := range ts {
		out.Values = append(out.Values, tokenListItem{ID: t.ID, Name: t.Name})
	}
	encode(w, r, http.StatusOK, out)
}

// tokenFilter reads the list query: limit, user, permissions, from, to.
func tokenFilter(r *http.Request) (token.Filter, error) {
	p := queryParams{q: r.URL.Query()}
	f := token.Filter{Limit: 1000}
	if s, ok := p.single("limit"); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > 1_000_000 {
			p.bad("limit", "must be an integer from 0 to 1000000")
		}
		f.Limit = int(n)
	}
	f.UserID, _ = p.single("user")
	for _, v := range p.q["permissions"] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				f.Scopes = append(f.Scopes, token.Scope(s))
			}
		}
	}
	for _, tm := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.LastUseFrom}, {"to", &f.LastUseTo}} {
		if s, ok := p.single(tm.name); ok {
			ms, err := strconv.ParseInt(s, 10, 64)
			if err != nil || ms < 0 || ms > math.MaxInt64/int64(time.Millisecond) {
				p.bad(tm.name, "must be a time in Unix epoch milliseconds")
				continue
			}
			*tm.dst = time.UnixMilli(ms)
		}
	}
	return f, p.err()
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) {
	req, err := decode[createTokenRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	d, err := req.ExpiresIn.duration("expiresIn")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var name string
	if req.Name != nil {
		name = *req.Name
	}
	t, secret, err := a.tokens.Create(r.Context(), principal(r).Actor(), token.CreateInput{
		Name: name, Scopes: req.Scopes, ExpiresIn: d,
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/cluster/v2/tokens/"+t.ID)
	if wantsPlainText(r) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(secret.Reveal()))
		return
	}
	encode(w, r, http.StatusCreated, createTokenResponse{Token: secret.Reveal()})
}

func (a *API) getToken(w http.ResponseWriter, r *http.Request) {
	t, err := a.tokens.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	encode(w, r, http.StatusOK, toMetadata(t))
}

func (a *API) updateToken(w http.ResponseWriter, r *http.Request) {
	req, err := decode[updateTokenRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	err = a.tokens.Update(r.Context(), principal(r).Actor(), r.PathValue("id"), token.Change{
		Name: req.Name, Revoked: req.Revoked, Scopes: req.Scopes,
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	encode(w, r, http.StatusNoContent, nil)
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request) {
	if err := a.tokens.Delete(r.Context(), principal(r).Actor(), r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	encode(w, r, http.StatusNoContent, nil)
}

func (a *API) lookupToken(w http.ResponseWriter, r *http.Request) {
	req, err := decode[lookupRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if req.Token == nil {
		a.writeError(w, r, errs.Field(errs.Payload, "token", "must be given"))
		return
	}
	t, err := a.tokens.Lookup(r.Context(), principal(r).Actor(), *req.Token)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	encode(w, r, http.StatusOK, toMetadata(t))
}
