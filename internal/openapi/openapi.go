// Package openapi holds the OpenAPI 3 documents of the Cluster API, written
// and kept by hand in v2.json and v1.json, and the API explorer (Swagger UI)
// that shows them.
//
// The v1 document is v1.json plus the operations of the v2 document under
// /api/cluster/v2/tokens, copied to /api/cluster/v1/tokens (the older paths
// behave exactly as their v2 twins, SPEC 2.4), with the components they use;
// extensions (rotation, leaked-token revocation) are v2 only.
// Tests in this package and in cmd/clusterapi hold the documents to the
// routes the server registers and to the responses it sends.
package openapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
)

//go:embed v2.json v1.json
var files embed.FS

// A Definition is one API document as the explorer lists it.
type Definition struct {
	Name string // shown in the explorer's definition selector
	Path string // where the server serves the document
}

// The documents, in the order the explorer lists them.
var (
	V2 = Definition{Name: "Cluster API v2", Path: "/api/cluster/v2/spec3.json"}
	V1 = Definition{Name: "Cluster API v1", Path: "/api/v1.0/onpremise/spec3.json"}
)

// Definitions returns every document, in the explorer's order.
func Definitions() []Definition { return []Definition{V2, V1} }

// Document returns the JSON of d's document.
func (d Definition) Document() []byte {
	docs, err := documents()
	if err != nil {
		// The documents are embedded: only a broken build gets here, and
		// the package's tests catch it first.
		panic(err)
	}
	return docs[d.Path]
}

// Handler serves d's document, without authentication.
func (d Definition) Handler() http.Handler {
	doc := d.Document()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(doc)
	})
}

// The v1 document copies the v2 operations under from to paths under to.
const (
	aliasFrom = "/api/cluster/v2/tokens"
	aliasTo   = "/api/cluster/v1/tokens"
)

// documents builds both documents once, keyed by Definition.Path.
var documents = sync.OnceValues(func() (map[string][]byte, error) {
	v2Raw, err := files.ReadFile("v2.json")
	if err != nil {
		return nil, err
	}
	v1Raw, err := files.ReadFile("v1.json")
	if err != nil {
		return nil, err
	}
	var v2, v1 map[string]any
	if err := json.Unmarshal(v2Raw, &v2); err != nil {
		return nil, fmt.Errorf("v2.json: %w", err)
	}
	if err := json.Unmarshal(v1Raw, &v1); err != nil {
		return nil, fmt.Errorf("v1.json: %w", err)
	}
	v1Paths, _ := v1["paths"].(map[string]any)
	v2Paths, _ := v2["paths"].(map[string]any)
	for p, item := range v2Paths {
		if rest, ok := strings.CutPrefix(p, aliasFrom); ok && (rest == "" || rest[0] == '/') && !extension(item) {
			v1Paths[aliasTo+rest] = item
		}
	}
	// v1's operations use v2's shared components (the envelope, the
	// responses) and its own (users, groups).
	all, err := mergeComponents(v2["components"].(map[string]any), v1["components"])
	if err != nil {
		return nil, err
	}
	comps, err := usedComponents(v1Paths, all)
	if err != nil {
		return nil, err
	}
	v1["components"] = comps

	// v2 is served as written, in the order written; v1 is built anew.
	b, err := json.MarshalIndent(v1, "", "  ")
	if err != nil {
		return nil, err
	}
	return map[string][]byte{V2.Path: v2Raw, V1.Path: append(b, '\n')}, nil
})

// extension reports whether a path item holds only extensions (operations
// with x-extension: true). Those are not copied to the v1 paths: the v1
// aliases are the paths older scripts already call, and the server serves
// the extensions under v2 only. A path item mixing both is copied whole, and
// TestRoutesAreDocumented then finds the extension documented but not served.
func extension(item any) bool {
	ops, _ := item.(map[string]any)
	n := 0
	for _, m := range []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"} {
		op, ok := ops[m].(map[string]any)
		if !ok {
			continue
		}
		if op["x-extension"] != true {
			return false
		}
		n++
	}
	return n > 0
}

// mergeComponents returns v2's components with v1's added; a name in both
// is an error, since one of the two would silently lose.
func mergeComponents(v2 map[string]any, v1 any) (map[string]any, error) {
	out := map[string]any{}
	for kind, section := range v2 {
		m := map[string]any{}
		for name, c := range section.(map[string]any) {
			m[name] = c
		}
		out[kind] = m
	}
	own, _ := v1.(map[string]any)
	for kind, section := range own {
		m, _ := out[kind].(map[string]any)
		if m == nil {
			m = map[string]any{}
			out[kind] = m
		}
		for name, c := range section.(map[string]any) {
			if _, dup := m[name]; dup {
				return nil, fmt.Errorf("v1.json: component %s/%s is also in v2.json", kind, name)
			}
			m[name] = c
		}
	}
	return out, nil
}

var refRE = regexp.MustCompile(`"#/components/([A-Za-z]+)/([A-Za-z0-9._-]+)"`)

// usedComponents returns the components of all that paths refer to, directly
// or through other components, and every security scheme.
func usedComponents(paths map[string]any, all map[string]any) (map[string]any, error) {
	out := map[string]any{"securitySchemes": all["securitySchemes"]}
	todo := []any{paths}
	for len(todo) > 0 {
		b, err := json.Marshal(todo[0])
		if err != nil {
			return nil, err
		}
		todo = todo[1:]
		for _, m := range refRE.FindAllSubmatch(b, -1) {
			kind, name := string(m[1]), string(m[2])
			section, _ := out[kind].(map[string]any)
			if section == nil {
				section = map[string]any{}
				out[kind] = section
			}
			if _, done := section[name]; done {
				continue
			}
			src, _ := all[kind].(map[string]any)
			c, ok := src[name]
			if !ok {
				return nil, fmt.Errorf("no component %s/%s in v2.json or v1.json", kind, name)
			}
			section[name] = c
			todo = append(todo, c)
		}
	}
	return out, nil
}
