package environment

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"clusterapi/internal/errs"
	"clusterapi/internal/token"
)

// TokenManagementScopes are the scopes of a token-management token, the
// token minted for one environment (SPEC 4).
var TokenManagementScopes = []token.Scope{token.APITokensRead, token.APITokensWrite, token.TenantTokenManagement}

// Service applies the rules of the Environments API over a Store, and mints
// environment-bound tokens through the token service.
type Service struct {
	store  Store
	tokens *token.Service
	now    func() time.Time
	newID  func() string
}

// Options configure a Service.
type Options struct {
	Now   func() time.Time // the clock; time.Now when nil
	NewID func() string    // new environment ids; random UUIDs (v4) when nil
}

// NewService returns a Service over store that mints tokens through tokens.
// At most one Options may be given; without one the defaults apply.
func NewService(store Store, tokens *token.Service, opts ...Options) *Service {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = NewUUID
	}
	return &Service{store: store, tokens: tokens, now: o.Now, newID: o.NewID}
}

// NewUUID returns a random (version 4) UUID from crypto/rand.
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand panics rather than return short
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Result is the outcome of a create or a PUT.
type Result struct {
	Environment *Environment
	Created     bool         // false when a PUT updated an existing environment
	Token       token.Secret // the token-management token, when one was asked for and minted
}

var errNotDisabled = errs.E(errs.Invalid,
	"The environment must be disabled before it can be deleted: PUT it with state DISABLED first.")

func notFound(id string) error {
	return errs.E(errs.NotFound, fmt.Sprintf("Environment %s not found", id))
}

// Get returns the environment with the given id.
func (s *Service) Get(ctx context.Context, id string) (*Environment, error) {
	if err := checkPathID(id); err != nil {
		return nil, err
	}
	e, err := s.store.FindEnvironment(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find environment %s: %w", id, err)
	}
	return e, nil
}

// Create stores a new environment with a server-generated id; an id in the
// input is ignored (SPEC 2.4: read-only fields are accepted and ignored).
// With createToken it also mints a token-management token for it, owned by
// the actor's owner.
func (s *Service) Create(ctx context.Context, a token.Actor, in Input, createToken bool) (*Result, error) {
	tags, vs := in.check()
	if in.Name == nil {
		vs.add("name", "must not be empty")
	}
	if err := vs.err(); err != nil {
		return nil, err
	}
	return s.create(ctx, a, s.newID(), in, tags, createToken)
}

// Put creates the environment with the given id or, when it exists, merges
// in into it (see Input.apply). An id in the input must equal the path id;
// name is required only when the PUT creates. A token-management token is
// minted only when the PUT creates and createToken is set.
func (s *Service) Put(ctx context.Context, a token.Actor, id string, in Input, createToken bool) (*Result, error) {
	if err := checkPathID(id); err != nil {
		return nil, err
	}
	tags, vs := in.check()
	if in.ID != nil && *in.ID != id {
		vs = append(violations{{Path: "id", Message: "must equal the id in the path", Location: errs.Payload}}, vs...)
	}
	if err := vs.err(); err != nil {
		return nil, err
	}
	// Several tries: a concurrent PUT may create the environment between our
	// lookup and our create (then this PUT becomes an update), or change it
	// between our read and our write (then we merge again, after a short
	// random pause so that racing writers spread out).
	for try := range maxTries {
		if try > 0 {
			backoff(try)
		}
		old, err := s.store.FindEnvironment(ctx, id)
		switch {
		case errs.Is(err, errs.NotFound):
			if in.Name == nil {
				return nil, errs.Field(errs.Payload, "name", "must not be empty: a PUT that creates an environment needs a name")
			}
			r, err := s.create(ctx, a, id, in, tags, createToken)
			if errs.Is(err, errs.Conflict) {
				continue
			}
			return r, err
		case err != nil:
			return nil, fmt.Errorf("find environment %s: %w", id, err)
		}
		in.apply(old, tags)
		var vs violations
		vs.merged(&old.Storage)
		if err := vs.err(); err != nil {
			return nil, err
		}
		if err := s.store.UpdateEnvironment(ctx, old); err != nil {
			if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Conflict) {
				continue // deleted or changed meanwhile: start again
			}
			return nil, fmt.Errorf("update environment %s: %w", id, err)
		}
		return &Result{Environment: old}, nil
	}
	return nil, errs.E(errs.Conflict, fmt.Sprintf("Environment %s changed concurrently; try again.", id))
}

