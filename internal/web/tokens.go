package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"clusterapi/internal/errs"
	"clusterapi/internal/token"
)

// maxPage bounds the page number, so an offset always fits.
const maxPage = 1_000_000

// tokenRow is one token in the list.
type tokenRow struct {
	ID, Name, Owner           string
	Scopes                    []string // display names
	Created, Expires, LastUse string
	LastUseIP                 string // the client address of the last use; console only, never on the API
	Status                    token.Status
}

// option is one choice of a select or radio group.
type option struct {
	Value, Label string
	Selected     bool
}

// tokensPage is Settings > API tokens.
type tokensPage struct {
	layout
	FilterName   string
	FilterStatus string
	Statuses     []option
	Filtered     bool
	Rows         []tokenRow
	Page         int
	PrevURL      string
	NextURL      string
	FirstURL     string
	Notice       string
	Error        string
}

// listQuery is the list's state in its URL: the filter and the page.
type listQuery struct {
	Name   string
	Status string
	Page   int
}

// readListQuery reads the list state from v; anything it cannot use falls
// back to the default (all tokens, first page) instead of failing.
func readListQuery(v url.Values) listQuery {
	q := listQuery{Name: v.Get("name"), Status: v.Get("status"), Page: 1}
	if len(q.Name) > 1024 {
		q.Name = q.Name[:1024]
	}
	switch token.Status(q.Status) {
	case token.StatusActive, token.StatusRevoked, token.StatusExpired:
	default:
		q.Status = ""
	}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n >= 1 && n <= maxPage {
		q.Page = n
	}
	return q
}

// url returns the list's URL for q, with extra parameters added.
func (q listQuery) url(extra ...string) string {
	v := url.Values{}
	if q.Name != "" {
		v.Set("name", q.Name)
	}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return Prefix + "tokens"
	}
	return Prefix + "tokens?" + v.Encode()
}

// notice is what the list says after an action redirected to it.
type notice struct {
	format string // with %s for the token id, when it names one
	isErr  bool
}

// notices are the messages a redirect after an action may ask for, by the
// value of its done parameter.
var notices = map[string]notice{
	"revoked":  {format: "Token %s revoked. The API refuses it from now on."},
	"restored": {format: "Token %s restored."},
	"deleted":  {format: "Token %s deleted."},
	"gone":     {format: "That token does not exist any more.", isErr: true},
}

func (c *Console) listTokens(w http.ResponseWriter, r *http.Request) {
	u := signedIn(r.Context())
	q := readListQuery(r.URL.Query())
	page := tokensPage{
		layout:     layout{Title: "API tokens", User: u.ID, Nav: "tokens"},
		FilterName: q.Name, FilterStatus: q.Status, Filtered: q.Name != "" || q.Status != "",
		Page: q.Page,
	}
	for _, s := range []option{{"", "Any status", false}, {"active", "Active", false}, {"revoked", "Revoked", false}, {"expired", "Expired", false}} {
		s.Selected = s.Value == q.Status
		page.Statuses = append(page.Statuses, s)
	}
	if n, ok := notices[r.URL.Query().Get("done")]; ok {
		id, valid := parseID(r.URL.Query().Get("token"))
		switch {
		case n.isErr:
			page.Error = n.format
		case valid: // a made-up id in the URL shows nothing
			page.Notice = fmt.Sprintf(n.format, id)
		}
	}
	now := c.tokens.Now()
	ts, err := c.tokens.List(r.Context(), token.Filter{
		Name: q.Name, Status: token.Status(q.Status), At: now,
		Limit: c.pageSize + 1, Offset: (q.Page - 1) * c.pageSize,
	})
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	if len(ts) > c.pageSize {
		ts = ts[:c.pageSize]
		next := q
		next.Page++
		page.NextURL = next.url()
	}
	if q.Page > 1 {
		prev := q
		prev.Page--
		page.PrevURL = prev.url()
		first := q
		first.Page = 1
		page.FirstURL = first.url()
	}
	for _, t := range ts {
		row := tokenRow{ID: t.ID, Name: t.Name, Owner: t.UserID, Status: t.Status(now),
			Created: formatTime(t.Created, ""), Expires: formatTime(t.Expires, "never"), LastUse: formatTime(t.LastUse, "never")}
		if !t.LastUse.IsZero() {
			row.LastUseIP = t.LastUseIP
		}
		for _, s := range t.Scopes {
			row.Scopes = append(row.Scopes, s.DisplayName())
		}
		page.Rows = append(page.Rows, row)
	}
	c.render(w, r, http.StatusOK, "tokens.html", page)
}

