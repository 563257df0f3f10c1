// Package httpapi is the JSON wire format of the REST API: request and
// response structs (separate from domain types), every route in routes.go,
// the handlers, and the one table that maps error kinds to HTTP statuses in
// the API's error envelope.
package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"clusterapi/internal/account"
	"clusterapi/internal/audit"
	"clusterapi/internal/auth"
	"clusterapi/internal/cluster"
	"clusterapi/internal/environment"
	"clusterapi/internal/errs"
	"clusterapi/internal/networkzone"
	"clusterapi/internal/requestid"
	"clusterapi/internal/token"
)

// MaxBodyBytes is the largest request body accepted (SPEC 2.3).
const MaxBodyBytes = 1 << 20

// API serves the REST API.
type API struct {
	log      *slog.Logger
	verifier *auth.Verifier
	tokens   *token.Service
	envs     *environment.Service
	zones    *networkzone.Service
	nodes    *cluster.Registry
	accounts *account.Service
	audit    *audit.Recorder
	mux      *http.ServeMux
	table    []Route // every route, in registration order

	leakedLimit *rateLimiter // leaked-token revocation, per client address
}

// Route is a registered route, for documentation checks.
type Route struct {
	Pattern string        // the mux pattern, "GET /api/cluster/v2/tokens/{id}"
	Scopes  []token.Scope // a token needs any one of them; none: any valid token
	Public  bool          // served without authentication
}

// Config is what the API serves from. Nil services serve nothing useful,
// which route-table tests rely on; Nodes nil lists no nodes; Audit nil
// records nothing.
type Config struct {
	Log      *slog.Logger
	Verifier *auth.Verifier
	Tokens   *token.Service
	Envs     *environment.Service
	Zones    *networkzone.Service
	Nodes    *cluster.Registry
	Accounts *account.Service
	Audit    *audit.Recorder
}

// New returns the API over c's services.
func New(c Config) *API {
	a := &API{log: c.Log, verifier: c.Verifier, tokens: c.Tokens, envs: c.Envs, zones: c.Zones, nodes: c.Nodes,
		accounts: c.Accounts, audit: c.Audit, mux: http.NewServeMux(),
		leakedLimit: newRateLimiter(leakedCalls, leakedWindow, nil)}
	a.routes()
	a.mux.HandleFunc("/api/", a.noRoute)
	a.mux.HandleFunc("/e/", a.noRoute)
	return a
}

// ServeHTTP serves every /api route. Paths that are not clean (//, /./, /../)
// get a 404 in the envelope rather than ServeMux's redirect, which is not
// JSON and would repeat the path, secrets and all, in a Location header.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p != cleanPath(p) {
		a.writeError(w, r, noRouteError(p))
		return
	}
	// A query Go cannot parse would otherwise lose the pairs at fault
	// silently (r.URL.Query drops them), and the request would act on the
	// defaults. Checked before authentication, which reads the query too;
	// unknown routes still get their 404.
	if err := checkQuery(r.URL.RawQuery); err != nil {
		if _, pattern := a.mux.Handler(r); pattern != "/api/" && pattern != "/e/" {
			a.writeError(w, r, err)
			return
		}
	}
	a.mux.ServeHTTP(w, r)
}

// cleanPath is ServeMux's notion of a canonical path: rooted, no empty, .
// or .. segments, the trailing slash kept.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// Patterns returns the mux patterns of every route, for documentation checks.
func (a *API) Patterns() []string {
	var out []string
	for _, r := range a.table {
		out = append(out, r.Pattern)
	}
	return out
}

// Routes returns every route, in registration order.
func (a *API) Routes() []Route { return append([]Route(nil), a.table...) }

// handle registers h for pattern, requiring a token that holds any one of
// scopes; with no scopes any valid token is accepted.
func (a *API) handle(pattern string, h http.HandlerFunc, scopes ...token.Scope) {
	a.table = append(a.table, Route{Pattern: pattern, Scopes: scopes})
	a.mux.Handle(pattern, a.require(h, scopes...))
}

