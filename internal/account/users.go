package account

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"clusterapi/internal/errs"
)

// UserInput is a user as a client sent it (POST or PUT /users). A nil field
// was not given (absent or null on the wire).
type UserInput struct {
	ID, Email, FirstName, LastName *string
	Groups                         *[]string
	Password                       *string // passwordClearText: write-only
}

// GroupInput is a group as a client sent it. A nil field was not given;
// AccessRight is given when AccessRightGiven.
type GroupInput struct {
	ID, Name                                   *string
	ClusterAdmin, AccessAccount, ManageAccount *bool
	LDAPGroups, SSOGroups                      *[]string
	AccessRight                                map[string][]string
	AccessRightGiven                           bool
}

// Permissions are the keys a group's accessRight may hold: the reference
// model's environment permissions.
var Permissions = []string{
	"VIEWER", "MANAGE_SETTINGS", "AGENT_INSTALL", "LOG_VIEWER", "VIEW_SENSITIVE_REQUEST_DATA",
	"CONFIGURE_REQUEST_CAPTURE_DATA", "REPLAY_SESSION_DATA", "REPLAY_SESSION_DATA_WITHOUT_MASKING",
	"MANAGE_SECURITY_PROBLEMS", "MANAGE_SUPPORT_TICKETS",
}

// Bounds of user and group fields.
const (
	maxIDLen      = 100 // user and group ids
	maxTextLen    = 255 // names, external group names
	maxEmailLen   = 254
	maxListLen    = 1000 // groups of a user, external group names, environments of a permission
	maxGroupCount = 1000
)

var (
	userIDRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]*$`)
	groupIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	envIDRE   = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,70}$`)
)

// errLockout refuses a change after which nobody could sign in to the console.
var errLockout = errs.E(errs.Invalid, "This change would leave no user who can sign in to the console: "+
	"at least one user with a password must stay in a cluster admin group.")

func userNotFound(id string) error {
	return errs.E(errs.NotFound, fmt.Sprintf("User %s not found", id))
}
func groupNotFound(id string) error {
	return errs.E(errs.NotFound, fmt.Sprintf("Group %s not found", id))
}

// checkID validates an id against re, as found at loc under name.
func checkID(loc errs.Location, name, id string, re *regexp.Regexp) *errs.Violation {
	switch {
	case id == "":
		return &errs.Violation{Path: name, Message: "must not be empty", Location: loc}
	case len(id) > maxIDLen:
		return &errs.Violation{Path: name, Message: fmt.Sprintf("must be at most %d characters long", maxIDLen), Location: loc}
	case strings.Contains(strings.ToLower(id), "dt0c01"):
		return &errs.Violation{Path: name, Message: "must not hold an API token", Location: loc}
	case !re.MatchString(id):
		allowed := "letters, digits, '.', '_' and '-'"
		if re == userIDRE {
			allowed = "letters, digits, '.', '_', '@', '+' and '-'"
		}
		return &errs.Violation{Path: name, Message: "may hold only " + allowed + ", starting with a letter or digit", Location: loc}
	}
	return nil
}

// checkText validates a required or optional text field of at most max
// code points without control characters.
func checkText(vs *[]errs.Violation, path, s string, max int) {
	bad := func(msg string) { *vs = append(*vs, errs.Violation{Path: path, Message: msg, Location: errs.Payload}) }
	switch n := utf8.RuneCountInString(s); {
	case strings.TrimSpace(s) == "":
		bad("must not be empty or blank")
	case n > max:
		bad(fmt.Sprintf("must be at most %d characters long", max))
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		bad("must not contain control characters")
	}
}

// checkEmail validates a plain address: no display name, no comments.
func checkEmail(vs *[]errs.Violation, s string) {
	a, err := mail.ParseAddress(s)
	switch {
	case len(s) > maxEmailLen:
		*vs = append(*vs, errs.Violation{Path: "email", Message: fmt.Sprintf("must be at most %d characters long", maxEmailLen), Location: errs.Payload})
	case err != nil || a.Address != s || a.Name != "":
		*vs = append(*vs, errs.Violation{Path: "email", Message: "must be an email address such as jane@example.com", Location: errs.Payload})
	}
}

// checkList validates a set of strings: bounded, no duplicates, each valid.
func checkList(vs *[]errs.Violation, path string, list []string, each func(path, s string)) {
	if len(list) > maxListLen {
		*vs = append(*vs, errs.Violation{Path: path, Message: fmt.Sprintf("must have at most %d elements", maxListLen), Location: errs.Payload})
		return
	}
	for i, s := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		if slices.Index(list, s) < i {
			*vs = append(*vs, errs.Violation{Path: p, Message: "is given twice", Location: errs.Payload})
			continue
		}
		each(p, s)
	}
}

