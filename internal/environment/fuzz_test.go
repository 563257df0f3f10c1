package environment

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/errs"
)

// FuzzParseFilter feeds arbitrary filter text to the grammar: it never
// panics, refuses only with an Invalid error naming the filter parameter, and
// what it accepts holds no empty criterion and parses again as itself when
// the text is the same.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"", "name(x)", `name("a,b")`, "state(ENABLED),trial(true)", "tag(a,b),tag(c)", `name("\"")`,
		"name(", "name()", "tag(a,", `name("unterminated`, "bogus(x)", "name(x) , state(disabled)", "name(é☃)",
		strings.Repeat("tag(a),", 100),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFilter(s)
		if err != nil {
			e, ok := err.(*errs.Error)
			if !ok || e.Kind != errs.Invalid || len(e.Violations) != 1 || e.Violations[0].Path != "filter" || e.Violations[0].Location != errs.Query {
				t.Fatalf("ParseFilter(%q) = %#v, want one Invalid violation of filter in QUERY", s, err)
			}
			return
		}
		for _, n := range got.Names {
			if n == "" {
				t.Errorf("ParseFilter(%q) accepted an empty name", s)
			}
		}
		for _, g := range got.Tags {
			if len(g) == 0 {
				t.Errorf("ParseFilter(%q) accepted an empty tag group", s)
			}
		}
		for _, st := range got.States {
			if !st.Known() {
				t.Errorf("ParseFilter(%q) accepted state %q", s, st)
			}
		}
		again, err := ParseFilter(s)
		if err != nil || !cmp.Equal(got, again) {
			t.Errorf("ParseFilter(%q) is not deterministic: %+v then %+v, %v", s, got, again, err)
		}
	})
}

// FuzzCursor feeds arbitrary page keys to the decoder: it never panics,
// refuses only with the nextPageKey violation, and whatever it accepts
// encodes back to a key that decodes to the same position and options.
func FuzzCursor(f *testing.F) {
	created := time.Date(2026, 12, 3, 18, 59, 8, 123_000_000, time.UTC)
	for _, o := range []ListOptions{
		{Sort: ByName, PageSize: 100},
		{Sort: ByCreationDateDesc, PageSize: 1, Filter: `tag(a,"b,c")`, IncludeQuotas: true, IncludeStorage: true},
	} {
		f.Add(encodeCursor(o, Key{Name: "customer é", Created: created, ID: "env-1"}))
	}
	for _, seed := range []string{"", "e30", "bm90IGpzb24", "eyJ2IjoxfQ", strings.Repeat("A", 5000), "====", "%%%"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, k, err := decodeCursor(s)
		if err != nil {
			if err != errBadCursor {
				t.Fatalf("decodeCursor(%q) = %v, want errBadCursor", s, err)
			}
			return
		}
		o2, k2, err := decodeCursor(encodeCursor(o, k))
		if err != nil {
			t.Fatalf("decodeCursor(encodeCursor(decodeCursor(%q))) = %v", s, err)
		}
		if !cmp.Equal(o, o2) || !k.Created.Equal(k2.Created) || k.Name != k2.Name || k.ID != k2.ID {
			t.Errorf("cursor %q does not round-trip: %+v %+v, then %+v %+v", s, o, k, o2, k2)
		}
	})
}
