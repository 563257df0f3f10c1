package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"clusterapi/internal/account"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
	"clusterapi/internal/web"
)

// BenchmarkList renders pages of Settings > API tokens over a store of
// CLUSTERAPI_BENCH_TOKENS tokens (default 100000): the first page, a deep
// page, and the name and status filters.
func BenchmarkList(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CLUSTERAPI_BENCH_TOKENS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	batch := make([]*token.Token, 0, 50_000)
	for i := range n {
		s := token.Generate()
		t := &token.Token{ID: s.Reveal()[:token.IDLen], Hash: token.HashOf(s.Reveal()), Name: "bench " + strconv.Itoa(i),
			UserID: "admin", Created: now.Add(time.Duration(i) * time.Microsecond), Scopes: []token.Scope{token.SettingsRead}}
		if i%10 == 0 {
			t.Revoked = true
		}
		batch = append(batch, t)
		if len(batch) == cap(batch) || i == n-1 {
			if err := db.ImportTokens(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	accounts := account.NewService(db, account.Options{})
	if _, _, _, err := accounts.EnsureAdmin(ctx, "admin-password"); err != nil {
		b.Fatal(err)
	}
	_, key, err := accounts.SignIn(ctx, "admin", "admin-password", "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	h := web.New(web.Config{Logger: slog.New(slog.DiscardHandler), Accounts: accounts, Tokens: token.NewService(db, token.Options{})})
	for _, bc := range []struct{ name, query string }{
		{"first page", ""},
		{"page 1000", "?page=1000"},
		{"name filter", "?name=bench+1234"},
		{"status revoked", "?status=revoked"},
		{"status revoked page 100", "?status=revoked&page=100"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest("GET", "/cmc/tokens"+bc.query, nil)
				r.AddCookie(&http.Cookie{Name: "clusterapi_session", Value: key.Reveal()})
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("GET %s: %d", bc.query, w.Code)
				}
			}
		})
	}
}
