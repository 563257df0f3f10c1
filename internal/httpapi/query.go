package httpapi

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"clusterapi/internal/errs"
)

// checkQuery returns a 400 when url.ParseQuery refuses the raw query: a bare
// ';' (no longer a separator since Go 1.17), a malformed %-escape, or too
// many parameters. The message names the parameter at fault, quoted short;
// writeError redacts it like every message, and a value is never quoted.
func checkQuery(raw string) error {
	if raw == "" {
		return nil
	}
	_, err := url.ParseQuery(raw)
	if err == nil {
		return nil
	}
	const hint = "Malformed query string: "
	// Find the pair at fault the way url.ParseQuery walks the query.
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		rawName, value, _ := strings.Cut(pair, "=")
		name, nameErr := url.QueryUnescape(rawName)
		if nameErr != nil {
			name = rawName
		}
		if semi := strings.IndexByte(name, ';'); semi >= 0 && nameErr == nil {
			name = name[:semi] // "a;b=c": the parameter meant is a
		}
		quoted := strconv.Quote(clip(name, maxQuotedName))
		switch {
		case strings.Contains(pair, ";"):
			return errs.E(errs.Invalid, hint+"parameter "+quoted+
				" holds a bare ';', which does not separate parameters: write a ';' inside a value as %3B")
		case nameErr != nil:
			return errs.E(errs.Invalid, hint+"the parameter name "+quoted+" holds "+escapeProblem(nameErr))
		}
		if _, err := url.QueryUnescape(value); err != nil {
			return errs.E(errs.Invalid, hint+"parameter "+quoted+" holds "+escapeProblem(err))
		}
	}
	return errs.E(errs.Invalid, hint+err.Error())
}

// maxQuotedName bounds a parameter name quoted in an error message.
const maxQuotedName = 100

// escapeProblem describes a %-escape error without quoting the escape: even
// its two characters may be part of a secret.
func escapeProblem(err error) string {
	var ee url.EscapeError
	if errors.As(err, &ee) {
		return "an invalid %-escape (write a '%' as %25)"
	}
	return "an invalid %-escape"
}

// clip shortens s to at most n bytes, on a character boundary, marking the cut
// with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// queryParams reads the query parameters of one request and collects the
// violations, so that a request with several bad parameters hears of all.
type queryParams struct {
	q  url.Values
	vs []errs.Violation
}

func (p *queryParams) bad(name, message string) {
	p.vs = append(p.vs, errs.Violation{Path: name, Message: message, Location: errs.Query})
}

func (p *queryParams) err() error {
	if len(p.vs) == 0 {
		return nil
	}
	return errs.Violated(p.vs...)
}

// single returns the value of a parameter that may be given once, and
// whether it was given. A repeated parameter is a violation rather than a
// silent choice of one of its values.
func (p *queryParams) single(name string) (string, bool) {
	vs, ok := p.q[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	if len(vs) > 1 {
		p.bad(name, "must be given at most once")
	}
	return vs[0], true
}

// flag reads a boolean parameter; absent is false.
func (p *queryParams) flag(name string) bool {
	s, ok := p.single(name)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.bad(name, "must be true or false")
	}
	return b
}
