package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"clusterapi/internal/audit"
)

// auditPageSize is how many events one page of the audit log shows.
const auditPageSize = 50

// auditLogPage is the audit log, newest first.
type auditLogPage struct {
	layout
	Actor, Target, Action string
	Filtered              bool
	Rows                  []auditRow
	Older                 string // the URL of the next, older page; empty on the last
}

type auditRow struct {
	Time                                                       string
	Action, User, TokenID, ClientAddr, Target, Outcome, Detail string
	Count                                                      int
}

func (c *Console) auditLog(w http.ResponseWriter, r *http.Request) {
	u := signedIn(r.Context())
	q := r.URL.Query()
	clip := func(s string) string {
		s = strings.TrimSpace(s)
		if len(s) > 255 {
			s = s[:255]
		}
		return s
	}
	page := auditLogPage{layout: layout{Title: "Audit log", User: u.ID, Nav: "auditlog"},
		Actor: clip(q.Get("actor")), Target: clip(q.Get("target")), Action: clip(q.Get("action"))}
	page.Filtered = page.Actor != "" || page.Target != "" || page.Action != ""
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	if c.audit == nil {
		c.render(w, r, http.StatusOK, "auditlog.html", page)
		return
	}
	events, err := c.audit.Find(r.Context(), audit.Query{Actor: page.Actor, Target: page.Target, Action: page.Action,
		Before: max(before, 0), Limit: auditPageSize + 1})
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	if len(events) > auditPageSize {
		events = events[:auditPageSize]
		v := url.Values{"before": {strconv.FormatInt(events[len(events)-1].Seq, 10)}}
		for k, s := range map[string]string{"actor": page.Actor, "target": page.Target, "action": page.Action} {
			if s != "" {
				v.Set(k, s)
			}
		}
		page.Older = Prefix + "auditlog?" + v.Encode()
	}
	for _, e := range events {
		page.Rows = append(page.Rows, auditRow{Time: e.Time.UTC().Format("2006-01-02 15:04:05 UTC"), Action: e.Action,
			User: e.User, TokenID: e.TokenID, ClientAddr: e.ClientAddr, Target: e.Target, Outcome: e.Outcome,
			Detail: e.Detail, Count: e.Count})
	}
	c.render(w, r, http.StatusOK, "auditlog.html", page)
}
