package main

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"clusterapi/internal/audit"
	"clusterapi/internal/store/sqlite"
)

type auditEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Action        string `json:"action"`
	User          string `json:"user"`
	TokenID       string `json:"tokenId"`
	ClientAddress string `json:"clientAddress"`
	Target        string `json:"target"`
	Outcome       string `json:"outcome"`
	Detail        string `json:"detail"`
	Count         int    `json:"count"`
}

type auditPage struct {
	PageSize    int          `json:"pageSize"`
	NextPageKey *string      `json:"nextPageKey"`
	Events      []auditEvent `json:"events"`
}

// TestAuditLog runs a scripted sequence and reads it back from the audit
// log: each action is there once, with its actor, target and outcome, and
// nothing in the log holds a secret or a password.
func TestAuditLog(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "data", "clusterapi.db")
	s := startServerEnv(t, "sqlite:"+dbPath, map[string]string{"CLUSTERAPI_ADMIN_PASSWORD": adminPassword})
	admin := s.bootstrap(t, "ClusterTokenManagement", "ServiceProviderAPI")
	adminID := admin[:31]

	tok := s.mint(t, admin, "pipeline", "ServiceProviderAPI")
	id := tok[:31]
	steps := []req{
		{method: "PUT", path: tokensPath + "/" + id, body: map[string]any{"name": "pipeline-2", "scopes": []string{"settings.read", "ServiceProviderAPI"}}},
		{method: "PUT", path: tokensPath + "/" + id, body: map[string]any{"revoked": true}},
		{method: "PUT", path: tokensPath + "/" + id, body: map[string]any{"revoked": false}},
		{method: "POST", path: tokensPath + "/lookup", body: map[string]any{"token": tok}},
		{method: "PUT", path: tokensPath + "/" + tok, body: map[string]any{"scopes": []string{"nope"}}}, // fails: 400
		{method: "DELETE", path: tokensPath + "/" + id},
		{method: "POST", path: "/api/v1.0/onpremise/users", body: map[string]any{"id": "jane", "email": "jane@example.com",
			"firstName": "Jane", "lastName": "Doe", "passwordClearText": "jane's password"}},
	}
	for _, st := range steps {
		st.token = admin
		if r := s.do(t, st); r.Status >= 500 {
			t.Fatalf("%s %s: %d", st.method, st.path, r.Status)
		}
	}
	r := s.do(t, req{method: "POST", path: envsPath, token: admin, body: map[string]any{"name": "customer-a"}})
	env := r.json(t)["id"].(string)
	// Failed authentications, counted rather than listed; a 403 too.
	for i := 0; i < 7; i++ {
		s.do(t, req{method: "GET", path: envsPath, token: "dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA.nope"})
	}
	weak := s.bootstrap(t, "settings.read") // through the CLI: not an event of the admin token
	for i := 0; i < 3; i++ {
		s.do(t, req{method: "GET", path: envsPath, token: weak})
	}
	// A console sign-in.
	b := signedIn(t, s)

	want := []struct{ action, target, outcome, detail string }{
		{"token.create", id, "success", "scopes +ServiceProviderAPI; never expires"},
		{"token.update", id, "success", "renamed; scopes +settings.read"},
		{"token.revoke", id, "success", ""},
		{"token.restore", id, "success", ""},
		{"token.lookup", id, "success", ""},
		{"token.update", id, "failure: 400 Constraints violated.", ""},
		{"token.delete", id, "success", ""},
		{"user.create", "jane", "success", ""},
		{"environment.create", env, "success", "created customer-a"},
	}
	var events []auditEvent
	waitWithin(t, 5*time.Second, "the audit events", func() bool {
		r := s.do(t, req{method: "GET", path: "/api/cluster/v2/auditlog?actor=" + adminID, token: admin})
		if r.Status != 200 {
			t.Fatalf("GET auditlog: %d %s", r.Status, r.Body)
		}
		var p auditPage
		json.Unmarshal(r.Body, &p)
		events = p.Events
		return len(events) >= len(want)
	})
	// Newest first: reverse into the order of the script.
	for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
		events[i], events[j] = events[j], events[i]
	}
	if len(events) != len(want) {
		t.Fatalf("audit events of the admin token: %d, want %d: %+v", len(events), len(want), events)
	}
	for i, w := range want {
		e := events[i]
		if e.Action != w.action || e.Target != w.target || e.Outcome != w.outcome || e.Detail != w.detail ||
			e.TokenID != adminID || e.User != "admin" || e.ClientAddress != "127.0.0.1" || e.Count != 1 {
			t.Errorf("event %d = %+v, want %+v by %s", i, e, w, adminID)
		}
	}

	// Filters and paging.
	r = s.do(t, req{method: "GET", path: "/api/cluster/v2/auditlog?pageSize=2&action=token.&target=" + url.QueryEscape(tok), token: admin})
	var p auditPage
	json.Unmarshal(r.Body, &p)
	if r.Status != 200 || len(p.Events) != 2 || p.NextPageKey == nil || p.Events[0].Action != "token.delete" {
		t.Fatalf("first page: %d %s", r.Status, r.Body)
	}
	seen := len(p.Events)
	for p.NextPageKey != nil {
		r = s.do(t, req{method: "GET", path: "/api/cluster/v2/auditlog?nextPageKey=" + *p.NextPageKey, token: admin})
		p = auditPage{}
		json.Unmarshal(r.Body, &p)
		seen += len(p.Events)
	}
	if seen != 7 {
		t.Errorf("paging the token events saw %d, want 7", seen)
	}
	for _, bad := range []string{"pageSize=0", "from=x", "from=10&to=5", "nextPageKey=garbage", "nextPageKey=e30&actor=x", "actor=a&actor=b"} {
		if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/auditlog?" + bad, token: admin}); r.Status != 400 {
			t.Errorf("auditlog?%s = %d %s, want 400", bad, r.Status, r.Body)
		}
	}
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/auditlog", token: s.mint(t, admin, "no", "ServiceProviderAPI")}); r.Status != 403 {
		t.Errorf("auditlog without ClusterTokenManagement = %d", r.Status)
	}

	// The console shows the log, filtered, escaped.
	if p := b.get("/cmc/auditlog?action=token.&target=" + url.QueryEscape(id)); p.Status != 200 ||
		strings.Count(p.Body, "<td><code>token.") != 7 || !strings.Contains(p.Body, "renamed; scopes &#43;settings.read") {
		t.Errorf("console audit log page: %d, %d token rows\n%s", p.Status, strings.Count(p.Body, "<td><code>token."), p.Body)
	}
	if p := b.get("/cmc/auditlog?target=%3Cscript%3E"); p.Status != 200 || strings.Contains(p.Body, "<script>") ||
		!strings.Contains(p.Body, "No events match") {
		t.Errorf("console audit log with a hostile filter: %d", p.Status)
	}

	// The command line writes its actions too.
	cliTok := s.mint(t, admin, "for the cli", "settings.read")
	if _, err := s.cli(t, "token", "revoke", cliTok); err != nil {
		t.Fatal(err)
	}
	r = s.do(t, req{method: "GET", path: "/api/cluster/v2/auditlog?action=token.revoke&target=" + cliTok[:31], token: admin})
	if err := json.Unmarshal(r.Body, &p); err != nil || len(p.Events) != 1 || p.Events[0].User != "(command line)" {
		t.Errorf("the CLI's revocation in the audit log: %s", r.Body)
	}

	// Rotation and leaked-token revocation are recorded too.
	rot := s.mint(t, admin, "to rotate", "settings.read")
	r = s.do(t, req{method: "POST", path: tokensPath + "/" + rot[:31] + "/rotate", token: admin, body: map[string]any{"gracePeriod": map[string]any{"value": 0, "unit": "SECONDS"}}})
	if r.Status != 201 {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	s.remember(r.json(t)["token"].(string))
	if r := s.do(t, req{method: "POST", path: tokensPath + "/revoke-leaked", body: map[string]any{"tokens": []string{rot, "dt0c01.nonsense"}}}); r.Status != 204 {
		t.Fatalf("revoke-leaked: %d %s", r.Status, r.Body)
	}
	waitWithin(t, 5*time.Second, "the rotation events", func() bool {
		r := s.do(t, req{method: "GET", path: "/api/cluster/v2/auditlog?target=" + rot[:31], token: admin})
		p = auditPage{}
		json.Unmarshal(r.Body, &p)
		return len(p.Events) >= 2
	})
	if e := p.Events[0]; e.Action != "token.rotate" || !strings.HasPrefix(e.Detail, "successor dt0c01.") || e.Outcome != "success" {
		t.Errorf("rotation event: %+v", e)
	}
	r = s.do(t, req{method: "GET", path: "/api/cluster/v2/auditlog?action=token.revoke-leaked", token: admin})
	p = auditPage{}
	if json.Unmarshal(r.Body, &p); len(p.Events) != 1 || p.Events[0].Detail != "2 submitted, 0 revoked" || p.Events[0].TokenID != "" {
		t.Errorf("leaked-token revocation event: %s", r.Body)
	}

	// After shutdown every aggregate is written: read the store itself.
	s.Stop(t)
	db, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := db.FindAudit(context.Background(), audit.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var failed, forbidden, signins int
	for _, e := range all {
		for _, text := range []string{e.Target, e.Detail, e.Outcome, e.TokenID, e.User} {
			if strings.Contains(text, tok[32:]) || strings.Contains(text, admin[32:]) || strings.Contains(text, "jane's password") ||
				strings.Contains(text, adminPassword) {
				t.Errorf("audit event %+v holds a secret or a password", e)
			}
		}
		switch e.Action {
		case "auth.failed":
			if strings.HasPrefix(e.Outcome, "failure: 403 ") {
				if e.TokenID == "" {
					t.Errorf("a 403 aggregate without the token id: %+v", e)
				}
				if e.TokenID == weak[:31] {
					forbidden += e.Count
				}
				break
			}
			if !strings.HasPrefix(e.Outcome, "failure: 401 ") {
				t.Errorf("auth.failed with outcome %q", e.Outcome)
			}
			failed += e.Count
			if e.Count > 1 && e.ClientAddr != "127.0.0.1" {
				t.Errorf("aggregated failure from %q", e.ClientAddr)
			}
		case "console.signin":
			signins++
			if e.User != "admin" || e.Outcome != "success" {
				t.Errorf("sign-in event %+v", e)
			}
		}
	}
	if failed < 7 {
		t.Errorf("failed authentications counted: %d, want at least 7", failed)
	}
	if forbidden != 3 {
		t.Errorf("403s counted: %d, want 3", forbidden)
	}
	if signins != 1 {
		t.Errorf("console sign-ins recorded: %d, want 1", signins)
	}
}
