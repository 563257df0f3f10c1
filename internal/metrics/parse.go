package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Family is one metric family read back from the text format.
type Family struct {
	Name, Help, Type string
	Samples          []Sample
}

// Sample is one line of a family: a name (the family's, or with _bucket,
// _sum or _count), its labels in the order written, and a value.
type Sample struct {
	Name   string
	Labels []Label
	Value  float64
}

// Label is a label name and its unescaped value.
type Label struct{ Name, Value string }

// String returns the sample's series in a canonical form, labels sorted by
// name: name{a="x",b="y"}. It serves as a map key.
func (s Sample) String() string {
	ls := slices.Clone(s.Labels)
	slices.SortFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	var b strings.Builder
	b.WriteString(s.Name)
	if len(ls) > 0 {
		b.WriteByte('{')
		for i, l := range ls {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(l.Name + `="` + labelEscaper.Replace(l.Value) + `"`)
		}
		b.WriteByte('}')
	}
	return b.String()
}

// Label returns the value of the label name, or "".
func (s Sample) Label(name string) string {
	for _, l := range s.Labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Parse reads a text exposition (version 0.0.4) strictly, for tests and
// tools: every family's lines are together, # HELP and # TYPE come at most
// once each and before its samples, sample names belong to their family
// (_bucket, _sum and _count only for histograms and summaries), label values
// use only the three escapes the format has, and no series appears twice.
// Timestamps are accepted and dropped.
func Parse(r io.Reader) ([]Family, error) {
	var fams []Family
	done := map[string]bool{} // families already finished
	seen := map[string]bool{} // series already read
	var cur *Family           // the family being read
	var help, typ bool        // cur had # HELP / # TYPE
	start := func(name string) *Family {
		if cur != nil && cur.Name == name {
			return cur
		}
		if cur != nil {
			done[cur.Name] = true
		}
		fams = append(fams, Family{Name: name, Type: "untyped"})
		cur, help, typ = &fams[len(fams)-1], false, false
		return cur
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fail := func(format string, a ...any) error {
			return fmt.Errorf("line %d: %s: %q", n, fmt.Sprintf(format, a...), line)
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "#"); ok {
			fields := strings.SplitN(strings.TrimLeft(rest, " \t"), " ", 3)
			if len(fields) < 2 || fields[0] != "HELP" && fields[0] != "TYPE" {
				continue // a comment
			}
			name := fields[1]
			if !validName(name, true) {
				return nil, fail("invalid metric name")
			}
			if done[name] {
				return nil, fail("%s continues after another family", name)
			}
			if cur != nil && cur.Name == name && len(cur.Samples) > 0 {
				return nil, fail("%s after samples of %s", fields[0], name)
			}
			f := start(name)
			text := ""
			if len(fields) == 3 {
				text = fields[2]
			}
			if fields[0] == "HELP" {
				if help {
					return nil, fail("second HELP for %s", name)
				}
				h, err := unescape(text, false)
				if err != nil {
					return nil, fail("%v", err)
				}
				f.Help, help = h, true
				continue
			}
			if typ {
				return nil, fail("second TYPE for %s", name)
			}
			switch text {
			case "counter", "gauge", "histogram", "summary", "untyped":
			default:
				return nil, fail("unknown type %q", text)
			}
			f.Type, typ = text, true
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fail("%v", err)
		}
		famName := s.Name
		if cur != nil && cur.Name != s.Name && (cur.Type == "histogram" || cur.Type == "summary") {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if s.Name == cur.Name+suf && (suf != "_bucket" || cur.Type == "histogram") {
					famName = cur.Name
				}
			}
		}
		if done[famName] {
			return nil, fail("%s continues after another family", famName)
		}
		key := s.String()
		if seen[key] {
			return nil, fail("series %s repeated", key)
		}
		seen[key] = true
		f := start(famName)
		f.Samples = append(f.Samples, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return fams, nil
}

// parseSample reads name{labels} value [timestamp].
func parseSample(line string) (Sample, error) {
	var s Sample
	i := 0
	for i < len(line) && line[i] != '{' && line[i] != ' ' && line[i] != '\t' {
		i++
	}
	s.Name = line[:i]
	if !validName(s.Name, true) {
		return s, fmt.Errorf("invalid metric name %q", s.Name)
	}
	rest := line[i:]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " \t")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.IndexByte(rest, '=')
			if eq < 0 {
				return s, fmt.Errorf("label without =")
			}
			name := strings.TrimSpace(rest[:eq])
			if !validName(name, false) {
				return s, fmt.Errorf("invalid label name %q", name)
			}
			for _, l := range s.Labels {
				if l.Name == name {
					return s, fmt.Errorf("label %s twice", name)
				}
			}
			rest = strings.TrimLeft(rest[eq+1:], " \t")
			if !strings.HasPrefix(rest, `"`) {
				return s, fmt.Errorf("label %s: value not quoted", name)
			}
			end := 1
			for end < len(rest) && rest[end] != '"' {
				if rest[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(rest) {
				return s, fmt.Errorf("label %s: unterminated value", name)
			}
			v, err := unescape(rest[1:end], true)
			if err != nil {
				return s, fmt.Errorf("label %s: %v", name, err)
			}
			s.Labels = append(s.Labels, Label{name, v})
			rest = strings.TrimLeft(rest[end+1:], " \t")
			if r, ok := strings.CutPrefix(rest, ","); ok {
				rest = r
			} else if !strings.HasPrefix(rest, "}") {
				return s, fmt.Errorf("expected , or } after label %s", name)
			}
		}
	}
	fields := strings.Fields(rest)
	if len(fields) < 1 || len(fields) > 2 || rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return s, fmt.Errorf("expected a value and an optional timestamp")
	}
	v, err := parseValue(fields[0])
	if err != nil {
		return s, err
	}
	s.Value = v
	if len(fields) == 2 {
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			return s, fmt.Errorf("bad timestamp %q", fields[1])
		}
	}
	return s, nil
}

func parseValue(f string) (float64, error) {
	switch f {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(f, 64)
	if err != nil || strings.ContainsAny(f, "xXpP_iInN") { // no hex, no underscores, no spelled-out words
		return 0, fmt.Errorf("bad value %q", f)
	}
	return v, nil
}

// unescape undoes \\ and \n, and in label values \" too; any other escape
// is an error.
func unescape(s string, label bool) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch {
		case i == len(s):
			return "", fmt.Errorf("trailing backslash")
		case s[i] == '\\':
			b.WriteByte('\\')
		case s[i] == 'n':
			b.WriteByte('\n')
		case s[i] == '"' && label:
			b.WriteByte('"')
		default:
			return "", fmt.Errorf(`unknown escape \%c`, s[i])
		}
	}
	return b.String(), nil
}
