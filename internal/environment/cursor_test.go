package environment

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/errs"
)

func TestCursorRoundTrip(t *testing.T) {
	created := time.Date(2026, 12, 3, 18, 59, 8, 123_000_000, time.UTC)
	tests := []struct {
		name string
		o    ListOptions
		k    Key
	}{
		{"defaults", ListOptions{Sort: ByName, PageSize: 100}, Key{Name: "prod", Created: created, ID: "a"}},
		{
			"everything",
			ListOptions{Filter: `name("x, y"),tag(a,b),state(ENABLED)`, Sort: ByCreationDateDesc, PageSize: 1000,
				IncludeQuotas: true, IncludeStorage: true},
			Key{Name: "ünïcode \"quoted\"", Created: created, ID: "be22c776-1414-00e0-a00a-00b0dcf56443"},
		},
		{"epoch", ListOptions{Sort: ByNameDesc, PageSize: 1}, Key{Created: time.UnixMilli(0).UTC(), ID: "z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := encodeCursor(tt.o, tt.k)
			if strings.ContainsAny(s, "+/=") {
				t.Errorf("encodeCursor = %q, want base64url without padding", s)
			}
			o, k, err := decodeCursor(s)
			if err != nil {
				t.Fatalf("decodeCursor(%q) = %v", s, err)
			}
			if diff := cmp.Diff(tt.o, o); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.k, k); diff != "" {
				t.Errorf("key (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCursorGarbage(t *testing.T) {
	enc := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	good := encodeCursor(ListOptions{Sort: ByName, PageSize: 10}, Key{Name: "a", ID: "b"})
	tests := []struct {
		name, key string
	}{
		{"empty", ""},
		{"not base64", "!!!"},
		{"reference-style key", "AQAAABQBAAAABQ=="},
		{"not JSON", enc("hello")},
		{"JSON array", enc("[1,2]")},
		{"truncated", good[:len(good)-3]},
		{"trailing data", enc(`{"v":1,"s":"name","n":10,"kc":0,"ki":"b"} {}`)},
		{"unknown field", enc(`{"v":1,"s":"name","n":10,"kc":0,"ki":"b","x":1}`)},
		{"wrong version", enc(`{"v":2,"s":"name","n":10,"kc":0,"ki":"b"}`)},
		{"no sort", enc(`{"v":1,"n":10,"kc":0,"ki":"b"}`)},
		{"bad sort", enc(`{"v":1,"s":"id","n":10,"kc":0,"ki":"b"}`)},
		{"page size 0", enc(`{"v":1,"s":"name","n":0,"kc":0,"ki":"b"}`)},
		{"page size too big", enc(`{"v":1,"s":"name","n":1001,"kc":0,"ki":"b"}`)},
		{"bad id", enc(`{"v":1,"s":"name","n":10,"kc":0,"ki":"a/b"}`)},
		{"no id", enc(`{"v":1,"s":"name","n":10,"kc":0}`)},
		{"bad filter", enc(`{"v":1,"f":"name(","s":"name","n":10,"kc":0,"ki":"b"}`)},
		{"wrong types", enc(`{"v":"1","s":"name","n":10,"kc":0,"ki":"b"}`)},
		{"too long", strings.Repeat("A", 3*MaxFilterLen)},
	}
	for _, tt := range tests {
		_, _, err := decodeCursor(tt.key)
		e, ok := err.(*errs.Error)
		if !ok || len(e.Violations) != 1 || e.Violations[0].Path != "nextPageKey" || e.Violations[0].Location != errs.Query {
			t.Errorf("%s: decodeCursor(%q) = %v, want a violation of nextPageKey in QUERY", tt.name, tt.key, err)
		}
	}
	if _, _, err := decodeCursor(good); err != nil {
		t.Errorf("decodeCursor(good) = %v", err)
	}
}
