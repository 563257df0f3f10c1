package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser is a plain HTTP client with a cookie jar that does not follow
// redirects, so tests see each answer of the console.
type browser struct {
	t    *testing.T
	s    *testServer
	c    *http.Client
	head map[string]string // sent with every request
}

func newBrowser(t *testing.T, s *testServer) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, s: s, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(method, path string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, err := http.NewRequest(method, b.s.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.head {
		r.Header.Set(k, v)
	}
	resp, err := b.c.Do(r)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	buf, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		b.t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, buf)
	}
	return page{Status: resp.StatusCode, Header: resp.Header, Body: string(buf)}
}

func (b *browser) get(path string) page { b.t.Helper(); return b.do("GET", path, nil) }

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	return b.do("POST", path, form)
}

func (b *browser) signIn(user, password string) page {
	b.t.Helper()
	return b.post("/cmc/signin", url.Values{"user": {user}, "password": {password}})
}

// signedIn returns a browser signed in as admin.
func signedIn(t *testing.T, s *testServer) *browser {
	t.Helper()
	b := newBrowser(t, s)
	if p := b.signIn("admin", adminPassword); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/cmc/tokens" {
		t.Fatalf("sign in: %d %s", p.Status, p.Body)
	}
	return b
}

func TestConsoleSignIn(t *testing.T) {
	s := startConsole(t)
	b := newBrowser(t, s)

	for _, path := range []string{"/cmc/", "/cmc/tokens", "/cmc/tokens/new", "/cmc/tokens/dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA/delete"} {
		if p := b.get(path); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/cmc/signin" {
			t.Errorf("GET %s without a session: %d to %q, want 303 to /cmc/signin", path, p.Status, p.Header.Get("Location"))
		}
	}
	if p := b.get("/"); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/cmc/" {
		t.Errorf("GET / = %d to %q, want 303 to /cmc/", p.Status, p.Header.Get("Location"))
	}
	p := b.get("/cmc/signin")
	if p.Status != 200 || !strings.Contains(p.Body, `name="password"`) {
		t.Fatalf("sign-in page: %d %s", p.Status, p.Body)
	}
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if strings.Contains(p.Body, "<script>") || strings.Contains(p.Body, " style=") || strings.Contains(p.Body, " onclick=") {
		t.Errorf("a console page carries inline script or style")
	}

	// Wrong user and wrong password: the same answer, byte for byte in
	// the message.
	wrongUser := b.signIn("nobody", adminPassword)
	wrongPass := b.signIn("admin", "not-the-password")
	for _, p := range []page{wrongUser, wrongPass} {
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "Wrong user name or password.") {
			t.Errorf("failed sign-in: %d %s", p.Status, p.Body)
		}
		if p.Header.Get("Set-Cookie") != "" {
			t.Errorf("failed sign-in set a cookie: %s", p.Header.Get("Set-Cookie"))
		}
	}
	for _, f := range []url.Values{{}, {"user": {"admin"}}, {"password": {"x"}}, {"user": {strings.Repeat("a", 5000)}, "password": {"x"}}} {
		if p := b.post("/cmc/signin", f); p.Status != http.StatusUnauthorized {
			t.Errorf("sign-in with %v: %d", f, p.Status)
		}
	}
	if p := b.do("POST", "/cmc/signin", nil); p.Status != http.StatusUnauthorized {
		t.Errorf("sign-in without a body: %d", p.Status)
	}

	// The right password: a session cookie with every safety attribute.
	p = b.signIn("admin", adminPassword)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", p.Status, p.Body)
	}
	ck := p.Header.Get("Set-Cookie")
	for _, want := range []string{"clusterapi_session=", "Path=/cmc/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(ck, want) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	if strings.Contains(ck, "Secure") {
		t.Errorf("session cookie over plain HTTP is Secure (the browser would drop it): %q", ck)
	}
	p = b.get("/cmc/tokens")
	if p.Status != 200 || !strings.Contains(p.Body, "API tokens") || p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token list: %d, Cache-Control %q", p.Status, p.Header.Get("Cache-Control"))
	}
	for _, want := range []string{"/rest-api-doc/?urls.primaryName=Cluster%20API%20v2", "/rest-api-doc/?urls.primaryName=Cluster%20API%20v1",
		`action="/cmc/signout"`, ">Settings<", ">API tokens<"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the console frame lacks %s", want)
		}
	}
	// Sign-out is POST only, and ends the session on the server: the old
	// cookie, replayed, opens nothing.
	if p := b.get("/cmc/signout"); p.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET /cmc/signout = %d, want 405", p.Status)
	}
	u, _ := url.Parse(s.URL + "/cmc/")
	old := b.c.Jar.Cookies(u)
	if p := b.post("/cmc/signout", url.Values{}); p.Status != http.StatusSeeOther {
		t.Errorf("sign-out: %d", p.Status)
	}
	b.c.Jar.SetCookies(u, old)
	if p := b.get("/cmc/tokens"); p.Status != http.StatusSeeOther {
		t.Errorf("old cookie after sign-out: %d, want 303 to sign-in", p.Status)
	}
}

