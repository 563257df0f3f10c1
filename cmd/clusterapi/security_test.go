package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// throttleFlags make throttling quick to reach and to wait out, with
// clients told apart by X-Forwarded-For from a proxy on loopback.
var throttleFlags = []string{"--trusted-proxy", "127.0.0.0/8",
	"--auth-throttle-address", "5", "--auth-throttle-token", "3", "--auth-throttle-window", "2s"}

// from is the header of a request a trusted proxy forwards for client ip.
func from(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }

// otherSecret returns a token with tok's id and another secret that still
// passes the checksum (n picks which), so that only the store refuses it.
func otherSecret(tok string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte(tok[:len(tok)-7])
	i := 32 + n%50
	b[i] = alphabet[(strings.IndexByte(alphabet, b[i])+1+n/50%31)%32]
	v := crc32.ChecksumIEEE(b)
	sum := make([]byte, 7)
	for i := 6; i >= 0; i-- {
		sum[i] = alphabet[v&31]
		v >>= 5
	}
	return string(b) + string(sum)
}

// retryAfter returns a 429's Retry-After, failing unless it is a whole
// number of seconds from 1 to max.
func retryAfter(t *testing.T, r response, max int) int {
	t.Helper()
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 || n > max {
		t.Fatalf("Retry-After %q, want 1 to %d", r.Header.Get("Retry-After"), max)
	}
	return n
}

// waitForLog waits until the server's log holds want.
func waitForLog(t *testing.T, s *testServer, want string) {
	t.Helper()
	waitWithin(t, 5*time.Second, "log line "+want, func() bool { return strings.Contains(s.Log.String(), want) })
}

// TestAuthThrottleAddress fails authentications from one client address up
// to the limit: the next request from there is refused, even with a valid
// token, until the window has passed; other addresses are not touched.
func TestAuthThrottleAddress(t *testing.T) {
	s := startServerOn(t, "sqlite:"+filepath.Join(t.TempDir(), "throttle.db"), throttleFlags...)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	revoked := s.mint(t, admin, "revoked", "ClusterTokenManagement")
	gone := s.mint(t, admin, "gone", "ClusterTokenManagement")
	for _, rq := range []req{
		{method: "PUT", path: tokensPath + "/" + revoked[:31], token: admin, body: map[string]any{"revoked": true}},
		{method: "DELETE", path: tokensPath + "/" + gone[:31], token: admin},
	} {
		if r := s.do(t, rq); r.Status != 204 {
			t.Fatalf("%s %s: %d %s", rq.method, rq.path, r.Status, r.Body)
		}
	}
	r := s.do(t, req{method: "POST", path: tokensPath, token: admin, body: map[string]any{
		"name": "expired", "scopes": []string{"ClusterTokenManagement"}, "expiresIn": map[string]any{"value": 1, "unit": "MILLIS"}}})
	expired, _ := r.json(t)["token"].(string)
	s.remember(expired)
	time.Sleep(5 * time.Millisecond)

	const a, b = "203.0.113.1", "203.0.113.2"
	get := func(ip, auth string) response {
		t.Helper()
		h := from(ip)
		if auth != "" {
			h["Authorization"] = auth
		}
		return s.do(t, req{method: "GET", path: tokensPath, header: h})
	}
	// Neither a missing token nor a revoked or expired one counts.
	for range 10 {
		for auth, want := range map[string]string{"": "Missing authorization parameter.",
			"Api-Token " + revoked: "Token has been revoked", "Api-Token " + expired: "Token has expired"} {
			if r := get(a, auth); r.Status != 401 || r.errorMessage(t) != want {
				t.Fatalf("%q from %s: %d %s", auth, a, r.Status, r.Body)
			}
		}
	}
	// Five failures of every kind are answered 401 ...
	badChecksum := admin[:len(admin)-1] + map[bool]string{true: "B", false: "A"}[admin[len(admin)-1] == 'A']
	for _, auth := range []string{"Api-Token dt0c01.abc", "Api-Token " + badChecksum,
		"Api-Token " + gone, "Api-Token " + otherSecret(admin, 1), "Bearer " + admin} {
		if r := get(a, auth); r.Status != 401 || r.errorMessage(t) != "Token Authentication failed" {
			t.Fatalf("failure from %s: %d %s", a, r.Status, r.Body)
		}
	}
	// ... and from then on that address gets 429 in the envelope, valid
	// token or not; another address is not touched.
	first := get(a, "Api-Token "+admin)
	if first.Status != 429 {
		t.Fatalf("valid token from the throttled address: %d %s", first.Status, first.Body)
	}
	wait := retryAfter(t, first, 2)
	if got := string(first.Body); got != `{"error":{"code":429,"message":"Too many failed authentications from this client address. Try again later."}}`+"\n" {
		t.Errorf("429 body %s", got)
	}
	if r := get(b, "Api-Token "+admin); r.Status != 200 {
		t.Errorf("valid token from another address: %d %s", r.Status, r.Body)
	}
	if r := get(b, "Api-Token dt0c01.abc"); r.Status != 401 {
		t.Errorf("a failure from another address: %d %s", r.Status, r.Body)
	}
	for _, auth := range []string{"", "Api-Token dt0c01.abc", "Api-Token " + admin} {
		if r := get(a, auth); r.Status != 429 || r.errorMessage(t) == "" {
			t.Errorf("%q from the throttled address: %d %s", auth, r.Status, r.Body)
		}
	}
	if r := s.do(t, req{method: "POST", path: "/api/v1.0/onpremise/users", header: from(a), body: "{}"}); r.Status != 429 {
		t.Errorf("POST v1 users from the throttled address: %d %s", r.Status, r.Body)
	}
	waitForLog(t, s, `level=WARN msg="authentication throttled: too many failures from one client address" remote=203.0.113.1 failures=5`)
	waitForLog(t, s, "status=429")
	if !strings.Contains(s.Log.String(), "status=429 bytes=") || !strings.Contains(s.Log.String(), "remote=203.0.113.1 proxy=127.0.0.1") {
		t.Errorf("the access log does not show the refusals from the client address")
	}
	// When the window has passed the address is heard again.
	time.Sleep(time.Duration(wait) * time.Second)
	if r := get(a, "Api-Token "+admin); r.Status != 200 {
		t.Errorf("valid token from %s after Retry-After: %d %s", a, r.Status, r.Body)
	}
}

