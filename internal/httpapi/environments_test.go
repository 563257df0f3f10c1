package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/auth"
	"clusterapi/internal/environment"
	"clusterapi/internal/httpapi"
	"clusterapi/internal/networkzone"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

// envAPI is the real API over a real SQLite store, served on loopback.
type envAPI struct {
	url    string
	tokens *token.Service
	admin  string // a token with ServiceProviderAPI
}

func newEnvAPI(t *testing.T) *envAPI {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("sqlite.Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	tokens := token.NewService(db, token.Options{})
	envs := environment.NewService(db, tokens)
	api := httpapi.New(httpapi.Config{Log: slog.New(slog.DiscardHandler), Verifier: auth.NewVerifier(tokens, auth.Options{}),
		Tokens: tokens, Envs: envs, Zones: networkzone.NewService(db)})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	a := &envAPI{url: srv.URL, tokens: tokens}
	a.admin = a.mint(t, token.ServiceProviderAPI)
	return a
}

// mint creates a token owned by alice with the given scopes.
func (a *envAPI) mint(t *testing.T, scopes ...token.Scope) string {
	t.Helper()
	_, secret, err := a.tokens.Create(context.Background(), token.Actor{}, token.CreateInput{Name: "test", Scopes: scopes, UserID: "alice"})
	if err != nil {
		t.Fatalf("mint = %v", err)
	}
	return secret.Reveal()
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %v\n%s", r.status, err, r.body)
	}
	return m
}

// violations returns "path LOCATION" of every constraint violation.
func (r reply) violations(t *testing.T) []string {
	t.Helper()
	var env struct {
		Error struct {
			ConstraintViolations []struct{ Path, ParameterLocation string }
		}
	}
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("error body: %v\n%s", err, r.body)
	}
	out := []string{}
	for _, v := range env.Error.ConstraintViolations {
		out = append(out, v.Path+" "+v.ParameterLocation)
	}
	return out
}

func (a *envAPI) do(t *testing.T, method, path, body string, tok ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	auth := a.admin
	if len(tok) > 0 {
		auth = tok[0]
	}
	req.Header.Set("Authorization", "Api-Token "+auth)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("%s %s: Content-Type %q, want JSON", method, path, resp.Header.Get("Content-Type"))
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func wantStatus(t *testing.T, what string, r reply, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s = %d, want %d\n%s", what, r.status, status, r.body)
	}
}

const envs = "/api/cluster/v2/environments"

var creationDate = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func TestEnvironmentLifecycle(t *testing.T) {
	a := newEnvAPI(t)

	r := a.do(t, "POST", envs, `{"name":"Prod","tags":["eu","team-a"]}`)
	wantStatus(t, "POST", r, http.StatusCreated)
	created := r.json(t)
	id, _ := created["id"].(string)
	if diff := cmp.Diff(map[string]any{"id": id, "name": "Prod"}, created); diff != "" || id == "" {
		t.Errorf("POST body (-want +got):\n%s", diff)
	}
	if loc := r.header.Get("Location"); loc != envs+"/"+id {
		t.Errorf("POST Location = %q", loc)
	}

	r = a.do(t, "GET", envs+"/"+id, "")
	wantStatus(t, "GET", r, http.StatusOK)
	got := r.json(t)
	if !creationDate.MatchString(got["creationDate"].(string)) {
		t.Errorf("creationDate = %q, want ISO-8601 UTC with milliseconds", got["creationDate"])
	}
	want := map[string]any{"id": id, "name": "Prod", "trial": false, "state": "ENABLED",
		"tags": []any{"eu", "team-a"}, "creationDate": got["creationDate"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GET without include flags (-want +got):\n%s", diff)
	}

	// A partial PUT merges and answers 204.
	r = a.do(t, "PUT", envs+"/"+id, `{"state":"DISABLED","trial":true}`)
	wantStatus(t, "PUT (update)", r, http.StatusNoContent)
	got = a.do(t, "GET", envs+"/"+id, "").json(t)
	want["state"], want["trial"] = "DISABLED", true
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GET after partial PUT (-want +got):\n%s", diff)
	}

	// A PUT on an unknown id creates, with the short form.
	r = a.do(t, "PUT", envs+"/my-env", `{"id":"my-env","name":"Mine"}`)
	wantStatus(t, "PUT (create)", r, http.StatusCreated)
	if diff := cmp.Diff(map[string]any{"id": "my-env", "name": "Mine"}, r.json(t)); diff != "" {
		t.Errorf("PUT (create) body (-want +got):\n%s", diff)
	}
	if loc := r.header.Get("Location"); loc != envs+"/my-env" {
		t.Errorf("PUT (create) Location = %q", loc)
	}

	// DELETE only when disabled.
	r = a.do(t, "DELETE", envs+"/my-env", "")
	wantStatus(t, "DELETE (enabled)", r, http.StatusBadRequest)
	if msg := r.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "must be disabled") {
		t.Errorf("DELETE (enabled) message = %q", msg)
	}
	wantStatus(t, "DELETE (disabled)", a.do(t, "DELETE", envs+"/"+id, ""), http.StatusNoContent)
	r = a.do(t, "GET", envs+"/"+id, "")
	wantStatus(t, "GET (deleted)", r, http.StatusNotFound)
	if code := r.json(t)["error"].(map[string]any)["code"]; code != float64(404) {
		t.Errorf("GET (deleted) envelope code = %v", code)
	}
	wantStatus(t, "DELETE (deleted)", a.do(t, "DELETE", envs+"/"+id, ""), http.StatusNotFound)
}

