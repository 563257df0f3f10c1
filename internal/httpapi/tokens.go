package httpapi

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"clusterapi/internal/auth"
	"clusterapi/internal/errs"
	"clusterapi/internal/requestid"
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

// duration converts the wire Duration, naming the field at fault. The value
// must be greater than 0.
func (e *expiresIn) duration(path string) (time.Duration, error) {
	return e.convert(path, false)
}

// convert is duration, allowing a value of 0 when zeroOK.
func (e *expiresIn) convert(path string, zeroOK bool) (time.Duration, error) {
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
	switch {
	case zeroOK && v < 0:
		return 0, errs.Field(errs.Payload, path+".value", "must not be negative")
	case !zeroOK && v <= 0:
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
	noteAudit(r, "", t.ID, scopeDiff(nil, t.Scopes)+expiryDetail(t))
	writeCreatedToken(w, r, t, secret)
}

// writeCreatedToken answers a create (or a rotation) with the new token:
// 201, its Location, and the token, bare when the client accepts only text.
func writeCreatedToken(w http.ResponseWriter, r *http.Request, t *token.Token, secret token.Secret) {
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
	var before *token.Token
	if a.audit != nil { // the audit log records what changed
		before, _ = a.tokens.Get(r.Context(), r.PathValue("id"))
	}
	err = a.tokens.Update(r.Context(), principal(r).Actor(), r.PathValue("id"), token.Change{
		Name: req.Name, Revoked: req.Revoked, Scopes: req.Scopes,
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if before != nil {
		a.noteTokenUpdate(r, before, req)
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
	noteAudit(r, "", tokenIDOf(*req.Token), "")
	t, err := a.tokens.Lookup(r.Context(), principal(r).Actor(), *req.Token)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	encode(w, r, http.StatusOK, toMetadata(t))
}

// noteTokenUpdate tells the audit log what a PUT changed: a revocation or
// restoration is its own action; renames and scope changes are the detail.
func (a *API) noteTokenUpdate(r *http.Request, before *token.Token, req updateTokenRequest) {
	action := ""
	var parts []string
	if req.Revoked != nil && *req.Revoked != before.Revoked {
		action = "token.restore"
		if *req.Revoked {
			action = "token.revoke"
		}
	}
	if req.Name != nil && *req.Name != before.Name {
		parts = append(parts, "renamed")
	}
	if req.Scopes != nil {
		parts = append(parts, scopeDiff(before.Scopes, req.Scopes))
	}
	noteAudit(r, action, before.ID, strings.Join(parts, "; "))
}

// expiryDetail says when a new token expires, for the audit log.
func expiryDetail(t *token.Token) string {
	if t.Expires.IsZero() {
		return "; never expires"
	}
	return "; expires " + t.Expires.UTC().Format(time.RFC3339)
}

// rotateRequest is the optional body of a rotation (an extension).
type rotateRequest struct {
	GracePeriod *expiresIn `json:"gracePeriod"` // nil: token.DefaultGracePeriod; a value of 0: none
}

func (a *API) rotateToken(w http.ResponseWriter, r *http.Request) {
	req, _, err := decodeOptional[rotateRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	grace := token.DefaultGracePeriod
	if req.GracePeriod != nil {
		if grace, err = req.GracePeriod.convert("gracePeriod", true); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	p := principal(r)
	old, t, secret, err := a.tokens.Rotate(r.Context(), p.Actor(), r.PathValue("id"), grace)
	if re, ok := errors.AsType[*token.RotatedError](err); ok {
		// A second rotation of one token: a client working from a stale
		// copy of it, or someone else holding one. Worth a look.
		a.log.Warn("refused to rotate a token that was rotated before", "token_id", re.ID, "successor_id", re.Successor,
			"by_token_id", p.TokenID, "remote", auth.ClientIP(r), "request_id", requestid.FromContext(r.Context()))
		noteAudit(r, "", re.ID, "refused: rotated before, to "+re.Successor)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.log.Info("token rotated", "token_id", old.ID, "successor_id", t.ID, "grace", grace,
		"by_token_id", p.TokenID, "request_id", requestid.FromContext(r.Context()))
	noteAudit(r, "", old.ID, "successor "+t.ID+", grace period "+grace.String())
	writeCreatedToken(w, r, t, secret)
}
