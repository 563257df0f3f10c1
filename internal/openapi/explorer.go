package openapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	swaggerfiles "github.com/swaggo/files/v2"
)

// ExplorerPath is where the API explorer lives (SPEC 7).
const ExplorerPath = "/rest-api-doc/"

//go:embed explorer/index.html explorer/explorer.js
var explorerFiles embed.FS

// swaggerAssets are the files of the Swagger UI distribution the page loads;
// the distribution's own index.html and initializer (which point at the
// petstore demo) and its source maps are not served.
var swaggerAssets = map[string]bool{
	"swagger-ui.css":                  true,
	"index.css":                       true,
	"swagger-ui-bundle.js":            true,
	"swagger-ui-standalone-preset.js": true,
	"favicon-32x32.png":               true,
	"favicon-16x16.png":               true,
}

// explorerCSP lets the page run its own scripts and nothing else. Swagger UI
// sets style attributes and shows data: images, hence those two allowances;
// "Try it out" calls the same origin.
const explorerCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Explorer serves the API explorer under ExplorerPath: Swagger UI with a
// definition selector over Definitions (?urls.primaryName= picks one), its
// assets from github.com/swaggo/files/v2, all from this binary.
func Explorer() http.Handler {
	page := explorerPage()
	script, err := explorerFiles.ReadFile("explorer/explorer.js")
	if err != nil {
		panic(err) // embedded: only a broken build gets here
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, ExplorerPath)
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", explorerCSP)
		var body []byte
		switch {
		case name == "" || name == "index.html":
			body = page
			h.Set("Cache-Control", "no-cache")
		case name == "explorer.js":
			body = script
			h.Set("Cache-Control", "no-cache")
		case swaggerAssets[name]:
			b, err := fs.ReadFile(swaggerfiles.FS, name)
			if err != nil {
				http.NotFound(w, r)
				return
			}
			body = b
			h.Set("Cache-Control", "public, max-age=3600")
		default:
			http.NotFound(w, r)
			return
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "text/html; charset=utf-8"
		}
		h.Set("Content-Type", ct)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	})
}

// explorerPage renders index.html with the definitions as JSON in a data
// attribute, where explorer.js reads them (no inline script).
func explorerPage() []byte {
	type url struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}
	var urls []url
	for _, d := range Definitions() {
		urls = append(urls, url{d.Name, d.Path})
	}
	defs, err := json.Marshal(urls)
	if err != nil {
		panic(err)
	}
	t := template.Must(template.ParseFS(explorerFiles, "explorer/index.html"))
	var buf bytes.Buffer
	if err := t.Execute(&buf, string(defs)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