// TestAuthThrottleToken guesses secrets of one token id from several
// addresses: past the limit those addresses are refused on that id, while
// its holder, elsewhere, is heard. Unknown ids are treated alike.
func TestAuthThrottleToken(t *testing.T) {
	s := startServerOn(t, "sqlite:"+filepath.Join(t.TempDir(), "throttle.db"), throttleFlags...)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	victim := s.mint(t, admin, "victim", "ClusterTokenManagement")
	unknown := otherSecret(s.mint(t, admin, "deleted", "ClusterTokenManagement"), 7)
	if r := s.do(t, req{method: "DELETE", path: tokensPath + "/" + unknown[:31], token: admin}); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	use := func(ip, tok string) response {
		t.Helper()
		return s.do(t, req{method: "GET", path: tokensPath, token: tok, header: from(ip)})
	}
	guessers := []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"}
	var bodies []string
	for _, tok := range []string{victim, unknown} {
		for i, ip := range guessers {
			if r := use(ip, otherSecret(tok, i+1)); r.Status != 401 {
				t.Fatalf("guess %d on %s: %d %s", i+1, tok[:31], r.Status, r.Body)
			}
		}
		// The id is now refused to those addresses, the right secret too.
		for _, try := range []string{otherSecret(tok, 9), tok} {
			r := use(guessers[0], try)
			if r.Status != 429 {
				t.Fatalf("after 3 guesses on %s: %d %s", tok[:31], r.Status, r.Body)
			}
			retryAfter(t, r, 2)
			bodies = append(bodies, string(r.Body))
		}
	}
	for _, b := range bodies {
		if b != `{"error":{"code":429,"message":"Too many failed authentications for this token. Try again later."}}`+"\n" {
			t.Errorf("429 body %s", b)
		}
	}
	// A guesser's other tokens still work, and the holder, from an
	// address that has not failed, is heard.
	if r := use(guessers[1], admin); r.Status != 200 {
		t.Errorf("another token from a guesser's address: %d %s", r.Status, r.Body)
	}
	if r := use("192.0.2.10", victim); r.Status != 200 {
		t.Errorf("the victim's holder from a fresh address: %d %s", r.Status, r.Body)
	}
	// A fresh address gets one guess on the id before it too is refused.
	if r := use("192.0.2.11", otherSecret(victim, 20)); r.Status != 401 {
		t.Errorf("first guess from a fresh address: %d %s", r.Status, r.Body)
	}
	if r := use("192.0.2.11", otherSecret(victim, 21)); r.Status != 429 {
		t.Errorf("second guess from that address: %d %s", r.Status, r.Body)
	}
	waitForLog(t, s, `msg="authentication throttled: too many failures naming one token id; refused to the addresses that failed on it" token_id=`+victim[:31])
	time.Sleep(2 * time.Second)
	if r := use(guessers[0], victim); r.Status != 200 {
		t.Errorf("the right secret from a guesser's address after the window: %d %s", r.Status, r.Body)
	}
}

