package environment_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/environment"
	"clusterapi/internal/errs"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

var t0 = time.Date(2026, 12, 3, 18, 59, 8, 123_456_789, time.UTC)

// fixture is a Service over a real SQLite store, with a clock that moves one
// second per reading.
type fixture struct {
	envs   *environment.Service
	tokens *token.Service
	db     *sqlite.DB
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("sqlite.Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	var mu sync.Mutex
	now := t0
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	tokens := token.NewService(db, token.Options{Now: clock})
	return &fixture{envs: environment.NewService(db, tokens, environment.Options{Now: clock}), tokens: tokens, db: db}
}

var caller = token.Actor{TokenID: "dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA", UserID: "alice", Scopes: token.SetOf(token.ServiceProviderAPI)}

func ptr[T any](v T) *T { return &v }

// set is a limit as a client sends it: a number.
func set(v int64) environment.Opt { return environment.SetTo(&v) }

func mustCreate(t *testing.T, f *fixture, in environment.Input) *environment.Environment {
	t.Helper()
	r, err := f.envs.Create(context.Background(), caller, in, false)
	if err != nil {
		t.Fatalf("Create(%v) = %v", *in.Name, err)
	}
	return r.Environment
}

// wantViolation checks that err is a 400 naming path at loc.
func wantViolation(t *testing.T, what string, err error, path string, loc errs.Location) {
	t.Helper()
	e, ok := err.(*errs.Error)
	if !ok || e.Kind != errs.Invalid || len(e.Violations) == 0 {
		t.Fatalf("%s = %v, want a violation of %s", what, err, path)
	}
	if v := e.Violations[0]; v.Path != path || v.Location != loc {
		t.Errorf("%s violation = %+v, want path %s in %s", what, v, path, loc)
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCreate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r, err := f.envs.Create(ctx, caller, environment.Input{ID: ptr("ignored"), Name: ptr("Prod")}, false)
	if err != nil {
		t.Fatalf("Create = %v", err)
	}
	e := r.Environment
	if !uuidV4.MatchString(e.ID) {
		t.Errorf("Create id = %q, want a v4 UUID", e.ID)
	}
	want := &environment.Environment{
		ID: e.ID, Name: "Prod", State: environment.Enabled, Tags: []string{},
		Created: t0.Add(time.Second).Truncate(time.Millisecond),
	}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("Create (-want +got):\n%s", diff)
	}
	if !r.Created || r.Token != "" {
		t.Errorf("Create result Created = %v, Token set = %v; want true, false", r.Created, r.Token != "")
	}
	got, err := f.envs.Get(ctx, e.ID)
	if err != nil {
		t.Fatalf("Get = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get after Create (-want +got):\n%s", diff)
	}

	_, err = f.envs.Create(ctx, caller, environment.Input{}, false)
	wantViolation(t, "Create(no name)", err, "name", errs.Payload)
	_, err = f.envs.Create(ctx, caller, environment.Input{Name: ptr("x"), Storage: &environment.StorageInput{
		SessionReplayRetention: &environment.RetentionInput{MaxLimitInDays: set(36)},
	}}, false)
	wantViolation(t, "Create(retention 36)", err, "storage.sessionReplayRetention.maxLimitInDays", errs.Payload)
}

func TestCreateToken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r, err := f.envs.Create(ctx, caller, environment.Input{Name: ptr("Prod")}, true)
	if err != nil {
		t.Fatalf("Create(createToken) = %v", err)
	}
	tok, err := f.tokens.Authenticate(ctx, r.Token.Reveal())
	if err != nil {
		t.Fatalf("Authenticate(minted token) = %v", err)
	}
	if tok.EnvironmentID != r.Environment.ID || tok.UserID != "alice" || !tok.Expires.IsZero() {
		t.Errorf("minted token = env %q owner %q expires %v; want env %q owner alice, no expiry",
			tok.EnvironmentID, tok.UserID, tok.Expires, r.Environment.ID)
	}
	if diff := cmp.Diff(environment.TokenManagementScopes, tok.Scopes); diff != "" {
		t.Errorf("minted token scopes (-want +got):\n%s", diff)
	}

	// The tokenManagementToken endpoint.
	minted, secret, err := f.envs.CreateToken(ctx, caller, r.Environment.ID, "ci", 2*time.Hour)
	if err != nil {
		t.Fatalf("CreateToken = %v", err)
	}
	if minted.Name != "ci" || minted.EnvironmentID != r.Environment.ID || !minted.Expires.Equal(minted.Created.Add(2*time.Hour)) {
		t.Errorf("CreateToken = %+v", minted)
	}
	if _, err := f.tokens.Authenticate(ctx, secret.Reveal()); err != nil {
		t.Errorf("Authenticate(CreateToken secret) = %v", err)
	}
	if _, _, err := f.envs.CreateToken(ctx, caller, "nope", "ci", 0); !errs.Is(err, errs.NotFound) {
		t.Errorf("CreateToken(unknown env) = %v, want NotFound", err)
	}
	if _, _, err := f.envs.CreateToken(ctx, caller, r.Environment.ID, strings.Repeat("n", 256), 0); !errs.Is(err, errs.Invalid) {
		t.Errorf("CreateToken(long name) = %v, want Invalid", err)
	}
}

