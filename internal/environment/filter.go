package environment

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"clusterapi/internal/errs"
)

// MaxFilterLen bounds the filter text, so that parsing and the queries it
// makes stay small.
const MaxFilterLen = 4096

// ParseFilter parses the filter query parameter of a list (SPEC 4):
//
//	filter    = criterion *( "," criterion )
//	criterion = key "(" value *( "," value ) ")"
//	key       = "name" / "state" / "trial" / "tag"
//	value     = quoted / bare
//	quoted    = DQUOTE *( any character but DQUOTE or "\" / "\" any character ) DQUOTE
//	bare      = 1*( any character but "," "(" ")" DQUOTE ), surrounding spaces trimmed
//
// Every criterion must hold; the values of one tag(...) are alternatives.
// name(x) matches names that contain x, ignoring case; trial takes true or
// false and state ENABLED or DISABLED, in any case. Spaces between tokens are
// allowed. The empty filter selects everything. Errors name the filter
// parameter with its location QUERY.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	if len(s) > MaxFilterLen {
		return f, filterError("must be at most %d characters long", MaxFilterLen)
	}
	if !utf8.ValidString(s) {
		return f, filterError("must be valid UTF-8")
	}
	p := &filterParser{s: s}
	p.space()
	if p.done() {
		return f, nil
	}
	for {
		if err := p.criterion(&f); err != nil {
			return Filter{}, err
		}
		p.space()
		if p.done() {
			return f, nil
		}
		if !p.eat(',') {
			return Filter{}, p.unexpected(`"," between criteria`)
		}
		p.space()
	}
}

func filterError(format string, args ...any) error {
	return errs.Field(errs.Query, "filter", fmt.Sprintf(format, args...))
}

type filterParser struct {
	s   string
	pos int // byte offset into s
}

func (p *filterParser) done() bool { return p.pos >= len(p.s) }

func (p *filterParser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *filterParser) eat(c byte) bool {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// unexpected reports what was found where something else was expected.
// Positions are 1-based character counts, as people count them.
func (p *filterParser) unexpected(want string) error {
	at := utf8.RuneCountInString(p.s[:p.pos]) + 1
	if p.done() {
		return filterError("unexpected end of filter at position %d, expected %s", at, want)
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return filterError("unexpected %q at position %d, expected %s", r, at, want)
}

func (p *filterParser) criterion(f *Filter) error {
	start := p.pos
	for p.pos < len(p.s) && 'a' <= p.s[p.pos] && p.s[p.pos] <= 'z' {
		p.pos++
	}
	key := p.s[start:p.pos]
	switch key {
	case "name", "state", "trial", "tag":
	case "":
		return p.unexpected("one of name(...), state(...), trial(...), tag(...)")
	default:
		return filterError("unknown criterion %q: use name(...), state(...), trial(...) or tag(...)", key)
	}
	p.space()
	if !p.eat('(') {
		return p.unexpected(`"(" after ` + key)
	}
	var values []string
	for {
		p.space()
		v, err := p.value()
		if err != nil {
			return err
		}
		values = append(values, v)
		p.space()
		if p.eat(')') {
			break
		}
		if !p.eat(',') {
			return p.unexpected(`"," or ")"`)
		}
	}
	if key != "tag" && len(values) > 1 {
		return filterError("%s(...) takes one value; quote a value that contains a comma", key)
	}
	v := values[0]
	switch key {
	case "name":
		f.Names = append(f.Names, Fold(v))
	case "state":
		switch State(strings.ToUpper(v)) {
		case Enabled:
			f.States = append(f.States, Enabled)
		case Disabled:
			f.States = append(f.States, Disabled)
		default:
			return filterError("state(...) must be ENABLED or DISABLED, not %q", v)
		}
	case "trial":
		switch {
		case strings.EqualFold(v, "true"):
			f.Trials = append(f.Trials, true)
		case strings.EqualFold(v, "false"):
			f.Trials = append(f.Trials, false)
		default:
			return filterError("trial(...) must be true or false, not %q", v)
		}
	case "tag":
		f.Tags = append(f.Tags, values)
	}
	return nil
}

// value reads one quoted or bare value, which must not be empty.
func (p *filterParser) value() (string, error) {
	start := p.pos
	if p.eat('"') {
		var b strings.Builder
		for {
			if p.done() {
				p.pos = start
				return "", filterError("unterminated quoted value at position %d", utf8.RuneCountInString(p.s[:start])+1)
			}
			c := p.s[p.pos]
			p.pos++
			if c == '"' {
				break
			}
			if c == '\\' && !p.done() {
				c = p.s[p.pos]
				p.pos++
			}
			b.WriteByte(c)
		}
		if b.Len() == 0 {
			p.pos = start
			return "", filterError("empty value at position %d", utf8.RuneCountInString(p.s[:start])+1)
		}
		return b.String(), nil
	}
	for p.pos < len(p.s) && !strings.ContainsRune(`,()"`, rune(p.s[p.pos])) {
		p.pos++
	}
	v := strings.TrimRight(p.s[start:p.pos], " \t")
	if v == "" {
		p.pos = start
		return "", p.unexpected("a value")
	}
	return v, nil
}
