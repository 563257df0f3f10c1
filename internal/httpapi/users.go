package httpapi

import (
	"net/http"

	"clusterapi/internal/account"
)

// usersPath and groupsPath are the user management routes of Cluster API v1
// (SPEC 5).
const (
	usersPath  = "/api/v1.0/onpremise/users"
	groupsPath = "/api/v1.0/onpremise/groups"
)

// userIn is the reference UserConfig as clients send it; null is "not
// given". passwordClearText is write-only: never returned, never logged.
type userIn struct {
	ID                *string   `json:"id"`
	Email             *string   `json:"email"`
	FirstName         *string   `json:"firstName"`
	LastName          *string   `json:"lastName"`
	Groups            *[]string `json:"groups"`
	PasswordClearText *string   `json:"passwordClearText"`
}

func (in userIn) input() account.UserInput {
	return account.UserInput{ID: in.ID, Email: in.Email, FirstName: in.FirstName, LastName: in.LastName,
		Groups: in.Groups, Password: in.PasswordClearText}
}

type userOut struct {
	ID        string   `json:"id"`
	Email     string   `json:"email"`
	FirstName string   `json:"firstName"`
	LastName  string   `json:"lastName"`
	Groups    []string `json:"groups"`
}

func toUserOut(u *account.User) userOut {
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	return userOut{ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Groups: groups}
}

// groupIn is the reference GroupConfig as clients send it.
type groupIn struct {
	ID                                      *string             `json:"id"`
	Name                                    *string             `json:"name"`
	IsClusterAdminGroup                     *bool               `json:"isClusterAdminGroup"`
	HasAccessAccountRole                    *bool               `json:"hasAccessAccountRole"`
	HasManageAccountAndViewProductUsageRole *bool               `json:"hasManageAccountAndViewProductUsageRole"`
	LDAPGroupNames                          *[]string           `json:"ldapGroupNames"`
	SSOGroupNames                           *[]string           `json:"ssoGroupNames"`
	AccessRight                             map[string][]string `json:"accessRight"`
}

func (in groupIn) input() account.GroupInput {
	return account.GroupInput{ID: in.ID, Name: in.Name, ClusterAdmin: in.IsClusterAdminGroup,
		AccessAccount: in.HasAccessAccountRole, ManageAccount: in.HasManageAccountAndViewProductUsageRole,
		LDAPGroups: in.LDAPGroupNames, SSOGroups: in.SSOGroupNames, AccessRight: in.AccessRight}
}

// groupOut leaves accessRight out when it was never set (SPEC 5).
type groupOut struct {
	ID                                      string               `json:"id"`
	Name                                    string               `json:"name"`
	IsClusterAdminGroup                     bool                 `json:"isClusterAdminGroup"`
	HasAccessAccountRole                    bool                 `json:"hasAccessAccountRole"`
	HasManageAccountAndViewProductUsageRole bool                 `json:"hasManageAccountAndViewProductUsageRole"`
	LDAPGroupNames                          []string             `json:"ldapGroupNames"`
	SSOGroupNames                           []string             `json:"ssoGroupNames"`
	AccessRight                             *map[string][]string `json:"accessRight,omitempty"`
}

func toGroupOut(g *account.Group) groupOut {
	out := groupOut{ID: g.ID, Name: g.Name, IsClusterAdminGroup: g.ClusterAdmin, HasAccessAccountRole: g.AccessAccount,
		HasManageAccountAndViewProductUsageRole: g.ManageAccount, LDAPGroupNames: nonNil(g.LDAPGroups), SSOGroupNames: nonNil(g.SSOGroups)}
	if g.AccessRight != nil {
		ar := make(map[string][]string, len(g.AccessRight))
		for k, v := range g.AccessRight {
			ar[k] = nonNil(v)
		}
		out.AccessRight = &ar
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// answer returns a function that writes conv of a result with 200, or the
// error in the envelope: a service call's two results go straight in.
func answer[T, U any](a *API, w http.ResponseWriter, r *http.Request, conv func(T) U) func(T, error) {
	return func(v T, err error) {
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		encode(w, r, http.StatusOK, conv(v))
	}
}

// each lifts a conversion to lists; the result is never nil.
func each[T, U any](f func(T) U) func([]T) []U {
	return func(in []T) []U {
		out := make([]U, 0, len(in))
		for _, x := range in {
			out = append(out, f(x))
		}
		return out
	}
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	answer(a, w, r, each(toUserOut))(a.accounts.Users(r.Context()))
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	answer(a, w, r, toUserOut)(a.accounts.User(r.Context(), r.PathValue("id")))
}

func userID(u *account.User) string   { return u.ID }
func groupID(g *account.Group) string { return g.ID }

func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	in, err := decode[userIn](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	noteBodyID(r, in.ID)
	answerAs(a, w, r, userID, toUserOut)(a.accounts.CreateUser(r.Context(), in.input()))
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	in, err := decode[userIn](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	noteBodyID(r, in.ID)
	if in.PasswordClearText != nil {
		noteAudit(r, "", "", "password changed")
	}
	answerAs(a, w, r, userID, toUserOut)(a.accounts.UpdateUser(r.Context(), in.input()))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	answer(a, w, r, toUserOut)(a.accounts.DeleteUser(r.Context(), r.PathValue("id")))
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) {
	answer(a, w, r, each(toGroupOut))(a.accounts.Groups(r.Context()))
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) {
	answer(a, w, r, toGroupOut)(a.accounts.Group(r.Context(), r.PathValue("groupId")))
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) {
	in, err := decode[groupIn](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	answerAs(a, w, r, groupID, toGroupOut)(a.accounts.CreateGroup(r.Context(), in.input()))
}

func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) {
	in, err := decode[groupIn](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	noteBodyID(r, in.ID)
	answerAs(a, w, r, groupID, toGroupOut)(a.accounts.UpdateGroup(r.Context(), in.input()))
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) {
	answer(a, w, r, toGroupOut)(a.accounts.DeleteGroup(r.Context(), r.PathValue("groupId")))
}