// With the strict grant policy a ServiceProviderAPI token may not grant the
// token-management scopes: the create fails and leaves no environment.
func TestCreateTokenRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	strict := token.NewService(f.db, token.Options{Strict: true})
	envs := environment.NewService(f.db, strict)
	_, err := envs.Create(ctx, caller, environment.Input{Name: ptr("Prod")}, true)
	if !errs.Is(err, errs.Forbidden) {
		t.Fatalf("Create(createToken, strict) = %v, want Forbidden", err)
	}
	p, err := envs.List(ctx, environment.ListOptions{PageSize: 10})
	if err != nil || p.TotalCount != 0 {
		t.Errorf("List after refused create = %v, %v; want no environments", p, err)
	}
}

func TestPut(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)

	_, err := f.envs.Put(ctx, caller, "new-env", environment.Input{State: ptr(environment.Disabled)}, false)
	wantViolation(t, "Put(create without name)", err, "name", errs.Payload)
	_, err = f.envs.Put(ctx, caller, "bad id!", environment.Input{Name: ptr("x")}, false)
	wantViolation(t, "Put(bad path id)", err, "id", errs.Path)
	_, err = f.envs.Put(ctx, caller, "new-env", environment.Input{ID: ptr("other"), Name: ptr("x")}, false)
	wantViolation(t, "Put(body id differs)", err, "id", errs.Payload)

	r, err := f.envs.Put(ctx, caller, "new-env", environment.Input{
		ID: ptr("new-env"), Name: ptr("New"), Tags: []string{"a", "b"},
		Quotas: &environment.QuotasInput{
			HostUnits: &environment.LimitInput{MaxLimit: set(10)},
			DEMUnits:  &environment.PeriodInput{MonthlyLimit: set(5), AnnualLimit: set(60)},
		},
		Storage: &environment.StorageInput{
			ServiceRequestLevelRetention: &environment.RetentionInput{MaxLimitInDays: set(30)},
		},
	}, true)
	if err != nil {
		t.Fatalf("Put(create) = %v", err)
	}
	if !r.Created || r.Token == "" || r.Environment.ID != "new-env" {
		t.Errorf("Put(create) = created %v, token %v, id %q; want created with a token", r.Created, r.Token != "", r.Environment.ID)
	}
	created := r.Environment.Created

	// A partial body merges, down to single limits; the token is minted
	// only on create.
	r, err = f.envs.Put(ctx, caller, "new-env", environment.Input{
		State:  ptr(environment.Disabled),
		Quotas: &environment.QuotasInput{DEMUnits: &environment.PeriodInput{AnnualLimit: set(70)}},
	}, true)
	if err != nil {
		t.Fatalf("Put(update) = %v", err)
	}
	if r.Created || r.Token != "" {
		t.Errorf("Put(update) = created %v, token %v; want neither", r.Created, r.Token != "")
	}
	want := &environment.Environment{
		ID: "new-env", Name: "New", State: environment.Disabled, Tags: []string{"a", "b"}, Created: created,
		Quotas: environment.Quotas{
			HostUnits: &environment.Limit{MaxLimit: ptr[int64](10)},
			DEMUnits:  &environment.PeriodLimits{MonthlyLimit: ptr[int64](5), AnnualLimit: ptr[int64](70)},
		},
		Storage: environment.Storage{
			ServiceRequestLevelRetention: &environment.Retention{MaxLimitInDays: ptr[int64](30)},
		},
		Revision: 1,
	}
	got, err := f.envs.Get(ctx, "new-env")
	if err != nil {
		t.Fatalf("Get = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after partial Put (-want +got):\n%s", diff)
	}

	// Rules that span fields are checked on the merged record.
	_, err = f.envs.Put(ctx, caller, "new-env", environment.Input{Storage: &environment.StorageInput{
		ServiceCodeLevelRetention: &environment.RetentionInput{MaxLimitInDays: set(31)},
	}}, false)
	wantViolation(t, "Put(code retention > request retention)", err, "storage.serviceCodeLevelRetention.maxLimitInDays", errs.Payload)

	// A sub-object with a null limit makes it unlimited; one whose limit is
	// left out (usage figures only, on the wire) keeps it.
	if _, err := f.envs.Put(ctx, caller, "new-env", environment.Input{
		Quotas: &environment.QuotasInput{HostUnits: &environment.LimitInput{MaxLimit: environment.SetTo(nil)},
			DEMUnits: &environment.PeriodInput{}},
	}, false); err != nil {
		t.Fatalf("Put(null limit) = %v", err)
	}
	got, _ = f.envs.Get(ctx, "new-env")
	if got.Quotas.HostUnits != nil {
		t.Errorf("hostUnits after null limit = %+v, want unlimited", got.Quotas.HostUnits)
	}
	if diff := cmp.Diff(want.Quotas.DEMUnits, got.Quotas.DEMUnits); diff != "" {
		t.Errorf("demUnits after a PUT without its limits (-want +got):\n%s", diff)
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	e := mustCreate(t, f, environment.Input{Name: ptr("Prod")})
	err := f.envs.Delete(ctx, e.ID)
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "must be disabled") {
		t.Errorf("Delete(enabled) = %v, want Invalid saying it must be disabled", err)
	}
	if _, err := f.envs.Put(ctx, caller, e.ID, environment.Input{State: ptr(environment.Disabled)}, false); err != nil {
		t.Fatalf("Put(disable) = %v", err)
	}
	if err := f.envs.Delete(ctx, e.ID); err != nil {
		t.Fatalf("Delete(disabled) = %v", err)
	}
	if _, err := f.envs.Get(ctx, e.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("Get(deleted) = %v, want NotFound", err)
	}
	if err := f.envs.Delete(ctx, e.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("Delete(deleted) = %v, want NotFound", err)
	}
	wantViolation(t, "Delete(bad id)", f.envs.Delete(ctx, "a b"), "id", errs.Path)
}

