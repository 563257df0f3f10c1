package environment_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/environment"
	"clusterapi/internal/errs"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in   string
		want environment.Filter
	}{
		{"", environment.Filter{}},
		{"   ", environment.Filter{}},
		{"name(Prod)", environment.Filter{Names: []string{"prod"}}},
		{`name("Prod, (EU)")`, environment.Filter{Names: []string{"prod, (eu)"}}},
		{`name("say \"hi\" \\o/")`, environment.Filter{Names: []string{`say "hi" \o/`}}},
		{"name( my env )", environment.Filter{Names: []string{"my env"}}},
		{"state(ENABLED)", environment.Filter{States: []environment.State{environment.Enabled}}},
		{"state(disabled)", environment.Filter{States: []environment.State{environment.Disabled}}},
		{`state("DISABLED")`, environment.Filter{States: []environment.State{environment.Disabled}}},
		{"trial(true)", environment.Filter{Trials: []bool{true}}},
		{"trial(FALSE)", environment.Filter{Trials: []bool{false}}},
		{"tag(a)", environment.Filter{Tags: [][]string{{"a"}}}},
		{"tag(a,b)", environment.Filter{Tags: [][]string{{"a", "b"}}}},
		{`tag("a,b", c)`, environment.Filter{Tags: [][]string{{"a,b", "c"}}}},
		{"tag(a),tag(b)", environment.Filter{Tags: [][]string{{"a"}, {"b"}}}},
		{
			" name(x) , state(ENABLED),trial(false), tag(Team A,team-b) ",
			environment.Filter{
				Names: []string{"x"}, States: []environment.State{environment.Enabled},
				Trials: []bool{false}, Tags: [][]string{{"Team A", "team-b"}},
			},
		},
		{"name(ÄÖÜ)", environment.Filter{Names: []string{"äöü"}}},
	}
	for _, tt := range tests {
		got, err := environment.ParseFilter(tt.in)
		if err != nil {
			t.Errorf("ParseFilter(%q) = %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseFilter(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseFilterBroken(t *testing.T) {
	tests := []struct {
		in      string
		message string // a part of the violation's message
	}{
		{"name", `unexpected end of filter at position 5, expected "(" after name`},
		{"name(", "unexpected end of filter at position 6, expected a value"},
		{"name()", `unexpected ')' at position 6, expected a value`},
		{"name(x", `unexpected end of filter at position 7, expected "," or ")"`},
		{"name(x))", `unexpected ')' at position 8, expected "," between criteria`},
		{"name(x) state(ENABLED)", `unexpected 's' at position 9, expected "," between criteria`},
		{"name(x),", "unexpected end of filter at position 9, expected one of name(...)"},
		{",name(x)", "unexpected ',' at position 1, expected one of name(...)"},
		{"name(a,b)", "name(...) takes one value"},
		{"owner(me)", `unknown criterion "owner"`},
		{"Name(x)", `unexpected 'N' at position 1`},
		{"state(ON)", `state(...) must be ENABLED or DISABLED, not "ON"`},
		{"trial(yes)", `trial(...) must be true or false, not "yes"`},
		{"trial(true,false)", "trial(...) takes one value"},
		{`name("x)`, "unterminated quoted value at position 6"},
		{`name("")`, "empty value at position 6"},
		{`name(a"b")`, `unexpected '"' at position 7`},
		{"tag(a,)", "expected a value"},
		{"name(" + strings.Repeat("x", environment.MaxFilterLen) + ")", "must be at most 4096 characters long"},
		{"name(\xff)", "must be valid UTF-8"},
	}
	for _, tt := range tests {
		_, err := environment.ParseFilter(tt.in)
		e, ok := err.(*errs.Error)
		if !ok || e.Kind != errs.Invalid || len(e.Violations) != 1 {
			t.Errorf("ParseFilter(%q) = %#v, want one Invalid violation", tt.in, err)
			continue
		}
		v := e.Violations[0]
		if v.Path != "filter" || v.Location != errs.Query || !strings.Contains(v.Message, tt.message) {
			t.Errorf("ParseFilter(%q) violation = %+v, want filter QUERY containing %q", tt.in, v, tt.message)
		}
	}
}