// Whatever limits a client sets read back exactly, null included, and a GET
// body sent back as a PUT changes nothing (SPEC 2.4).
func TestEnvironmentLimitsEcho(t *testing.T) {
	a := newEnvAPI(t)
	body := `{"name":"Limits","quotas":{
		"hostUnits":{"maxLimit":10},
		"demUnits":{"monthlyLimit":50001,"annualLimit":null},
		"userSessions":{"totalMonthlyLimit":9007199254740993},
		"syntheticMonitors":{"annualLimit":0},
		"davisDataUnits":{"monthlyLimit":18162}},
	  "storage":{
		"transactionStorage":{"maxLimit":1099511627776},
		"serviceRequestLevelRetention":{"maxLimitInDays":365},
		"serviceCodeLevelRetention":{"maxLimitInDays":10},
		"sessionReplayRetention":{"maxLimitInDays":35},
		"logMonitoringRetention":{"maxLimitInDays":5},
		"userActionsPerMinute":{"maxLimit":2147483646},
		"transactionTrafficQuota":{"maxLimit":100}}}`
	r := a.do(t, "POST", envs, body)
	wantStatus(t, "POST", r, http.StatusCreated)
	id := r.json(t)["id"].(string)

	r = a.do(t, "GET", envs+"/"+id+"?includeConsumptionInfo=true&includeStorageInfo=true", "")
	wantStatus(t, "GET", r, http.StatusOK)
	var got struct {
		Quotas, Storage json.RawMessage
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	wantQuotas := `{"hostUnits":{"maxLimit":10,"currentUsage":0},` +
		`"demUnits":{"monthlyLimit":50001,"annualLimit":null,"consumedThisMonth":0,"consumedThisYear":0},` +
		`"userSessions":{"totalMonthlyLimit":9007199254740993,"totalAnnualLimit":null,"totalConsumedThisMonth":0,"totalConsumedThisYear":0,` +
		`"consumedMobileSessionsThisMonth":0,"consumedMobileSessionsThisYear":0,` +
		`"consumedUserSessionsWithWebSessionReplayThisMonth":0,"consumedUserSessionsWithWebSessionReplayThisYear":0,` +
		`"consumedUserSessionsWithMobileSessionReplayThisMonth":0,"consumedUserSessionsWithMobileSessionReplayThisYear":0},` +
		`"sessionProperties":{"consumedThisMonth":0,"consumedThisYear":0},` +
		`"syntheticMonitors":{"monthlyLimit":null,"annualLimit":0,"consumedThisMonth":0,"consumedThisYear":0},` +
		`"customMetrics":{"maxLimit":null,"currentUsage":0},` +
		`"davisDataUnits":{"monthlyLimit":18162,"annualLimit":null,"consumedThisMonth":0,"consumedThisYear":0},` +
		`"logMonitoring":{"monthlyLimit":null,"annualLimit":null,"consumedThisMonth":0,"consumedThisYear":0}}`
	if diff := cmp.Diff(wantQuotas, string(got.Quotas)); diff != "" {
		t.Errorf("quotas (-want +got):\n%s", diff)
	}
	wantStorage := `{"transactionStorage":{"maxLimit":1099511627776,"currentlyUsed":0},` +
		`"sessionReplayStorage":{"maxLimit":null,"currentlyUsed":0},` +
		`"symbolFilesFromMobileApps":{"maxLimit":null,"currentlyUsed":0},` +
		`"logMonitoringStorage":{"maxLimit":null,"currentlyUsed":0},` +
		`"serviceRequestLevelRetention":{"maxLimitInDays":365,"currentlyUsedInMillis":0,"currentlyUsedInDays":0},` +
		`"serviceCodeLevelRetention":{"maxLimitInDays":10,"currentlyUsedInMillis":0,"currentlyUsedInDays":0},` +
		`"realUserMonitoringRetention":{"maxLimitInDays":null,"currentlyUsedInMillis":0,"currentlyUsedInDays":0},` +
		`"syntheticMonitoringRetention":{"maxLimitInDays":null,"currentlyUsedInMillis":0,"currentlyUsedInDays":0},` +
		`"sessionReplayRetention":{"maxLimitInDays":35,"currentlyUsedInMillis":0,"currentlyUsedInDays":0},` +
		`"logMonitoringRetention":{"maxLimitInDays":5,"currentlyUsedInMillis":0,"currentlyUsedInDays":0},` +
		`"userActionsPerMinute":{"maxLimit":2147483646},` +
		`"transactionTrafficQuota":{"maxLimit":100}}`
	if diff := cmp.Diff(wantStorage, string(got.Storage)); diff != "" {
		t.Errorf("storage (-want +got):\n%s", diff)
	}

	// Round trip: PUT the GET body back; nothing drifts.
	first := r.body
	wantStatus(t, "PUT (GET body)", a.do(t, "PUT", envs+"/"+id, string(first)), http.StatusNoContent)
	again := a.do(t, "GET", envs+"/"+id+"?includeConsumptionInfo=true&includeStorageInfo=true", "")
	if diff := cmp.Diff(string(first), string(again.body)); diff != "" {
		t.Errorf("GET after PUT of the GET body (-before +after):\n%s", diff)
	}

	// Leaving a sub-object out keeps it; sending it with a null limit makes it unlimited.
	wantStatus(t, "PUT (null limit)", a.do(t, "PUT", envs+"/"+id, `{"quotas":{"hostUnits":{"maxLimit":null}},"storage":null}`), http.StatusNoContent)
	r = a.do(t, "GET", envs+"/"+id+"?includeConsumptionInfo=true&includeStorageInfo=true", "")
	m := r.json(t)
	q := m["quotas"].(map[string]any)
	if hu := q["hostUnits"].(map[string]any)["maxLimit"]; hu != nil {
		t.Errorf("hostUnits.maxLimit = %v, want null", hu)
	}
	if dem := q["demUnits"].(map[string]any)["monthlyLimit"]; dem != float64(50001) {
		t.Errorf("demUnits.monthlyLimit = %v, want kept 50001", dem)
	}
	if sr := m["storage"].(map[string]any)["sessionReplayRetention"].(map[string]any)["maxLimitInDays"]; sr != float64(35) {
		t.Errorf("sessionReplayRetention = %v, want kept 35", sr)
	}

	// Inside a sub-object, a limit left out is kept: one limit sent changes
	// that one, and usage figures sent back change nothing.
	wantStatus(t, "PUT (one limit)", a.do(t, "PUT", envs+"/"+id, `{"quotas":{"demUnits":{"annualLimit":600}}}`), http.StatusNoContent)
	wantStatus(t, "PUT (usage only)", a.do(t, "PUT", envs+"/"+id,
		`{"quotas":{"davisDataUnits":{"consumedThisMonth":5}},"storage":{"sessionReplayRetention":{"currentlyUsedInDays":3}}}`), http.StatusNoContent)
	m = a.do(t, "GET", envs+"/"+id+"?includeConsumptionInfo=true&includeStorageInfo=true", "").json(t)
	q = m["quotas"].(map[string]any)
	dem := q["demUnits"].(map[string]any)
	if dem["monthlyLimit"] != float64(50001) || dem["annualLimit"] != float64(600) {
		t.Errorf("demUnits = %v, want monthlyLimit kept 50001 and annualLimit 600", dem)
	}
	if ddu := q["davisDataUnits"].(map[string]any)["monthlyLimit"]; ddu != float64(18162) {
		t.Errorf("davisDataUnits.monthlyLimit = %v, want kept 18162", ddu)
	}
	if sr := m["storage"].(map[string]any)["sessionReplayRetention"].(map[string]any)["maxLimitInDays"]; sr != float64(35) {
		t.Errorf("sessionReplayRetention = %v, want kept 35", sr)
	}
}

func TestEnvironmentBadInput(t *testing.T) {
	a := newEnvAPI(t)
	wantStatus(t, "PUT e1", a.do(t, "PUT", envs+"/e1", `{"name":"E1"}`), http.StatusCreated)
	tests := []struct {
		name, method, path, body string
		want                     []string // "path LOCATION"
	}{
		{"no name", "POST", envs, `{"trial":true}`, []string{"name PAYLOAD_BODY"}},
		{"name too long", "POST", envs, `{"name":"` + strings.Repeat("n", 101) + `"}`, []string{"name PAYLOAD_BODY"}},
		{"bad state", "POST", envs, `{"name":"x","state":"ON"}`, []string{"state PAYLOAD_BODY"}},
		{"long tag", "POST", envs, `{"name":"x","tags":["ok","` + strings.Repeat("t", 101) + `"]}`, []string{"tags[1] PAYLOAD_BODY"}},
		{"blank tag", "POST", envs, `{"name":"x","tags":["ok"," "]}`, []string{"tags[1] PAYLOAD_BODY"}},
		{"blank tag on PUT", "PUT", envs + "/e1", `{"tags":["\u00a0\t"]}`, []string{"tags[0] PAYLOAD_BODY"}},
		{"retention out of range", "PUT", envs + "/e1", `{"storage":{"sessionReplayRetention":{"maxLimitInDays":36}}}`,
			[]string{"storage.sessionReplayRetention.maxLimitInDays PAYLOAD_BODY"}},
		{"negative quota", "PUT", envs + "/e1", `{"quotas":{"userSessions":{"totalAnnualLimit":-1}}}`,
			[]string{"quotas.userSessions.totalAnnualLimit PAYLOAD_BODY"}},
		{"limit of the wrong type", "PUT", envs + "/e1", `{"quotas":{"hostUnits":{"maxLimit":"ten"}}}`,
			[]string{"quotas.hostUnits.maxLimit PAYLOAD_BODY"}},
		{"fractional limit", "PUT", envs + "/e1", `{"quotas":{"hostUnits":{"maxLimit":1.5}}}`,
			[]string{"quotas.hostUnits.maxLimit PAYLOAD_BODY"}},
		{"body id differs", "PUT", envs + "/e1", `{"id":"e2"}`, []string{"id PAYLOAD_BODY"}},
		{"bad path id", "PUT", envs + "/a.b", `{"name":"x"}`, []string{"id PATH"}},
		{"bad path id on GET", "GET", envs + "/a.b", ``, []string{"id PATH"}},
		{"PUT create without name", "PUT", envs + "/e2", `{"trial":true}`, []string{"name PAYLOAD_BODY"}},
		{"bad createToken", "POST", envs + "?createToken=yes", `{"name":"x"}`, []string{"createToken QUERY"}},
		{"bad include flag", "GET", envs + "/e1?includeStorageInfo=maybe", ``, []string{"includeStorageInfo QUERY"}},
		{"pageSize 0", "GET", envs + "?pageSize=0", ``, []string{"pageSize QUERY"}},
		{"pageSize 1001", "GET", envs + "?pageSize=1001", ``, []string{"pageSize QUERY"}},
		{"pageSize not a number", "GET", envs + "?pageSize=ten", ``, []string{"pageSize QUERY"}},
		{"bad sort", "GET", envs + "?sort=id", ``, []string{"sort QUERY"}},
		{"broken filter", "GET", envs + "?filter=" + url.QueryEscape("name(x"), ``, []string{"filter QUERY"}},
		{"garbage nextPageKey", "GET", envs + "?nextPageKey=garbage", ``, []string{"nextPageKey QUERY"}},
		{"nextPageKey with others", "GET", envs + "?nextPageKey=x&sort=name&pageSize=2", ``, []string{"pageSize QUERY", "sort QUERY"}},
		{"token name empty", "POST", envs + "/e1/tokenManagementToken", `{"name":""}`, []string{"name PAYLOAD_BODY"}},
		{"token expiresIn", "POST", envs + "/e1/tokenManagementToken", `{"expiresIn":{"value":0,"unit":"HOURS"}}`, []string{"expiresIn.value PAYLOAD_BODY"}},
	}
	etm := a.mint(t, token.EnvironmentTokenManagement)
	for _, tt := range tests {
		tok := a.admin
		if strings.HasSuffix(tt.path, "/tokenManagementToken") {
			tok = etm
		}
		r := a.do(t, tt.method, tt.path, tt.body, tok)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %s %s = %d, want 400\n%s", tt.name, tt.method, tt.path, r.status, r.body)
			continue
		}
		if diff := cmp.Diff(tt.want, r.violations(t)); diff != "" {
			t.Errorf("%s: violations (-want +got):\n%s", tt.name, diff)
		}
	}
	// Malformed JSON is a 400, too.
	if r := a.do(t, "POST", envs, `{"name":`); r.status != http.StatusBadRequest {
		t.Errorf("POST malformed JSON = %d, want 400", r.status)
	}
}