// TestProxyClientAddress takes the client from X-Forwarded-For of a trusted
// proxy everywhere: lastUseIp in the console, the access log and the
// console's sign-in throttling.
func TestProxyClientAddress(t *testing.T) {
	store := "sqlite:" + filepath.Join(t.TempDir(), "data", "clusterapi.db")
	s := startServerEnv(t, store, map[string]string{"CLUSTERAPI_ADMIN_PASSWORD": adminPassword}, "--trusted-proxy", "127.0.0.1")
	admin := s.bootstrap(t, "ClusterTokenManagement")
	if r := s.do(t, req{method: "GET", path: tokensPath, token: admin,
		header: from("192.0.2.99, 198.51.100.7, 127.0.0.1")}); r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	b := signedIn(t, s)
	waitWithin(t, 5*time.Second, "last use from 198.51.100.7 in the console", func() bool {
		return strings.Contains(b.get("/cmc/tokens").Body, `<span class="from">from 198.51.100.7</span>`)
	})
	waitForLog(t, s, "token_id="+admin[:31]+" remote=198.51.100.7 proxy=127.0.0.1")
	// The API does not send lastUseIp: it is for the console and the log.
	if r := s.do(t, req{method: "GET", path: tokensPath + "/" + admin[:31], token: admin}); strings.Contains(string(r.Body), "198.51.100.7") {
		t.Errorf("token metadata holds the last use address: %s", r.Body)
	}
	// Sign-in failures count against the client, not against the proxy.
	guesser := newBrowser(t, s)
	guesser.head = from("203.0.113.50")
	for i := range 20 {
		if p := guesser.signIn(fmt.Sprintf("nobody%d", i), "wrong-password"); p.Status != http.StatusUnauthorized {
			t.Fatalf("sign-in failure %d: %d", i+1, p.Status)
		}
	}
	if p := guesser.signIn("admin", adminPassword); p.Status != http.StatusTooManyRequests {
		t.Errorf("sign-in from the throttled client: %d", p.Status)
	}
	other := newBrowser(t, s)
	other.head = from("203.0.113.51")
	if p := other.signIn("admin", adminPassword); p.Status != http.StatusSeeOther {
		t.Errorf("sign-in from another client behind the same proxy: %d", p.Status)
	}
	if !strings.Contains(s.Log.String(), `msg="sign-in throttled" remote=203.0.113.50`) {
		t.Errorf("the sign-in throttling is not logged under the client address")
	}
}

// TestProxyHeadersIgnored checks that X-Forwarded-For is ignored without
// --trusted-proxy, and from a peer that is not a trusted proxy: every
// failure counts against the peer, and lastUseIp is the peer's.
func TestProxyHeadersIgnored(t *testing.T) {
	for _, flags := range [][]string{nil, {"--trusted-proxy", "10.0.0.0/8"}} {
		t.Run(strings.Join(append([]string{"proxies"}, flags...), " "), func(t *testing.T) {
			store := "sqlite:" + filepath.Join(t.TempDir(), "data", "clusterapi.db")
			s := startServerEnv(t, store, map[string]string{"CLUSTERAPI_ADMIN_PASSWORD": adminPassword},
				append(flags, "--auth-throttle-address", "3")...)
			admin := s.bootstrap(t, "ClusterTokenManagement")
			if r := s.do(t, req{method: "GET", path: tokensPath, token: admin, header: from("198.51.100.7")}); r.Status != 200 {
				t.Fatalf("list: %d", r.Status)
			}
			for i := range 3 {
				if r := s.do(t, req{method: "GET", path: tokensPath, token: "dt0c01.x", header: from(fmt.Sprintf("198.51.100.%d", 10+i))}); r.Status != 401 {
					t.Fatalf("failure %d: %d", i+1, r.Status)
				}
			}
			r := s.do(t, req{method: "GET", path: tokensPath, token: admin, header: from("198.51.100.20")})
			if r.Status != 429 {
				t.Errorf("a fourth address named by a header: %d, want 429 (every failure came from the peer)", r.Status)
			}
			b := signedIn(t, s)
			waitWithin(t, 5*time.Second, "last use from 127.0.0.1 in the console", func() bool {
				return strings.Contains(b.get("/cmc/tokens").Body, `<span class="from">from 127.0.0.1</span>`)
			})
			if l := s.Log.String(); strings.Contains(l, "198.51.100") || strings.Contains(l, " proxy=") {
				t.Errorf("the log names an address from X-Forwarded-For:\n%s", l)
			}
		})
	}
}

