package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"clusterapi/internal/errs"
)

// MaxEnvironmentTokenManagementLifetime caps tokens that hold
// EnvironmentTokenManagement (SPEC 4, ours).
const MaxEnvironmentTokenManagementLifetime = 24 * time.Hour

// MaxLifetime is the longest lifetime a token may be created with (ours), so
// that created + lifetime is always a time both stores and every client can
// represent. Every path that creates tokens (API, console, CLI) is held to it
// by Create.
const MaxLifetime = 100 * 365 * 24 * time.Hour

// MaxNameLen is the longest token name, in Unicode code points.
const MaxNameLen = 255

// Actor is who asks for a change: a token (TokenID set) or a trusted local
// caller such as the CLI or a console user (TokenID empty).
type Actor struct {
	TokenID string
	UserID  string
	Scopes  ScopeSet
}

// DefaultGracePeriod is how long a rotated token keeps working, at most,
// when the rotation does not say (an extension).
const DefaultGracePeriod = 24 * time.Hour

// Service applies the rules of the Tokens API over a Store.
type Service struct {
	store       Store
	now         func() time.Time
	strict      bool
	defaultLife time.Duration
	maxLife     time.Duration
	log         *slog.Logger

	mu       sync.RWMutex
	onChange []func(id string)
	onRetire []func(old, successor string)
}

// Options configure a Service.
type Options struct {
	Now func() time.Time // the clock; time.Now when nil
	// Strict makes a token able to grant only scopes it holds itself.
	Strict bool
	// DefaultLifetime is the lifetime of a new token created without one;
	// 0: such tokens never expire.
	DefaultLifetime time.Duration
	// MaxLifetime caps the lifetime of every new token, whatever was asked
	// for; 0: no cap. Neither may be negative (CheckLifetimes).
	MaxLifetime time.Duration
	// Logger receives the service's audit lines (rotations); none when nil.
	Logger *slog.Logger
}

// CheckLifetimes reports whether the lifetime policy of o makes sense: no
// negative durations and a default no longer than the maximum.
func (o Options) CheckLifetimes() error {
	switch {
	case o.DefaultLifetime < 0:
		return errors.New("the default token lifetime must not be negative")
	case o.MaxLifetime < 0:
		return errors.New("the maximum token lifetime must not be negative")
	case o.MaxLifetime > 0 && o.DefaultLifetime > o.MaxLifetime:
		return fmt.Errorf("the default token lifetime (%v) is longer than the maximum (%v)", o.DefaultLifetime, o.MaxLifetime)
	}
	return nil
}

// NewService returns a Service over store.
func NewService(store Store, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, now: o.Now, strict: o.Strict,
		defaultLife: max(o.DefaultLifetime, 0), maxLife: max(o.MaxLifetime, 0), log: o.Logger}
}

// Lifetimes returns the lifetime policy: the default lifetime of a token
// created without one and the longest lifetime of any new token (0: none).
func (s *Service) Lifetimes() (defaultLife, maxLife time.Duration) {
	return s.defaultLife, s.maxLife
}

// lifetime applies the lifetime policy to the lifetime asked for a new token
// with scopes (0: none asked for) and returns the one it gets (0: never
// expires): the default when none was asked for, at most the maximum, and
// at most 24 hours when it holds EnvironmentTokenManagement. The shortest
// limit wins. Every path that makes a token goes through here.
func (s *Service) lifetime(scopes []Scope, asked time.Duration) time.Duration {
	d := asked
	if d == 0 {
		d = s.defaultLife
	}
	if s.maxLife > 0 && (d == 0 || d > s.maxLife) {
		d = s.maxLife
	}
	if SetOf(scopes...).Has(EnvironmentTokenManagement) && (d == 0 || d > MaxEnvironmentTokenManagementLifetime) {
		d = MaxEnvironmentTokenManagementLifetime
	}
	return d
}

// Now returns the service's clock reading, truncated to the millisecond
// precision of the wire and the store.
func (s *Service) Now() time.Time { return s.now().Truncate(time.Millisecond) }

