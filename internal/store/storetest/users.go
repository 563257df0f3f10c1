package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/account"
	"clusterapi/internal/errs"
)

func mustCreateUser(t *testing.T, s Store, id string) *account.User {
	t.Helper()
	u := &account.User{ID: id, Groups: []string{}, PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$a2V5", Created: base}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%q) = %v", id, err)
	}
	return u
}

func testUsers(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	if n, err := s.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers on an empty store = %d, %v; want 0, nil", n, err)
	}
	admin := mustCreateUser(t, s, "admin")
	mustCreateUser(t, s, "Admin") // ids are case-sensitive
	if n, err := s.CountUsers(ctx); err != nil || n != 2 {
		t.Errorf("CountUsers = %d, %v; want 2, nil", n, err)
	}
	if err := s.CreateUser(ctx, &account.User{ID: "admin", PasswordHash: "x", Created: base}); !errs.Is(err, errs.Conflict) {
		t.Errorf("CreateUser(duplicate) = %v, want Conflict", err)
	}
	got, err := s.FindUser(ctx, "admin")
	if err != nil {
		t.Fatalf("FindUser = %v", err)
	}
	if diff := cmp.Diff(admin, got); diff != "" {
		t.Errorf("FindUser (-want +got):\n%s", diff)
	}
	if _, err := s.FindUser(ctx, "nobody"); !errs.Is(err, errs.NotFound) {
		t.Errorf("FindUser(unknown) = %v, want NotFound", err)
	}
	if err := s.SetPassword(ctx, "admin", "new-hash"); err != nil {
		t.Fatalf("SetPassword = %v", err)
	}
	if got, _ := s.FindUser(ctx, "admin"); got == nil || got.PasswordHash != "new-hash" {
		t.Errorf("after SetPassword, FindUser = %+v, want hash new-hash", got)
	}
	if err := s.SetPassword(ctx, "nobody", "x"); !errs.Is(err, errs.NotFound) {
		t.Errorf("SetPassword(unknown) = %v, want NotFound", err)
	}
}

func testSessions(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	mustCreateUser(t, s, "admin")
	mustCreateUser(t, s, "ops")
	mk := func(id, user string, last time.Time) *account.Session {
		t.Helper()
		sess := &account.Session{IDHash: id, UserID: user, Created: base, LastSeen: last}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession(%s) = %v", id, err)
		}
		return sess
	}
	a := mk("aaaa", "admin", base)
	mk("bbbb", "admin", base.Add(time.Minute))
	c := mk("cccc", "ops", base.Add(2*time.Minute))
	if err := s.CreateSession(ctx, &account.Session{IDHash: "aaaa", UserID: "ops", Created: base, LastSeen: base}); !errs.Is(err, errs.Conflict) {
		t.Errorf("CreateSession(duplicate) = %v, want Conflict", err)
	}
	got, err := s.FindSession(ctx, "aaaa")
	if err != nil {
		t.Fatalf("FindSession = %v", err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("FindSession (-want +got):\n%s", diff)
	}
	if _, err := s.FindSession(ctx, "zzzz"); !errs.Is(err, errs.NotFound) {
		t.Errorf("FindSession(unknown) = %v, want NotFound", err)
	}

	// Touch moves last use forward, never back.
	if err := s.TouchSession(ctx, "aaaa", base.Add(time.Hour)); err != nil {
		t.Fatalf("TouchSession = %v", err)
	}
	if err := s.TouchSession(ctx, "aaaa", base.Add(time.Minute)); err != nil {
		t.Fatalf("TouchSession(earlier) = %v", err)
	}
	if got, _ := s.FindSession(ctx, "aaaa"); got == nil || !got.LastSeen.Equal(base.Add(time.Hour)) {
		t.Errorf("after touches, FindSession = %+v, want LastSeen %v", got, base.Add(time.Hour))
	}
	if err := s.TouchSession(ctx, "zzzz", base); !errs.Is(err, errs.NotFound) {
		t.Errorf("TouchSession(unknown) = %v, want NotFound", err)
	}

	// Idle sessions go; recent ones stay.
	if err := s.DeleteIdleSessions(ctx, base.Add(90*time.Second)); err != nil {
		t.Fatalf("DeleteIdleSessions = %v", err)
	}
	if _, err := s.FindSession(ctx, "bbbb"); !errs.Is(err, errs.NotFound) {
		t.Errorf("idle session bbbb: FindSession = %v, want NotFound", err)
	}
	for _, id := range []string{"aaaa", "cccc"} {
		if _, err := s.FindSession(ctx, id); err != nil {
			t.Errorf("recent session %s: FindSession = %v", id, err)
		}
	}

	// Signing a user out everywhere leaves other users alone.
	if err := s.DeleteUserSessions(ctx, "admin"); err != nil {
		t.Fatalf("DeleteUserSessions = %v", err)
	}
	if _, err := s.FindSession(ctx, "aaaa"); !errs.Is(err, errs.NotFound) {
		t.Errorf("after DeleteUserSessions: FindSession(aaaa) = %v, want NotFound", err)
	}
	if got, err := s.FindSession(ctx, "cccc"); err != nil || got.UserID != c.UserID {
		t.Errorf("other user's session: FindSession = %v, %v", got, err)
	}
	if err := s.DeleteSession(ctx, "cccc"); err != nil {
		t.Fatalf("DeleteSession = %v", err)
	}
	if err := s.DeleteSession(ctx, "cccc"); !errs.Is(err, errs.NotFound) {
		t.Errorf("DeleteSession(gone) = %v, want NotFound", err)
	}
}