// public registers h for pattern with no authentication at all.
func (a *API) public(pattern string, h http.Handler) {
	a.table = append(a.table, Route{Pattern: pattern, Public: true})
	a.mux.Handle(pattern, h)
}

// require authenticates the request and checks its scopes before calling h.
// The 403 error is built once, here, not on every request. Authenticate
// counts the failures it finds; the outcomes decided here are counted here.
func (a *API) require(h http.HandlerFunc, scopes ...token.Scope) http.Handler {
	set := token.SetOf(scopes...)
	forbidden := errs.E(errs.Forbidden, token.MissingScopeMessage(scopes...))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.verifier.Authenticate(r)
		if err != nil {
			a.refuse(w, r, err)
			return
		}
		if p.EnvironmentID != "" {
			// Tokens bound to an environment are for that environment's API
			// only, never for cluster routes (SPEC 6).
			a.verifier.Count(auth.OutcomeFailed)
			a.refuse(w, r, token.ErrAuthFail)
			return
		}
		if len(scopes) > 0 && !p.Scopes.Any(set) {
			a.verifier.Count(auth.OutcomeForbidden)
			a.audit.FailedAuth(auth.ClientIP(r), p.TokenID, http.StatusForbidden, forbidden.Message)
			a.writeError(w, r, forbidden)
			return
		}
		a.verifier.Count(auth.OutcomeOK)
		h(w, r.WithContext(auth.NewContext(r.Context(), p)))
	})
}

// refuse answers a request that failed authentication, and counts the
// failure for the audit log (aggregated per address).
func (a *API) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := errors.AsType[*errs.Error](err); ok && e.Kind == errs.Unauthorized {
		a.audit.FailedAuth(auth.ClientIP(r), "", http.StatusUnauthorized, e.Message)
	}
	a.writeError(w, r, err)
}

// GuardMetrics returns h behind the access rule of /metrics (routes.go),
// which internal/server serves outside /api: a token as for any route, with
// one of metricsScopes. Refusals are answered in the API's envelope.
func (a *API) GuardMetrics(h http.Handler) http.Handler {
	return a.require(h.ServeHTTP, metricsScopes...)
}

// principal returns the request's authenticated principal; require put it there.
func principal(r *http.Request) auth.Principal {
	p, _ := auth.FromContext(r.Context())
	return p
}

// noRoute answers requests that match no route: 405 with Allow when the path
// exists for other methods, 404 otherwise, both in the envelope.
func (a *API) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := a.mux.Handler(r2); p != "/api/" && p != "/e/" && p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		a.writeError(w, r, &statusError{http.StatusMethodNotAllowed,
			"Method " + clip(token.Redact(r.Method), maxQuoted) + " is not allowed here; use " + strings.Join(allow, ", ")})
		return
	}
	a.writeError(w, r, noRouteError(r.URL.Path))
}

// maxQuoted bounds what an error message quotes of a request's path or
// method: a 200 KB path must not make a 200 KB answer.
const maxQuoted = 200

// noRouteError is the 404 for a path no route matches, quoting the path
// redacted and clipped to maxQuoted bytes.
func noRouteError(p string) error {
	return errs.E(errs.NotFound, "No API route matches "+clip(token.Redact(p), maxQuoted))
}

// statusError is an error with an explicit status, for the few answers that
// are about HTTP itself (405) rather than the domain.
type statusError struct {
	status  int
	message string
}

func (e *statusError) Error() string { return e.message }

// envelope is the wire error (SPEC 2.3).
type envelope struct {
	Error envelopeError `json:"error"`
}

type envelopeError struct {
	Code                 int                   `json:"code"`
	Message              string                `json:"message"`
	ConstraintViolations []constraintViolation `json:"constraintViolations,omitempty"`
}

type constraintViolation struct {
	Path              string  `json:"path"`
	Message           string  `json:"message"`
	ParameterLocation string  `json:"parameterLocation"`
	Location          *string `json:"location"`
}

