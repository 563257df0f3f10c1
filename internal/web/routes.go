package web

import (
	"io/fs"
	"net/http"
)

// routes registers every console route. State changes are POST only; the
// cross-origin check in New covers all of them.
func (c *Console) routes(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /cmc/static/", http.StripPrefix("/cmc/static/", staticFiles(http.FileServerFS(static))))

	mux.HandleFunc("GET /cmc/{$}", c.requireUser(c.home))
	mux.HandleFunc("GET /cmc/signin", c.signInForm)
	mux.HandleFunc("POST /cmc/signin", c.signIn)
	mux.HandleFunc("POST /cmc/signout", c.signOut)

	// Settings > API tokens.
	mux.HandleFunc("GET /cmc/tokens", c.requireUser(c.listTokens))
	mux.HandleFunc("GET /cmc/tokens/new", c.requireUser(c.newToken))
	mux.HandleFunc("POST /cmc/tokens", c.requireUser(c.createToken))
	mux.HandleFunc("POST /cmc/tokens/{id}/revoke", c.requireUser(c.revokeToken))
	mux.HandleFunc("POST /cmc/tokens/{id}/restore", c.requireUser(c.restoreToken))
	mux.HandleFunc("GET /cmc/tokens/{id}/delete", c.requireUser(c.confirmDelete))
	mux.HandleFunc("POST /cmc/tokens/{id}/delete", c.requireUser(c.deleteToken))

	// Settings > Audit log.
	mux.HandleFunc("GET /cmc/auditlog", c.requireUser(c.auditLog))

	// A GET to a POST-only route is a 405, not the 404 of the catch-all.
	for _, p := range []string{"/cmc/signout", "/cmc/tokens/{id}/revoke", "/cmc/tokens/{id}/restore"} {
		mux.HandleFunc("GET "+p, postOnly)
	}
	mux.HandleFunc("GET /cmc/", c.notFound)
}

func postOnly(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "POST")
	http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
}

// staticFiles lets browsers cache the embedded files for a while.
func staticFiles(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// home is the console's start page: the token list.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, Prefix+"tokens", http.StatusSeeOther)
}
