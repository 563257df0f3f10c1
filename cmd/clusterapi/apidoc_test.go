package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"clusterapi/internal/openapi"
)

// apiDocs are the API documents, each with a router over its operations.
var apiDocs = sync.OnceValues(func() ([]routers.Router, error) {
	var out []routers.Router
	for _, d := range openapi.Definitions() {
		doc, err := openapi3.NewLoader().LoadFromData(d.Document())
		if err != nil {
			return nil, err
		}
		r, err := legacy.NewRouter(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
})

// envelopeSchema is the error envelope as the documents define it.
var envelopeSchema = sync.OnceValues(func() (*openapi3.Schema, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.V2.Document())
	if err != nil {
		return nil, err
	}
	s := doc.Components.Schemas["ErrorEnvelope"]
	if s == nil {
		return nil, errors.New("no ErrorEnvelope schema")
	}
	return s.Value, nil
})

// checkDocumented fails the test when an /api response is not what the API
// documents say for its request: an undocumented status, a content type the
// operation does not list, or a body that does not match the schema. A
// request that matches no documented operation must get a 404 or 405 in the
// error envelope. do calls it for every response, so the documents cannot
// drift from what the server does.
func checkDocumented(t *testing.T, r *http.Request, got response) {
	t.Helper()
	if !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/e/") {
		return
	}
	docs, err := apiDocs()
	if err != nil {
		t.Fatalf("API documents: %v", err)
	}
	for _, router := range docs {
		route, params, err := router.FindRoute(r)
		if err != nil {
			continue
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
			Status:                 got.Status,
			Header:                 got.Header,
			Body:                   io.NopCloser(bytes.NewReader(got.Body)),
			Options:                &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			t.Errorf("%s %s: the response does not match %s %s in the API document: %v\nbody: %s",
				r.Method, r.URL.Path, route.Method, route.Path, err, got.Body)
			return
		}
		// ValidateResponse lets a body through where the document has none.
		if resp := route.Operation.Responses.Status(got.Status); resp != nil &&
			len(resp.Value.Content) == 0 && len(got.Body) > 0 && r.Method != http.MethodHead {
			t.Errorf("%s %s: status %d has a body, which %s %s does not document: %s",
				r.Method, r.URL.Path, got.Status, route.Method, route.Path, got.Body)
		}
		return
	}
	// No documented operation: a 404 or 405 in the envelope (SPEC 2.3).
	s, err := envelopeSchema()
	if err != nil {
		t.Fatalf("API documents: %v", err)
	}
	var v any
	if got.Status != http.StatusNotFound && got.Status != http.StatusMethodNotAllowed {
		t.Errorf("%s %s: matches no documented operation, but got %d, not 404 or 405", r.Method, r.URL.Path, got.Status)
	} else if r.Method == http.MethodHead {
		return
	} else if err := json.Unmarshal(got.Body, &v); err != nil {
		t.Errorf("%s %s: %d is not JSON: %s", r.Method, r.URL.Path, got.Status, got.Body)
	} else if err := s.VisitJSON(v, openapi3.VisitAsResponse()); err != nil {
		t.Errorf("%s %s: %d is not the error envelope: %v", r.Method, r.URL.Path, got.Status, err)
	}
}

// TestAPIDocumentsServed fetches both documents without a token.
func TestAPIDocumentsServed(t *testing.T) {
	s := startServer(t)
	for _, d := range openapi.Definitions() {
		r := s.do(t, req{method: "GET", path: d.Path})
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET %s: %d %q", d.Path, r.Status, r.Header.Get("Content-Type"))
		}
		if title := r.json(t)["info"].(map[string]any)["title"]; title != d.Name {
			t.Errorf("GET %s: title %q, want %q", d.Path, title, d.Name)
		}
		if r := s.do(t, req{method: "POST", path: d.Path}); r.Status != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d, want 405", d.Path, r.Status)
		}
	}
}
