package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"clusterapi/internal/audit"
	"clusterapi/internal/auth"
	"clusterapi/internal/token"
)

// auditlogPath is the audit log extension's route.
const auditlogPath = "/api/cluster/v2/auditlog"

// auditNote is what a handler tells the audit log about its request: the
// target and detail when it knows better than the path, and, set by
// writeError, how it failed.
type auditNote struct {
	action, target, detail string
	failure                string
	skip                   bool // counted elsewhere (aggregated): no event of its own
}

type auditKey struct{}

// noteAudit tells the audit log what the request acted on. An empty value
// keeps what was noted before (the route's action, an earlier target).
func noteAudit(r *http.Request, action, target, detail string) {
	n, _ := r.Context().Value(auditKey{}).(*auditNote)
	if n == nil {
		return
	}
	if action != "" {
		n.action = action
	}
	if target != "" {
		n.target = target
	}
	if detail != "" {
		n.detail = detail
	}
}

// noteBodyID names the id a request body gives as the audit target, so that
// a request that fails still says what it was about.
func noteBodyID(r *http.Request, id *string) {
	if id != nil {
		noteAudit(r, "", *id, "")
	}
}

// answerAs is answer that also names the result, by id, as the audit target.
func answerAs[T, U any](a *API, w http.ResponseWriter, r *http.Request, id func(T) string, conv func(T) U) func(T, error) {
	return answer(a, w, r, func(v T) U {
		noteAudit(r, "", id(v), "")
		return conv(v)
	})
}

// skipAudit tells the audit log not to list this request: it was counted
// with FailedAuth instead, so that a flood is a row a minute, not a row each.
func skipAudit(r *http.Request) {
	if n, _ := r.Context().Value(auditKey{}).(*auditNote); n != nil {
		n.skip = true
	}
}

// noteFailure records in the request's audit note how it failed.
func noteFailure(r *http.Request, status int, message string) {
	if n, _ := r.Context().Value(auditKey{}).(*auditNote); n != nil {
		n.failure = fmt.Sprintf("failure: %d %s", status, message)
	}
}

// audited records every call of h as action, with the principal that
// require put in the request, its outcome and its target.
func (a *API) audited(action string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.audit == nil {
			h(w, r)
			return
		}
		n := &auditNote{action: action}
		h(w, r.WithContext(context.WithValue(r.Context(), auditKey{}, n)))
		if n.skip {
			return
		}
		p := principal(r)
		target := n.target
		if target == "" {
			target = pathTarget(r)
		}
		outcome := audit.Success
		if n.failure != "" {
			outcome = n.failure
		}
		a.audit.Record(audit.Event{Action: n.action, User: p.UserID, TokenID: p.TokenID, ClientAddr: auth.ClientIP(r),
			Target: target, Outcome: outcome, Detail: n.detail})
	}
}

// pathTarget is what the path names: a token id (never more of a token),
// an environment, zone, user or group id.
func pathTarget(r *http.Request) string {
	for _, name := range []string{"id", "groupId"} {
		if v := r.PathValue(name); v != "" {
			return tokenIDOf(v)
		}
	}
	return ""
}

// tokenIDOf returns the token id of s when s starts with one, else s.
func tokenIDOf(s string) string {
	s = token.TrimSpace(s)
	if len(s) >= token.IDLen && token.IsID(s[:token.IDLen]) {
		return s[:token.IDLen]
	}
	return s
}

// scopeDiff describes a change of scopes for the audit log: "+A -B".
func scopeDiff(before, after []token.Scope) string {
	var parts []string
	for _, s := range after {
		if !slices.Contains(before, s) {
			parts = append(parts, "+"+string(s))
		}
	}
	for _, s := range before {
		if !slices.Contains(after, s) {
			parts = append(parts, "-"+string(s))
		}
	}
	if len(parts) == 0 {
		return "scopes unchanged"
	}
	return "scopes " + strings.Join(parts, " ")
}

// auditEventOut is an audit event on the wire (extension).
type auditEventOut struct {
	Timestamp     int64  `json:"timestamp"`
	Action        string `json:"action"`
	User          string `json:"user"`
	TokenID       string `json:"tokenId"`
	ClientAddress string `json:"clientAddress"`
	Target        string `json:"target"`
	Outcome       string `json:"outcome"`
	Detail        string `json:"detail"`
	Count         int    `json:"count"`
}

