package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"clusterapi/internal/auth"
	"clusterapi/internal/errs"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

func newVerifier(tb testing.TB) (*auth.Verifier, *token.Service, *sqlite.DB) {
	tb.Helper()
	return newVerifierWith(tb, auth.Options{})
}

// newVerifierWith is newVerifier with options.
func newVerifierWith(tb testing.TB, o auth.Options) (*auth.Verifier, *token.Service, *sqlite.DB) {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "auth.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	tokens := token.NewService(db, token.Options{})
	return auth.NewVerifier(tokens, o), tokens, db
}

func mustCreate(tb testing.TB, tokens *token.Service, scopes ...token.Scope) (*token.Token, string) {
	tb.Helper()
	t, s, err := tokens.Create(context.Background(), token.Actor{UserID: "admin"}, token.CreateInput{Name: "t", Scopes: scopes})
	if err != nil {
		tb.Fatal(err)
	}
	return t, s.Reveal()
}

func TestCredential(t *testing.T) {
	tok := token.Generate().Reveal()
	tests := []struct {
		name   string
		header string
		query  string
		want   string
		wantOK bool
	}{
		{"none", "", "", "", false},
		{"header", "Api-Token " + tok, "", tok, true},
		{"header case and spaces", "aPi-ToKeN    " + tok + " \r\n", "", tok, true},
		{"header tab", "Api-Token\t" + tok, "", tok, true},
		{"other scheme", "Bearer " + tok, "", "", true},
		{"scheme glued", "Api-Token" + tok, "", "", true},
		{"query", "", "api-token=" + tok, tok, true},
		{"query capitalised", "", "a=1&Api-Token=" + tok + "&b=2", tok, true},
		{"query escaped spaces", "", "api-token=%20" + tok + "%0D%0A", tok, true},
		{"query plus", "", "api-token=+" + tok, tok, true},
		{"query bad escape", "", "api-token=%zz", "", true},
		{"header wins", "Api-Token abc", "api-token=" + tok, "abc", true},
		{"blank header falls back", "   ", "api-token=" + tok, tok, true},
		{"other parameter", "", "token=" + tok, "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/api/x?"+tt.query, nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		got, ok := auth.Credential(r)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: Credential = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

// FuzzCredential feeds arbitrary headers and queries to the credential
// parser: it must never panic, never return untrimmed text, and any token it
// finds in a well-formed header must be exactly what was sent.
func FuzzCredential(f *testing.F) {
	tok := token.Generate().Reveal()
	for _, seed := range [][2]string{
		{"Api-Token " + tok, ""}, {"", "api-token=" + tok}, {"Bearer x", ""}, {"api-token", ""},
		{"Api-Token \x00\r\n", "Api-Token=%00"}, {"Api-Token  dt0c01.", "api-token=%"}, {"", "&&=&api-token"},
	} {
		f.Add(seed[0], seed[1])
	}
	// Without throttling: every input must get the parser's answer, not a
	// 429 once enough of them have failed.
	v, _, _ := newVerifierWith(f, auth.Options{Throttle: &auth.ThrottleLimits{}})
	f.Fuzz(func(t *testing.T, header, query string) {
		r := &http.Request{Header: http.Header{}, URL: httptest.NewRequest("GET", "/", nil).URL}
		r.URL.RawQuery = query
		if header != "" {
			r.Header["Authorization"] = []string{header}
		}
		got, ok := auth.Credential(r)
		if got != token.TrimSpace(got) {
			t.Errorf("Credential(%q, %q) = %q: not trimmed", header, query, got)
		}
		if !ok && got != "" {
			t.Errorf("Credential(%q, %q) = %q without ok", header, query, got)
		}
		if token.IsFull(got) {
			if id, ok := token.ParseFull(got); !ok || !strings.HasPrefix(got, id) {
				t.Errorf("ParseFull(%q) = %q, %v", got, id, ok)
			}
		}
		// Verification of anything the parser returns fails cleanly.
		if !token.IsFull(got) {
			if _, err := v.Verify(context.Background(), got, "127.0.0.1"); !errs.Is(err, errs.Unauthorized) {
				t.Errorf("Verify(%q) = %v, want Unauthorized", got, err)
			}
		}
	})
}

func TestVerifier(t *testing.T) {
	ctx := context.Background()
	v, tokens, db := newVerifier(t)
	tok, secret := mustCreate(t, tokens, token.ClusterTokenManagement)
	for i := range 3 { // a miss, then hits
		p, err := v.Verify(ctx, secret, "10.0.0.1")
		if err != nil || p.TokenID != tok.ID || p.UserID != "admin" || !p.Scopes.Has(token.ClusterTokenManagement) {
			t.Fatalf("Verify #%d = %+v, %v", i, p, err)
		}
	}
	wrong := secret[:40] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, secret[40:41]) + secret[41:]
	if _, err := v.Verify(ctx, wrong, ""); err != token.ErrAuthFail {
		t.Errorf("Verify(wrong secret, cached id) = %v, want %v", err, token.ErrAuthFail)
	}
	// A change through the service reaches the cache before it returns.
	revoked := true
	if err := tokens.Update(ctx, token.Actor{}, tok.ID, token.Change{Revoked: &revoked}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, secret, ""); err != token.ErrRevoked {
		t.Errorf("Verify after revoke = %v, want %v", err, token.ErrRevoked)
	}
	// Last use reaches the store on Flush, never moving backwards.
	v.Flush(ctx)
	got, err := db.FindToken(ctx, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastUse.IsZero() || time.Since(got.LastUse) > 5*time.Second || got.LastUseIP != "10.0.0.1" {
		t.Errorf("after flush lastUse = %v %q", got.LastUse, got.LastUseIP)
	}
}

func TestVerifierExpiryOnCacheHit(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := func() time.Time { return now }
	tokens := token.NewService(db, token.Options{Now: clock})
	v := auth.NewVerifier(tokens, auth.Options{Now: clock})
	_, s, err := tokens.Create(ctx, token.Actor{}, token.CreateInput{Name: "x", Scopes: []token.Scope{token.Nodekeeper}, ExpiresIn: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, s.Reveal(), ""); err != nil {
		t.Fatalf("Verify before expiry = %v", err)
	}
	now = now.Add(time.Minute)
	if _, err := v.Verify(ctx, s.Reveal(), ""); err != token.ErrExpired {
		t.Errorf("Verify at expiry (cached) = %v, want %v", err, token.ErrExpired)
	}
}

// BenchmarkVerifyHit measures the request path on a cache hit: parse,
// checksum, map read, SHA-256, constant-time compare and the scope check.
func BenchmarkVerifyHit(b *testing.B) {
	ctx := context.Background()
	v, tokens, _ := newVerifier(b)
	_, secret := mustCreate(b, tokens, token.ClusterTokenManagement)
	need := token.SetOf(token.ClusterTokenManagement, token.ServiceProviderAPI)
	if _, err := v.Verify(ctx, secret, "127.0.0.1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p, err := v.Verify(ctx, secret, "127.0.0.1")
		if err != nil || !p.Scopes.Any(need) {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyHitParallel is the same with every core verifying.
func BenchmarkVerifyHitParallel(b *testing.B) {
	ctx := context.Background()
	v, tokens, _ := newVerifier(b)
	_, secret := mustCreate(b, tokens, token.ClusterTokenManagement)
	if _, err := v.Verify(ctx, secret, "127.0.0.1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, secret, "127.0.0.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyMiss measures a cache miss against SQLite.
func BenchmarkVerifyMiss(b *testing.B) {
	ctx := context.Background()
	v, tokens, _ := newVerifier(b)
	tok, secret := mustCreate(b, tokens, token.ClusterTokenManagement)
	b.ReportAllocs()
	for b.Loop() {
		v.Invalidate(tok.ID)
		if _, err := v.Verify(ctx, secret, "127.0.0.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRejectMalformed measures how cheaply a made-up token is refused
// and counted against its address (whose limit it never reaches here).
func BenchmarkRejectMalformed(b *testing.B) {
	ctx := context.Background()
	v, _, _ := newVerifierWith(b, auth.Options{Throttle: &auth.ThrottleLimits{PerAddress: 1 << 30, Window: time.Hour}})
	bad := token.Generate().Reveal()
	bad = bad[:len(bad)-1] + map[bool]string{true: "A", false: "Z"}[bad[len(bad)-1] == 'Z'] // the checksum fails
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, bad, "192.0.2.1"); err == nil {
			b.Fatal("accepted")
		}
	}
}

// TestVerifierRotation: a cached token that is rotated keeps verifying in its
// grace period, and is refused on the very next verification after its
// successor's first use, with no poll of the change log in between.
func TestVerifierRotation(t *testing.T) {
	ctx := context.Background()
	v, tokens, _ := newVerifier(t)
	old, oldSecret := mustCreate(t, tokens, token.Nodekeeper)
	if _, err := v.Verify(ctx, oldSecret, ""); err != nil { // now cached
		t.Fatal(err)
	}
	_, next, secret, err := tokens.Rotate(ctx, token.Actor{UserID: "admin"}, old.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := v.Verify(ctx, oldSecret, ""); err != nil {
			t.Fatalf("Verify(old, in grace) = %v", err)
		}
	}
	p, err := v.Verify(ctx, secret.Reveal(), "")
	if err != nil || p.TokenID != next.ID || !p.Scopes.Has(token.Nodekeeper) {
		t.Fatalf("Verify(new) = %+v, %v", p, err)
	}
	if _, err := v.Verify(ctx, oldSecret, ""); err != token.ErrRevoked {
		t.Errorf("Verify(old, after the new one's first use) = %v, want %v", err, token.ErrRevoked)
	}
	for range 2 { // the successor verifies from the store, then from the cache
		if _, err := v.Verify(ctx, secret.Reveal(), ""); err != nil {
			t.Errorf("Verify(new, again) = %v", err)
		}
	}
}

// BenchmarkRejectThrottled measures a refusal (429) of a throttled address.
func BenchmarkRejectThrottled(b *testing.B) {
	ctx := context.Background()
	v, _, _ := newVerifier(b)
	bad := token.Generate().Reveal()
	for range auth.DefaultThrottle.PerAddress {
		v.Verify(ctx, bad, "192.0.2.1")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, bad, "192.0.2.1"); !errs.Is(err, errs.Throttled) {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyHitWhileThrottling is BenchmarkVerifyHit while another
// address is throttled, so that every attempt is looked up in the table.
func BenchmarkVerifyHitWhileThrottling(b *testing.B) {
	ctx := context.Background()
	v, tokens, _ := newVerifier(b)
	_, secret := mustCreate(b, tokens, token.ClusterTokenManagement)
	for range auth.DefaultThrottle.PerAddress {
		v.Verify(ctx, "garbage", "192.0.2.1")
	}
	if _, err := v.Verify(ctx, secret, "192.0.2.1"); !errs.Is(err, errs.Throttled) {
		b.Fatalf("the other address is not throttled: %v", err)
	}
	if _, err := v.Verify(ctx, secret, "127.0.0.1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, secret, "127.0.0.1"); err != nil {
			b.Fatal(err)
		}
	}
}