// statuses maps each error kind to its HTTP status: the only such table.
var statuses = map[errs.Kind]int{
	errs.Invalid:      http.StatusBadRequest,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.Forbidden:    http.StatusForbidden,
	errs.NotFound:     http.StatusNotFound,
	errs.Conflict:     http.StatusConflict,
	errs.Duplicate:    http.StatusNotAcceptable,
	errs.TooLarge:     http.StatusRequestEntityTooLarge,
	errs.Unavailable:  http.StatusServiceUnavailable,
	errs.Throttled:    http.StatusTooManyRequests,
}

// writeError writes err in the envelope. Errors that are not *errs.Error are
// internal: the client gets a generic message with the request id, the log
// gets the detail.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if se, ok := errors.AsType[*statusError](err); ok {
		noteFailure(r, se.status, se.message)
		encode(w, r, se.status, envelope{envelopeError{Code: se.status, Message: se.message}})
		return
	}
	e, ok := errors.AsType[*errs.Error](err)
	status := statuses[errs.KindOf(err)]
	if !ok || status == 0 {
		id := requestid.FromContext(r.Context())
		a.log.Error("internal error", "request_id", id, "method", r.Method, "path", token.Redact(r.URL.Path),
			"err", token.Redact(err.Error()))
		status = http.StatusInternalServerError
		e = errs.E(errs.Internal, "Internal server error (request id "+id+")")
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Api-Token realm="clusterapi"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", retryAfter(err))
	}
	// Messages may quote what the client sent (an unknown scope, a filter
	// value): a full token pasted in the wrong place is not repeated back.
	body := envelope{envelopeError{Code: status, Message: token.Redact(e.Message)}}
	noteFailure(r, status, body.Error.Message)
	for _, v := range e.Violations {
		body.Error.ConstraintViolations = append(body.Error.ConstraintViolations,
			constraintViolation{Path: token.Redact(v.Path), Message: token.Redact(v.Message), ParameterLocation: string(v.Location)})
	}
	encode(w, r, status, body)
}

// retryAfter is the Retry-After of a 429, in whole seconds rounded up, so
// that a client waiting that long is heard.
func retryAfter(err error) string {
	d := time.Minute // a throttle that did not say
	if te, ok := errors.AsType[*auth.ThrottledError](err); ok {
		d = te.RetryAfter
	}
	return strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10)
}