func TestEnvironmentTokens(t *testing.T) {
	a := newEnvAPI(t)
	ctx := context.Background()

	r := a.do(t, "POST", envs+"?createToken=true", `{"name":"With token"}`)
	wantStatus(t, "POST createToken", r, http.StatusCreated)
	m := r.json(t)
	id := m["id"].(string)
	tmt, _ := m["tokenManagementToken"].(string)
	tok, err := a.tokens.Authenticate(ctx, tmt)
	if err != nil {
		t.Fatalf("tokenManagementToken does not authenticate: %v", err)
	}
	if tok.EnvironmentID != id || tok.UserID != "alice" {
		t.Errorf("tokenManagementToken bound to %q owned by %q, want %q and alice", tok.EnvironmentID, tok.UserID, id)
	}
	if diff := cmp.Diff([]token.Scope{token.APITokensRead, token.APITokensWrite, token.TenantTokenManagement}, tok.Scopes); diff != "" {
		t.Errorf("tokenManagementToken scopes (-want +got):\n%s", diff)
	}
	// A token bound to an environment is not a cluster token.
	wantStatus(t, "GET with the bound token", a.do(t, "GET", envs, "", tmt), http.StatusUnauthorized)

	// The endpoint needs EnvironmentTokenManagement.
	path := envs + "/" + id + "/tokenManagementToken"
	wantStatus(t, "POST tokenManagementToken with ServiceProviderAPI", a.do(t, "POST", path, `{"name":"x"}`), http.StatusForbidden)
	etm := a.mint(t, token.EnvironmentTokenManagement)
	r = a.do(t, "POST", path, `{"name":"ci","expiresIn":{"value":2,"unit":"HOURS"}}`, etm)
	wantStatus(t, "POST tokenManagementToken", r, http.StatusCreated)
	secret, _ := r.json(t)["token"].(string)
	tok, err = a.tokens.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("minted token does not authenticate: %v", err)
	}
	if tok.Name != "ci" || tok.EnvironmentID != id || tok.Expires.Sub(tok.Created).Hours() != 2 {
		t.Errorf("minted token = %+v", tok)
	}
	wantStatus(t, "POST tokenManagementToken without body", a.do(t, "POST", path, "", etm), http.StatusCreated)
	wantStatus(t, "POST tokenManagementToken unknown env", a.do(t, "POST", envs+"/nope/tokenManagementToken", `{}`, etm), http.StatusNotFound)

	// createToken on a PUT that updates mints nothing.
	r = a.do(t, "PUT", envs+"/"+id+"?createToken=true", `{"trial":true}`)
	wantStatus(t, "PUT update createToken", r, http.StatusNoContent)

	// Without ServiceProviderAPI the Environments API is forbidden.
	wantStatus(t, "GET with EnvironmentTokenManagement", a.do(t, "GET", envs, "", etm), http.StatusForbidden)
}