func TestList(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	names := []string{"delta", "Alpha", "charlie", "Bravo", "echo"}
	for i, n := range names {
		in := environment.Input{Name: ptr(n), Tags: []string{"all"}}
		if i%2 == 0 {
			in.Trial = ptr(true)
			in.Tags = append(in.Tags, "even")
		}
		mustCreate(t, f, in)
	}
	walk := func(o environment.ListOptions) (got []string, total int) {
		t.Helper()
		p, err := f.envs.List(ctx, o)
		for {
			if err != nil {
				t.Fatalf("List(%+v) = %v", o, err)
			}
			total = p.TotalCount
			for _, e := range p.Environments {
				got = append(got, e.Name)
			}
			if len(p.Environments) > o.PageSize {
				t.Fatalf("page of %d, want at most %d", len(p.Environments), o.PageSize)
			}
			if p.NextPageKey == "" {
				return got, total
			}
			if p.Options.IncludeQuotas != o.IncludeQuotas {
				t.Errorf("page options lost the include flag")
			}
			p, err = f.envs.ListNext(ctx, p.NextPageKey)
		}
	}
	tests := []struct {
		name      string
		o         environment.ListOptions
		want      []string
		wantTotal int
	}{
		{"default sort is by name, ignoring case", environment.ListOptions{PageSize: 2, IncludeQuotas: true},
			[]string{"Alpha", "Bravo", "charlie", "delta", "echo"}, 5},
		{"-name", environment.ListOptions{Sort: environment.ByNameDesc, PageSize: 3},
			[]string{"echo", "delta", "charlie", "Bravo", "Alpha"}, 5},
		{"creationDate", environment.ListOptions{Sort: environment.ByCreationDate, PageSize: 1}, names, 5},
		{"-creationDate", environment.ListOptions{Sort: environment.ByCreationDateDesc, PageSize: 4},
			[]string{"echo", "Bravo", "charlie", "Alpha", "delta"}, 5},
		{"trial", environment.ListOptions{Filter: "trial(true)", PageSize: 1}, []string{"charlie", "delta", "echo"}, 3},
		{"name substring", environment.ListOptions{Filter: "name(A)", PageSize: 10}, []string{"Alpha", "Bravo", "charlie", "delta"}, 4},
		{"tags any", environment.ListOptions{Filter: "tag(even,nope)", PageSize: 2}, []string{"charlie", "delta", "echo"}, 3},
		{"tags all", environment.ListOptions{Filter: "tag(even),tag(nope)", PageSize: 2}, nil, 0},
		{"state", environment.ListOptions{Filter: "state(DISABLED)", PageSize: 2}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total := walk(tt.o)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("walk (-want +got):\n%s", diff)
			}
			if total != tt.wantTotal {
				t.Errorf("totalCount = %d, want %d", total, tt.wantTotal)
			}
		})
	}

	_, err := f.envs.List(ctx, environment.ListOptions{PageSize: 0})
	wantViolation(t, "List(pageSize 0)", err, "pageSize", errs.Query)
	_, err = f.envs.List(ctx, environment.ListOptions{PageSize: 1001})
	wantViolation(t, "List(pageSize 1001)", err, "pageSize", errs.Query)
	_, err = f.envs.List(ctx, environment.ListOptions{PageSize: 10, Sort: "id"})
	wantViolation(t, "List(sort id)", err, "sort", errs.Query)
	_, err = f.envs.List(ctx, environment.ListOptions{PageSize: 10, Filter: "name("})
	wantViolation(t, "List(broken filter)", err, "filter", errs.Query)
	_, err = f.envs.ListNext(ctx, "garbage")
	wantViolation(t, "ListNext(garbage)", err, "nextPageKey", errs.Query)
}