func TestConsoleThrottle(t *testing.T) {
	s := startConsole(t)
	b := newBrowser(t, s)
	for i := range 5 {
		if p := b.signIn("admin", fmt.Sprintf("wrong-%d", i)); p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, p.Status)
		}
	}
	// Now even the right password is refused, with a message that says to
	// wait, and no session.
	p := b.signIn("admin", adminPassword)
	if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Body, "Too many failed sign-ins") {
		t.Errorf("sign-in after 5 failures: %d %s", p.Status, p.Body)
	}
	if p.Header.Get("Set-Cookie") != "" {
		t.Errorf("a throttled sign-in set a cookie")
	}
	if !strings.Contains(s.Log.String(), "sign-in throttled") {
		t.Errorf("the log does not mention the throttling")
	}
	// Per client address too: unknown names from the same address.
	for i := range 20 {
		b.signIn(fmt.Sprintf("user%d", i), "x")
	}
	if p := b.signIn("someone", "x"); p.Status != http.StatusTooManyRequests {
		t.Errorf("sign-in after 20 failures from one address: %d", p.Status)
	}
}

func TestConsoleSessionExpiry(t *testing.T) {
	store := "sqlite:" + filepath.Join(t.TempDir(), "data", "clusterapi.db")
	s := startServerEnv(t, store, map[string]string{"CLUSTERAPI_ADMIN_PASSWORD": adminPassword, "CLUSTERAPI_SESSION_IDLE": "1s"})
	b := signedIn(t, s)
	if p := b.get("/cmc/tokens"); p.Status != 200 {
		t.Fatalf("token list right after sign-in: %d", p.Status)
	}
	time.Sleep(1500 * time.Millisecond) // longer than the idle timeout
	if p := b.get("/cmc/tokens"); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/cmc/signin" {
		t.Errorf("token list after the idle timeout: %d to %q, want 303 to sign-in", p.Status, p.Header.Get("Location"))
	}
}