// expiryPresets are the expiry choices of the generate form, in order.
var expiryPresets = []struct {
	Value, Label string
	D            time.Duration
}{
	{"24h", "24 hours", 24 * time.Hour},
	{"7d", "7 days", 7 * 24 * time.Hour},
	{"30d", "30 days", 30 * 24 * time.Hour},
	{"90d", "90 days", 90 * 24 * time.Hour},
	{"custom", "Custom date", 0},
	{"never", "Never", 0},
}

// policyNote tells, next to the expiry choices, what the server's lifetime
// policy makes of them; "" without a policy. The choice is sent as made:
// token.Service applies the policy, as for every other way to make a token.
func policyNote(defaultLife, maxLife time.Duration) string {
	switch {
	case defaultLife > 0 && maxLife > 0:
		return fmt.Sprintf("On this server \u201cNever\u201d means %s, and no token lives longer than %s: a longer choice is shortened to that.",
			lifetimeText(defaultLife), lifetimeText(maxLife))
	case defaultLife > 0:
		return fmt.Sprintf("On this server \u201cNever\u201d means %s.", lifetimeText(defaultLife))
	case maxLife > 0:
		return fmt.Sprintf("On this server no token lives longer than %s: a longer choice, or \u201cNever\u201d, is shortened to that.",
			lifetimeText(maxLife))
	}
	return ""
}

// lifetimeText says d in days, hours or minutes when it is a whole number of
// them, else as Go writes durations.
func lifetimeText(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	}
	return d.String()
}

// defaultExpiry is the preset chosen when the form opens.
const defaultExpiry = "30d"

// maxCustomExpiry is the API's limit on expiresIn, which token.Service
// applies to every create; checking here too puts the message by the field.
const maxCustomExpiry = token.MaxLifetime

// scopeOption is one permission checkbox.
type scopeOption struct {
	Value, Name, Grants string
	Checked             bool
	Warn                bool // show the ClusterTokenManagement warning
}

// scopeGroup is a group of permission checkboxes.
type scopeGroup struct {
	Name   string
	Scopes []scopeOption
}

// formErrors are the generate form's errors, each shown next to its field.
type formErrors struct {
	Form, Name, Scopes, Expiry string
}

func (e formErrors) any() bool { return e != formErrors{} }

// newTokenPage is the Generate token form.
type newTokenPage struct {
	layout
	Name       string
	Groups     []scopeGroup
	Presets    []option
	CustomDate string
	MinDate    string
	Policy     string // the server's lifetime policy, when it has one
	Errors     formErrors
}

// tokenForm is what the generate form sent.
type tokenForm struct {
	Name       string
	Scopes     []token.Scope
	Expiry     string
	CustomDate string
}

func (c *Console) formPage(user string, f tokenForm, e formErrors) newTokenPage {
	p := newTokenPage{
		layout: layout{Title: "Generate token", User: user, Nav: "tokens"},
		Name:   f.Name, CustomDate: f.CustomDate, Errors: e,
		MinDate: c.tokens.Now().UTC().Format(time.DateOnly),
		Policy:  policyNote(c.tokens.Lifetimes()),
	}
	checked := token.SetOf(f.Scopes...)
	group := map[string]int{} // group name → index in p.Groups, in order of first appearance
	for _, info := range token.Scopes() {
		i, ok := group[info.Group]
		if !ok {
			i = len(p.Groups)
			group[info.Group] = i
			p.Groups = append(p.Groups, scopeGroup{Name: info.Group})
		}
		g := &p.Groups[i]
		g.Scopes = append(g.Scopes, scopeOption{Value: string(info.Scope), Name: info.Name, Grants: info.Grants,
			Checked: checked.Has(info.Scope), Warn: info.Scope == token.ClusterTokenManagement})
	}
	for _, pr := range expiryPresets {
		p.Presets = append(p.Presets, option{Value: pr.Value, Label: pr.Label, Selected: pr.Value == f.Expiry})
	}
	return p
}