// newUUID returns a random (version 4) UUID, the form of generated group ids.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func violated(vs []errs.Violation) error {
	if len(vs) > 0 {
		return errs.Violated(vs...)
	}
	return nil
}

// Users returns every user, ordered by id.
func (s *Service) Users(ctx context.Context) ([]*User, error) { return s.store.ListUsers(ctx) }

// User returns the user with the given id.
func (s *Service) User(ctx context.Context, id string) (*User, error) {
	if v := checkID(errs.Path, "id", id, userIDRE); v != nil {
		return nil, errs.Violated(*v)
	}
	u, err := s.store.FindUser(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return nil, userNotFound(id)
	}
	return u, err
}

// validateUser checks a user input for a create or a full update: id,
// email and both names are required on either.
func (s *Service) validateUser(ctx context.Context, in UserInput) error {
	var vs []errs.Violation
	required := func(path string, p *string) bool {
		if p == nil {
			vs = append(vs, errs.Violation{Path: path, Message: "is required", Location: errs.Payload})
			return false
		}
		return true
	}
	if required("id", in.ID) {
		if v := checkID(errs.Payload, "id", *in.ID, userIDRE); v != nil {
			vs = append(vs, *v)
		}
	}
	if required("email", in.Email) {
		checkEmail(&vs, *in.Email)
	}
	if required("firstName", in.FirstName) {
		checkText(&vs, "firstName", *in.FirstName, maxTextLen)
	}
	if required("lastName", in.LastName) {
		checkText(&vs, "lastName", *in.LastName, maxTextLen)
	}
	if in.Password != nil {
		if e, ok := errors.AsType[*errs.Error](CheckNewPassword(*in.Password)); ok {
			for _, v := range e.Violations {
				vs = append(vs, errs.Violation{Path: "passwordClearText", Message: v.Message, Location: errs.Payload})
			}
		}
	}
	if in.Groups != nil {
		var known map[string]bool
		checkList(&vs, "groups", *in.Groups, func(path, id string) {
			if known == nil {
				gs, err := s.store.ListGroups(ctx)
				if err != nil {
					return // reported below, as the store error it is
				}
				known = map[string]bool{}
				for _, g := range gs {
					known[g.ID] = true
				}
			}
			if !known[id] {
				vs = append(vs, errs.Violation{Path: path, Message: "names no existing group", Location: errs.Payload})
			}
		})
	}
	return violated(vs)
}

// CreateUser creates a user (POST /users). Without passwordClearText the
// user has no password and cannot sign in until one is set.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (*User, error) {
	if err := s.validateUser(ctx, in); err != nil {
		return nil, err
	}
	u := &User{ID: *in.ID, Email: *in.Email, FirstName: *in.FirstName, LastName: *in.LastName,
		Groups: []string{}, Created: s.nowMillis()}
	if in.Groups != nil {
		u.Groups = slices.Clone(*in.Groups)
	}
	if in.Password != nil {
		h, err := s.hashPassword(ctx, *in.Password)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = h
	}
	err := s.store.CreateUser(ctx, u)
	if errs.Is(err, errs.Conflict) {
		return nil, errs.E(errs.Duplicate, fmt.Sprintf("User %s already exists", u.ID))
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser replaces a user's email, names and, when given, groups (PUT
// /users). A passwordClearText sets a new password and signs the user out
// everywhere.
func (s *Service) UpdateUser(ctx context.Context, in UserInput) (*User, error) {
	if err := s.validateUser(ctx, in); err != nil {
		return nil, err
	}
	old, err := s.User(ctx, *in.ID)
	if err != nil {
		return nil, err
	}
	u := *old
	u.Email, u.FirstName, u.LastName = *in.Email, *in.FirstName, *in.LastName
	if in.Groups != nil {
		u.Groups = slices.Clone(*in.Groups)
	}
	var hash string
	if in.Password != nil {
		if hash, err = s.hashPassword(ctx, *in.Password); err != nil {
			return nil, err
		}
		u.PasswordHash = hash
	}
	if err := s.guardConsole(ctx, func(us []*User, gs []*Group) ([]*User, []*Group) {
		return replaced(us, &u, userID), gs
	}); err != nil {
		return nil, err
	}
	if err := s.store.UpdateUser(ctx, &u); err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, userNotFound(u.ID)
		}
		return nil, err
	}
	if err := s.endSessionsWithoutAccess(ctx); err != nil {
		return nil, err
	}
	if hash != "" {
		if err := s.store.SetPassword(ctx, u.ID, hash); err != nil {
			return nil, fmt.Errorf("set password of %s: %w", u.ID, err)
		}
		if err := s.store.DeleteUserSessions(ctx, u.ID); err != nil {
			return nil, fmt.Errorf("end sessions of %s: %w", u.ID, err)
		}
	}
	return &u, nil
}