// The admin password is generated and logged once when none is given, and
// `user passwd` replaces it.
func TestConsoleAdminPassword(t *testing.T) {
	s := startServer(t)
	m := regexp.MustCompile(`created console user admin with a generated password.* password=(\S+)`).FindStringSubmatch(s.Log.String())
	if m == nil {
		t.Fatalf("no generated password in the log:\n%s", s.Log)
	}
	b := newBrowser(t, s)
	if p := b.signIn("admin", m[1]); p.Status != http.StatusSeeOther {
		t.Fatalf("sign-in with the logged password: %d %s", p.Status, p.Body)
	}
	var out, errOut bytes.Buffer
	err := userCommand(context.Background(), []string{"passwd", "admin", "--store", s.Store}, func(string) string { return "" },
		strings.NewReader("brand-new-password\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("user passwd: %v: %s", err, errOut.String())
	}
	if strings.Contains(out.String()+errOut.String(), "brand-new-password") {
		t.Errorf("user passwd printed the password")
	}
	// The old session is gone, the old password too.
	if p := b.get("/cmc/tokens"); p.Status != http.StatusSeeOther {
		t.Errorf("session after the password change: %d, want 303", p.Status)
	}
	if p := b.signIn("admin", m[1]); p.Status != http.StatusUnauthorized {
		t.Errorf("sign-in with the old password: %d", p.Status)
	}
	if p := b.signIn("admin", "brand-new-password"); p.Status != http.StatusSeeOther {
		t.Errorf("sign-in with the new password: %d", p.Status)
	}
	for _, tt := range []struct {
		args  []string
		stdin string
	}{
		{[]string{"passwd", "admin"}, "short\n"},
		{[]string{"passwd", "admin"}, ""},
		{[]string{"passwd", "nobody"}, "long-enough-pw\n"},
		{[]string{"passwd"}, "long-enough-pw\n"},
		{[]string{"chpass", "admin"}, "long-enough-pw\n"},
	} {
		err := userCommand(context.Background(), append(tt.args, "--store", s.Store), func(string) string { return "" },
			strings.NewReader(tt.stdin), io.Discard, io.Discard)
		if err == nil {
			t.Errorf("user %v with stdin %q: no error", tt.args, tt.stdin)
		}
	}
}

// Every bad input to the generate form shows the form again with the error
// next to the field, and stores nothing.
func TestConsoleGenerateBadInput(t *testing.T) {
	s := startConsole(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	b := signedIn(t, s)
	before := tokenCount(t, s, admin)
	good := func(change func(url.Values)) url.Values {
		v := url.Values{"name": {"ci"}, "scope": {"settings.read"}, "expiry": {"30d"}}
		change(v)
		return v
	}
	tests := []struct {
		name    string
		form    url.Values
		errorID string // the element that holds the message
		message string
	}{
		{"empty name", good(func(v url.Values) { v.Set("name", "") }), "name-error", "Enter a name"},
		{"blank name", good(func(v url.Values) { v.Set("name", "   ") }), "name-error", "Enter a name"},
		{"long name", good(func(v url.Values) { v.Set("name", strings.Repeat("n", 256)) }), "name-error", "at most 255"},
		{"control character", good(func(v url.Values) { v.Set("name", "a\x00b") }), "name-error", "control characters"},
		{"no permission", good(func(v url.Values) { v.Del("scope") }), "scopes-error", "at least one permission"},
		{"unknown permission", good(func(v url.Values) { v.Set("scope", "Everything") }), "scopes-error", "unknown scope"},
		{"duplicate permission", good(func(v url.Values) { v["scope"] = []string{"settings.read", "settings.read"} }), "scopes-error", "duplicate"},
		{"unbound tenant scope", good(func(v url.Values) { v.Set("scope", "TenantTokenManagement") }), "scopes-error", "TenantTokenManagement"},
		{"no expiry", good(func(v url.Values) { v.Del("expiry") }), "expiry-error", "Choose when"},
		{"unknown expiry", good(func(v url.Values) { v.Set("expiry", "1y") }), "expiry-error", "Choose when"},
		{"custom without date", good(func(v url.Values) { v.Set("expiry", "custom") }), "expiry-error", "Choose a date"},
		{"custom garbage", good(func(v url.Values) { v.Set("expiry", "custom"); v.Set("expires_on", "tomorrow") }), "expiry-error", "Choose a date"},
		{"custom in the past", good(func(v url.Values) { v.Set("expiry", "custom"); v.Set("expires_on", "2020-01-01") }), "expiry-error", "today or later"},
		{"custom too far", good(func(v url.Values) { v.Set("expiry", "custom"); v.Set("expires_on", "9999-12-31") }), "expiry-error", "within 100 years"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.post("/cmc/tokens", tt.form)
			if p.Status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", p.Status)
			}
			m := regexp.MustCompile(`id="` + tt.errorID + `">([^<]*)<`).FindStringSubmatch(p.Body)
			if m == nil || !strings.Contains(m[1], tt.message) {
				t.Errorf("no %s saying %q; page:\n%s", tt.errorID, tt.message, p.Body)
			}
			if strings.Contains(p.Body, `id="token"`) {
				t.Errorf("the form shows a token")
			}
		})
	}
	if got := tokenCount(t, s, admin); got != before {
		t.Errorf("bad forms stored %d tokens", got-before)
	}
	// What was typed comes back (escaped), so nothing has to be typed twice.
	p := b.post("/cmc/tokens", good(func(v url.Values) { v.Set("name", `"><b>x`); v.Del("scope") }))
	if !strings.Contains(p.Body, `value="&#34;&gt;&lt;b&gt;x"`) {
		t.Errorf("the name is not kept, escaped, in the form")
	}
	// A good form with a custom date works and expires at the end of that day.
	day := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
	p = b.post("/cmc/tokens", good(func(v url.Values) { v.Set("expiry", "custom"); v.Set("expires_on", day) }))
	if p.Status != 200 || !strings.Contains(p.Body, "expires: "+day[:8]) {
		t.Errorf("custom expiry: %d %s", p.Status, p.Body)
	}
	if tok := regexp.MustCompile(`dt0c01\.[A-Z2-7]{24}\.[A-Z2-7]{64}`).FindString(p.Body); tok != "" {
		s.remember(tok)
	}
}

