package openapi_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"clusterapi/internal/openapi"
)

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestExplorerPage(t *testing.T) {
	h := openapi.Explorer()
	resp, body := get(t, h, "/rest-api-doc/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /rest-api-doc/: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q: want scripts from 'self' only", csp)
	}
	if strings.Contains(body, "<script>") || regexp.MustCompile(`(?i)<script[^>]*>[^<\s]`).MatchString(body) {
		t.Errorf("the page has inline script, which its CSP forbids:\n%s", body)
	}
	m := regexp.MustCompile(`data-definitions="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no data-definitions:\n%s", body)
	}
	var urls []struct{ Name, URL string }
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &urls); err != nil {
		t.Fatal(err)
	}
	var want []struct{ Name, URL string }
	for _, d := range openapi.Definitions() {
		want = append(want, struct{ Name, URL string }{d.Name, d.Path})
	}
	if len(urls) != 2 || urls[0] != want[0] || urls[1] != want[1] {
		t.Errorf("definitions %v, want %v", urls, want)
	}

	for _, tt := range []struct {
		path   string
		status int
		ctype  string
	}{
		{"/rest-api-doc/explorer.js", 200, "text/javascript"},
		{"/rest-api-doc/swagger-ui-bundle.js", 200, "text/javascript"},
		{"/rest-api-doc/swagger-ui-standalone-preset.js", 200, "text/javascript"},
		{"/rest-api-doc/swagger-ui.css", 200, "text/css"},
		{"/rest-api-doc/favicon-32x32.png", 200, "image/png"},
		// The distribution's own page and initializer point at a demo.
		{"/rest-api-doc/swagger-initializer.js", 404, ""},
		{"/rest-api-doc/swagger-ui-bundle.js.map", 404, ""},
		{"/rest-api-doc/../go.mod", 404, ""},
	} {
		resp, _ := get(t, h, tt.path)
		if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.ctype)
		}
	}
}