func (c *Console) newToken(w http.ResponseWriter, r *http.Request) {
	u := signedIn(r.Context())
	c.render(w, r, http.StatusOK, "new.html", c.formPage(u.ID, tokenForm{Expiry: defaultExpiry}, formErrors{}))
}

// createdPage shows a new token, once.
type createdPage struct {
	layout
	Name, ID, Token, Expires string
	Scopes                   []string
}

// expiresIn turns the form's expiry choice into a lifetime (0: never).
func (c *Console) expiresIn(f tokenForm) (time.Duration, string) {
	for _, pr := range expiryPresets {
		if pr.Value != f.Expiry {
			continue
		}
		switch pr.Value {
		case "never":
			return 0, ""
		case "custom":
			day, err := time.Parse(time.DateOnly, f.CustomDate)
			if err != nil {
				return 0, "Choose a date for the custom expiry."
			}
			// The token lives to the end of the chosen day, UTC.
			d := day.AddDate(0, 0, 1).Sub(c.tokens.Now())
			switch {
			case d <= 0:
				return 0, "The expiry date must be today or later."
			case d > maxCustomExpiry:
				return 0, "The expiry date must be within 100 years."
			}
			return d, ""
		}
		return pr.D, ""
	}
	return 0, "Choose when the token expires."
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request) {
	u := signedIn(r.Context())
	if err := r.ParseForm(); err != nil {
		c.render(w, r, http.StatusBadRequest, "new.html",
			c.formPage(u.ID, tokenForm{Expiry: defaultExpiry}, formErrors{Form: "The form could not be read. Try again."}))
		return
	}
	f := tokenForm{Name: r.PostForm.Get("name"), Expiry: r.PostForm.Get("expiry"), CustomDate: r.PostForm.Get("expires_on")}
	for _, s := range r.PostForm["scope"] {
		f.Scopes = append(f.Scopes, token.Scope(s))
	}
	var fe formErrors
	d, msg := c.expiresIn(f)
	fe.Expiry = msg
	if len(f.Scopes) == 0 {
		fe.Scopes = "Choose at least one permission."
	}
	if strings.TrimSpace(f.Name) == "" {
		fe.Name = "Enter a name for the token."
	}
	if fe.any() {
		c.render(w, r, http.StatusBadRequest, "new.html", c.formPage(u.ID, f, fe))
		return
	}
	t, secret, err := c.tokens.Create(r.Context(), token.Actor{UserID: u.ID},
		token.CreateInput{Name: f.Name, Scopes: f.Scopes, ExpiresIn: d, UserID: u.ID})
	if err != nil {
		e, ok := errors.AsType[*errs.Error](err)
		if !ok || e.Kind == errs.Internal || e.Kind == errs.Unavailable {
			c.serverError(w, r, err)
			return
		}
		c.render(w, r, http.StatusBadRequest, "new.html", c.formPage(u.ID, f, violationErrors(e)))
		return
	}
	c.log.Info("token generated in the console", "token_id", t.ID, "user", u.ID)
	var scopes []string
	for _, s := range t.Scopes {
		scopes = append(scopes, string(s))
	}
	c.record(r, "token.create", t.ID, "in the console; scopes "+strings.Join(scopes, " "))
	page := createdPage{layout: layout{Title: "Token generated", User: u.ID, Nav: "tokens"},
		Name: t.Name, ID: t.ID, Token: secret.Reveal(), Expires: formatTime(t.Expires, "never")}
	for _, s := range t.Scopes {
		page.Scopes = append(page.Scopes, s.DisplayName())
	}
	c.render(w, r, http.StatusOK, "created.html", page)
}

