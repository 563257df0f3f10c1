package main

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// tempStore is a fresh SQLite store in a temporary folder.
func tempStore(t *testing.T) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "data", "clusterapi.db")
}

// cliToken mints a token straight into the server's store with extra flags.
func (s *testServer) cliToken(t *testing.T, name string, flags ...string) string {
	t.Helper()
	out, err := s.cli(t, append([]string{"token", "create", "--name", name}, flags...)...)
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	tok := strings.TrimSpace(out)
	s.remember(tok)
	return tok
}

func wantStrictRefusal(t *testing.T, what string, r response, missing string) {
	t.Helper()
	if r.Status != 403 {
		t.Errorf("%s: %d %s, want 403", what, r.Status, r.Body)
		return
	}
	const prefix = "Strict grant policy: the token cannot grant scopes it does not hold: "
	if msg := r.errorMessage(t); !strings.HasPrefix(msg, prefix+missing) {
		t.Errorf("%s: message %q, want it to name %s", what, msg, missing)
	}
}

// TestStrictGrants: under --strict-grants a token may only grant the scopes it
// holds, on every write path: create, rescope, rotate, and the environment
// token flow, where EnvironmentTokenManagement grants a token-management
// token's scopes.
func TestStrictGrants(t *testing.T) {
	s := startServerOn(t, tempStore(t), "--strict-grants")
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI", "settings.read")

	// Create.
	r := s.do(t, req{method: "POST", path: tokensPath, token: admin,
		body: map[string]any{"name": "x", "scopes": []string{"settings.read", "Nodekeeper", "settings.write"}}})
	wantStrictRefusal(t, "create", r, "Nodekeeper, settings.write")
	small := s.mint(t, admin, "small", "settings.read")
	if n := tokenCount(t, s, admin); n != 2 {
		t.Errorf("%d tokens after a refused create, want 2", n)
	}

	// Update (rescope).
	r = s.do(t, req{method: "PUT", path: tokensPath + "/" + small[:31], token: admin,
		body: map[string]any{"scopes": []string{"settings.read", "ControlManagement"}}})
	wantStrictRefusal(t, "rescope", r, "ControlManagement")
	if got := scopesOf(s.meta(t, admin, small)); !slices.Equal(got, []string{"settings.read"}) {
		t.Errorf("scopes after a refused rescope: %v", got)
	}
	if r := s.do(t, req{method: "PUT", path: tokensPath + "/" + small[:31], token: admin,
		body: map[string]any{"scopes": []string{"ServiceProviderAPI"}}}); r.Status != 204 {
		t.Errorf("rescope to a scope held: %d %s", r.Status, r.Body)
	}

	// Rotate.
	node := s.cliToken(t, "node", "--scope", "Nodekeeper")
	r = s.do(t, req{method: "POST", path: rotatePath(node[:31]), token: admin})
	wantStrictRefusal(t, "rotate", r, "Nodekeeper")
	if m := s.meta(t, admin, node); m["expires"] != nil {
		t.Errorf("a refused rotation changed the token: %v", m)
	}
	if st, _ := s.use(t, node); st != 403 { // still valid, just without the scope
		t.Errorf("the token after a refused rotation: %d", st)
	}
	s.rotate(t, admin, small, nil)

	// The environment token flow.
	r = s.do(t, req{method: "POST", path: envsPath + "?createToken=true", token: admin, body: map[string]any{"name": "refused"}})
	wantStrictRefusal(t, "create environment with createToken", r, "apiTokens.read, apiTokens.write, TenantTokenManagement")
	if r := s.do(t, req{method: "GET", path: envsPath, token: admin}); r.json(t)["totalCount"] != 0.0 {
		t.Errorf("a refused createToken left an environment: %s", r.Body)
	}
	env := s.do(t, req{method: "POST", path: envsPath, token: admin, body: map[string]any{"name": "a"}}).json(t)["id"].(string)
	etm := s.cliToken(t, "etm", "--scope", "EnvironmentTokenManagement")
	r = s.do(t, req{method: "POST", path: envsPath + "/" + env + "/tokenManagementToken", token: etm, body: map[string]any{"name": "tm"}})
	if r.Status != 201 {
		t.Fatalf("tokenManagementToken by an EnvironmentTokenManagement token: %d %s", r.Status, r.Body)
	}
	bound := r.json(t)["token"].(string)
	s.remember(bound)
	provider := s.cliToken(t, "provider", "--scope", "ServiceProviderAPI", "--scope", "EnvironmentTokenManagement")
	r = s.do(t, req{method: "POST", path: envsPath + "?createToken=true", token: provider, body: map[string]any{"name": "b"}})
	if r.Status != 201 || r.json(t)["tokenManagementToken"] == nil {
		t.Fatalf("createToken by a ServiceProviderAPI and EnvironmentTokenManagement token: %d %s", r.Status, r.Body)
	}
	s.remember(r.json(t)["tokenManagementToken"].(string))
	// Rescoping or rotating the bound token follows the same rule.
	r = s.do(t, req{method: "PUT", path: tokensPath + "/" + bound[:31], token: admin, body: map[string]any{"scopes": []string{"apiTokens.read"}}})
	wantStrictRefusal(t, "rescope a bound token", r, "apiTokens.read")
	r = s.do(t, req{method: "POST", path: rotatePath(bound[:31]), token: admin})
	wantStrictRefusal(t, "rotate a bound token", r, "apiTokens.read, apiTokens.write, TenantTokenManagement")
	both := s.cliToken(t, "both", "--scope", "ClusterTokenManagement", "--scope", "EnvironmentTokenManagement")
	s.rotate(t, both, bound, nil)
}