type auditPageOut struct {
	PageSize    int             `json:"pageSize"`
	NextPageKey *string         `json:"nextPageKey"`
	Events      []auditEventOut `json:"events"`
}

// auditCursor is the nextPageKey of the audit log: the query it pages and
// where the next page starts.
type auditCursor struct {
	From   int64  `json:"f,omitempty"`
	To     int64  `json:"t,omitempty"`
	Actor  string `json:"a,omitempty"`
	Target string `json:"g,omitempty"`
	Action string `json:"c,omitempty"`
	Size   int    `json:"n"`
	Before int64  `json:"b"`
}

const maxAuditCursorLen = 2048

func (a *API) listAuditLog(w http.ResponseWriter, r *http.Request) {
	q, err := auditQuery(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if a.audit == nil {
		encode(w, r, http.StatusOK, auditPageOut{PageSize: q.Limit, Events: []auditEventOut{}})
		return
	}
	size := q.Limit
	q.Limit++ // one more tells whether there is a next page
	events, err := a.audit.Find(r.Context(), q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := auditPageOut{PageSize: size, Events: []auditEventOut{}}
	if len(events) > size {
		events = events[:size]
		c := auditCursor{Actor: q.Actor, Target: q.Target, Action: q.Action, Size: size, Before: events[size-1].Seq}
		if !q.From.IsZero() {
			c.From = q.From.UnixMilli()
		}
		if !q.To.IsZero() {
			c.To = q.To.UnixMilli()
		}
		b, _ := json.Marshal(c)
		key := base64.RawURLEncoding.EncodeToString(b)
		out.NextPageKey = &key
	}
	for _, e := range events {
		out.Events = append(out.Events, auditEventOut{Timestamp: e.Time.UnixMilli(), Action: e.Action, User: e.User,
			TokenID: e.TokenID, ClientAddress: e.ClientAddr, Target: e.Target, Outcome: e.Outcome, Detail: e.Detail, Count: e.Count})
	}
	encode(w, r, http.StatusOK, out)
}

// auditQuery reads the audit log's query parameters, or its nextPageKey.
func auditQuery(r *http.Request) (audit.Query, error) {
	p := queryParams{q: r.URL.Query()}
	if key, ok := p.single("nextPageKey"); ok {
		for name := range p.q {
			if name != "nextPageKey" && !strings.EqualFold(name, "api-token") {
				p.bad(name, "must not be given with nextPageKey")
			}
		}
		var c auditCursor
		raw, err := base64.RawURLEncoding.DecodeString(key)
		if len(key) > maxAuditCursorLen || err != nil || json.Unmarshal(raw, &c) != nil || c.Size < 1 || c.Size > 1000 || c.Before < 1 {
			p.bad("nextPageKey", "is not a valid page key: use the nextPageKey of a previous response as it is")
		}
		q := audit.Query{Actor: c.Actor, Target: c.Target, Action: c.Action, Limit: c.Size, Before: c.Before}
		if c.From != 0 {
			q.From = time.UnixMilli(c.From)
		}
		if c.To != 0 {
			q.To = time.UnixMilli(c.To)
		}
		return q, p.err()
	}
	q := audit.Query{Limit: 100}
	for _, tm := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s, ok := p.single(tm.name); ok {
			ms, err := strconv.ParseInt(s, 10, 64)
			if err != nil || ms < 0 || ms > 1<<53 {
				p.bad(tm.name, "must be a time in Unix epoch milliseconds")
				continue
			}
			*tm.dst = time.UnixMilli(ms)
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"actor", &q.Actor}, {"target", &q.Target}, {"action", &q.Action}} {
		if s, ok := p.single(f.name); ok {
			if len(s) > 255 {
				p.bad(f.name, "must be at most 255 characters long")
				continue
			}
			*f.dst = tokenIDOf(s)
		}
	}
	if s, ok := p.single("pageSize"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			p.bad("pageSize", "must be an integer from 1 to 1000")
		} else {
			q.Limit = n
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		p.bad("to", "must be later than from")
	}
	if err := p.err(); err != nil {
		return q, err
	}
	return q, nil
}