// The page with the new token is never cached, the token is in no header,
// and the API accepts it at once; list, revoke, restore and delete go through
// the same rules as the API.
func TestConsoleTokens(t *testing.T) {
	s := startConsole(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	b := signedIn(t, s)
	p := b.post("/cmc/tokens", url.Values{"name": {"<img src=x onerror=alert(1)>"}, "scope": {"ServiceProviderAPI", "settings.read"}, "expiry": {"never"}})
	if p.Status != 200 {
		t.Fatalf("generate: %d %s", p.Status, p.Body)
	}
	tok := regexp.MustCompile(`id="token" type="text" readonly value="(dt0c01\.[A-Z2-7.]+)"`).FindStringSubmatch(p.Body)
	if tok == nil {
		t.Fatalf("no token in the read-only field:\n%s", p.Body)
	}
	s.remember(tok[1])
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the token page has Cache-Control %q, want no-store", cc)
	}
	for k, vs := range p.Header {
		if strings.Contains(strings.Join(vs, " "), tok[1][32:]) {
			t.Errorf("header %s holds the secret", k)
		}
	}
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/environments", token: tok[1]}); r.Status != 200 {
		t.Errorf("API with the console's token: %d", r.Status)
	}
	id := tok[1][:31]

	list := b.get("/cmc/tokens")
	if strings.Contains(list.Body, "<img src=x") || !strings.Contains(list.Body, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("the hostile name is not escaped in the list")
	}
	if !strings.Contains(list.Body, "Service Provider API, Read settings") {
		t.Errorf("the list does not show scope display names")
	}

	// Revoke, keeping the filter the list had.
	p = b.post("/cmc/tokens/"+id+"/revoke", url.Values{"name": {"img"}, "status": {"active"}, "page": {"1"}})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/cmc/tokens?") ||
		!strings.Contains(p.Header.Get("Location"), "name=img") {
		t.Errorf("revoke: %d to %q", p.Status, p.Header.Get("Location"))
	}
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/environments", token: tok[1]}); r.Status != 401 {
		t.Errorf("API with the revoked token: %d", r.Status)
	}
	if l := b.get(p.Header.Get("Location")); !strings.Contains(l.Body, "Token "+id+" revoked.") {
		t.Errorf("no notice after revoke")
	}
	if l := b.get("/cmc/tokens?status=revoked"); !strings.Contains(l.Body, id) || strings.Contains(l.Body, admin[:31]) {
		t.Errorf("status filter revoked is wrong")
	}
	if p := b.post("/cmc/tokens/"+id+"/restore", nil); p.Status != http.StatusSeeOther {
		t.Errorf("restore: %d", p.Status)
	}
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/environments", token: tok[1]}); r.Status != 200 {
		t.Errorf("API with the restored token: %d", r.Status)
	}
	if p := b.get("/cmc/tokens/" + id + "/delete"); p.Status != 200 || !strings.Contains(p.Body, "cannot be undone") {
		t.Errorf("delete confirmation: %d", p.Status)
	}
	if p := b.post("/cmc/tokens/"+id+"/delete", nil); p.Status != http.StatusSeeOther {
		t.Errorf("delete: %d", p.Status)
	}
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens/" + id, token: admin}); r.Status != 404 {
		t.Errorf("API after delete: %d", r.Status)
	}

	// Unknown, malformed and full-token ids, wrong methods: no 500, no
	// secret in a URL.
	for _, path := range []string{"/cmc/tokens/" + id + "/revoke", "/cmc/tokens/nonsense/revoke", "/cmc/tokens/" + tok[1] + "/delete",
		"/cmc/tokens/dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA/restore"} {
		if p := b.post(path, nil); p.Status != http.StatusSeeOther || !strings.Contains(p.Header.Get("Location"), "done=gone") {
			t.Errorf("POST %s: %d to %q, want 303 to the list saying it is gone", path, p.Status, p.Header.Get("Location"))
		}
	}
	if p := b.get("/cmc/tokens?done=gone"); !strings.Contains(p.Body, "That token does not exist any more.") {
		t.Errorf("done=gone shows no message")
	}
	if p := b.get("/cmc/tokens?done=revoked&token=%3Cscript%3E"); strings.Contains(p.Body, "revoked.") || strings.Contains(p.Body, "<script>") {
		t.Errorf("a made-up token id in the URL is shown")
	}
	for _, path := range []string{"/cmc/tokens/" + id + "/delete", "/cmc/tokens/x/delete"} {
		if p := b.get(path); p.Status != http.StatusSeeOther {
			t.Errorf("GET %s: %d", path, p.Status)
		}
	}
	if p := b.get("/cmc/tokens/" + id + "/revoke"); p.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET revoke: %d, want 405", p.Status)
	}
	if p := b.get("/cmc/nope"); p.Status != http.StatusNotFound {
		t.Errorf("GET /cmc/nope: %d, want 404", p.Status)
	}
	for _, q := range []string{"page=abc", "page=-1", "page=0", "page=99999999999999999999", "status=bogus", "name=%00%ff", "page=1000000"} {
		if p := b.get("/cmc/tokens?" + q); p.Status != 200 {
			t.Errorf("GET /cmc/tokens?%s: %d", q, p.Status)
		}
	}
}

