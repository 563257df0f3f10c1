package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"clusterapi/internal/browsertest"
)

// adminPassword is the console password the console tests start with.
const adminPassword = "console-admin-pw"

// startConsole starts a server whose admin password is adminPassword.
func startConsole(t *testing.T) *testServer {
	t.Helper()
	store := "sqlite:" + filepath.Join(t.TempDir(), "data", "clusterapi.db")
	s := startServerEnv(t, store, map[string]string{"CLUSTERAPI_ADMIN_PASSWORD": adminPassword})
	t.Cleanup(func() {
		if strings.Contains(s.Log.String(), adminPassword) {
			t.Errorf("the log contains the admin password")
		}
	})
	return s
}

// step runs browser actions and fails the test, naming the step, on error.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one browser action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// screenshotDir is where the browser test leaves screenshots for reviewers.
var screenshotDir = filepath.Join(os.TempDir(), "clusterapi-console-screenshots")

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(screenshotDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	fmt.Printf("console screenshot: %s\n", path)
}

var tokenRE = regexp.MustCompile(`^dt0c01\.[A-Z2-7]{24}\.[A-Z2-7]{64}$`)

// The whole life of a token in the console, in a real browser: sign in (after
// a failed try), generate a token with two permissions, read it from the copy
// field, use it, revoke it and see the API refuse it at once, restore it,
// delete it; a hostile name stays text; a cross-site form is refused; after
// sign-out the console sends the browser back to sign-in.
func TestConsoleBrowser(t *testing.T) {
	s := startConsole(t)
	ctx := browsertest.New(t)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	const hostile = `<img src=x onerror=alert(1)>`

	// No session: the console sends the browser to sign-in.
	step(t, ctx, "open the console", chromedp.Navigate(s.URL+"/cmc/tokens"), chromedp.WaitVisible(css("form.signin")))
	if loc := get(t, ctx, "location", chromedp.Location()); loc != s.URL+"/cmc/signin" {
		t.Errorf("without a session /cmc/tokens lands on %s, want the sign-in page", loc)
	}

	// A wrong password: the same message as for a wrong user.
	step(t, ctx, "failed sign-in",
		chromedp.SendKeys(css("#user"), "admin"),
		chromedp.SendKeys(css("#password"), "not-the-password"),
		chromedp.Click(css("form.signin button[type=submit]")),
		chromedp.WaitVisible(css("#signin-error")))
	if msg := get(t, ctx, "error text", chromedp.Text(css("#signin-error"))); msg != "Wrong user name or password." {
		t.Errorf("failed sign-in says %q", msg)
	}
	step(t, ctx, "sign in",
		chromedp.SetValue(css("#user"), "admin"),
		chromedp.SendKeys(css("#password"), adminPassword),
		chromedp.Click(css("form.signin button[type=submit]")),
		chromedp.WaitVisible(css("#generate")))

	// Generate a token with two permissions and a hostile name.
	step(t, ctx, "open the generate form", chromedp.Click(css("#generate")), chromedp.WaitVisible(css("#save")))
	if hidden := get(t, ctx, "warning", chromedp.Evaluate[bool](`document.getElementById("ctm-warning").hidden`)); !hidden {
		t.Errorf("the ClusterTokenManagement warning shows before the box is ticked")
	}
	step(t, ctx, "fill in the form",
		chromedp.SendKeys(css("#name"), hostile),
		chromedp.Click(css(`input[value="ClusterTokenManagement"]`)),
		chromedp.Click(css(`input[value="settings.read"]`)),
		chromedp.Click(css("#expiry-7d")))
	if hidden := get(t, ctx, "warning", chromedp.Evaluate[bool](`document.getElementById("ctm-warning").hidden`)); hidden {
		t.Errorf("the ClusterTokenManagement warning is hidden with the box ticked")
	}
	screenshot(t, ctx, "token-form")
	groups := get(t, ctx, "groups", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("fieldset.group > legend")).map(l => l.textContent)`))
	if len(groups) != len(slices.Compact(slices.Sorted(slices.Values(groups)))) {
		t.Errorf("permission groups repeat: %v", groups)
	}
	step(t, ctx, "save", chromedp.Click(css("#save")), chromedp.WaitVisible(css("#token")))
	tok := get(t, ctx, "read the token", chromedp.Value(css("#token")))
	s.remember(tok)
	if !tokenRE.MatchString(tok) {
		t.Fatalf("the copy field holds %q, not a token", tok)
	}
	if ro := get(t, ctx, "read-only", chromedp.Evaluate[bool](`document.getElementById("token").readOnly`)); !ro {
		t.Errorf("the token field is not read-only")
	}
	if body := get(t, ctx, "page text", chromedp.Text(css("main"))); !strings.Contains(body, "it will not be shown again") {
		t.Errorf("the token page does not say the token will not be shown again:\n%s", body)
	}
	step(t, ctx, "copy", chromedp.Click(css("#copy")), chromedp.Poll[chromedp.Void](`document.getElementById("copy-status").textContent !== ""`))
	screenshot(t, ctx, "token-created")
	id := tok[:31]

	// The token works against the API.
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: tok}); r.Status != 200 {
		t.Fatalf("API with the console's token: %d %s", r.Status, r.Body)
	}
	meta := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens/" + id, token: tok}).json(t)
	if meta["userId"] != "admin" || meta["name"] != hostile {
		t.Errorf("token metadata: userId %v, name %v; want admin, the name as typed", meta["userId"], meta["name"])
	}

	// The list shows it, the hostile name as text.
	row := fmt.Sprintf(`tr[data-id="%s"]`, id)
	step(t, ctx, "open the list", chromedp.Navigate(s.URL+"/cmc/tokens"), chromedp.WaitVisible(css(row)))

	// Leaving the page forgets the token: going back does not show it again.
	step(t, ctx, "go back", chromedp.Evaluate[chromedp.Void](`history.back()`))
	left := false
	for deadline := time.Now().Add(10 * time.Second); !left && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		// Errors are expected while the page changes under the query.
		left, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(
			`document.readyState === "complete" && document.querySelector('%s') === null`, row)))
	}
	if !left {
		t.Errorf("going back did not leave the list")
	}
	if html := get(t, ctx, "page after back", chromedp.Evaluate[string](`document.documentElement.outerHTML`)); strings.Contains(html, tok[32:]) {
		t.Errorf("going back shows the token again")
	}
	if n := strings.Count(s.Log.String(), "token generated in the console"); n != 1 {
		t.Errorf("%d tokens generated after going back, want 1 (the form was sent again)", n)
	}
	step(t, ctx, "open the list again", chromedp.Navigate(s.URL+"/cmc/tokens"), chromedp.WaitVisible(css(row)))
	if name := get(t, ctx, "name cell", chromedp.Text(css(row+" td.name"))); name != hostile {
		t.Errorf("the list shows the name as %q, want %q", name, hostile)
	}
	if n := get(t, ctx, "images", chromedp.Evaluate[int](`document.querySelectorAll("main img").length`)); n != 0 {
		t.Errorf("the hostile name became %d img elements", n)
	}
	if scopes := get(t, ctx, "scopes", chromedp.Text(css(row+" td.scopes"))); scopes != "Cluster token management, Read settings" {
		t.Errorf("scopes cell = %q", scopes)
	}
	screenshot(t, ctx, "token-list")

	// Revoke: the API refuses the token on the very next request.
	step(t, ctx, "revoke", chromedp.Click(css(row+` form[action$="/revoke"] button`)),
		chromedp.WaitVisible(css(row+` form[action$="/restore"]`)))
	if badge := get(t, ctx, "badge", chromedp.Text(css(row+" .badge"))); badge != "revoked" {
		t.Errorf("badge after revoke = %q", badge)
	}
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: tok}); r.Status != 401 {
		t.Errorf("API with the revoked token: %d %s, want 401", r.Status, r.Body)
	}

	// Restore: it works again.
	step(t, ctx, "restore", chromedp.Click(css(row+` form[action$="/restore"] button`)),
		chromedp.WaitVisible(css(row+` form[action$="/revoke"]`)))
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: tok}); r.Status != 200 {
		t.Errorf("API with the restored token: %d %s, want 200", r.Status, r.Body)
	}

	// Delete, after a confirmation.
	step(t, ctx, "delete", chromedp.Click(css(row+" a.danger")), chromedp.WaitVisible(css("#confirm-delete")),
		chromedp.Click(css("#confirm-delete")), chromedp.WaitVisible(css("p.notice")))
	if n := get(t, ctx, "rows", chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, row))); n != 0 {
		t.Errorf("the deleted token is still listed")
	}
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: tok}); r.Status != 401 {
		t.Errorf("API with the deleted token: %d %s, want 401", r.Status, r.Body)
	}

	// A form on another site (another port is another origin) posting to the
	// console is refused, although the browser sends the session cookie.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s/cmc/tokens">
			<input name="name" value="planted"><input name="scope" value="ClusterTokenManagement">
			<input name="expiry" value="never"></form><script>document.getElementById("f").submit()</script>`, s.URL)
	}))
	defer evil.Close()
	step(t, ctx, "cross-site form", chromedp.Navigate(evil.URL), chromedp.WaitVisible(css("main")))
	if body := get(t, ctx, "refusal", chromedp.Text(css("main"))); !strings.Contains(body, "sent from another site") {
		t.Errorf("cross-site form answered:\n%s", body)
	}
	admin := s.bootstrap(t, "ClusterTokenManagement")
	if r := s.do(t, req{method: "GET", path: "/api/cluster/v2/tokens", token: admin}); strings.Contains(string(r.Body), "planted") {
		t.Errorf("the cross-site form created a token: %s", r.Body)
	}

	// At phone width nothing but the table scrolls sideways.
	step(t, ctx, "phone width", chromedp.EmulateViewport(390, 844))
	for _, path := range []string{"/cmc/tokens", "/cmc/tokens/new"} {
		step(t, ctx, "open "+path, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(css("main h1")))
		if over := get(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); over {
			wide := get(t, ctx, "wide elements", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`))
			t.Errorf("%s is wider than a phone screen: %v", path, wide)
		}
	}
	step(t, ctx, "phone list", chromedp.Navigate(s.URL+"/cmc/tokens"), chromedp.WaitVisible(css("main h1")))
	screenshot(t, ctx, "token-list-phone")
	step(t, ctx, "desktop width", chromedp.EmulateReset())

	// The user menu opens from the keyboard and closes on Escape.
	step(t, ctx, "user menu", chromedp.Navigate(s.URL+"/cmc/tokens"), chromedp.WaitVisible(css(".user-menu summary")),
		chromedp.Focus(css(".user-menu summary")), chromedp.KeyEvent("\r"))
	if open := get(t, ctx, "menu open", chromedp.Evaluate[bool](`document.querySelector("details.user-menu").open`)); !open {
		t.Errorf("Enter on the user menu does not open it")
	}
	if links := get(t, ctx, "menu links", chromedp.Text(css(".user-menu ul"))); !strings.Contains(links, "Cluster API v2") ||
		!strings.Contains(links, "Cluster API v1") || !strings.Contains(links, "Sign out") {
		t.Errorf("user menu holds %q", links)
	}
	step(t, ctx, "escape", chromedp.KeyEvent(kb.Escape))
	if open := get(t, ctx, "menu open", chromedp.Evaluate[bool](`document.querySelector("details.user-menu").open`)); open {
		t.Errorf("Escape does not close the user menu")
	}

	// Sign out: the session is gone, the console asks to sign in again.
	step(t, ctx, "sign out", chromedp.Navigate(s.URL+"/cmc/tokens"), chromedp.WaitVisible(css(".user-menu summary")),
		chromedp.Click(css(".user-menu summary")), chromedp.Click(css(`.user-menu button[type=submit]`)),
		chromedp.WaitVisible(css("form.signin")))
	step(t, ctx, "after sign-out", chromedp.Navigate(s.URL+"/cmc/tokens"), chromedp.WaitVisible(css("form.signin")))
	if loc := get(t, ctx, "location", chromedp.Location()); loc != s.URL+"/cmc/signin" {
		t.Errorf("after sign-out /cmc/tokens lands on %s, want the sign-in page", loc)
	}
}
