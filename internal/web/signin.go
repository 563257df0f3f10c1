package web

import (
	"net/http"

	"clusterapi/internal/account"
	"clusterapi/internal/audit"
	"clusterapi/internal/auth"
	"clusterapi/internal/errs"
)

// signInPage is the sign-in form.
type signInPage struct {
	layout
	Name  string
	Error string
}

func (c *Console) signInForm(w http.ResponseWriter, r *http.Request) {
	if u, _ := c.user(r); u != nil {
		http.Redirect(w, r, Prefix+"tokens", http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "signin.html", signInPage{layout: layout{Title: "Sign in"}})
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	page := signInPage{layout: layout{Title: "Sign in"}}
	if err := r.ParseForm(); err != nil {
		page.Error = "The form could not be read. Try again."
		c.render(w, r, http.StatusBadRequest, "signin.html", page)
		return
	}
	page.Name = r.PostForm.Get("user")
	password := r.PostForm.Get("password")
	if page.Name == "" || password == "" || len(page.Name) > 256 || len(password) > 4*account.MaxPasswordLen {
		page.Error = account.ErrSignIn.Message
		c.render(w, r, http.StatusUnauthorized, "signin.html", page)
		return
	}
	u, key, err := c.accounts.SignIn(r.Context(), page.Name, password, auth.ClientIP(r))
	switch {
	case err == account.ErrNoConsoleAccess:
		// The right password of a real user: listed, with the name.
		c.audit.Record(audit.Event{Action: "console.signin", User: page.Name, ClientAddr: auth.ClientIP(r), Target: page.Name,
			Outcome: "failure: 403 not in a cluster admin group"})
	case err != nil:
		// Counted per address, not listed: the name may be a password typed
		// into the wrong field.
		c.audit.FailedAuth(auth.ClientIP(r), "", http.StatusUnauthorized, "console sign-in failed")
	}
	switch {
	case err == account.ErrThrottled:
		page.Error = account.ErrThrottled.Message
		c.render(w, r, http.StatusTooManyRequests, "signin.html", page)
		return
	case err == account.ErrNoConsoleAccess:
		page.Error = account.ErrNoConsoleAccess.Message
		c.render(w, r, http.StatusForbidden, "signin.html", page)
		return
	case errs.Is(err, errs.Unauthorized):
		page.Error = account.ErrSignIn.Message
		c.render(w, r, http.StatusUnauthorized, "signin.html", page)
		return
	case err != nil:
		c.serverError(w, r, err)
		return
	}
	// A new session every time: an old cookie (perhaps planted) is dropped.
	if old, err := r.Cookie(cookieName); err == nil {
		c.accounts.SignOut(r.Context(), old.Value)
	}
	setCookie(w, r, key)
	c.audit.Record(audit.Event{Action: "console.signin", User: u.ID, ClientAddr: auth.ClientIP(r), Target: u.ID, Outcome: audit.Success})
	http.Redirect(w, r, Prefix+"tokens", http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(cookieName); err == nil {
		if err := c.accounts.SignOut(r.Context(), ck.Value); err != nil {
			c.serverError(w, r, err)
			return
		}
	}
	clearCookie(w, r)
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}
