package account_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"clusterapi/internal/account"
	"clusterapi/internal/errs"
)

func ptr[T any](v T) *T { return &v }

func violationPaths(err error) []string {
	e, ok := errors.AsType[*errs.Error](err)
	if !ok {
		return nil
	}
	var out []string
	for _, v := range e.Violations {
		out = append(out, v.Path)
	}
	return out
}

func jane(groups ...string) account.UserInput {
	in := account.UserInput{ID: ptr("jane"), Email: ptr("jane@example.com"), FirstName: ptr("Jane"), LastName: ptr("Doe")}
	if groups != nil {
		in.Groups = &groups
	}
	return in
}

func TestConsoleAccessNeedsClusterAdminGroup(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, account.Options{})
	if _, _, _, err := s.EnsureAdmin(ctx, "admin-password"); err != nil {
		t.Fatal(err)
	}
	viewers, err := s.CreateGroup(ctx, account.GroupInput{Name: ptr("Viewers")})
	if err != nil {
		t.Fatal(err)
	}
	in := jane(viewers.ID)
	in.Password = ptr("jane-password")
	if _, err := s.CreateUser(ctx, in); err != nil {
		t.Fatal(err)
	}
	// The right password of a user in no cluster-admin group opens nothing.
	if _, _, err := s.SignIn(ctx, "jane", "jane-password", "192.0.2.1"); err != account.ErrNoConsoleAccess {
		t.Fatalf("SignIn(non-admin) = %v, want ErrNoConsoleAccess", err)
	}
	// A wrong password still says only that.
	if _, _, err := s.SignIn(ctx, "jane", "wrong-password", "192.0.2.1"); err != account.ErrSignIn {
		t.Errorf("SignIn(non-admin, wrong password) = %v, want ErrSignIn", err)
	}
	in.Groups = &[]string{viewers.ID, account.AdminGroupID}
	in.Password = nil
	if _, err := s.UpdateUser(ctx, in); err != nil {
		t.Fatal(err)
	}
	_, key, err := s.SignIn(ctx, "jane", "jane-password", "192.0.2.1")
	if err != nil {
		t.Fatalf("SignIn(admin member) = %v", err)
	}
	if _, err := s.Authenticate(ctx, key.Reveal()); err != nil {
		t.Fatalf("Authenticate = %v", err)
	}
	// Taken out of the group, the open session stops working at once.
	in.Groups = &[]string{viewers.ID}
	if _, err := s.UpdateUser(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, key.Reveal()); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("Authenticate after leaving the admin group = %v, want Unauthorized", err)
	}
}

func TestUserWithoutPasswordCannotSignIn(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, account.Options{})
	if _, err := s.CreateUser(ctx, jane(account.AdminGroupID)); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", "anything-at-all"} {
		if _, _, err := s.SignIn(ctx, "jane", pw, "192.0.2.2"); err != account.ErrSignIn {
			t.Errorf("SignIn(no password set, %q) = %v, want ErrSignIn", pw, err)
		}
	}
}

func TestConsoleLockoutRefused(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, account.Options{})
	if _, _, _, err := s.EnsureAdmin(ctx, "admin-password"); err != nil {
		t.Fatal(err)
	}
	admin, err := s.User(ctx, account.AdminName)
	if err != nil || !slices.Equal(admin.Groups, []string{account.AdminGroupID}) {
		t.Fatalf("admin = %+v, %v; want a member of %s", admin, err, account.AdminGroupID)
	}
	adminGroup, err := s.Group(ctx, account.AdminGroupID)
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]func() error{
		"delete the only admin": func() error { _, err := s.DeleteUser(ctx, account.AdminName); return err },
		"delete the admin group": func() error {
			_, err := s.DeleteGroup(ctx, account.AdminGroupID)
			return err
		},
		"make the group a plain one": func() error {
			_, err := s.UpdateGroup(ctx, account.GroupInput{ID: &adminGroup.ID, Name: &adminGroup.Name, ClusterAdmin: ptr(false)})
			return err
		},
		"take the admin out of the group": func() error {
			_, err := s.UpdateUser(ctx, account.UserInput{ID: ptr(account.AdminName), Email: ptr("admin@example.com"),
				FirstName: ptr("A"), LastName: ptr("D"), Groups: &[]string{}})
			return err
		},
	}
	for name, step := range steps {
		if err := step(); !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: %v, want Invalid (it would lock everyone out)", name, err)
		}
	}
	if got, err := s.User(ctx, account.AdminName); err != nil || !slices.Equal(got.Groups, []string{account.AdminGroupID}) {
		t.Errorf("after refused changes, admin = %+v, %v", got, err)
	}
	// With a second admin who can sign in, the first may go.
	in := jane(account.AdminGroupID)
	in.Password = ptr("jane-password")
	if _, err := s.CreateUser(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteUser(ctx, account.AdminName); err != nil {
		t.Errorf("DeleteUser(admin) with another admin left = %v", err)
	}
}

