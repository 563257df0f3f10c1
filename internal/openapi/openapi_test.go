package openapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"clusterapi/internal/httpapi"
	"clusterapi/internal/openapi"
	"clusterapi/internal/token"
)

// load parses and validates d's document as OpenAPI 3.
func load(t *testing.T, d openapi.Definition) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(d.Document())
	if err != nil {
		t.Fatalf("%s: %v", d.Name, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI 3 document: %v", d.Name, err)
	}
	return doc
}

func TestDocumentsValidate(t *testing.T) {
	for _, d := range openapi.Definitions() {
		doc := load(t, d)
		if doc.Info.Title != d.Name {
			t.Errorf("%s: title %q", d.Name, doc.Info.Title)
		}
		s := doc.Components.SecuritySchemes["Api-Token"]
		if len(doc.Components.SecuritySchemes) != 1 || s == nil || s.Value.Type != "apiKey" ||
			s.Value.In != "header" || s.Value.Name != "Authorization" {
			t.Errorf("%s: security schemes %v, want only Api-Token (apiKey in header Authorization)", d.Name, doc.Components.SecuritySchemes)
		}
		if len(doc.Security) != 1 || doc.Security[0]["Api-Token"] == nil {
			t.Errorf("%s: the document's default security is %v, want Api-Token", d.Name, doc.Security)
		}
	}
}

// operation is one documented method and path, in mux pattern form.
type operation struct {
	doc string
	op  *openapi3.Operation
}

func operations(t *testing.T) map[string]operation {
	t.Helper()
	ops := map[string]operation{}
	for _, d := range openapi.Definitions() {
		for path, item := range load(t, d).Paths.Map() {
			for method, op := range item.Operations() {
				pattern := method + " " + path
				if prev, dup := ops[pattern]; dup {
					t.Errorf("%s is documented in both %s and %s", pattern, prev.doc, d.Name)
				}
				ops[pattern] = operation{d.Name, op}
			}
		}
	}
	return ops
}