// create stores a new environment from checked input. A token asked for is
// minted first, so that a refused token (e.g. by the strict grant policy)
// leaves nothing behind; it is deleted again if the environment cannot be
// stored.
func (s *Service) create(ctx context.Context, a token.Actor, id string, in Input, tags []string, createToken bool) (*Result, error) {
	e := &Environment{
		ID:      id,
		State:   Enabled,
		Tags:    []string{},
		Created: s.now().UTC().Truncate(time.Millisecond),
	}
	in.apply(e, tags)
	var vs violations
	vs.merged(&e.Storage)
	if err := vs.err(); err != nil {
		return nil, err
	}
	r := &Result{Environment: e, Created: true}
	var minted *token.Token
	if createToken {
		t, secret, err := s.mint(ctx, a, e, "", 0)
		if err != nil {
			return nil, err
		}
		minted, r.Token = t, secret
	}
	if err := s.store.CreateEnvironment(ctx, e); err != nil {
		if minted != nil {
			if derr := s.tokens.Delete(ctx, token.Actor{}, minted.ID); derr != nil {
				err = errors.Join(err, fmt.Errorf("delete token %s minted for it: %w", minted.ID, derr))
			}
		}
		if errs.Is(err, errs.Conflict) {
			return nil, err
		}
		return nil, fmt.Errorf("create environment %s: %w", id, err)
	}
	return r, nil
}

// maxTries bounds the optimistic read-merge-write loops; past it the client
// gets a 409 and may try again.
const maxTries = 20

// backoff pauses before retry number try, up to a millisecond per try.
func backoff(try int) {
	time.Sleep(time.Duration(mrand.Int64N(int64(try) * int64(time.Millisecond))))
}

// Delete removes the environment with the given id, which must be DISABLED.
// The environment is deleted only if it has not changed since its state was
// checked, so a concurrent re-enable wins.
func (s *Service) Delete(ctx context.Context, id string) error {
	for try := range maxTries {
		if try > 0 {
			backoff(try)
		}
		e, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		if e.State != Disabled {
			return errNotDisabled
		}
		// Tokens bound to the environment go first: should the environment's
		// deletion then fail, it is still there, disabled, and nothing is lost
		// that a client could use.
		if s.tokens != nil {
			if err := s.tokens.DeleteBound(ctx, id); err != nil {
				return err
			}
		}
		err = s.store.DeleteEnvironment(ctx, id, e.Revision)
		switch {
		case err == nil:
			return nil
		case errs.Is(err, errs.Conflict):
			continue // changed meanwhile: check its state again
		case errs.Is(err, errs.NotFound):
			return notFound(id)
		default:
			return fmt.Errorf("delete environment %s: %w", id, err)
		}
	}
	return errs.E(errs.Conflict, fmt.Sprintf("Environment %s changed concurrently; try again.", id))
}

// CreateToken mints a token-management token for the environment with the
// given id: bound to it, with TokenManagementScopes, owned by the actor's
// owner. An empty name gets a default; expiresIn 0 means it never expires.
func (s *Service) CreateToken(ctx context.Context, a token.Actor, id, name string, expiresIn time.Duration) (*token.Token, token.Secret, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return nil, "", err
	}
	return s.mint(ctx, a, e, name, expiresIn)
}

func (s *Service) mint(ctx context.Context, a token.Actor, e *Environment, name string, expiresIn time.Duration) (*token.Token, token.Secret, error) {
	if s.tokens == nil {
		return nil, "", errors.New("environment service has no token service")
	}
	if name == "" {
		name = "Token management for environment " + e.Name
	}
	t, secret, err := s.tokens.Create(ctx, a, token.CreateInput{
		Name:          name,
		Scopes:        TokenManagementScopes,
		ExpiresIn:     expiresIn,
		EnvironmentID: e.ID,
	})
	if err != nil {
		return nil, "", fmt.Errorf("mint token for environment %s: %w", e.ID, err)
	}
	return t, secret, nil
}

// Page is one page of a list.
type Page struct {
	Environments []*Environment // never nil
	TotalCount   int            // environments matching the filter, on every page
	Options      ListOptions    // the list's options, defaults filled in
	NextPageKey  string         // "" on the last page
}

// List returns the first page of the list o asks for.
func (s *Service) List(ctx context.Context, o ListOptions) (*Page, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return s.page(ctx, o, nil)
}

// ListNext returns the page that nextPageKey, from an earlier page, points at.
func (s *Service) ListNext(ctx context.Context, nextPageKey string) (*Page, error) {
	o, k, err := decodeCursor(nextPageKey)
	if err != nil {
		return nil, err
	}
	return s.page(ctx, o, &k)
}

func (s *Service) page(ctx context.Context, o ListOptions, after *Key) (*Page, error) {
	f, err := ParseFilter(o.Filter)
	if err != nil {
		return nil, err
	}
	// One more than a page tells whether there is a next page.
	envs, total, err := s.store.FindEnvironments(ctx, Query{Filter: f, Sort: o.Sort, After: after, Limit: o.PageSize + 1})
	if err != nil {
		return nil, fmt.Errorf("list environments: %w", err)
	}
	p := &Page{Environments: envs, TotalCount: total, Options: o}
	if p.Environments == nil {
		p.Environments = []*Environment{}
	}
	if len(envs) > o.PageSize {
		p.Environments = envs[:o.PageSize]
		p.NextPageKey = encodeCursor(o, KeyOf(p.Environments[o.PageSize-1]))
	}
	return p, nil
}
