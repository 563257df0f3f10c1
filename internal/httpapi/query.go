package httpapi

import (
	"net/url"
	"strconv"

	"clusterapi/internal/errs"
)

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
