// Package browsertest starts a real headless Chromium for tests, driven with
// chromedp. Debian's chromium package provides the browser (`make test`
// installs it when missing). Without a browser a test fails under CI=true and
// is skipped, with a message saying why, otherwise.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds one browser session, so a hung browser fails the test
// instead of stalling the run.
const Timeout = 3 * time.Minute

// Path returns the Chromium binary: $CHROMIUM when set, else chromium or
// chromium-browser on PATH, else /usr/bin/chromium if it exists.
func Path() (string, bool) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", true
	}
	return "", false
}

// missing ends a test that needs a browser when there is none: a failure
// under CI=true, where a skipped browser test would hide the gap, and a skip
// with the reason otherwise.
func missing(t testing.TB) {
	t.Helper()
	const msg = "no Chromium found: install Debian's chromium package (.ci/ensure-chromium.sh does) or set CHROMIUM"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// New starts a headless Chromium with a fresh profile and returns a chromedp
// context for one tab in it. The browser is closed when the test ends.
func New(t testing.TB) context.Context {
	t.Helper()
	path, ok := Path()
	if !ok {
		missing(t)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 900),
		// The machine has no way out: anything that phones home would hang.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	// Start the browser now, so a launch failure is reported as such.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	return bctx
}