// DeleteUser deletes a user and returns it as it was.
func (s *Service) DeleteUser(ctx context.Context, id string) (*User, error) {
	u, err := s.User(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.guardConsole(ctx, func(us []*User, gs []*Group) ([]*User, []*Group) {
		return without(us, id, userID), gs
	}); err != nil {
		return nil, err
	}
	if err := s.store.DeleteUser(ctx, id); err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, userNotFound(id)
		}
		return nil, err
	}
	return u, nil
}

// Groups returns every group, ordered by id.
func (s *Service) Groups(ctx context.Context) ([]*Group, error) { return s.store.ListGroups(ctx) }

// Group returns the group with the given id.
func (s *Service) Group(ctx context.Context, id string) (*Group, error) {
	if v := checkID(errs.Path, "groupId", id, groupIDRE); v != nil {
		return nil, errs.Violated(*v)
	}
	g, err := s.store.FindGroup(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return nil, groupNotFound(id)
	}
	return g, err
}

// validateGroup checks the fields of a group input other than its id.
func validateGroup(in GroupInput, vs *[]errs.Violation) {
	if in.Name == nil {
		*vs = append(*vs, errs.Violation{Path: "name", Message: "is required", Location: errs.Payload})
	} else {
		checkText(vs, "name", *in.Name, maxTextLen)
	}
	for path, list := range map[string]*[]string{"ldapGroupNames": in.LDAPGroups, "ssoGroupNames": in.SSOGroups} {
		if list != nil {
			checkList(vs, path, *list, func(p, name string) { checkText(vs, p, name, maxTextLen) })
		}
	}
	for _, perm := range sortedKeys(in.AccessRight) {
		path := "accessRight." + perm
		if !slices.Contains(Permissions, perm) {
			*vs = append(*vs, errs.Violation{Path: path, Location: errs.Payload,
				Message: "is not a permission; use one of " + strings.Join(Permissions, ", ")})
			continue
		}
		checkList(vs, path, in.AccessRight[perm], func(p, env string) {
			if !envIDRE.MatchString(env) {
				*vs = append(*vs, errs.Violation{Path: p, Message: "must be an environment id ([a-zA-Z0-9_-]{1,70})", Location: errs.Payload})
			}
		})
	}
}

func setBool(dst, src *bool) {
	if src != nil {
		*dst = *src
	}
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// apply writes the given fields of in over g.
func (in GroupInput) apply(g *Group) {
	g.Name = *in.Name
	setBool(&g.ClusterAdmin, in.ClusterAdmin)
	setBool(&g.AccessAccount, in.AccessAccount)
	setBool(&g.ManageAccount, in.ManageAccount)
	if in.LDAPGroups != nil {
		g.LDAPGroups = slices.Clone(*in.LDAPGroups)
	}
	if in.SSOGroups != nil {
		g.SSOGroups = slices.Clone(*in.SSOGroups)
	}
	if in.AccessRight != nil {
		g.AccessRight = make(map[string][]string, len(in.AccessRight))
		for k, v := range in.AccessRight {
			if v == nil {
				v = []string{}
			}
			g.AccessRight[k] = slices.Clone(v)
		}
	}
}

// CreateGroup creates a group (POST /groups) under a generated id: the id
// must be left out, null or empty.
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (*Group, error) {
	var vs []errs.Violation
	if in.ID != nil && *in.ID != "" {
		vs = append(vs, errs.Violation{Path: "id", Message: "must be empty or null when creating a group: the id is generated", Location: errs.Payload})
	}
	validateGroup(in, &vs)
	if err := violated(vs); err != nil {
		return nil, err
	}
	if n, err := s.countGroups(ctx); err != nil {
		return nil, err
	} else if n >= maxGroupCount {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("There are %d groups already, the most this server keeps", maxGroupCount))
	}
	g := &Group{ID: newUUID(), LDAPGroups: []string{}, SSOGroups: []string{}, Created: s.nowMillis()}
	in.apply(g)
	err := s.store.CreateGroup(ctx, g)
	if errs.Is(err, errs.Conflict) {
		return nil, errs.E(errs.Duplicate, fmt.Sprintf("A group named %q already exists", g.Name))
	}
	if err != nil {
		return nil, err
	}
	return g, nil
}

func (s *Service) countGroups(ctx context.Context) (int, error) {
	gs, err := s.store.ListGroups(ctx)
	return len(gs), err
}

