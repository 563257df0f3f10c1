package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

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