// A state-changing request from another origin is refused and changes
// nothing, although it carries the session cookie.
func TestConsoleCrossOrigin(t *testing.T) {
	s := startConsole(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	b := signedIn(t, s)
	before := tokenCount(t, s, admin)
	form := url.Values{"name": {"planted"}, "scope": {"ClusterTokenManagement"}, "expiry": {"never"}}
	for _, h := range []map[string]string{
		{"Origin": "http://evil.example"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
	} {
		b.head = h
		if p := b.post("/cmc/tokens", form); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "another site") {
			t.Errorf("POST with %v: %d", h, p.Status)
		}
		if p := b.post("/cmc/tokens/"+admin[:31]+"/revoke", url.Values{}); p.Status != http.StatusForbidden {
			t.Errorf("revoke with %v: %d", h, p.Status)
		}
		if p := b.post("/cmc/signout", url.Values{}); p.Status != http.StatusForbidden {
			t.Errorf("sign-out with %v: %d", h, p.Status)
		}
	}
	if got := tokenCount(t, s, admin); got != before {
		t.Errorf("cross-origin posts stored %d tokens", got-before)
	}
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: admin}); r.Status != 200 {
		t.Errorf("the cross-origin revoke went through: %d", r.Status)
	}
	// Same origin is fine.
	b.head = map[string]string{"Origin": s.URL, "Sec-Fetch-Site": "same-origin"}
	if p := b.post("/cmc/tokens", form); p.Status != 200 {
		t.Errorf("same-origin POST: %d", p.Status)
	} else if tok := regexp.MustCompile(`dt0c01\.[A-Z2-7]{24}\.[A-Z2-7]{64}`).FindString(p.Body); tok != "" {
		s.remember(tok)
	}
}

// Paging reaches every token exactly once; filters narrow the list.
func TestConsolePaging(t *testing.T) {
	s := startConsole(t)
	admin := s.bootstrap(t, "ClusterTokenManagement")
	want := map[string]bool{admin[:31]: true}
	for i := range 120 {
		tok := s.mint(t, admin, fmt.Sprintf("paged-%03d", i), "settings.read")
		want[tok[:31]] = true
	}
	b := signedIn(t, s)
	idRE := regexp.MustCompile(`<tr data-id="(dt0c01\.[A-Z2-7]{24})"`)
	nextRE := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	seen := map[string]int{}
	path, pages := "/cmc/tokens", 0
	for path != "" {
		pages++
		if pages > 10 {
			t.Fatal("more pages than there can be")
		}
		p := b.get(path)
		ids := idRE.FindAllStringSubmatch(p.Body, -1)
		if len(ids) == 0 || len(ids) > 50 {
			t.Fatalf("page %d has %d rows", pages, len(ids))
		}
		for _, m := range ids {
			seen[m[1]]++
		}
		path = ""
		if m := nextRE.FindStringSubmatch(p.Body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if pages != 3 || len(seen) != len(want) {
		t.Errorf("walked %d pages and saw %d tokens, want 3 pages and %d tokens", pages, len(seen), len(want))
	}
	for id, n := range seen {
		if !want[id] || n != 1 {
			t.Errorf("token %s seen %d times (known: %v)", id, n, want[id])
		}
	}
	// Filters, and paging within them.
	if n := len(idRE.FindAllString(b.get("/cmc/tokens?name=PAGED-11").Body, -1)); n != 10 {
		t.Errorf("name filter PAGED-11: %d rows, want 10", n)
	}
	p := b.get("/cmc/tokens?name=paged&status=active&page=3")
	if n := len(idRE.FindAllString(p.Body, -1)); n != 20 || !strings.Contains(p.Body, `rel="prev"`) {
		t.Errorf("page 3 of the paged tokens: %d rows, want 20 and a previous link", n)
	}
	if p := b.get("/cmc/tokens?status=expired"); !strings.Contains(p.Body, "No token matches this filter.") {
		t.Errorf("empty filter result lacks its message")
	}
	if p := b.get("/cmc/tokens?page=9"); !strings.Contains(p.Body, "past the end") {
		t.Errorf("a page past the end lacks its message")
	}
}
