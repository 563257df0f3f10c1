package httpapi

import (
	"strings"
	"testing"

	"clusterapi/internal/errs"
)

func TestCheckQuery(t *testing.T) {
	tests := []struct {
		name, raw string
		want      string // a part of the message; "" for no error
	}{
		{"empty", "", ""},
		{"plain", "pageSize=5&sort=name", ""},
		{"escapes", "filter=name(a%3Bb)&x=%20", ""},
		{"empty pairs", "&&a=1&", ""},
		{"semicolon", "filter=name(a);tag(b)", `parameter "filter" holds a bare ';'`},
		{"semicolon in a name", "a;b=c", `parameter "a" holds a bare ';'`},
		{"bad escape in a value", "pageSize=%zz", `parameter "pageSize" holds an invalid %-escape (write a '%' as %25)`},
		{"short escape", "createToken=%", `parameter "createToken" holds an invalid %-escape (write a '%' as %25)`},
		{"bad escape in a name", "page%zzSize=5", `the parameter name "page%zzSize" holds an invalid %-escape (write a '%' as %25)`},
		{"after good pairs", "a=1&b=2&c=%g1", `parameter "c"`},
		{"long name clipped", strings.Repeat("n", 300) + "=%zz", `parameter "` + strings.Repeat("n", maxQuotedName) + `…"`},
		{"too many parameters", strings.Repeat("a=1&", 10000) + "a=1", "number of URL query parameters exceeded limit"},
	}
	for _, tt := range tests {
		err := checkQuery(tt.raw)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: checkQuery(%.40q) = %v, want nil", tt.name, tt.raw, err)
			}
			continue
		}
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.want) ||
			!strings.HasPrefix(err.Error(), "Malformed query string: ") {
			t.Errorf("%s: checkQuery(%.40q) = %v, want Invalid holding %q", tt.name, tt.raw, err, tt.want)
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven cha…"},
		{"ééééé", 3, "é…"}, // never half a character
		{"", 0, ""},
	}
	for _, tt := range tests {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
