// Package web is the console under /cmc/: server-rendered html/template
// pages with one typed data struct each, embedded static files, sign-in
// sessions and cross-origin protection. Every token action goes through
// token.Service, so the console and the API follow the same rules.
package web

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"clusterapi/internal/account"
	"clusterapi/internal/audit"
	"clusterapi/internal/auth"
	"clusterapi/internal/errs"
	"clusterapi/internal/requestid"
	"clusterapi/internal/token"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console lives.
const Prefix = "/cmc/"

// cookieName names the session cookie.
const cookieName = "clusterapi_session"

// DefaultPageSize is how many tokens one page of the list shows.
const DefaultPageSize = 50

// csp forbids inline script and style and anything from elsewhere.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Config is what the console is made of.
type Config struct {
	Logger   *slog.Logger
	Accounts *account.Service
	Tokens   *token.Service
	Audit    *audit.Recorder // nil records nothing
	PageSize int             // DefaultPageSize when 0
}

// Console serves the console.
type Console struct {
	log      *slog.Logger
	accounts *account.Service
	tokens   *token.Service
	audit    *audit.Recorder
	pageSize int
	pages    map[string]*template.Template
	handler  http.Handler
}

// New returns the console.
func New(c Config) *Console {
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	con := &Console{log: c.Logger, accounts: c.Accounts, tokens: c.Tokens, audit: c.Audit, pageSize: c.PageSize,
		pages: parsePages()}
	mux := http.NewServeMux()
	con.routes(mux)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(con.crossOrigin))
	con.handler = cop.Handler(mux)
	return con
}

// ServeHTTP serves every /cmc/ path.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	c.handler.ServeHTTP(w, r)
}

// parsePages parses each page template together with the layout.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := n[len("templates/"):]
		if base == "layout.html" {
			continue
		}
		pages[base] = template.Must(template.New(base).ParseFS(templateFS, "templates/layout.html", n))
	}
	return pages
}

// formatTime shows a time to the minute in UTC, saying so; the zero time is
// "never" (or what ifZero says).
func formatTime(t time.Time, ifZero string) string {
	if t.IsZero() {
		return ifZero
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// layout is what every page's frame needs.
type layout struct {
	Title string
	User  string // the signed-in user; empty on the sign-in page
	Nav   string // the active menu entry
}

// render writes page name with data and status. Pages are never cached:
// they may show what only this user may see, or a token once.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		c.serverError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// messagePage is a page that only says something.
type messagePage struct {
	layout
	Message string
}

// serverError logs err with the request id and shows a page with that id
// only.
func (c *Console) serverError(w http.ResponseWriter, r *http.Request, err error) {
	id := requestid.FromContext(r.Context())
	c.log.Error("console error", "request_id", id, "path", token.Redact(r.URL.Path), "err", token.Redact(err.Error()))
	status := http.StatusInternalServerError
	msg := "Something went wrong on the server (request id " + id + ")."
	if errs.Is(err, errs.Unavailable) {
		status = http.StatusServiceUnavailable
		msg = "The store cannot be reached right now. Try again in a moment."
	}
	var buf bytes.Buffer
	if c.pages["message.html"].ExecuteTemplate(&buf, "layout", messagePage{layout: layout{Title: "Error"}, Message: msg}) != nil {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// crossOrigin answers a state-changing request sent from another site.
func (c *Console) crossOrigin(w http.ResponseWriter, r *http.Request) {
	c.log.Warn("cross-origin request refused", "request_id", requestid.FromContext(r.Context()),
		"method", r.Method, "path", token.Redact(r.URL.Path), "remote", auth.ClientIP(r))
	c.render(w, r, http.StatusForbidden, "message.html", messagePage{layout: layout{Title: "Refused"},
		Message: "This form was sent from another site, so it was refused. Open the console directly and try again."})
}

// notFound answers a console path that names nothing.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusNotFound, "message.html", messagePage{layout: layout{Title: "Not found"},
		Message: "There is no such page in the console."})
}

// userKey is the context key of the signed-in user.
type userKey struct{}

// signedIn returns the user a handler wrapped in requireUser serves.
func signedIn(ctx context.Context) *account.User {
	u, _ := ctx.Value(userKey{}).(*account.User)
	return u
}

// requireUser serves h only to a signed-in user; anyone else is sent to the
// sign-in page (and a stale cookie is cleared).
func (c *Console) requireUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := c.user(r)
		if err != nil && !errs.Is(err, errs.Unauthorized) {
			c.serverError(w, r, err)
			return
		}
		if u == nil {
			if _, err := r.Cookie(cookieName); err == nil {
				clearCookie(w, r)
			}
			http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	}
}

// user returns the user of the request's session, or nil.
func (c *Console) user(r *http.Request) (*account.User, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return nil, nil
	}
	return c.accounts.Authenticate(r.Context(), ck.Value)
}

// setCookie hands the browser its session key: HttpOnly, SameSite=Lax,
// Secure when the request came over TLS, scoped to the console.
func setCookie(w http.ResponseWriter, r *http.Request, key account.SessionKey) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: key.Reveal(), Path: Prefix,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

// record notes a console action of the signed-in user in the audit log.
func (c *Console) record(r *http.Request, action, target, detail string) {
	e := audit.Event{Action: action, ClientAddr: auth.ClientIP(r), Target: target, Outcome: audit.Success, Detail: detail}
	if u := signedIn(r.Context()); u != nil {
		e.User = u.ID
	}
	c.audit.Record(e)
}