func TestUserAndGroupValidation(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, account.Options{})
	tests := []struct {
		name string
		in   account.UserInput
		want []string
	}{
		{"nothing", account.UserInput{}, []string{"id", "email", "firstName", "lastName"}},
		{"bad email", func() account.UserInput { in := jane(); in.Email = ptr("not an address"); return in }(), []string{"email"}},
		{"display name", func() account.UserInput { in := jane(); in.Email = ptr("Jane <jane@example.com>"); return in }(), []string{"email"}},
		{"bad id", func() account.UserInput { in := jane(); in.ID = ptr("ja ne"); return in }(), []string{"id"}},
		{"token in id", func() account.UserInput { in := jane(); in.ID = ptr("u.DT0C01.ABC"); return in }(), []string{"id"}},
		{"blank name", func() account.UserInput { in := jane(); in.FirstName = ptr("  "); return in }(), []string{"firstName"}},
		{"control char", func() account.UserInput { in := jane(); in.LastName = ptr("Doe\n"); return in }(), []string{"lastName"}},
		{"unknown group", jane(account.AdminGroupID, "nope"), []string{"groups[1]"}},
		{"group twice", jane(account.AdminGroupID, account.AdminGroupID), []string{"groups[1]"}},
		{"short password", func() account.UserInput { in := jane(); in.Password = ptr("short"); return in }(), []string{"passwordClearText"}},
	}
	for _, tc := range tests {
		_, err := s.CreateUser(ctx, tc.in)
		if got := violationPaths(err); !slices.Equal(got, tc.want) {
			t.Errorf("%s: violations at %v, want %v (err %v)", tc.name, got, tc.want, err)
		}
	}
	if us, _ := s.Users(ctx); len(us) != 0 {
		t.Errorf("refused creates stored %d users", len(us))
	}
	if _, err := s.CreateUser(ctx, jane()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, jane()); !errs.Is(err, errs.Duplicate) {
		t.Errorf("CreateUser(duplicate) = %v, want Duplicate", err)
	}

	groupTests := []struct {
		name string
		in   account.GroupInput
		want []string
	}{
		{"no name", account.GroupInput{}, []string{"name"}},
		{"id given", account.GroupInput{ID: ptr("mine"), Name: ptr("G")}, []string{"id"}},
		{"unknown permission", account.GroupInput{Name: ptr("G"), AccessRight: map[string][]string{"ROOT": {"e1"}}}, []string{"accessRight.ROOT"}},
		{"bad environment", account.GroupInput{Name: ptr("G"), AccessRight: map[string][]string{"VIEWER": {"e 1"}}}, []string{"accessRight.VIEWER[0]"}},
		{"ldap twice", account.GroupInput{Name: ptr("G"), LDAPGroups: &[]string{"a", "a"}}, []string{"ldapGroupNames[1]"}},
	}
	for _, tc := range groupTests {
		_, err := s.CreateGroup(ctx, tc.in)
		if got := violationPaths(err); !slices.Equal(got, tc.want) {
			t.Errorf("%s: violations at %v, want %v (err %v)", tc.name, got, tc.want, err)
		}
	}
	if _, err := s.CreateGroup(ctx, account.GroupInput{ID: ptr(""), Name: ptr("CLUSTER ADMINS")}); !errs.Is(err, errs.Duplicate) {
		t.Errorf("CreateGroup(name taken, other case) = %v, want Duplicate", err)
	}
	if gs, _ := s.Groups(ctx); len(gs) != 1 {
		t.Errorf("refused creates stored groups: %d groups", len(gs))
	}
}

func TestRestoreAdminAccess(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, account.Options{})
	if _, _, _, err := s.EnsureAdmin(ctx, "admin-password"); err != nil {
		t.Fatal(err)
	}
	if changed, err := s.RestoreAdminAccess(ctx); err != nil || changed {
		t.Errorf("RestoreAdminAccess with nothing wrong = %v, %v; want false, nil", changed, err)
	}
	// Another admin lets the API take admin's access away entirely.
	in := jane(account.AdminGroupID)
	in.Password = ptr("jane-password")
	if _, err := s.CreateUser(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, account.UserInput{ID: ptr(account.AdminName), Email: ptr("admin@example.com"),
		FirstName: ptr("A"), LastName: ptr("D"), Groups: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	in.Groups = &[]string{}
	in.Password = nil
	if _, err := s.UpdateUser(ctx, in); !errs.Is(err, errs.Invalid) {
		t.Fatalf("taking the last admin out = %v, want refused", err)
	}
	if _, _, err := s.SignIn(ctx, account.AdminName, "admin-password", "192.0.2.9"); err != account.ErrNoConsoleAccess {
		t.Fatalf("SignIn(admin out of every group) = %v, want ErrNoConsoleAccess", err)
	}
	if changed, err := s.RestoreAdminAccess(ctx); err != nil || !changed {
		t.Fatalf("RestoreAdminAccess = %v, %v; want true, nil", changed, err)
	}
	if _, _, err := s.SignIn(ctx, account.AdminName, "admin-password", "192.0.2.9"); err != nil {
		t.Errorf("SignIn after RestoreAdminAccess = %v", err)
	}
}
