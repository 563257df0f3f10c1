package networkzone

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/errs"
)

func ptr[T any](v T) *T { return &v }

func payload(path, msg string) errs.Violation {
	return errs.Violation{Path: path, Message: msg, Location: errs.Payload}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"default", true},
		{"aws.us-east-1.dc_2.tier-1", true},
		{"AWS.US-East-1", true},
		{"0", true},
		{"-_-", true},
		{strings.Repeat("x", 256), true},
		{strings.Repeat("x.", 127) + "xx", true}, // 256 with dots
		{strings.Repeat("x", 257), false},
		{"", false},
		{".a", false},
		{"a.", false},
		{"a..b", false},
		{".", false},
		{"a b", false},
		{"a/b", false},
		{"a$b", false},
		{"a\x00b", false},
		{"é", false},
		{"\u212a", false},      // KELVIN SIGN, which strings.ToLower turns into "k"
		{"dt0c01.AAAA", false}, // nothing that may be a token is kept as an id
		{"x.DT0C01.AAAA", false},
		{"dt0c0", true},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"AWS.US-East-1": "aws.us-east-1",
		"already":       "already",
		"Z_9":           "z_9",
		"\u212a":        "\u212a", // not folded: only ASCII letters are
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckPathID(t *testing.T) {
	if got, err := checkPathID("Eu.West"); err != nil || got != "eu.west" {
		t.Errorf("checkPathID(Eu.West) = %q, %v; want eu.west", got, err)
	}
	_, err := checkPathID("eu west")
	e, ok := err.(*errs.Error)
	if !ok || e.Kind != errs.Invalid || len(e.Violations) != 1 || e.Violations[0].Path != "id" || e.Violations[0].Location != errs.Path {
		t.Errorf("checkPathID(eu west) = %#v, want one violation of id in PATH", err)
	}
}

func TestInputZone(t *testing.T) {
	many := make([]string, MaxAlternativeZones+1)
	for i := range many {
		many[i] = "z" + strings.Repeat("x", i)
	}
	tests := []struct {
		name string
		in   Input
		want *Zone
		vs   violations
	}{
		{
			name: "nothing given: defaults",
			in:   Input{},
			want: &Zone{ID: "zone", AlternativeZones: []string{}, FallbackMode: AnyActiveGate},
		},
		{
			name: "everything given",
			in: Input{ID: ptr("ZONE"), Description: ptr("Prod ✓"), AlternativeZones: []string{"B", "a.b"},
				FallbackMode: ptr(OnlyDefaultZone)},
			want: &Zone{ID: "zone", Description: "Prod ✓", AlternativeZones: []string{"b", "a.b"}, FallbackMode: OnlyDefaultZone},
		},
		{
			name: "empty id in the body is not given",
			in:   Input{ID: ptr(""), AlternativeZones: []string{}, FallbackMode: ptr(None)},
			want: &Zone{ID: "zone", AlternativeZones: []string{}, FallbackMode: None},
		},
		{
			name: "description of 1024 characters, blank and empty are fine",
			in:   Input{Description: ptr(strings.Repeat("é", 1024))},
			want: &Zone{ID: "zone", Description: strings.Repeat("é", 1024), AlternativeZones: []string{}, FallbackMode: AnyActiveGate},
		},
		{name: "mismatched id", in: Input{ID: ptr("other")}, vs: violations{payload("id", "must equal the id in the path")}},
		{name: "long description", in: Input{Description: ptr(strings.Repeat("é", 1025))},
			vs: violations{payload("description", "must be at most 1024 characters long")}},
		{name: "control character", in: Input{Description: ptr("a\nb")},
			vs: violations{payload("description", "must not contain control characters")}},
		{name: "invalid UTF-8", in: Input{Description: ptr("a\xffb")},
			vs: violations{payload("description", "must be valid UTF-8")}},
		{name: "unknown fallback mode", in: Input{FallbackMode: ptr(FallbackMode("any_active_gate"))},
			vs: violations{payload("fallbackMode", "must be NONE, ANY_ACTIVE_GATE or ONLY_DEFAULT_ZONE")}},
		{name: "empty fallback mode", in: Input{FallbackMode: ptr(FallbackMode(""))},
			vs: violations{payload("fallbackMode", "must be NONE, ANY_ACTIVE_GATE or ONLY_DEFAULT_ZONE")}},
		{
			name: "bad alternatives, each named",
			in:   Input{AlternativeZones: []string{"ok", "Zone", "", "a..b", "OK", "fine"}},
			vs: violations{
				payload("alternativeZones[1]", "must not be the zone itself"),
				payload("alternativeZones[2]", "must not be empty"),
				payload("alternativeZones[3]", "must not start or end with a dot or hold two dots in a row: dots separate the parts of an id"),
				payload("alternativeZones[4]", `duplicate zone "ok"`),
			},
		},
		{name: "too many alternatives", in: Input{AlternativeZones: many},
			vs: violations{payload("alternativeZones", "must hold at most 100 zones")}},
		{
			name: "several fields at fault",
			in:   Input{ID: ptr("x"), Description: ptr("\a"), FallbackMode: ptr(FallbackMode("SOME"))},
			vs: violations{
				payload("id", "must equal the id in the path"),
				payload("description", "must not contain control characters"),
				payload("fallbackMode", "must be NONE, ANY_ACTIVE_GATE or ONLY_DEFAULT_ZONE"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, vs := tt.in.zone("zone")
			if diff := cmp.Diff(tt.vs, vs); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("zone (-want +got):\n%s", diff)
				}
			}
		})
	}
}