// TestLifetimePolicy: --token-default-lifetime and --token-max-lifetime on
// every path that makes a token: API create, tokenManagementToken and
// createToken, rotate, and (with the same flags or variables) the command
// line; the console has its own test below.
func TestLifetimePolicy(t *testing.T) {
	const def, max = 48 * time.Hour, 72 * time.Hour
	s := startServerOn(t, tempStore(t), "--token-default-lifetime", "48h", "--token-max-lifetime", "72h")
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")
	if d := lifetimeOf(s.meta(t, admin, admin)); d != 0 {
		t.Errorf("the CLI without the policy made a token that lives %v", d)
	}
	create := func(body map[string]any) string {
		t.Helper()
		r := s.do(t, req{method: "POST", path: tokensPath, token: admin, body: body})
		if r.Status != 201 {
			t.Fatalf("create %v: %d %s", body, r.Status, r.Body)
		}
		tok := r.json(t)["token"].(string)
		s.remember(tok)
		return tok
	}
	days := func(n int) map[string]any { return map[string]any{"value": n, "unit": "DAYS"} }
	for _, tt := range []struct {
		name string
		body map[string]any
		want time.Duration
	}{
		{"no expiresIn", map[string]any{"name": "a", "scopes": []string{"settings.read"}}, def},
		{"over the maximum", map[string]any{"name": "b", "scopes": []string{"settings.read"}, "expiresIn": days(100)}, max},
		{"under the maximum", map[string]any{"name": "c", "scopes": []string{"settings.read"}, "expiresIn": map[string]any{"value": 1, "unit": "HOURS"}}, time.Hour},
		{"EnvironmentTokenManagement", map[string]any{"name": "d", "scopes": []string{"EnvironmentTokenManagement"}}, 24 * time.Hour},
	} {
		if got := lifetimeOf(s.meta(t, admin, create(tt.body))); got != tt.want {
			t.Errorf("API create, %s: lives %v, want %v", tt.name, got, tt.want)
		}
	}

	// Environment tokens.
	lookup := func(tok string) time.Duration {
		t.Helper()
		r := s.do(t, req{method: "POST", path: tokensPath + "/lookup", token: admin, body: map[string]any{"token": tok}})
		if r.Status != 200 {
			t.Fatalf("lookup: %d %s", r.Status, r.Body)
		}
		return lifetimeOf(r.json(t))
	}
	r := s.do(t, req{method: "POST", path: envsPath + "?createToken=true", token: admin, body: map[string]any{"name": "a"}})
	if r.Status != 201 {
		t.Fatalf("create environment: %d %s", r.Status, r.Body)
	}
	envTok, env := r.json(t)["tokenManagementToken"].(string), r.json(t)["id"].(string)
	s.remember(envTok)
	if got := lookup(envTok); got != def {
		t.Errorf("createToken: lives %v, want %v", got, def)
	}
	etm := create(map[string]any{"name": "etm", "scopes": []string{"EnvironmentTokenManagement"}})
	for _, tt := range []struct {
		name string
		body map[string]any
		want time.Duration
	}{
		{"no expiresIn", map[string]any{}, def},
		{"over the maximum", map[string]any{"expiresIn": days(10)}, max},
	} {
		r := s.do(t, req{method: "POST", path: envsPath + "/" + env + "/tokenManagementToken", token: etm, body: tt.body})
		if r.Status != 201 {
			t.Fatalf("tokenManagementToken: %d %s", r.Status, r.Body)
		}
		tok := r.json(t)["token"].(string)
		s.remember(tok)
		if got := lookup(tok); got != tt.want {
			t.Errorf("tokenManagementToken, %s: lives %v, want %v", tt.name, got, tt.want)
		}
	}

	// Rotation re-applies the policy to the old token's lifetime.
	for _, tt := range []struct {
		name string
		tok  string
		want time.Duration
	}{
		{"never expired", s.cliToken(t, "never", "--scope", "settings.read"), def},
		{"100 days", s.cliToken(t, "long", "--scope", "settings.read", "--expires-in", "2400h"), max},
		{"1 hour", create(map[string]any{"name": "short", "scopes": []string{"settings.read"}, "expiresIn": map[string]any{"value": 1, "unit": "HOURS"}}), time.Hour},
	} {
		if got := lifetimeOf(s.meta(t, admin, s.rotate(t, admin, tt.tok, nil))); got != tt.want {
			t.Errorf("rotate a token that lived %s: new one lives %v, want %v", tt.name, got, tt.want)
		}
	}

	// The command line, with flags or with the variables serve also reads.
	cli := func(env map[string]string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"token", "create", "--store", s.Store}, args...),
			func(k string) string { return env[k] }, &out, &errOut)
		if err != nil {
			return "", err
		}
		tok := strings.TrimSpace(out.String())
		s.remember(tok)
		return tok, nil
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want time.Duration
	}{
		{"--token-max-lifetime", nil, []string{"--name", "x", "--scope", "settings.read", "--expires-in", "1000h", "--token-max-lifetime", "72h"}, max},
		{"CLUSTERAPI_TOKEN_DEFAULT_LIFETIME", map[string]string{"CLUSTERAPI_TOKEN_DEFAULT_LIFETIME": "48h"}, []string{"--name", "y", "--scope", "settings.read"}, def},
		{"CLUSTERAPI_TOKEN_MAX_LIFETIME, flag wins", map[string]string{"CLUSTERAPI_TOKEN_MAX_LIFETIME": "1h"},
			[]string{"--name", "z", "--scope", "settings.read", "--token-max-lifetime", "72h"}, max},
	} {
		tok, err := cli(tt.env, tt.args...)
		if err != nil {
			t.Fatalf("token create, %s: %v", tt.name, err)
		}
		if got := lifetimeOf(s.meta(t, admin, tok)); got != tt.want {
			t.Errorf("token create, %s: lives %v, want %v", tt.name, got, tt.want)
		}
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"bad variable", map[string]string{"CLUSTERAPI_TOKEN_MAX_LIFETIME": "soon"}, []string{"--name", "x", "--scope", "settings.read"}},
		{"default over maximum", nil, []string{"--name", "x", "--scope", "settings.read", "--token-default-lifetime", "2h", "--token-max-lifetime", "1h"}},
		{"negative", nil, []string{"--name", "x", "--scope", "settings.read", "--token-max-lifetime", "-1h"}},
	} {
		if _, err := cli(tt.env, tt.args...); err == nil {
			t.Errorf("token create, %s: no error", tt.name)
		}
	}
}