// OnChange registers f to be called, synchronously, with the id of every
// token this service changes or deletes, after the store has the change.
// Verification caches use it to drop stale entries.
func (s *Service) OnChange(f func(id string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onChange = append(s.onChange, f)
}

// OnRetire registers f to be called with the ids of a rotated token and its
// successor when the successor's first use revokes the old one (the audit
// log records it).
func (s *Service) OnRetire(f func(old, successor string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRetire = append(s.onRetire, f)
}

func (s *Service) changed(id string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, f := range s.onChange {
		f(id)
	}
}

// CreateInput is what a new token needs.
type CreateInput struct {
	Name          string
	Scopes        []Scope
	ExpiresIn     time.Duration // 0: never expires
	EnvironmentID string        // binds the token to one environment
	// UserID sets the owner when the actor is a trusted local caller; a token
	// actor's tokens always belong to that token's owner.
	UserID string
}

// Create stores a new token and returns it with its secret, which is never
// available again.
func (s *Service) Create(ctx context.Context, a Actor, in CreateInput) (*Token, Secret, error) {
	var vs []errs.Violation
	if v, ok := checkName(in.Name); !ok {
		vs = append(vs, v)
	}
	vs = append(vs, checkScopes(in.Scopes)...)
	vs = append(vs, checkBinding(in.Scopes, in.EnvironmentID)...)
	switch {
	case in.ExpiresIn < 0:
		vs = append(vs, errs.Violation{Path: "expiresIn", Message: "must be greater than 0", Location: errs.Payload})
	case in.ExpiresIn > MaxLifetime:
		vs = append(vs, errs.Violation{Path: "expiresIn", Message: "must be at most 100 years", Location: errs.Payload})
	}
	if len(vs) > 0 {
		return nil, "", errs.Violated(vs...)
	}
	if err := s.checkGrant(a, in.Scopes, in.EnvironmentID); err != nil {
		return nil, "", err
	}
	owner := a.UserID
	if a.TokenID == "" && in.UserID != "" {
		owner = in.UserID
	}
	expiresIn := s.lifetime(in.Scopes, in.ExpiresIn)
	now := s.Now()
	secret := Generate()
	t := &Token{
		ID:            secret.Reveal()[:IDLen],
		Hash:          HashOf(secret.Reveal()),
		Name:          in.Name,
		UserID:        owner,
		Scopes:        append([]Scope(nil), in.Scopes...),
		Created:       now,
		EnvironmentID: in.EnvironmentID,
	}
	if expiresIn > 0 {
		t.Expires = now.Add(expiresIn)
	}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return nil, "", fmt.Errorf("create token: %w", err)
	}
	return t, secret, nil
}

// List returns the tokens matching f, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]*Token, error) {
	switch f.Status {
	case "", StatusActive, StatusRevoked, StatusExpired:
	default:
		return nil, errs.Violated(errs.Violation{Path: "status", Message: "must be active, revoked or expired", Location: errs.Query})
	}
	if f.Status != "" && f.At.IsZero() {
		f.At = s.Now()
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	if len(f.Scopes) == 0 {
		return s.store.FindTokens(ctx, f)
	}
	if vs := checkScopes(f.Scopes); len(vs) > 0 {
		for i := range vs {
			vs[i].Path = strings.Replace(vs[i].Path, "scopes", "permissions", 1)
			vs[i].Location = errs.Query
		}
		return nil, errs.Violated(vs...)
	}
	return s.store.FindTokens(ctx, f)
}

// Get returns the token named by ref, a token id or a full token.
func (s *Service) Get(ctx context.Context, ref string) (*Token, error) {
	return s.find(ctx, ref)
}

// Update applies c to the token named by ref. A token may not change itself.
func (s *Service) Update(ctx context.Context, a Actor, ref string, c Change) error {
	id, err := parseRef(ref)
	if err != nil {
		return err
	}
	if a.TokenID != "" && id == a.TokenID {
		return errSelf
	}
	if c.Name != nil {
		if v, ok := checkName(*c.Name); !ok {
			return errs.Violated(v)
		}
	}
	if c.Scopes != nil {
		if vs := checkScopes(c.Scopes); len(vs) > 0 {
			return errs.Violated(vs...)
		}
	}
	t, err := s.find(ctx, ref)
	if err != nil {
		return err
	}
	if c.Scopes != nil {
		if vs := checkBinding(c.Scopes, t.EnvironmentID); len(vs) > 0 {
			return errs.Violated(vs...)
		}
		if err := s.checkGrant(a, c.Scopes, t.EnvironmentID); err != nil {
			return err
		}
		// Rescoping to EnvironmentTokenManagement brings the lifetime cap
		// with it: at most 24 hours from now.
		if SetOf(c.Scopes...).Has(EnvironmentTokenManagement) {
			limit := s.Now().Add(MaxEnvironmentTokenManagementLifetime)
			if t.Expires.IsZero() || t.Expires.After(limit) {
				c.Expires = &limit
			}
		}
	}
	if err := s.store.UpdateToken(ctx, id, c); err != nil {
		return fmt.Errorf("update token %s: %w", id, err)
	}
	s.changed(id)
	return nil
}

// Delete removes the token named by ref. A token may not delete itself.
func (s *Service) Delete(ctx context.Context, a Actor, ref string) error {
	id, err := parseRef(ref)
	if err != nil {
		return err
	}
	if a.TokenID != "" && id == a.TokenID {
		return errSelf
	}
	if _, err := s.find(ctx, ref); err != nil {
		return err
	}
	if err := s.store.DeleteToken(ctx, id); err != nil {
		return fmt.Errorf("delete token %s: %w", id, err)
	}
	s.changed(id)
	return nil
}

// DeleteBound removes every token bound to environment envID, for when the
// environment goes: a later environment with the same id must not inherit
// them.
func (s *Service) DeleteBound(ctx context.Context, envID string) error {
	ids, err := s.store.DeleteEnvironmentTokens(ctx, envID)
	for _, id := range ids {
		s.changed(id)
	}
	if err != nil {
		return fmt.Errorf("delete tokens of environment %s: %w", envID, err)
	}
	return nil
}

// Lookup returns the token whose full text is presented. A token may always
// look itself up; looking up another needs ClusterTokenManagement. Unknown,
// malformed and wrong-secret tokens all give the same NotFound.
func (s *Service) Lookup(ctx context.Context, a Actor, presented string) (*Token, error) {
	presented = TrimSpace(presented)
	id, ok := ParseFull(presented)
	if a.TokenID != "" && (!ok || id != a.TokenID) && !a.Scopes.Has(ClusterTokenManagement) {
		return nil, errs.E(errs.Forbidden, MissingScopeMessage(ClusterTokenManagement))
	}
	if !ok {
		return nil, errBadLookup
	}
	t, err := s.store.FindToken(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return nil, errBadLookup
	}
	if err != nil {
		return nil, fmt.Errorf("lookup token %s: %w", id, err)
	}
	if err := Check(t.Hash, presented, false, time.Time{}, s.now()); err != nil {
		return nil, errBadLookup
	}
	return t, nil
}

// Authenticate checks a presented full token against the store, with no
// caching: the slow path of verification.
func (s *Service) Authenticate(ctx context.Context, presented string) (*Token, error) {
	id, ok := ParseFull(presented)
	if !ok {
		return nil, ErrAuthFail
	}
	t, err := s.store.FindToken(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return nil, ErrAuthFail
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate %s: %w", id, err)
	}
	if err := Check(t.Hash, presented, t.Revoked, t.Expires, s.now()); err != nil {
		return nil, err
	}
	if t.Predecessor != "" {
		// The first use of a rotated-in token ends its predecessor's grace
		// period, before this request is answered.
		if err := s.retire(ctx, t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Changes returns the tokens changed after sequence number after by anyone,
// this process or another (see Store.TokenChanges).
func (s *Service) Changes(ctx context.Context, after int64) ([]string, int64, bool, error) {
	return s.store.TokenChanges(ctx, after)
}

// LastChange returns the newest change's sequence number.
func (s *Service) LastChange(ctx context.Context) (int64, error) {
	return s.store.LastTokenChange(ctx)
}

// RecordUses stores a batch of last uses.
func (s *Service) RecordUses(ctx context.Context, uses []Use) error {
	return s.store.RecordUses(ctx, uses)
}

// find resolves ref (an id or a full token) to a stored token. A full token
// must also carry the right secret.
func (s *Service) find(ctx context.Context, ref string) (*Token, error) {
	id, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	t, err := s.store.FindToken(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find token %s: %w", id, err)
	}
	if full := TrimSpace(ref); len(full) == Len {
		if Check(t.Hash, full, false, time.Time{}, s.now()) != nil {
			return nil, errNotFound
		}
	}
	return t, nil
}

// parseRef accepts a token id or a full token (SPEC 3: {id} may be either)
// and returns the id.
func parseRef(ref string) (string, error) {
	ref = TrimSpace(ref)
	if IsID(ref) {
		return ref, nil
	}
	if id, ok := ParseFull(ref); ok {
		return id, nil
	}
	return "", errs.Field(errs.Path, "id", "must be a token id (dt0c01.<24 base32 characters>) or a full token")
}

// environmentGrants are the scopes that EnvironmentTokenManagement lets a
// token grant, under the strict policy, on tokens bound to an environment:
// those of a token-management token (SPEC 4.6). Minting them is what that
// scope is for, and TenantTokenManagement cannot be held by a cluster token
// at all.
var environmentGrants = SetOf(APITokensRead, APITokensWrite, TenantTokenManagement)

// checkGrant applies the grant policy to a token with scopes want, bound to
// environmentID if that is set: ClusterTokenManagement may grant any scope,
// unless strict mode limits a token to the scopes it holds (and, on bound
// tokens, to environmentGrants when it holds EnvironmentTokenManagement).
// Trusted local callers (no TokenID) are not limited. The error names every
// scope the token lacks.
func (s *Service) checkGrant(a Actor, want []Scope, environmentID string) error {
	if !s.strict || a.TokenID == "" {
		return nil
	}
	envGrant := environmentID != "" && a.Scopes.Has(EnvironmentTokenManagement)
	var missing []string
	hint := false
	for _, sc := range want {
		if a.Scopes.Has(sc) || envGrant && environmentGrants.Has(sc) {
			continue
		}
		missing = append(missing, string(sc))
		hint = hint || environmentID != "" && environmentGrants.Has(sc)
	}
	if len(missing) == 0 {
		return nil
	}
	msg := "Strict grant policy: the token cannot grant scopes it does not hold: " + strings.Join(missing, ", ")
	if hint {
		msg += " (on a token bound to an environment, EnvironmentTokenManagement grants " +
			strings.Join([]string{string(APITokensRead), string(APITokensWrite), string(TenantTokenManagement)}, ", ") + ")"
	}
	return errs.E(errs.Forbidden, msg)
}

func checkName(name string) (errs.Violation, bool) {
	bad := func(msg string) (errs.Violation, bool) {
		return errs.Violation{Path: "name", Message: msg, Location: errs.Payload}, false
	}
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return bad("must not be empty")
	case n > MaxNameLen:
		return bad(fmt.Sprintf("must be at most %d characters long", MaxNameLen))
	case !utf8.ValidString(name):
		return bad("must be valid UTF-8")
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return bad("must not contain control characters")
		}
	}
	if strings.TrimSpace(name) == "" {
		return bad("must not be blank")
	}
	return errs.Violation{}, true
}

// checkBinding refuses TenantTokenManagement on tokens not bound to an
// environment (SPEC 1.2).
func checkBinding(ss []Scope, environmentID string) []errs.Violation {
	if environmentID != "" {
		return nil
	}
	for i, sc := range ss {
		if sc == TenantTokenManagement {
			return []errs.Violation{{Path: fmt.Sprintf("scopes[%d]", i),
				Message: "TenantTokenManagement is only for tokens bound to an environment", Location: errs.Payload}}
		}
	}
	return nil
}

func checkScopes(ss []Scope) []errs.Violation {
	if len(ss) == 0 {
		return []errs.Violation{{Path: "scopes", Message: "must contain at least one scope", Location: errs.Payload}}
	}
	var vs []errs.Violation
	seen := make(map[Scope]bool, len(ss))
	for i, sc := range ss {
		path := fmt.Sprintf("scopes[%d]", i)
		switch {
		case !sc.Known():
			vs = append(vs, errs.Violation{Path: path, Message: fmt.Sprintf("unknown scope %q", string(sc)), Location: errs.Payload})
		case seen[sc]:
			vs = append(vs, errs.Violation{Path: path, Message: fmt.Sprintf("duplicate scope %q", string(sc)), Location: errs.Payload})
		}
		seen[sc] = true
	}
	return vs
}