// TestTrustedProxyFlags checks the environment variable, that flags replace
// it, and that a bad value stops the server with a message.
func TestTrustedProxyFlags(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		flags   []string
		wantErr string
		trusted bool // is the loopback peer trusted
	}{
		{"env", "10.0.0.0/8, 127.0.0.1/32", nil, "", true},
		{"flag replaces env", "127.0.0.0/8", []string{"--trusted-proxy", "10.0.0.1"}, "", false},
		{"bad env", "10.0.0.0/8,nonsense", nil, `CLUSTERAPI_TRUSTED_PROXIES: trusted proxy "nonsense": not a CIDR or an IP address`, false},
		{"bad flag", "", []string{"--trusted-proxy", "10.0.0.0/40"}, `trusted proxy "10.0.0.0/40"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"CLUSTERAPI_TRUSTED_PROXIES": tt.env}
			store := "sqlite:" + filepath.Join(t.TempDir(), "data", "clusterapi.db")
			if tt.wantErr != "" {
				var stderr strings.Builder
				err := run(context.Background(), append([]string{"serve", "--listen", "127.0.0.1:0", "--store", store}, tt.flags...),
					func(k string) string { return env[k] }, io.Discard, &stderr)
				if err == nil || !strings.Contains(err.Error()+stderr.String(), tt.wantErr) {
					t.Errorf("serve = %v (%s), want an error saying %s", err, stderr.String(), tt.wantErr)
				}
				return
			}
			s := startServerEnv(t, store, env, tt.flags...)
			admin := s.bootstrap(t, "ClusterTokenManagement")
			s.do(t, req{method: "GET", path: tokensPath, token: admin, header: from("198.51.100.7")})
			waitForLog(t, s, "token_id="+admin[:31])
			if got := strings.Contains(s.Log.String(), "remote=198.51.100.7 proxy=127.0.0.1"); got != tt.trusted {
				t.Errorf("the header was believed: %v, want %v", got, tt.trusted)
			}
		})
	}
}

// TestThrottleFlags checks the throttle's settings from the environment
// and bad values.
func TestThrottleFlags(t *testing.T) {
	store := "sqlite:" + filepath.Join(t.TempDir(), "data", "clusterapi.db")
	s := startServerEnv(t, store, map[string]string{"CLUSTERAPI_AUTH_THROTTLE_ADDRESS": "2", "CLUSTERAPI_AUTH_THROTTLE_WINDOW": "1m"})
	admin := s.bootstrap(t, "ClusterTokenManagement")
	for range 2 {
		s.do(t, req{method: "GET", path: tokensPath, token: "dt0c01.x"})
	}
	if r := s.do(t, req{method: "GET", path: tokensPath, token: admin}); r.Status != 429 || retryAfter(t, r, 60) < 55 {
		t.Errorf("after 2 failures with CLUSTERAPI_AUTH_THROTTLE_ADDRESS=2: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	off := startServerOn(t, "sqlite:"+filepath.Join(t.TempDir(), "off.db"), "--auth-throttle-address", "0", "--auth-throttle-token", "0")
	offAdmin := off.bootstrap(t, "ClusterTokenManagement")
	for range 40 {
		off.do(t, req{method: "GET", path: tokensPath, token: otherSecret(offAdmin, 3)})
	}
	if r := off.do(t, req{method: "GET", path: tokensPath, token: offAdmin}); r.Status != 200 {
		t.Errorf("with throttling off, after 40 failures: %d", r.Status)
	}
	for _, bad := range []struct {
		env   map[string]string
		flags []string
		want  string
	}{
		{nil, []string{"--auth-throttle-address", "-1"}, "must not be negative"},
		{nil, []string{"--auth-throttle-window", "0s"}, "--auth-throttle-window must be positive"},
		{map[string]string{"CLUSTERAPI_AUTH_THROTTLE_TOKEN": "ten"}, nil, `CLUSTERAPI_AUTH_THROTTLE_TOKEN: "ten" is not a whole number`},
		{map[string]string{"CLUSTERAPI_AUTH_THROTTLE_WINDOW": "soon"}, nil, "CLUSTERAPI_AUTH_THROTTLE_WINDOW"},
		{nil, []string{"--read-header-timeout", "0s"}, "--read-header-timeout must be positive"},
	} {
		err := run(context.Background(), append([]string{"serve", "--listen", "127.0.0.1:0", "--store", store + "-bad"}, bad.flags...),
			func(k string) string { return bad.env[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("serve %v %v = %v, want an error saying %s", bad.env, bad.flags, err, bad.want)
		}
	}
}

// testCert writes a self-signed ECDSA certificate for 127.0.0.1 and its key
// to files and returns their paths and a pool that trusts it.
func testCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "clusterapi test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS serves HTTPS with a certificate made here: HSTS on every
// response, a Secure session cookie, nothing below TLS 1.2, and no
// plain-HTTP warning.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := testCert(t)
	tlsClient := func(c *tls.Config) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: c}, Timeout: 10 * time.Second}
	}
	client := tlsClient(&tls.Config{RootCAs: pool})
	store := "sqlite:" + filepath.Join(t.TempDir(), "data", "clusterapi.db")
	// From the environment, as an operator's unit file would set it.
	s := startServerWith(t, store, map[string]string{"CLUSTERAPI_ADMIN_PASSWORD": adminPassword,
		"CLUSTERAPI_TLS_CERT": certFile, "CLUSTERAPI_TLS_KEY": keyFile}, client)
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s, want https://127.0.0.1:...", s.URL)
	}
	admin := s.bootstrap(t, "ClusterTokenManagement")
	if r := s.do(t, req{method: "GET", path: tokensPath, token: admin}); r.Status != 200 {
		t.Errorf("list tokens over TLS: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{tokensPath, "/healthz", "/readyz", "/cmc/signin", "/rest-api-doc/", "/"} {
		resp, err := client.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 || resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
			t.Errorf("GET %s over TLS: %d, Strict-Transport-Security %q", path, resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
		}
	}
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, s: s, c: &http.Client{Jar: jar, Transport: client.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	p := b.signIn("admin", adminPassword)
	if ck := p.Header.Get("Set-Cookie"); p.Status != http.StatusSeeOther || !strings.Contains(ck, "; Secure") {
		t.Errorf("sign-in over TLS: %d, cookie %q; want a Secure cookie", p.Status, ck)
	}
	if l := b.get("/cmc/tokens"); l.Status != 200 || l.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("console over TLS: %d, Strict-Transport-Security %q", l.Status, l.Header.Get("Strict-Transport-Security"))
	}
	// TLS 1.1 is refused; TLS 1.2 is enough.
	for v, ok := range map[uint16]bool{tls.VersionTLS11: false, tls.VersionTLS12: true} {
		resp, err := tlsClient(&tls.Config{RootCAs: pool, MinVersion: v, MaxVersion: v}).Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		if (err == nil) != ok {
			t.Errorf("TLS version %x: err %v, want success %v", v, err, ok)
		}
	}
	// Plain HTTP to the TLS port gets no API answer.
	resp, err := http.Get("http://" + strings.TrimPrefix(s.URL, "https://") + tokensPath)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || strings.Contains(string(body), "error") {
			t.Errorf("plain HTTP to the TLS port: %d %s", resp.StatusCode, body)
		}
	}
	if strings.Contains(s.Log.String(), "plain HTTP") {
		t.Errorf("a TLS server warns about plain HTTP:\n%s", s.Log.String())
	}
}

// TestTLSFlags checks that certificate and key go together, and that an
// unreadable pair stops the server before it listens, saying why.
func TestTLSFlags(t *testing.T) {
	certFile, keyFile, _ := testCert(t)
	otherCert, _, _ := testCert(t)
	store := "sqlite:" + filepath.Join(t.TempDir(), "data", "clusterapi.db")
	for _, tt := range []struct {
		name  string
		flags []string
		env   map[string]string
		want  string
	}{
		{"cert only", []string{"--tls-cert", certFile}, nil, "--tls-cert and --tls-key go together"},
		{"key only from env", nil, map[string]string{"CLUSTERAPI_TLS_KEY": keyFile}, "--tls-cert and --tls-key go together"},
		{"missing file", []string{"--tls-cert", certFile + ".nope", "--tls-key", keyFile}, nil, "load --tls-cert"},
		{"key of another certificate", []string{"--tls-cert", otherCert, "--tls-key", keyFile}, nil, "private key does not match public key"},
		{"key as certificate", []string{"--tls-cert", keyFile, "--tls-key", keyFile}, nil, "load --tls-cert"},
	} {
		var stderr strings.Builder
		err := run(context.Background(), append([]string{"serve", "--listen", "127.0.0.1:0", "--store", store}, tt.flags...),
			func(k string) string { return tt.env[k] }, io.Discard, &stderr)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: serve = %v, want an error saying %s", tt.name, err, tt.want)
		}
		if strings.Contains(stderr.String(), "msg=listening") {
			t.Errorf("%s: the server listened", tt.name)
		}
		if key, _ := os.ReadFile(keyFile); err != nil && strings.Contains(err.Error(), strings.Split(string(key), "\n")[1]) {
			t.Errorf("%s: the error quotes the private key", tt.name)
		}
	}
}

// TestPlainHTTPWarning: plain HTTP on a non-loopback address is a WARN;
// on loopback it is not.
func TestPlainHTTPWarning(t *testing.T) {
	s := startServerOn(t, "sqlite:"+filepath.Join(t.TempDir(), "wild.db"), "--listen", "0.0.0.0:0")
	if !strings.Contains(s.Log.String(), `level=WARN msg="serving plain HTTP on a non-loopback address`) {
		t.Errorf("no warning for plain HTTP on 0.0.0.0:\n%s", s.Log.String())
	}
	local := startServer(t)
	if strings.Contains(local.Log.String(), "plain HTTP") {
		t.Errorf("a warning for plain HTTP on loopback:\n%s", local.Log.String())
	}
}