func mustCreateGroup(t *testing.T, s Store, g *account.Group) {
	t.Helper()
	if err := s.CreateGroup(context.Background(), g); err != nil {
		t.Fatalf("CreateGroup(%q) = %v", g.ID, err)
	}
}

func testGroups(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)

	// A new store has the cluster-admin group the first admin joins.
	gs, err := s.ListGroups(ctx)
	if err != nil {
		t.Fatalf("ListGroups = %v", err)
	}
	if len(gs) != 1 || gs[0].ID != account.AdminGroupID || !gs[0].ClusterAdmin || gs[0].AccessRight != nil {
		t.Fatalf("groups of a new store = %+v, want only %s, a cluster-admin group without access rights", gs, account.AdminGroupID)
	}

	ops := &account.Group{ID: "ops", Name: "Operators ☃", AccessAccount: true,
		LDAPGroups: []string{"cn=ops,dc=example", "cn=oncall"}, SSOGroups: []string{},
		AccessRight: map[string][]string{"VIEWER": {"env-1", "env-2"}, "LOG_VIEWER": {}}, Created: base}
	plain := &account.Group{ID: "plain", Name: "Plain", LDAPGroups: []string{}, SSOGroups: []string{"sso-a"}, Created: base.Add(time.Second)}
	mustCreateGroup(t, s, ops)
	mustCreateGroup(t, s, plain)
	got, err := s.FindGroup(ctx, "ops")
	if err != nil {
		t.Fatalf("FindGroup = %v", err)
	}
	if diff := cmp.Diff(ops, got); diff != "" {
		t.Errorf("FindGroup (-want +got):\n%s", diff)
	}
	if got, _ := s.FindGroup(ctx, "plain"); got == nil || got.AccessRight != nil {
		t.Errorf("a group whose access rights were never set reads back with %+v, want nil", got)
	}
	if _, err := s.FindGroup(ctx, "nope"); !errs.Is(err, errs.NotFound) {
		t.Errorf("FindGroup(unknown) = %v, want NotFound", err)
	}
	for _, dup := range []*account.Group{
		{ID: "ops", Name: "Another", Created: base},
		{ID: "other", Name: "OPERATORS ☃", Created: base}, // names clash ignoring case
	} {
		if err := s.CreateGroup(ctx, dup); !errs.Is(err, errs.Conflict) {
			t.Errorf("CreateGroup(%q, %q) = %v, want Conflict", dup.ID, dup.Name, err)
		}
	}
	gs, _ = s.ListGroups(ctx)
	if ids := groupIDs(gs); !cmp.Equal(ids, []string{account.AdminGroupID, "ops", "plain"}) {
		t.Errorf("ListGroups ids = %v, want ordered by id", ids)
	}

	// Users carry their groups in the order given.
	u := &account.User{ID: "jane", Email: "jane@example.com", FirstName: "Jane", LastName: "Doe",
		Groups: []string{"plain", "ops"}, Created: base}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser = %v", err)
	}
	if got, err := s.FindUser(ctx, "jane"); err != nil || !cmp.Equal(u, got) {
		t.Errorf("FindUser = %+v, %v; want %+v", got, err, u)
	}
	bad := &account.User{ID: "joe", Groups: []string{"missing"}, Created: base}
	if err := s.CreateUser(ctx, bad); !errs.Is(err, errs.Invalid) {
		t.Errorf("CreateUser with an unknown group = %v, want Invalid", err)
	}
	if _, err := s.FindUser(ctx, "joe"); !errs.Is(err, errs.NotFound) {
		t.Errorf("a refused CreateUser left the user behind: FindUser = %v", err)
	}
	mustCreateUser(t, s, "admin")

	u.Email, u.FirstName, u.Groups = "j.doe@example.com", "Janet", []string{"ops", account.AdminGroupID}
	if err := s.UpdateUser(ctx, u); err != nil {
		t.Fatalf("UpdateUser = %v", err)
	}
	us, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers = %v", err)
	}
	if len(us) != 2 || us[0].ID != "admin" || !cmp.Equal(us[1], u) {
		t.Errorf("ListUsers = %+v, want admin and the updated %+v", us, u)
	}
	if err := s.UpdateUser(ctx, &account.User{ID: "nobody", Groups: []string{}}); !errs.Is(err, errs.NotFound) {
		t.Errorf("UpdateUser(unknown) = %v, want NotFound", err)
	}
	u2 := *u
	u2.Groups = []string{"missing"}
	if err := s.UpdateUser(ctx, &u2); !errs.Is(err, errs.Invalid) {
		t.Errorf("UpdateUser with an unknown group = %v, want Invalid", err)
	}
	if got, _ := s.FindUser(ctx, "jane"); got == nil || !cmp.Equal(got.Groups, u.Groups) {
		t.Errorf("a refused UpdateUser changed the groups: %+v", got)
	}

	// Updating a group keeps its id and creation time; names stay unique.
	ops.Name, ops.ClusterAdmin, ops.AccessRight, ops.LDAPGroups = "Ops", true, map[string][]string{}, []string{}
	if err := s.UpdateGroup(ctx, ops); err != nil {
		t.Fatalf("UpdateGroup = %v", err)
	}
	if got, _ := s.FindGroup(ctx, "ops"); !cmp.Equal(got, ops) {
		t.Errorf("after UpdateGroup, FindGroup = %+v, want %+v", got, ops)
	}
	clash := *plain
	clash.Name = "OPS"
	if err := s.UpdateGroup(ctx, &clash); !errs.Is(err, errs.Conflict) {
		t.Errorf("UpdateGroup to a taken name = %v, want Conflict", err)
	}
	if err := s.UpdateGroup(ctx, &account.Group{ID: "nope", Name: "x"}); !errs.Is(err, errs.NotFound) {
		t.Errorf("UpdateGroup(unknown) = %v, want NotFound", err)
	}

	// Deleting a group takes it from its members; deleting a user takes
	// its sessions.
	if err := s.DeleteGroup(ctx, "ops"); err != nil {
		t.Fatalf("DeleteGroup = %v", err)
	}
	if got, _ := s.FindUser(ctx, "jane"); got == nil || !cmp.Equal(got.Groups, []string{account.AdminGroupID}) {
		t.Errorf("after DeleteGroup, jane's groups = %+v, want [%s]", got, account.AdminGroupID)
	}
	if err := s.DeleteGroup(ctx, "ops"); !errs.Is(err, errs.NotFound) {
		t.Errorf("DeleteGroup(gone) = %v, want NotFound", err)
	}
	if err := s.CreateSession(ctx, &account.Session{IDHash: "jj", UserID: "jane", Created: base, LastSeen: base}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "jane"); err != nil {
		t.Fatalf("DeleteUser = %v", err)
	}
	if _, err := s.FindSession(ctx, "jj"); !errs.Is(err, errs.NotFound) {
		t.Errorf("the session of a deleted user: FindSession = %v, want NotFound", err)
	}
	if err := s.DeleteUser(ctx, "jane"); !errs.Is(err, errs.NotFound) {
		t.Errorf("DeleteUser(gone) = %v, want NotFound", err)
	}
	// The name of a deleted group is free again.
	mustCreateGroup(t, s, &account.Group{ID: "ops2", Name: "ops", Created: base})
}

func groupIDs(gs []*account.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.ID)
	}
	return out
}