// TestLifetimePolicyServe: serve refuses a policy that makes no sense.
func TestLifetimePolicyServe(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"default over maximum", nil, []string{"--token-default-lifetime", "100h", "--token-max-lifetime", "10h"}},
		{"bad variable", map[string]string{"CLUSTERAPI_TOKEN_DEFAULT_LIFETIME": "a while"}, nil},
		{"negative", nil, []string{"--token-default-lifetime", "-5m"}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var log bytes.Buffer
		args := append([]string{"serve", "--listen", "127.0.0.1:0", "--store", tempStore(t)}, tt.args...)
		err := run(ctx, args, func(k string) string { return tt.env[k] }, &log, &log)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "lifetime") && !strings.Contains(err.Error(), "LIFETIME") {
			t.Errorf("serve, %s: %v, want an error about the lifetime policy", tt.name, err)
		}
		if strings.Contains(log.String(), "msg=listening") {
			t.Errorf("serve, %s: listened", tt.name)
		}
	}
}

// TestLifetimePolicyConsole: the console's generate form, with the policy
// from the environment variables, says what it does and applies it.
func TestLifetimePolicyConsole(t *testing.T) {
	s := startServerEnv(t, tempStore(t), map[string]string{
		"CLUSTERAPI_ADMIN_PASSWORD":         adminPassword,
		"CLUSTERAPI_TOKEN_DEFAULT_LIFETIME": "48h",
		"CLUSTERAPI_TOKEN_MAX_LIFETIME":     "168h",
	})
	admin := s.bootstrap(t, "ClusterTokenManagement")
	b := signedIn(t, s)
	if p := b.get("/cmc/tokens/new"); !strings.Contains(p.Body, "means 2 days, and no token lives longer than 7 days") {
		t.Errorf("the form does not tell the policy:\n%s", p.Body)
	}
	tokenRE := regexp.MustCompile(`id="token" type="text" readonly value="(dt0c01\.[A-Z2-7.]+)"`)
	for _, tt := range []struct {
		expiry string
		want   time.Duration
	}{
		{"never", 48 * time.Hour},
		{"30d", 168 * time.Hour},
		{"24h", 24 * time.Hour},
	} {
		p := b.post("/cmc/tokens", url.Values{"name": {"console " + tt.expiry}, "scope": {"settings.read"}, "expiry": {tt.expiry}})
		m := tokenRE.FindStringSubmatch(p.Body)
		if p.Status != 200 || m == nil {
			t.Fatalf("generate, expiry %s: %d\n%s", tt.expiry, p.Status, p.Body)
		}
		s.remember(m[1])
		if got := lifetimeOf(s.meta(t, admin, m[1])); got != tt.want {
			t.Errorf("generate, expiry %s: lives %v, want %v", tt.expiry, got, tt.want)
		}
		if tt.expiry == "never" && strings.Contains(p.Body, "It expires: never.") {
			t.Errorf("the created page says the token never expires")
		}
	}
}