// TestRoutesAreDocumented walks the routes the API registers and the
// documents: every route is documented, with the scopes it accepts, and
// every documented operation is served.
func TestRoutesAreDocumented(t *testing.T) {
	api := httpapi.New(httpapi.Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ops := operations(t)
	served := map[string]bool{}
	for _, r := range api.Routes() {
		served[r.Pattern] = true
		o, ok := ops[r.Pattern]
		if !ok {
			t.Errorf("route %s is not documented", r.Pattern)
			continue
		}
		if want := wantDocument(r.Pattern); o.doc != want {
			t.Errorf("route %s is documented in %s, want %s", r.Pattern, o.doc, want)
		}
		if r.Public {
			if o.op.Security == nil || len(*o.op.Security) != 0 {
				t.Errorf("%s: served without authentication, documented with security %v", r.Pattern, o.op.Security)
			}
			if _, ok := o.op.Extensions["x-token-scopes"]; ok {
				t.Errorf("%s: served without authentication, documented with x-token-scopes", r.Pattern)
			}
			continue
		}
		if o.op.Security != nil {
			t.Errorf("%s: security %v, want the document's Api-Token", r.Pattern, *o.op.Security)
		}
		var got []string
		if err := remarshal(o.op.Extensions["x-token-scopes"], &got); err != nil || got == nil {
			t.Errorf("%s: x-token-scopes %v is not a list of scopes: %v", r.Pattern, o.op.Extensions["x-token-scopes"], err)
		}
		want := []string{}
		for _, s := range r.Scopes {
			want = append(want, string(s))
			// The description names each scope with its display name.
			if named := fmt.Sprintf("`%s` (%s)", s, s.DisplayName()); !strings.Contains(o.op.Description, named) {
				t.Errorf("%s: the description does not name %s", r.Pattern, named)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: x-token-scopes %q, the route accepts %q", r.Pattern, got, want)
		}
		for _, status := range []string{"401", "429", "500", "503"} {
			if o.op.Responses.Value(status) == nil {
				t.Errorf("%s: status %s is not documented", r.Pattern, status)
			}
		}
		if len(r.Scopes) > 0 && o.op.Responses.Value("403") == nil {
			t.Errorf("%s: status 403 is not documented", r.Pattern)
		}
	}
	var missing []string
	for pattern := range ops {
		if !served[pattern] {
			missing = append(missing, pattern)
		}
	}
	sort.Strings(missing)
	for _, p := range missing {
		t.Errorf("%s is documented but not served", p)
	}
}

// wantDocument names the document a route belongs in.
func wantDocument(pattern string) string {
	_, path, _ := strings.Cut(pattern, " ")
	if strings.HasPrefix(path, "/api/cluster/v2/") {
		return openapi.V2.Name
	}
	return openapi.V1.Name
}

// TestOperations checks what every operation must carry: a summary, an id,
// error responses in the envelope, and the mark of an extension.
func TestOperations(t *testing.T) {
	for pattern, o := range operations(t) {
		if o.op.Summary == "" || o.op.OperationID == "" {
			t.Errorf("%s (%s): no summary or operationId", pattern, o.doc)
		}
		if ext, ok := o.op.Extensions["x-extension"]; ok {
			if ext != true || !strings.Contains(o.op.Description, "**Extension**") {
				t.Errorf("%s: x-extension %v; an extension is x-extension: true and says **Extension** in its description", pattern, ext)
			}
		}
		for status, resp := range o.op.Responses.Map() {
			if status[0] != '4' && status[0] != '5' {
				continue
			}
			mt := resp.Value.Content.Get("application/json")
			if mt == nil || mt.Schema.Ref != "#/components/schemas/ErrorEnvelope" {
				t.Errorf("%s %s: not the error envelope", pattern, status)
			}
		}
	}
}

// TestScopeEnum keeps the Scope schema in step with the scopes the server
// knows, display names included.
func TestScopeEnum(t *testing.T) {
	doc := load(t, openapi.V2)
	s := doc.Components.Schemas["Scope"].Value
	var got []string
	for _, v := range s.Enum {
		got = append(got, v.(string))
	}
	var want []string
	for _, info := range token.Scopes() {
		want = append(want, string(info.Scope))
		if named := fmt.Sprintf("`%s` (%s", info.Scope, info.Name); !strings.Contains(s.Description, named) {
			t.Errorf("Scope description lacks %s)", named)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Scope enum %q, want %q", got, want)
	}
}

// TestV1AliasesV2 checks that the v1 token paths are the v2 operations.
func TestV1AliasesV2(t *testing.T) {
	v2, v1 := load(t, openapi.V2), load(t, openapi.V1)
	n := 0
	for path, item := range v1.Paths.Map() {
		rest, ok := strings.CutPrefix(path, "/api/cluster/v1/tokens")
		if !ok {
			continue
		}
		n++
		twin := v2.Paths.Value("/api/cluster/v2/tokens" + rest)
		if twin == nil {
			t.Errorf("%s has no v2 twin", path)
			continue
		}
		a, _ := json.Marshal(item)
		b, _ := json.Marshal(twin)
		if string(a) != string(b) {
			t.Errorf("%s differs from its v2 twin", path)
		}
	}
	if n == 0 {
		t.Error("the v1 document has no token paths")
	}
}

func remarshal(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// TestExtensionsV2Only: the extensions of the Tokens API are documented (and
// marked) in v2 and not copied to the v1 aliases, which the server does not
// serve them under.
func TestExtensionsV2Only(t *testing.T) {
	want := map[string]bool{
		"POST /api/cluster/v2/tokens/{id}/rotate":   true,
		"POST /api/cluster/v2/tokens/revoke-leaked": true,
		"GET /api/cluster/v2/auditlog":              true,
	}
	for pattern, o := range operations(t) {
		_, ext := o.op.Extensions["x-extension"]
		switch {
		case want[pattern] && (!ext || o.doc != openapi.V2.Name):
			t.Errorf("%s: in %s, x-extension %v; want an extension in %s", pattern, o.doc, ext, openapi.V2.Name)
		case ext && o.doc != openapi.V2.Name:
			t.Errorf("%s: an extension in %s", pattern, o.doc)
		case ext && !want[pattern]:
			t.Errorf("%s: unexpected extension (add it to this test)", pattern)
		}
		delete(want, pattern)
	}
	for pattern := range want {
		t.Errorf("%s is not documented", pattern)
	}
}