// TestSecurityHeadersServed checks, on the real server, the headers of every
// kind of response: API (success and error), probes, console, explorer,
// static files and redirects.
func TestSecurityHeadersServed(t *testing.T) {
	s := startServer(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{tokensPath, tokensPath + "?api-token=" + admin, "/api/cluster/v2/nothing", "/api/cluster/v2/spec3.json",
		"/healthz", "/readyz", "/", "/cmc/", "/cmc/signin", "/cmc/static/console.css", "/rest-api-doc/", "/nothing"} {
		resp, err := c.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := h.Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", noQuery(path), k, got, want)
			}
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q without frame-ancestors 'none'", noQuery(path), csp)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("GET %s: HSTS over plain HTTP", noQuery(path))
		}
	}
}

// noQuery cuts the query off a path, for messages.
func noQuery(path string) string { p, _, _ := strings.Cut(path, "?"); return p }

// TestSlowHeaders sends a request's headers a byte at a time: the server
// cuts the connection when the header timeout is up, and serves others
// meanwhile.
func TestSlowHeaders(t *testing.T) {
	s := startServerOn(t, "sqlite:"+filepath.Join(t.TempDir(), "slow.db"), "--read-header-timeout", "300ms")
	u, _ := url.Parse(s.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: "+u.Host+"\r\n"); err != nil {
		t.Fatal(err)
	}
	// When the timeout is up the server closes the connection. Its reader
	// hands on the part of a header line that has arrived as if it were
	// whole: if that part lacks its colon, Go answers 400 first.
	closed := make(chan time.Duration, 1)
	go func() {
		br := bufio.NewReader(conn)
		line, _ := br.ReadString('\n')
		if line != "" && !strings.HasPrefix(line, "HTTP/1.1 400 ") {
			t.Errorf("the slow client got an answer: %q", line)
		}
		io.Copy(io.Discard, br) // until the server closes
		closed <- time.Since(start)
	}()
	var cut time.Duration
	for i := 0; cut == 0; i++ {
		select {
		case cut = <-closed:
		case <-time.After(20 * time.Millisecond):
			if time.Since(start) > 5*time.Second {
				t.Fatal("the slow client was not cut off within 5s")
			}
			conn.Write([]byte{"X-Slow: abcdefghijklmnopqrstuvwxyz"[i%30]}) // may fail once cut
		}
		if i == 5 { // meanwhile another client is served
			if r := s.do(t, req{method: "GET", path: "/healthz"}); r.Status != 200 {
				t.Errorf("healthz while a slow client sends headers: %d", r.Status)
			}
		}
	}
	if cut < 250*time.Millisecond || cut > 3*time.Second {
		t.Errorf("the slow client was cut off after %v, want about 300ms", cut)
	}
	t.Logf("the slow client was cut off after %v", cut.Round(time.Millisecond))
}
