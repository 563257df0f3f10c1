package networkzone

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"clusterapi/internal/errs"
)

// The size rules. MaxIDLen is the reference's; the others are ours.
const (
	MaxIDLen            = 256  // characters (ids are ASCII)
	MaxDescriptionLen   = 1024 // code points
	MaxAlternativeZones = 100
)

// idProblem says what is wrong with a zone id as a client sent it, or ""
// when nothing is. The reference's rule: ASCII letters and digits, '-' and
// '_', at most 256 characters, with dots only as separators between parts
// (so none first, none last and never two in a row). Case does not matter.
func idProblem(id string) string {
	switch {
	case id == "":
		return "must not be empty"
	case len(id) > MaxIDLen:
		return fmt.Sprintf("must be at most %d characters long", MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "must hold only ASCII letters, digits, '-', '_' and '.'"
		}
	}
	if strings.Contains(Normalize(id), "dt0c01") {
		return "must not hold an API token"
	}
	if id[0] == '.' || id[len(id)-1] == '.' || strings.Contains(id, "..") {
		return "must not start or end with a dot or hold two dots in a row: dots separate the parts of an id"
	}
	return ""
}

// ValidID reports whether id is a valid zone id in any case.
func ValidID(id string) bool { return idProblem(id) == "" }

// Normalize returns the stored form of a valid id: lower case, since ids are
// not case-sensitive. Only ASCII letters are folded (strings.ToLower would
// also turn U+212A KELVIN SIGN into "k"), so an id that idProblem refuses
// never normalizes into one it accepts.
func Normalize(id string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, id)
}

// checkPathID rejects a malformed {id} before any storage work and returns
// its normalized form.
func checkPathID(id string) (string, error) {
	if p := idProblem(id); p != "" {
		return "", errs.Field(errs.Path, "id", p)
	}
	return Normalize(id), nil
}

// violations collects constraint violations of a request body.
type violations []errs.Violation

func (vs *violations) add(path, format string, args ...any) {
	*vs = append(*vs, errs.Violation{Path: path, Message: fmt.Sprintf(format, args...), Location: errs.Payload})
}

func (vs violations) err() error {
	if len(vs) == 0 {
		return nil
	}
	return errs.Violated(vs...)
}

func (vs *violations) description(d string) {
	switch {
	case !utf8.ValidString(d):
		vs.add("description", "must be valid UTF-8")
	case utf8.RuneCountInString(d) > MaxDescriptionLen:
		vs.add("description", "must be at most %d characters long", MaxDescriptionLen)
	case strings.IndexFunc(d, unicode.IsControl) >= 0:
		vs.add("description", "must not contain control characters")
	}
}

// alternatives checks the alternative zones of the zone id and returns them
// normalized, in the order given.
func (vs *violations) alternatives(id string, alts []string) []string {
	if len(alts) > MaxAlternativeZones {
		vs.add("alternativeZones", "must hold at most %d zones", MaxAlternativeZones)
		return nil
	}
	out := make([]string, 0, len(alts))
	seen := make(map[string]bool, len(alts))
	for i, a := range alts {
		path := fmt.Sprintf("alternativeZones[%d]", i)
		if p := idProblem(a); p != "" {
			vs.add(path, "%s", p)
			continue
		}
		n := Normalize(a)
		switch {
		case n == id:
			vs.add(path, "must not be the zone itself")
		case seen[n]:
			vs.add(path, "duplicate zone %q", n)
		default:
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// zone checks in as the body of a PUT on the zone id (normalized) and returns
// the zone it describes, defaults filled in.
func (in *Input) zone(id string) (*Zone, violations) {
	var vs violations
	// An empty id in the body is taken as not given (SPEC 2.4): clients
	// that build bodies from a template send one.
	if in.ID != nil && *in.ID != "" && Normalize(*in.ID) != id {
		vs.add("id", "must equal the id in the path")
	}
	z := &Zone{ID: id, AlternativeZones: []string{}, FallbackMode: DefaultFallbackMode}
	if in.Description != nil {
		vs.description(*in.Description)
		z.Description = *in.Description
	}
	if in.AlternativeZones != nil {
		z.AlternativeZones = vs.alternatives(id, in.AlternativeZones)
	}
	if in.FallbackMode != nil {
		if !in.FallbackMode.Known() {
			vs.add("fallbackMode", "must be NONE, ANY_ACTIVE_GATE or ONLY_DEFAULT_ZONE")
		}
		z.FallbackMode = *in.FallbackMode
	}
	return z, vs
}