// UpdateGroup replaces a group named by its id (PUT /groups): name is
// required; other fields left out keep what is stored.
func (s *Service) UpdateGroup(ctx context.Context, in GroupInput) (*Group, error) {
	var vs []errs.Violation
	if in.ID == nil {
		vs = append(vs, errs.Violation{Path: "id", Message: "is required", Location: errs.Payload})
	} else if v := checkID(errs.Payload, "id", *in.ID, groupIDRE); v != nil {
		vs = append(vs, *v)
	}
	validateGroup(in, &vs)
	if err := violated(vs); err != nil {
		return nil, err
	}
	old, err := s.Group(ctx, *in.ID)
	if err != nil {
		return nil, err
	}
	g := *old
	in.apply(&g)
	if err := s.guardConsole(ctx, func(us []*User, gs []*Group) ([]*User, []*Group) {
		return us, replaced(gs, &g, groupID)
	}); err != nil {
		return nil, err
	}
	err = s.store.UpdateGroup(ctx, &g)
	switch {
	case errs.Is(err, errs.Conflict):
		return nil, errs.E(errs.Duplicate, fmt.Sprintf("A group named %q already exists", g.Name))
	case errs.Is(err, errs.NotFound):
		return nil, groupNotFound(g.ID)
	case err != nil:
		return nil, err
	}
	if err := s.endSessionsWithoutAccess(ctx); err != nil {
		return nil, err
	}
	return &g, nil
}

// DeleteGroup deletes a group and returns it as it was.
func (s *Service) DeleteGroup(ctx context.Context, id string) (*Group, error) {
	g, err := s.Group(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.guardConsole(ctx, func(us []*User, gs []*Group) ([]*User, []*Group) {
		return us, without(gs, id, groupID)
	}); err != nil {
		return nil, err
	}
	if err := s.store.DeleteGroup(ctx, id); err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, groupNotFound(id)
		}
		return nil, err
	}
	if err := s.endSessionsWithoutAccess(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// replaced returns list with the element of x's id replaced by x.
func replaced[T any](list []*T, x *T, id func(*T) string) []*T {
	out := slices.Clone(list)
	for i, y := range out {
		if id(y) == id(x) {
			out[i] = x
		}
	}
	return out
}

// without returns list without the element whose id is drop.
func without[T any](list []*T, drop string, id func(*T) string) []*T {
	return slices.DeleteFunc(slices.Clone(list), func(y *T) bool { return id(y) == drop })
}

func userID(u *User) string   { return u.ID }
func groupID(g *Group) string { return g.ID }

// consoleUsers counts the users who can sign in to the console: with a
// password, in at least one cluster-admin group.
func consoleUsers(us []*User, gs []*Group) int {
	admin := map[string]bool{}
	for _, g := range gs {
		if g.ClusterAdmin {
			admin[g.ID] = true
		}
	}
	n := 0
	for _, u := range us {
		if u.PasswordHash != "" && slices.ContainsFunc(u.Groups, func(id string) bool { return admin[id] }) {
			n++
		}
	}
	return n
}

// guardConsole refuses a change that would take console access from the
// last users who have it. change returns the users and groups as they
// would be after it. A store that already has no such user is not guarded.
func (s *Service) guardConsole(ctx context.Context, change func([]*User, []*Group) ([]*User, []*Group)) error {
	us, err := s.store.ListUsers(ctx)
	if err != nil {
		return err
	}
	gs, err := s.store.ListGroups(ctx)
	if err != nil {
		return err
	}
	if consoleUsers(us, gs) == 0 {
		return nil
	}
	if consoleUsers(change(us, gs)) == 0 {
		return errLockout
	}
	return nil
}

// endSessionsWithoutAccess signs out everyone who may no longer sign in to
// the console, so that a later change giving access back does not revive an
// old session.
func (s *Service) endSessionsWithoutAccess(ctx context.Context) error {
	us, err := s.store.ListUsers(ctx)
	if err != nil {
		return err
	}
	gs, err := s.store.ListGroups(ctx)
	if err != nil {
		return err
	}
	for _, u := range us {
		if consoleUsers([]*User{u}, gs) == 0 {
			if err := s.store.DeleteUserSessions(ctx, u.ID); err != nil {
				return fmt.Errorf("end sessions of %s: %w", u.ID, err)
			}
		}
	}
	return nil
}

// consoleAccess reports whether u is in a cluster-admin group.
func (s *Service) consoleAccess(ctx context.Context, u *User) (bool, error) {
	for _, id := range u.Groups {
		g, err := s.store.FindGroup(ctx, id)
		if errs.Is(err, errs.NotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return false, err
		}
		if g.ClusterAdmin {
			return true, nil
		}
	}
	return false, nil
}