// violationErrors places a domain error's violations next to their fields.
// Messages may quote what was sent, so they are redacted as the API's are.
func violationErrors(e *errs.Error) formErrors {
	var fe formErrors
	if len(e.Violations) == 0 {
		fe.Form = token.Redact(e.Message)
	}
	add := func(dst *string, label, msg string) {
		if *dst == "" {
			*dst = token.Redact(label + " " + msg + ".")
		}
	}
	for _, v := range e.Violations {
		switch {
		case v.Path == "name":
			add(&fe.Name, "The name", v.Message)
		case strings.HasPrefix(v.Path, "scopes"):
			add(&fe.Scopes, "Permissions:", v.Message)
		case strings.HasPrefix(v.Path, "expiresIn"):
			add(&fe.Expiry, "The expiry", v.Message)
		default:
			add(&fe.Form, v.Path, v.Message)
		}
	}
	return fe
}

// act applies a change to the token named in the path and goes back to the
// list the form came from.
func (c *Console) act(w http.ResponseWriter, r *http.Request, done string, apply func(id string) error) {
	id, ok := parseID(r.PathValue("id"))
	// A form that cannot be read only loses where to go back to: the
	// first page of the unfiltered list.
	var q listQuery
	if err := r.ParseForm(); err == nil {
		q = readListQuery(r.PostForm)
	} else {
		q = readListQuery(nil)
	}
	if !ok {
		http.Redirect(w, r, q.url("done", "gone"), http.StatusSeeOther)
		return
	}
	err := apply(id)
	if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid) {
		http.Redirect(w, r, q.url("done", "gone"), http.StatusSeeOther)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.log.Info("token "+done+" in the console", "token_id", id, "user", signedIn(r.Context()).ID)
	c.record(r, map[string]string{"revoked": "token.revoke", "restored": "token.restore", "deleted": "token.delete"}[done], id, "in the console")
	http.Redirect(w, r, q.url("done", done, "token", id), http.StatusSeeOther)
}

func (c *Console) setRevoked(w http.ResponseWriter, r *http.Request, revoked bool, done string) {
	u := signedIn(r.Context())
	c.act(w, r, done, func(id string) error {
		return c.tokens.Update(r.Context(), token.Actor{UserID: u.ID}, id, token.Change{Revoked: &revoked})
	})
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request) {
	c.setRevoked(w, r, true, "revoked")
}

func (c *Console) restoreToken(w http.ResponseWriter, r *http.Request) {
	c.setRevoked(w, r, false, "restored")
}

func (c *Console) deleteToken(w http.ResponseWriter, r *http.Request) {
	u := signedIn(r.Context())
	c.act(w, r, "deleted", func(id string) error {
		return c.tokens.Delete(r.Context(), token.Actor{UserID: u.ID}, id)
	})
}

// deletePage asks before a token is deleted.
type deletePage struct {
	layout
	Row tokenRow
}

func (c *Console) confirmDelete(w http.ResponseWriter, r *http.Request) {
	u := signedIn(r.Context())
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		http.Redirect(w, r, Prefix+"tokens?done=gone", http.StatusSeeOther)
		return
	}
	t, err := c.tokens.Get(r.Context(), id)
	if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid) {
		http.Redirect(w, r, Prefix+"tokens?done=gone", http.StatusSeeOther)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	row := tokenRow{ID: t.ID, Name: t.Name, Owner: t.UserID, Status: t.Status(c.tokens.Now()),
		Created: formatTime(t.Created, ""), Expires: formatTime(t.Expires, "never"), LastUse: formatTime(t.LastUse, "never")}
	c.render(w, r, http.StatusOK, "delete.html", deletePage{layout: layout{Title: "Delete token", User: u.ID, Nav: "tokens"}, Row: row})
}

// parseID accepts a token id, nothing else: console URLs never hold a secret.
func parseID(s string) (string, bool) { return s, token.IsID(s) }
