package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"clusterapi/internal/account"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
	"clusterapi/internal/web"
)

// newConsole serves a console over a fresh SQLite store with an admin whose
// password is "admin-password", behind TLS when tls is set.
func newConsole(t *testing.T, tls bool) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	accounts := account.NewService(db, account.Options{Hash: account.HashParams{Memory: 64, Time: 1, Threads: 1}})
	if _, _, _, err := accounts.EnsureAdmin(ctx, "admin-password"); err != nil {
		t.Fatal(err)
	}
	h := web.New(web.Config{Logger: slog.New(slog.DiscardHandler), Accounts: accounts, Tokens: token.NewService(db, token.Options{})})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}

// Over TLS the session cookie is Secure.
func TestSecureCookie(t *testing.T) {
	srv := newConsole(t, true)
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(srv.URL+"/cmc/signin", url.Values{"user": {"admin"}, "password": {"admin-password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ck := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(ck, "; Secure") || !strings.Contains(ck, "HttpOnly") {
		t.Errorf("sign-in over TLS: %d, cookie %q; want 303 and a Secure, HttpOnly cookie", resp.StatusCode, ck)
	}
}

// The static files are served with their types; pages carry the CSP.
func TestStatic(t *testing.T) {
	srv := newConsole(t, false)
	for path, want := range map[string]string{
		"/cmc/static/console.css": "text/css",
		"/cmc/static/console.js":  "text/javascript",
		"/cmc/signin":             "text/html",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) || len(body) == 0 {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: no Content-Security-Policy", path)
		}
	}
	resp, err := http.Get(srv.URL + "/cmc/static/nope.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET a missing static file: %d", resp.StatusCode)
	}
}

// The token list shows where a token was last used from (lastUseIp, an
// extension the API does not send).
func TestListShowsLastUseIP(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	accounts := account.NewService(db, account.Options{Hash: account.HashParams{Memory: 64, Time: 1, Threads: 1}})
	if _, _, _, err := accounts.EnsureAdmin(ctx, "admin-password"); err != nil {
		t.Fatal(err)
	}
	tokens := token.NewService(db, token.Options{})
	used, _, err := tokens.Create(ctx, token.Actor{UserID: "admin"}, token.CreateInput{Name: "used", Scopes: []token.Scope{token.Nodekeeper}})
	if err != nil {
		t.Fatal(err)
	}
	unused, _, err := tokens.Create(ctx, token.Actor{UserID: "admin"}, token.CreateInput{Name: "unused", Scopes: []token.Scope{token.Nodekeeper}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := tokens.RecordUses(ctx, []token.Use{{ID: used.ID, At: at, IP: "2001:db8::7"}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Config{Logger: slog.New(slog.DiscardHandler), Accounts: accounts, Tokens: tokens}))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(srv.URL+"/cmc/signin", url.Values{"user": {"admin"}, "password": {"admin-password"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	row := func(id string) string {
		i := strings.Index(page, `<tr data-id="`+id+`">`)
		if i < 0 {
			t.Fatalf("no row for %s in:\n%s", id, page)
		}
		j := strings.Index(page[i:], "</tr>")
		return page[i : i+j]
	}
	if r := row(used.ID); !strings.Contains(r, `2026-03-04 05:06 UTC <span class="from">from 2001:db8::7</span>`) {
		t.Errorf("the row of a used token does not say where from:\n%s", r)
	}
	if r := row(unused.ID); !strings.Contains(r, ">never</td>") || strings.Contains(r, "from") {
		t.Errorf("the row of an unused token:\n%s", r)
	}
}
