package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestErrorEnvelopesGolden pins the exact bytes of the error envelope for
// each kind of error, so that a change to the wire format is deliberate.
func TestErrorEnvelopesGolden(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	weak := s.mint(t, admin, "weak", "settings.read")
	cases := []struct {
		name string
		rq   req
	}{
		{"401 missing", req{method: "GET", path: tokensPath}},
		{"401 failed", req{method: "GET", path: tokensPath, token: "dt0c01.nope"}},
		{"403 scope", req{method: "GET", path: tokensPath, token: weak}},
		{"400 violations", req{method: "POST", path: tokensPath, token: admin,
			body: map[string]any{"name": "", "scopes": []string{"Nodekeeper", "Nope", "Nodekeeper"}}}},
		{"400 malformed", req{method: "POST", path: tokensPath, token: admin, body: `{"name":`}},
		{"400 self", req{method: "DELETE", path: tokensPath + "/" + admin[:31], token: admin}},
		{"404 token", req{method: "GET", path: tokensPath + "/dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA", token: admin}},
		{"404 route", req{method: "GET", path: "/api/cluster/v2/none", token: admin}},
		{"405", req{method: "PATCH", path: tokensPath, token: admin}},
		{"413", req{method: "POST", path: tokensPath, token: admin, body: strings.Repeat(" ", 1<<20+1)}},
	}
	var got bytes.Buffer
	for _, c := range cases {
		r := s.do(t, c.rq)
		fmt.Fprintf(&got, "# %s\n%d %s\n%s\n", c.name, r.Status, r.Header.Get("Content-Type"), bytes.TrimSpace(r.Body))
	}
	golden := filepath.Join("testdata", "envelopes.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("envelopes differ from %s (run with -update if intended):\n%s", golden, got.String())
	}
}
