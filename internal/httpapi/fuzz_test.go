package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"clusterapi/internal/account"
	"clusterapi/internal/audit"
	"clusterapi/internal/auth"
	"clusterapi/internal/environment"
	"clusterapi/internal/httpapi"
	"clusterapi/internal/networkzone"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

// secretRE matches anything that looks like secret material after a token id.
var secretRE = regexp.MustCompile(`(?i)dt0c01\.[a-z2-7]{20,}\.[a-z0-9]{8,}`)

// FuzzRequestBodies sends arbitrary bytes as the JSON body of every route
// that reads one, through the real API over a real SQLite store. Whatever
// the body, the answer is never a 500; every error is the envelope with the
// status as its code; and no error quotes secret material.
func FuzzRequestBodies(f *testing.F) {
	db, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	tokens := token.NewService(db, token.Options{})
	envs := environment.NewService(db, tokens)
	accounts := account.NewService(db, account.Options{Hash: account.HashParams{Memory: 64, Time: 1, Threads: 1}})
	api := httpapi.New(httpapi.Config{Log: slog.New(slog.DiscardHandler), Verifier: auth.NewVerifier(tokens, auth.Options{}),
		Tokens: tokens, Envs: envs, Zones: networkzone.NewService(db), Accounts: accounts,
		Audit: audit.NewRecorder(db, audit.Options{})})
	all := []token.Scope{token.ClusterTokenManagement, token.ServiceProviderAPI, token.EnvironmentTokenManagement}
	_, secret, err := tokens.Create(context.Background(), token.Actor{}, token.CreateInput{Name: "fuzz", Scopes: all, UserID: "admin"})
	if err != nil {
		f.Fatal(err)
	}
	admin := secret.Reveal()
	other, _, _ := tokens.Create(context.Background(), token.Actor{}, token.CreateInput{Name: "target", Scopes: all[:1], UserID: "admin"})
	env, err := envs.Create(context.Background(), token.Actor{}, environment.Input{Name: ptr("fuzz")}, false)
	if err != nil {
		f.Fatal(err)
	}
	routes := []struct{ method, path string }{
		{"POST", "/api/cluster/v2/tokens"},
		{"PUT", "/api/cluster/v2/tokens/" + other.ID},
		{"POST", "/api/cluster/v2/tokens/lookup"},
		{"POST", "/api/cluster/v2/environments"},
		{"PUT", "/api/cluster/v2/environments/" + env.Environment.ID},
		{"PUT", "/api/cluster/v2/environments/fuzz-new"},
		{"POST", "/api/cluster/v2/environments/" + env.Environment.ID + "/tokenManagementToken"},
		{"PUT", "/api/cluster/v2/networkZones/fuzz.zone"},
		{"POST", "/api/v1.0/onpremise/users"},
		{"PUT", "/api/v1.0/onpremise/users"},
		{"POST", "/api/v1.0/onpremise/groups"},
		{"PUT", "/api/v1.0/onpremise/groups"},
	}
	for _, seed := range []string{
		`{"name":"t","scopes":["ServiceProviderAPI"],"expiresIn":{"value":1,"unit":"HOURS"}}`,
		`{"revoked":true,"scopes":[],"name":null}`, `{"token":"` + admin + `"}`,
		`{"name":"e","tags":["a"],"quotas":{"demUnits":{"monthlyLimit":5}},"storage":{"logMonitoringRetention":{"maxLimitInDays":5}}}`,
		`{"description":"d","alternativeZones":["a.b"],"fallbackMode":"NONE"}`,
		`{"id":"jane","email":"j@example.com","firstName":"J","lastName":"D","groups":["cluster-admins"],"passwordClearText":"12345678"}`,
		`{"id":null,"name":"G","accessRight":{"VIEWER":["e"]},"ldapGroupNames":["x"]}`,
		`[]`, `null`, `{"name":1e400}`, `{"scopes":[` + strings.Repeat(`"x",`, 50) + `"y"]}`, "\xff", `{"name":"\ud800"}`,
		`{"expiresIn":{"value":-1,"unit":"YEARS"}}`, `{"a":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, rt := range routes {
			r := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body))
			r.Header.Set("Authorization", "Api-Token "+admin)
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			status := w.Code
			if status >= 500 {
				t.Fatalf("%s %s with %q: %d %s", rt.method, rt.path, body, status, w.Body)
			}
			if status < 400 {
				continue
			}
			var env struct {
				Error struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Error.Code != status || env.Error.Message == "" {
				t.Fatalf("%s %s with %q: %d, not the envelope: %s", rt.method, rt.path, body, status, w.Body)
			}
			if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("%s %s: error with Content-Type %q", rt.method, rt.path, w.Header().Get("Content-Type"))
			}
			if secretRE.Match(w.Body.Bytes()) {
				t.Fatalf("%s %s with %q: the error quotes secret material: %s", rt.method, rt.path, body, w.Body)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }
