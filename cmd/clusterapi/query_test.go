package main

import (
	"strings"
	"testing"
)

// TestMalformedQuery sends query strings Go cannot parse. Every /api route
// refuses them with a 400 naming the problem, before authentication, rather
// than acting on the defaults as if the parameters had not been sent.
func TestMalformedQuery(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")
	tests := []struct {
		name, method, path, token string
		wantStatus                int
		wantInMsg                 string // a part of error.message
	}{
		{"bare semicolon", "GET", envsPath + "?filter=name(a);tag(b)", admin, 400, `"filter"`},
		{"bad escape", "GET", envsPath + "?pageSize=%zz", admin, 400, `"pageSize"`},
		{"bad escape in a name", "GET", envsPath + "?page%zzSize=5", admin, 400, "%zz"},
		{"tokens limit", "GET", tokensPath + "?limit=%zz", admin, 400, `"limit"`},
		{"get environment", "GET", envsPath + "/x?includeStorageInfo=true;", admin, 400, `"includeStorageInfo"`},
		{"put environment", "PUT", envsPath + "/x?createToken=%", admin, 400, `"createToken"`},
		{"lookup", "POST", tokensPath + "/lookup?x=%zz", admin, 400, `"x"`},
		{"v1 alias", "GET", "/api/cluster/v1/tokens?limit=%zz", admin, 400, `"limit"`},
		{"v1 users", "GET", "/api/v1.0/onpremise/users?a=b;c", admin, 400, `"a"`},
		{"v1 cluster", "GET", "/api/v1.0/onpremise/cluster?%zz", admin, 400, "Malformed query string"},
		{"before authentication", "GET", envsPath + "?pageSize=%zz", "", 400, `"pageSize"`},
		{"token in the query", "GET", envsPath + "?api-token=" + admin + ";pageSize=5", "", 400, `"api-token"`},
		{"public document", "GET", "/api/cluster/v2/spec3.json?%zz", "", 400, "Malformed query string"},
		{"unknown route stays 404", "GET", "/api/cluster/v2/nothing?%zz", admin, 404, "No API route matches"},
		// What Go parses is fine: an escaped ';' and a bare '%' in an escape-free value are not the same.
		{"escaped semicolon", "GET", envsPath + "?filter=name(a%3Bb)", admin, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, req{method: tt.method, path: tt.path, token: tt.token})
			if r.Status != tt.wantStatus {
				t.Fatalf("%s %s: %d, want %d: %s", tt.method, tt.path, r.Status, tt.wantStatus, r.Body)
			}
			if tt.wantStatus == 200 {
				return
			}
			if msg := r.errorMessage(t); !strings.Contains(msg, tt.wantInMsg) {
				t.Errorf("message %q, want it to hold %q", msg, tt.wantInMsg)
			}
			if strings.Contains(string(r.Body), admin[32:]) {
				t.Errorf("the answer echoes the secret: %s", r.Body)
			}
		})
	}
	// A token pasted as a parameter name is quoted redacted.
	r := s.do(t, req{method: "GET", path: envsPath + "?" + admin + "%zz=1", token: admin})
	if r.Status != 400 || strings.Contains(string(r.Body), admin[32:]) || !strings.Contains(string(r.Body), admin[:31]+".REDACTED") {
		t.Errorf("token as a parameter name: %d %s", r.Status, r.Body)
	}
}
