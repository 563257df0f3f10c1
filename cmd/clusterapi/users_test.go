package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	usersAPI  = "/api/v1.0/onpremise/users"
	groupsAPI = "/api/v1.0/onpremise/groups"
)

// startUserServer starts a server whose admin has adminPassword and returns
// it with a ServiceProviderAPI token.
func startUserServer(t *testing.T) (*testServer, string) {
	t.Helper()
	store := "sqlite:" + filepath.Join(t.TempDir(), "data", "clusterapi.db")
	s := startServerEnv(t, store, map[string]string{"CLUSTERAPI_ADMIN_PASSWORD": adminPassword})
	return s, s.bootstrap(t, "ServiceProviderAPI")
}

func decodeInto[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	return v
}

func TestUsersAndGroups(t *testing.T) {
	s, tok := startUserServer(t)

	// A new cluster has the admin in the cluster-admin group.
	r := s.do(t, req{method: "GET", path: groupsAPI, token: tok})
	groups := decodeInto[[]map[string]any](t, r)
	if r.Status != 200 || len(groups) != 1 || groups[0]["id"] != "cluster-admins" || groups[0]["isClusterAdminGroup"] != true {
		t.Fatalf("GET groups = %d %s", r.Status, r.Body)
	}
	if _, ok := groups[0]["accessRight"]; ok {
		t.Errorf("accessRight is present on a group that never set it: %s", r.Body)
	}
	r = s.do(t, req{method: "GET", path: usersAPI, token: tok})
	if want := `[{"id":"admin","email":"","firstName":"","lastName":"","groups":["cluster-admins"]}]`; strings.TrimSpace(string(r.Body)) != want {
		t.Errorf("GET users = %s, want %s", r.Body, want)
	}

	// Groups created with "id": null and "id": "" get generated ids.
	var ids []string
	for _, id := range []any{nil, ""} {
		r := s.do(t, req{method: "POST", path: groupsAPI, token: tok, body: map[string]any{
			"id": id, "name": "Operators " + strings.Repeat("x", len(ids)), "isClusterAdminGroup": len(ids) == 0,
			"ldapGroupNames": []string{"cn=ops"}, "ssoGroupNames": nil, "accessRight": map[string][]string{"VIEWER": {"customer-a"}},
			"unknownField": 1,
		}})
		g := decodeInto[map[string]any](t, r)
		gid, _ := g["id"].(string)
		if r.Status != 200 || len(gid) != 36 {
			t.Fatalf("POST group (id %v) = %d %s, want 200 with a generated id", id, r.Status, r.Body)
		}
		if !cmp.Equal(g["ssoGroupNames"], []any{}) || !cmp.Equal(g["accessRight"], map[string]any{"VIEWER": []any{"customer-a"}}) {
			t.Errorf("POST group answered %s", r.Body)
		}
		ids = append(ids, gid)
	}
	ops := ids[0]
	r = s.do(t, req{method: "POST", path: groupsAPI, token: tok, body: map[string]any{"name": "OPERATORS "}})
	if r.Status != 406 {
		t.Errorf("POST group with a taken name = %d %s, want 406", r.Status, r.Body)
	} else {
		r.errorMessage(t)
	}

	// A user in the new cluster-admin group, with a password.
	const janePW = "jane's long password"
	user := map[string]any{"id": "jane.doe@example.com", "email": "jane.doe@example.com", "firstName": "Jane", "lastName": "Doe ☃",
		"groups": []string{ops}, "passwordClearText": janePW}
	r = s.do(t, req{method: "POST", path: usersAPI, token: tok, body: user})
	wantUser := map[string]any{"id": "jane.doe@example.com", "email": "jane.doe@example.com", "firstName": "Jane", "lastName": "Doe ☃", "groups": []any{ops}}
	if got := decodeInto[map[string]any](t, r); r.Status != 200 || !cmp.Equal(got, wantUser) {
		t.Fatalf("POST user = %d %s, want 200 %v", r.Status, r.Body, wantUser)
	}
	r = s.do(t, req{method: "POST", path: usersAPI, token: tok, body: user})
	if r.Status != 406 {
		t.Errorf("POST user again = %d %s, want 406", r.Status, r.Body)
	}
	r = s.do(t, req{method: "GET", path: usersAPI + "/jane.doe@example.com", token: tok})
	if got := decodeInto[map[string]any](t, r); r.Status != 200 || !cmp.Equal(got, wantUser) {
		t.Errorf("GET user = %d %s", r.Status, r.Body)
	}

	// She may sign in to the console; moved to a plain group, she may not.
	b := newBrowser(t, s)
	if p := b.signIn("jane.doe@example.com", janePW); p.Status != http.StatusSeeOther {
		t.Fatalf("jane signs in: %d %s", p.Status, p.Body)
	}
	if p := b.get("/cmc/tokens"); p.Status != 200 {
		t.Errorf("jane's token page: %d", p.Status)
	}
	// An update sends back the object read before, read-only fields and all.
	got := decodeInto[map[string]any](t, r)
	got["groups"] = []string{ids[1]}
	got["lastName"] = "Roe"
	r = s.do(t, req{method: "PUT", path: usersAPI, token: tok, body: got})
	if u := decodeInto[map[string]any](t, r); r.Status != 200 || u["lastName"] != "Roe" || !cmp.Equal(u["groups"], []any{ids[1]}) {
		t.Fatalf("PUT user = %d %s", r.Status, r.Body)
	}
	if p := b.get("/cmc/tokens"); p.Status != http.StatusSeeOther {
		t.Errorf("after leaving the admin group jane's session still opens the console: %d", p.Status)
	}
	if p := newBrowser(t, s).signIn("jane.doe@example.com", janePW); p.Status != http.StatusForbidden ||
		!strings.Contains(p.Body, "cluster admin group") {
		t.Errorf("jane signs in outside the admin group: %d, want 403 with the reason", p.Status)
	}
	// Put back into an admin group, she must sign in again: the old session
	// ended when she lost access.
	got["groups"] = []string{ops}
	if r := s.do(t, req{method: "PUT", path: usersAPI, token: tok, body: got}); r.Status != 200 {
		t.Fatalf("PUT user back: %d %s", r.Status, r.Body)
	}
	if p := b.get("/cmc/tokens"); p.Status != http.StatusSeeOther {
		t.Errorf("an ended session came back with the group: %d", p.Status)
	}
	got["groups"] = []string{ids[1]}
	if r := s.do(t, req{method: "PUT", path: usersAPI, token: tok, body: got}); r.Status != 200 {
		t.Fatalf("PUT user out again: %d %s", r.Status, r.Body)
	}

	// Groups: update keeps what is left out, delete answers the group.
	r = s.do(t, req{method: "PUT", path: groupsAPI, token: tok, body: map[string]any{"id": ops, "name": "Ops", "hasAccessAccountRole": true}})
	g := decodeInto[map[string]any](t, r)
	if r.Status != 200 || g["name"] != "Ops" || g["hasAccessAccountRole"] != true || g["isClusterAdminGroup"] != true ||
		!cmp.Equal(g["ldapGroupNames"], []any{"cn=ops"}) {
		t.Errorf("PUT group = %d %s", r.Status, r.Body)
	}
	r = s.do(t, req{method: "PUT", path: groupsAPI, token: tok, body: map[string]any{"id": ids[1], "name": "ops"}})
	if r.Status != 406 {
		t.Errorf("PUT group to a taken name = %d %s, want 406", r.Status, r.Body)
	}
	r = s.do(t, req{method: "DELETE", path: groupsAPI + "/" + ids[1], token: tok})
	if g := decodeInto[map[string]any](t, r); r.Status != 200 || g["id"] != ids[1] {
		t.Errorf("DELETE group = %d %s", r.Status, r.Body)
	}
	r = s.do(t, req{method: "GET", path: usersAPI + "/jane.doe@example.com", token: tok})
	if u := decodeInto[map[string]any](t, r); !cmp.Equal(u["groups"], []any{}) {
		t.Errorf("after deleting her group, jane's groups = %v, want []", u["groups"])
	}
	r = s.do(t, req{method: "DELETE", path: usersAPI + "/jane.doe@example.com", token: tok})
	if u := decodeInto[map[string]any](t, r); r.Status != 200 || u["id"] != "jane.doe@example.com" {
		t.Errorf("DELETE user = %d %s", r.Status, r.Body)
	}
	for _, p := range []string{usersAPI + "/jane.doe@example.com", groupsAPI + "/" + ids[1]} {
		for _, m := range []string{"GET", "DELETE"} {
			if r := s.do(t, req{method: m, path: p, token: tok}); r.Status != 404 {
				t.Errorf("%s %s after delete = %d %s, want 404", m, p, r.Status, r.Body)
			}
		}
	}
	r = s.do(t, req{method: "PUT", path: usersAPI, token: tok, body: wantUser})
	if r.Status != 404 {
		t.Errorf("PUT of a deleted user = %d %s, want 404", r.Status, r.Body)
	}

	// The admin cannot be taken out of the last group that lets anyone in.
	r = s.do(t, req{method: "DELETE", path: usersAPI + "/admin", token: tok})
	if r.Status != 400 || !strings.Contains(r.errorMessage(t), "sign in to the console") {
		t.Errorf("DELETE the last admin = %d %s, want 400", r.Status, r.Body)
	}
	r = s.do(t, req{method: "DELETE", path: groupsAPI + "/cluster-admins", token: tok})
	if r.Status != 400 {
		t.Errorf("DELETE the last admin group = %d %s, want 400", r.Status, r.Body)
	}
	if p := signedIn(t, s).get("/cmc/tokens"); p.Status != 200 {
		t.Errorf("admin's console after refused changes: %d", p.Status)
	}

	// The password was never echoed or logged.
	if strings.Contains(s.Log.String(), janePW) {
		t.Errorf("the server log holds a user's password")
	}

	// Another scope is not enough.
	other := s.mint(t, s.bootstrap(t, "ClusterTokenManagement"), "tokens only", "ClusterTokenManagement")
	r = s.do(t, req{method: "GET", path: usersAPI, token: other})
	if r.Status != 403 || r.errorMessage(t) != "Token is missing required scope. Use one of: ServiceProviderAPI (Service Provider API)" {
		t.Errorf("GET users with ClusterTokenManagement = %d %s", r.Status, r.Body)
	}
}