// encode writes v as JSON with status. A nil v writes no body (204).
func encode(w http.ResponseWriter, _ *http.Request, status int, v any) {
	if v == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here: the wire structs are plain.
		b = []byte(`{"error":{"code":500,"message":"Internal server error"}}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// validator is implemented by request bodies that check themselves.
type validator interface{ Validate() error }

// decode reads a JSON request body of at most MaxBodyBytes into a T and
// validates it. Unknown fields are ignored (SPEC 2.4). A missing body is an
// error.
func decode[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	v, present, err := decodeOptional[T](w, r)
	if err == nil && !present {
		err = errs.E(errs.Invalid, "Request body is missing: a JSON object is required")
	}
	return v, err
}

// decodeOptional is decode for routes whose body may be left out; present
// reports whether there was one.
func decodeOptional[T any](w http.ResponseWriter, r *http.Request) (v T, present bool, err error) {
	if r.ContentLength > MaxBodyBytes {
		return v, false, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return v, false, tooLarge
		}
		return v, false, errs.E(errs.Invalid, "The request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return v, false, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || !strings.HasSuffix(mt, "json") && mt != "text/plain" {
			return v, true, errs.E(errs.Invalid, "Content-Type must be application/json")
		}
	}
	// encoding/json would quietly turn invalid UTF-8 and lone surrogates
	// into U+FFFD, storing something other than what was sent.
	if !utf8.Valid(body) {
		return v, true, errs.E(errs.Invalid, "Malformed JSON: the request body is not valid UTF-8")
	}
	if loneSurrogate(body) {
		return v, true, errs.E(errs.Invalid, "Malformed JSON: the request body holds an unpaired UTF-16 surrogate escape")
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return v, true, decodeError(err, body)
	}
	if val, ok := any(&v).(validator); ok {
		if err := val.Validate(); err != nil {
			return v, true, err
		}
	}
	return v, true, nil
}

var tooLarge = errs.E(errs.TooLarge, fmt.Sprintf("Request body is larger than %d bytes", MaxBodyBytes))

// loneSurrogate reports whether a JSON text holds a \uD800-\uDFFF escape
// that is not part of a high-low pair. In valid JSON every backslash starts
// an escape, so a plain scan finds them all.
func loneSurrogate(b []byte) bool {
	hex4 := func(i int) (rune, bool) {
		if i+4 > len(b) {
			return 0, false
		}
		n, err := strconv.ParseUint(string(b[i:i+4]), 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+1 < len(b) && b[i+1] == 'u' {
			c, ok := hex4(i + 2)
			if ok && c >= 0xD800 && c <= 0xDFFF {
				if c >= 0xDC00 { // a low surrogate on its own
					return true
				}
				if i+8 > len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
					return true
				}
				if lo, ok := hex4(i + 8); !ok || lo < 0xDC00 || lo > 0xDFFF {
					return true
				}
				i += 6 // skip the high half; the low half is skipped below
			}
		}
		i++ // skip the escaped character
	}
	return false
}

func decodeError(err error, body []byte) error {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return errs.E(errs.Invalid, "Malformed JSON: the request body must be a JSON object")
		}
		msg := "must be of type " + jsonType(te.Type.Kind().String())
		if strings.HasPrefix(te.Value, "number") && jsonType(te.Type.Kind().String()) == "number" {
			msg = "must be an integer in range"
		}
		return errs.Field(errs.Payload, elementPath(body, te), msg)
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return errs.E(errs.Invalid, fmt.Sprintf("Malformed JSON at offset %d: %s", se.Offset, se.Error()))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errs.E(errs.Invalid, "Malformed JSON: unexpected end of the request body")
	}
	return errs.E(errs.Invalid, "Malformed JSON")
}

// elementPath refines a type error's field path with the index of the first
// array element at fault, so that clients see scopes[2] rather than scopes.
func elementPath(body []byte, te *json.UnmarshalTypeError) string {
	if te.Value == "array" {
		return te.Field // the field itself is an array where none belongs
	}
	raw := json.RawMessage(body)
	for _, key := range strings.Split(te.Field, ".") {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return te.Field
		}
		var found bool
		if raw, found = obj[key]; !found {
			return te.Field
		}
	}
	var elems []json.RawMessage
	if json.Unmarshal(raw, &elems) != nil {
		return te.Field
	}
	for i, e := range elems {
		if json.Unmarshal(e, reflect.New(te.Type).Interface()) != nil {
			return fmt.Sprintf("%s[%d]", te.Field, i)
		}
	}
	return te.Field
}

// jsonType names a Go kind the way a JSON client would understand it.
func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "slice", kind == "array":
		return "array"
	case kind == "struct", kind == "map", kind == "ptr":
		return "object"
	case kind == "bool":
		return "boolean"
	}
	return kind
}

// wantsPlainText reports whether text/plain is the only type the client
// accepts (SPEC 2.4): then, and only then, a text body wins over JSON.
func wantsPlainText(r *http.Request) bool {
	accept := r.Header.Values("Accept")
	plain := false
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if q := params["q"]; q == "0" || q == "0.0" || q == "0.00" || q == "0.000" {
				continue
			}
			if mt != "text/plain" {
				return false
			}
			plain = true
		}
	}
	return plain
}

// WriteError writes err in the API's error envelope, for middleware outside
// this package (panic recovery).
func (a *API) WriteError(w http.ResponseWriter, r *http.Request, err error) { a.writeError(w, r, err) }