func TestEnvironmentList(t *testing.T) {
	a := newEnvAPI(t)
	for _, n := range []string{"delta", "Alpha", "charlie", "Bravo", "echo"} {
		body := `{"name":"` + n + `","tags":["all"],"quotas":{"hostUnits":{"maxLimit":7}}}`
		wantStatus(t, "POST "+n, a.do(t, "POST", envs, body), http.StatusCreated)
		time.Sleep(2 * time.Millisecond) // distinct creation times: ties would order by random id
	}
	type page struct {
		TotalCount   int
		PageSize     int
		NextPageKey  *string
		Environments []map[string]any
	}
	get := func(path string) page {
		t.Helper()
		r := a.do(t, "GET", path, "")
		wantStatus(t, "GET "+path, r, http.StatusOK)
		var p page
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(r.body), `"environments":[`) || !strings.Contains(string(r.body), `"nextPageKey":`) {
			t.Errorf("list body lacks environments or nextPageKey: %s", r.body)
		}
		return p
	}

	p := get(envs)
	if p.TotalCount != 5 || p.PageSize != 100 || p.NextPageKey != nil || len(p.Environments) != 5 {
		t.Errorf("default list = total %d, pageSize %d, next %v, %d environments", p.TotalCount, p.PageSize, p.NextPageKey, len(p.Environments))
	}
	if _, ok := p.Environments[0]["quotas"]; ok {
		t.Errorf("quotas listed without includeConsumptionInfo")
	}

	// Walk pages of two, newest first, with quotas; the flags ride along in the key.
	var names []string
	p = get(envs + "?pageSize=2&sort=-creationDate&includeConsumptionInfo=true&filter=" + url.QueryEscape(`tag("all")`))
	for {
		if p.TotalCount != 5 || p.PageSize != 2 {
			t.Errorf("page: total %d, pageSize %d; want 5, 2", p.TotalCount, p.PageSize)
		}
		for _, e := range p.Environments {
			names = append(names, e["name"].(string))
			if _, ok := e["quotas"]; !ok {
				t.Errorf("page lost includeConsumptionInfo")
			}
			if _, ok := e["storage"]; ok {
				t.Errorf("storage listed without includeStorageInfo")
			}
		}
		if p.NextPageKey == nil {
			break
		}
		// The credential may still be a query parameter next to the key.
		r := a.do(t, "GET", envs+"?nextPageKey="+url.QueryEscape(*p.NextPageKey)+"&Api-Token="+url.QueryEscape(a.admin), "")
		wantStatus(t, "GET next page", r, http.StatusOK)
		p = page{}
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"echo", "Bravo", "charlie", "Alpha", "delta"}, names); diff != "" {
		t.Errorf("walk (-want +got):\n%s", diff)
	}

	p = get(envs + "?filter=" + url.QueryEscape("name(A),state(ENABLED),trial(false)") + "&sort=name")
	var got []string
	for _, e := range p.Environments {
		got = append(got, e["name"].(string))
	}
	if diff := cmp.Diff([]string{"Alpha", "Bravo", "charlie", "delta"}, got); diff != "" || p.TotalCount != 4 {
		t.Errorf("filtered list total %d (-want +got):\n%s", p.TotalCount, diff)
	}
}
