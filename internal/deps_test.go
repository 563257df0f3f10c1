// Package internal_test states, as policy, which internal package may import
// which (DESIGN.md): domain packages import only errs and the standard
// library; stores and HTTP packages never import each other.
package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allowed lists, for each internal package, the internal packages it may
// import. A new edge is a deliberate change to this table.
var allowed = map[string][]string{
	"errs":            {},
	"requestid":       {},
	"pgtest":          {},
	"loadgen":         {},
	"logbuf":          {},
	"metrics":         {},
	"browsertest":     {},
	"token":           {"errs"},
	"environment":     {"errs", "token"},
	"networkzone":     {"errs"},
	"auth":            {"errs", "metrics", "token"},
	"openapi":         {},
	"httpapi":         {"account", "audit", "auth", "cluster", "environment", "errs", "networkzone", "openapi", "requestid", "token"},
	"server":          {"auth", "metrics", "openapi", "requestid", "token"},
	"cluster":         {"errs"},
	"store/sqlite":    {"account", "audit", "cluster", "environment", "errs", "networkzone", "token"},
	"store/postgres":  {"account", "audit", "cluster", "environment", "errs", "networkzone", "token"},
	"store/storetest": {"account", "audit", "cluster", "environment", "errs", "networkzone", "token"},
	"account":         {"errs"},
	"audit":           {"token"},
	"web":             {"account", "audit", "auth", "errs", "requestid", "token"},
}

func TestDependencies(t *testing.T) {
	const module = "clusterapi/internal/"
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		seen[pkg] = true
		want, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s is not in the dependency table", pkg)
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if dep, ok := strings.CutPrefix(p, module); ok && !slices.Contains(want, dep) {
				t.Errorf("%s imports %s, which the table does not allow", path, dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range allowed {
		if !seen[pkg] {
			t.Errorf("the table lists %s, which has no Go files", pkg)
		}
	}
}