func TestUsersAndGroupsBadInput(t *testing.T) {
	s, tok := startUserServer(t)
	valid := func(change map[string]any) map[string]any {
		u := map[string]any{"id": "bob", "email": "bob@example.com", "firstName": "Bob", "lastName": "Builder", "groups": []string{"cluster-admins"}}
		for k, v := range change {
			if v == nil {
				delete(u, k)
			} else {
				u[k] = v
			}
		}
		return u
	}
	long := strings.Repeat("é", 256)
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		paths  []string // violation paths; nil: none expected
	}{
		{"user without email", "POST", usersAPI, valid(map[string]any{"email": nil}), 400, []string{"email"}},
		{"user without names", "POST", usersAPI, valid(map[string]any{"firstName": nil, "lastName": nil}), 400, []string{"firstName", "lastName"}},
		{"user with null email", "POST", usersAPI, `{"id":"bob","email":null,"firstName":"B","lastName":"B"}`, 400, []string{"email"}},
		{"invalid email", "POST", usersAPI, valid(map[string]any{"email": "bob(at)example.com"}), 400, []string{"email"}},
		{"email with a newline", "POST", usersAPI, valid(map[string]any{"email": "bob@example.com\nBcc: x@y"}), 400, []string{"email"}},
		{"unknown group", "POST", usersAPI, valid(map[string]any{"groups": []string{"cluster-admins", "nope"}}), 400, []string{"groups[1]"}},
		{"over-long name", "POST", usersAPI, valid(map[string]any{"firstName": long}), 400, []string{"firstName"}},
		{"over-long id", "POST", usersAPI, valid(map[string]any{"id": strings.Repeat("b", 101)}), 400, []string{"id"}},
		{"id with a slash", "POST", usersAPI, valid(map[string]any{"id": "bob/../admin"}), 400, []string{"id"}},
		{"short password", "POST", usersAPI, valid(map[string]any{"passwordClearText": "short"}), 400, []string{"passwordClearText"}},
		{"groups not an array", "POST", usersAPI, valid(map[string]any{"groups": "cluster-admins"}), 400, []string{"groups"}},
		{"group id a number", "POST", usersAPI, valid(map[string]any{"groups": []any{"cluster-admins", 7}}), 400, []string{"groups[1]"}},
		{"truncated JSON", "POST", usersAPI, `{"id":"bob",`, 400, nil},
		{"array body", "POST", usersAPI, `[]`, 400, nil},
		{"no body", "POST", usersAPI, ``, 400, nil},
		{"update without id", "PUT", usersAPI, valid(map[string]any{"id": nil}), 400, []string{"id"}},
		{"bad id in the path", "GET", usersAPI + "/b%20b", nil, 400, []string{"id"}},
		{"group with an id", "POST", groupsAPI, map[string]any{"id": "mine", "name": "Mine"}, 400, []string{"id"}},
		{"group without name", "POST", groupsAPI, map[string]any{"isClusterAdminGroup": true}, 400, []string{"name"}},
		{"group with a blank name", "POST", groupsAPI, map[string]any{"name": " \t"}, 400, []string{"name"}},
		{"group with a taken name", "POST", groupsAPI, map[string]any{"name": "Cluster Admins"}, 406, nil},
		{"unknown permission", "POST", groupsAPI, map[string]any{"name": "G", "accessRight": map[string]any{"SUPERUSER": []string{"e1"}}}, 400, []string{"accessRight.SUPERUSER"}},
		{"bad environment id", "POST", groupsAPI, map[string]any{"name": "G", "accessRight": map[string]any{"VIEWER": []string{"e 1"}}}, 400, []string{"accessRight.VIEWER[0]"}},
		{"accessRight not an object", "POST", groupsAPI, map[string]any{"name": "G", "accessRight": []string{"VIEWER"}}, 400, []string{"accessRight"}},
		{"flag not a boolean", "POST", groupsAPI, map[string]any{"name": "G", "isClusterAdminGroup": "yes"}, 400, []string{"isClusterAdminGroup"}},
		{"ldap name twice", "POST", groupsAPI, map[string]any{"name": "G", "ldapGroupNames": []string{"a", "a"}}, 400, []string{"ldapGroupNames[1]"}},
		{"update unknown group", "PUT", groupsAPI, map[string]any{"id": "nope", "name": "G"}, 404, nil},
		{"update group without id", "PUT", groupsAPI, map[string]any{"name": "G"}, 400, []string{"id"}},
		{"bad group id in the path", "DELETE", groupsAPI + "/a*b", nil, 400, []string{"groupId"}},
	}
	for _, tc := range tests {
		r := s.do(t, req{method: tc.method, path: tc.path, token: tok, body: tc.body})
		if r.Status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			continue
		}
		r.errorMessage(t)
		if got := r.violationPaths(t); !slices.Equal(got, tc.paths) {
			t.Errorf("%s: violations at %v, want %v (%s)", tc.name, got, tc.paths, r.Body)
		}
	}
	// Nothing was stored.
	if r := s.do(t, req{method: "GET", path: usersAPI, token: tok}); len(decodeInto[[]any](t, r)) != 1 {
		t.Errorf("after bad input, users = %s", r.Body)
	}
	if r := s.do(t, req{method: "GET", path: groupsAPI, token: tok}); len(decodeInto[[]any](t, r)) != 1 {
		t.Errorf("after bad input, groups = %s", r.Body)
	}
}
