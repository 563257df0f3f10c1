package httpapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"clusterapi/internal/environment"
	"clusterapi/internal/errs"
	"clusterapi/internal/token"
)

// environmentsPath is the base of the Environments API (SPEC 4).
const environmentsPath = "/api/cluster/v2/environments"

// creationDateLayout is ISO-8601 UTC with milliseconds, as the reference
// writes it (yyyy-MM-dd'T'HH:mm:ss.SSS'Z').
const creationDateLayout = "2006-01-02T15:04:05.000Z"

// The response shapes follow the reference Environment object field by
// field. Limits are *int64 so that null (unlimited) is written as null;
// usage figures are always 0 here, since nothing reports usage yet.

type environmentOut struct {
	Name         string      `json:"name"`
	ID           string      `json:"id"`
	Trial        bool        `json:"trial"`
	State        string      `json:"state"`
	Tags         []string    `json:"tags"`
	CreationDate string      `json:"creationDate"`
	Quotas       *quotasOut  `json:"quotas,omitempty"`  // only with includeConsumptionInfo
	Storage      *storageOut `json:"storage,omitempty"` // only with includeStorageInfo
}

type quotasOut struct {
	HostUnits         concurrentQuotaOut   `json:"hostUnits"`
	DEMUnits          periodQuotaOut       `json:"demUnits"`
	UserSessions      userSessionsQuotaOut `json:"userSessions"`
	SessionProperties consumptionOut       `json:"sessionProperties"`
	SyntheticMonitors periodQuotaOut       `json:"syntheticMonitors"`
	CustomMetrics     concurrentQuotaOut   `json:"customMetrics"`
	DavisDataUnits    periodQuotaOut       `json:"davisDataUnits"`
	LogMonitoring     periodQuotaOut       `json:"logMonitoring"`
}

// concurrentQuotaOut is HostUnitQuota and CustomMetricsQuota.
type concurrentQuotaOut struct {
	MaxLimit     *int64  `json:"maxLimit"`
	CurrentUsage float64 `json:"currentUsage"`
}

// periodQuotaOut is DemUnitsQuota, SyntheticQuota, DavisDataUnitsQuota and
// LogMonitoringQuota.
type periodQuotaOut struct {
	MonthlyLimit      *int64  `json:"monthlyLimit"`
	AnnualLimit       *int64  `json:"annualLimit"`
	ConsumedThisMonth float64 `json:"consumedThisMonth"`
	ConsumedThisYear  float64 `json:"consumedThisYear"`
}

type userSessionsQuotaOut struct {
	TotalMonthlyLimit                                    *int64  `json:"totalMonthlyLimit"`
	TotalAnnualLimit                                     *int64  `json:"totalAnnualLimit"`
	TotalConsumedThisMonth                               float64 `json:"totalConsumedThisMonth"`
	TotalConsumedThisYear                                float64 `json:"totalConsumedThisYear"`
	ConsumedMobileSessionsThisMonth                      float64 `json:"consumedMobileSessionsThisMonth"`
	ConsumedMobileSessionsThisYear                       float64 `json:"consumedMobileSessionsThisYear"`
	ConsumedUserSessionsWithWebSessionReplayThisMonth    float64 `json:"consumedUserSessionsWithWebSessionReplayThisMonth"`
	ConsumedUserSessionsWithWebSessionReplayThisYear     float64 `json:"consumedUserSessionsWithWebSessionReplayThisYear"`
	ConsumedUserSessionsWithMobileSessionReplayThisMonth float64 `json:"consumedUserSessionsWithMobileSessionReplayThisMonth"`
	ConsumedUserSessionsWithMobileSessionReplayThisYear  float64 `json:"consumedUserSessionsWithMobileSessionReplayThisYear"`
}

// consumptionOut is SessionPropertiesQuota: usage only, no limit.
type consumptionOut struct {
	ConsumedThisMonth float64 `json:"consumedThisMonth"`
	ConsumedThisYear  float64 `json:"consumedThisYear"`
}

type storageOut struct {
	TransactionStorage           storageSizeOut `json:"transactionStorage"`
	SessionReplayStorage         storageSizeOut `json:"sessionReplayStorage"`
	SymbolFilesFromMobileApps    storageSizeOut `json:"symbolFilesFromMobileApps"`
	LogMonitoringStorage         storageSizeOut `json:"logMonitoringStorage"`
	ServiceRequestLevelRetention retentionOut   `json:"serviceRequestLevelRetention"`
	ServiceCodeLevelRetention    retentionOut   `json:"serviceCodeLevelRetention"`
	RealUserMonitoringRetention  retentionOut   `json:"realUserMonitoringRetention"`
	SyntheticMonitoringRetention retentionOut   `json:"syntheticMonitoringRetention"`
	SessionReplayRetention       retentionOut   `json:"sessionReplayRetention"`
	LogMonitoringRetention       retentionOut   `json:"logMonitoringRetention"`
	UserActionsPerMinute         maxLimitOut    `json:"userActionsPerMinute"`
	TransactionTrafficQuota      maxLimitOut    `json:"transactionTrafficQuota"`
}

type storageSizeOut struct {
	MaxLimit      *int64 `json:"maxLimit"`
	CurrentlyUsed int64  `json:"currentlyUsed"`
}

type retentionOut struct {
	MaxLimitInDays        *int64 `json:"maxLimitInDays"`
	CurrentlyUsedInMillis int64  `json:"currentlyUsedInMillis"`
	CurrentlyUsedInDays   int64  `json:"currentlyUsedInDays"`
}

type maxLimitOut struct {
	MaxLimit *int64 `json:"maxLimit"`
}

// Nil sub-objects of the domain are all-unlimited, written with null limits.

func maxOf(l *environment.Limit) *int64 {
	if l == nil {
		return nil
	}
	return l.MaxLimit
}

func periodOf(p *environment.PeriodLimits) (monthly, annual *int64) {
	if p == nil {
		return nil, nil
	}
	return p.MonthlyLimit, p.AnnualLimit
}

func periodQuota(p *environment.PeriodLimits) periodQuotaOut {
	m, a := periodOf(p)
	return periodQuotaOut{MonthlyLimit: m, AnnualLimit: a}
}

func retention(r *environment.Retention) retentionOut {
	if r == nil {
		return retentionOut{}
	}
	return retentionOut{MaxLimitInDays: r.MaxLimitInDays}
}

func toEnvironmentOut(e *environment.Environment, withQuotas, withStorage bool) environmentOut {
	out := environmentOut{
		Name: e.Name, ID: e.ID, Trial: e.Trial, State: string(e.State), Tags: e.Tags,
		CreationDate: e.Created.UTC().Format(creationDateLayout),
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if withQuotas {
		q := e.Quotas
		us := userSessionsQuotaOut{}
		us.TotalMonthlyLimit, us.TotalAnnualLimit = periodOf(q.UserSessions)
		out.Quotas = &quotasOut{
			HostUnits:         concurrentQuotaOut{MaxLimit: maxOf(q.HostUnits)},
			DEMUnits:          periodQuota(q.DEMUnits),
			UserSessions:      us,
			SyntheticMonitors: periodQuota(q.SyntheticMonitors),
			CustomMetrics:     concurrentQuotaOut{MaxLimit: maxOf(q.CustomMetrics)},
			DavisDataUnits:    periodQuota(q.DavisDataUnits),
			LogMonitoring:     periodQuota(q.LogMonitoring),
		}
	}
	if withStorage {
		s := e.Storage
		out.Storage = &storageOut{
			TransactionStorage:           storageSizeOut{MaxLimit: maxOf(s.TransactionStorage)},
			SessionReplayStorage:         storageSizeOut{MaxLimit: maxOf(s.SessionReplayStorage)},
			SymbolFilesFromMobileApps:    storageSizeOut{MaxLimit: maxOf(s.SymbolFilesFromMobileApps)},
			LogMonitoringStorage:         storageSizeOut{MaxLimit: maxOf(s.LogMonitoringStorage)},
			ServiceRequestLevelRetention: retention(s.ServiceRequestLevelRetention),
			ServiceCodeLevelRetention:    retention(s.ServiceCodeLevelRetention),
			RealUserMonitoringRetention:  retention(s.RealUserMonitoringRetention),
			SyntheticMonitoringRetention: retention(s.SyntheticMonitoringRetention),
			SessionReplayRetention:       retention(s.SessionReplayRetention),
			LogMonitoringRetention:       retention(s.LogMonitoringRetention),
			UserActionsPerMinute:         maxLimitOut{MaxLimit: maxOf(s.UserActionsPerMinute)},
			TransactionTrafficQuota:      maxLimitOut{MaxLimit: maxOf(s.TransactionTrafficQuota)},
		}
	}
	return out
}

type environmentListOut struct {
	TotalCount   int              `json:"totalCount"`
	PageSize     int              `json:"pageSize"`
	NextPageKey  *string          `json:"nextPageKey"` // null on the last page
	Environments []environmentOut `json:"environments"`
}

// environmentCreatedOut is the short form a create answers with.
type environmentCreatedOut struct {
	ID                   string  `json:"id"`
	Name                 string  `json:"name"`
	TokenManagementToken *string `json:"tokenManagementToken,omitempty"`
}

// The request shapes take the limits only: usage figures and other read-only
// fields a client sends back from a GET are unknown here and so ignored
// (SPEC 2.4), and so are sessionProperties, which have no limit. A null or
// absent field is "not given", except for a limit inside a sub-object that
// was sent: there absent keeps the stored limit and null makes it unlimited
// (SPEC 4), so limits are optInts.

type environmentIn struct {
	ID      *string    `json:"id"`
	Name    *string    `json:"name"`
	Trial   *bool      `json:"trial"`
	State   *string    `json:"state"`
	Tags    []string   `json:"tags"`
	Quotas  *quotasIn  `json:"quotas"`
	Storage *storageIn `json:"storage"`
}

type quotasIn struct {
	HostUnits         *maxLimitIn     `json:"hostUnits"`
	DEMUnits          *periodIn       `json:"demUnits"`
	UserSessions      *userSessionsIn `json:"userSessions"`
	SyntheticMonitors *periodIn       `json:"syntheticMonitors"`
	CustomMetrics     *maxLimitIn     `json:"customMetrics"`
	DavisDataUnits    *periodIn       `json:"davisDataUnits"`
	LogMonitoring     *periodIn       `json:"logMonitoring"`
}

type storageIn struct {
	TransactionStorage           *maxLimitIn  `json:"transactionStorage"`
	SessionReplayStorage         *maxLimitIn  `json:"sessionReplayStorage"`
	SymbolFilesFromMobileApps    *maxLimitIn  `json:"symbolFilesFromMobileApps"`
	LogMonitoringStorage         *maxLimitIn  `json:"logMonitoringStorage"`
	ServiceRequestLevelRetention *retentionIn `json:"serviceRequestLevelRetention"`
	ServiceCodeLevelRetention    *retentionIn `json:"serviceCodeLevelRetention"`
	RealUserMonitoringRetention  *retentionIn `json:"realUserMonitoringRetention"`
	SyntheticMonitoringRetention *retentionIn `json:"syntheticMonitoringRetention"`
	SessionReplayRetention       *retentionIn `json:"sessionReplayRetention"`
	LogMonitoringRetention       *retentionIn `json:"logMonitoringRetention"`
	UserActionsPerMinute         *maxLimitIn  `json:"userActionsPerMinute"`
	TransactionTrafficQuota      *maxLimitIn  `json:"transactionTrafficQuota"`
}

// optInt is a limit on the wire: absent, null or an integer. encoding/json
// calls UnmarshalJSON for every field that is present, null included, so set
// records presence; an absent field stays the zero optInt.
type optInt struct {
	set   bool
	value *int64
}

func (o *optInt) UnmarshalJSON(b []byte) error {
	o.set = true
	o.value = nil
	if string(b) == "null" {
		return nil
	}
	// A type error (a string, a fraction, too large) comes back as an
	// *json.UnmarshalTypeError, to which the decoder adds the field path,
	// so decodeError names the field as for any other.
	var v int64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.value = &v
	return nil
}

func (o optInt) opt() environment.Opt { return environment.Opt{Set: o.set, Value: o.value} }

type maxLimitIn struct {
	MaxLimit optInt `json:"maxLimit"`
}

type periodIn struct {
	MonthlyLimit optInt `json:"monthlyLimit"`
	AnnualLimit  optInt `json:"annualLimit"`
}

type userSessionsIn struct {
	TotalMonthlyLimit optInt `json:"totalMonthlyLimit"`
	TotalAnnualLimit  optInt `json:"totalAnnualLimit"`
}

type retentionIn struct {
	MaxLimitInDays optInt `json:"maxLimitInDays"`
}

func (m *maxLimitIn) limit() *environment.LimitInput {
	if m == nil {
		return nil
	}
	return &environment.LimitInput{MaxLimit: m.MaxLimit.opt()}
}

func (p *periodIn) limits() *environment.PeriodInput {
	if p == nil {
		return nil
	}
	return &environment.PeriodInput{MonthlyLimit: p.MonthlyLimit.opt(), AnnualLimit: p.AnnualLimit.opt()}
}

func (u *userSessionsIn) limits() *environment.PeriodInput {
	if u == nil {
		return nil
	}
	return &environment.PeriodInput{MonthlyLimit: u.TotalMonthlyLimit.opt(), AnnualLimit: u.TotalAnnualLimit.opt()}
}

func (r *retentionIn) retention() *environment.RetentionInput {
	if r == nil {
		return nil
	}
	return &environment.RetentionInput{MaxLimitInDays: r.MaxLimitInDays.opt()}
}

func (in *environmentIn) input() environment.Input {
	out := environment.Input{ID: in.ID, Name: in.Name, Trial: in.Trial, Tags: in.Tags}
	if in.State != nil {
		s := environment.State(*in.State)
		out.State = &s
	}
	if q := in.Quotas; q != nil {
		out.Quotas = &environment.QuotasInput{
			HostUnits:         q.HostUnits.limit(),
			DEMUnits:          q.DEMUnits.limits(),
			UserSessions:      q.UserSessions.limits(),
			SyntheticMonitors: q.SyntheticMonitors.limits(),
			CustomMetrics:     q.CustomMetrics.limit(),
			DavisDataUnits:    q.DavisDataUnits.limits(),
			LogMonitoring:     q.LogMonitoring.limits(),
		}
	}
	if s := in.Storage; s != nil {
		out.Storage = &environment.StorageInput{
			TransactionStorage:           s.TransactionStorage.limit(),
			SessionReplayStorage:         s.SessionReplayStorage.limit(),
			SymbolFilesFromMobileApps:    s.SymbolFilesFromMobileApps.limit(),
			LogMonitoringStorage:         s.LogMonitoringStorage.limit(),
			ServiceRequestLevelRetention: s.ServiceRequestLevelRetention.retention(),
			ServiceCodeLevelRetention:    s.ServiceCodeLevelRetention.retention(),
			RealUserMonitoringRetention:  s.RealUserMonitoringRetention.retention(),
			SyntheticMonitoringRetention: s.SyntheticMonitoringRetention.retention(),
			SessionReplayRetention:       s.SessionReplayRetention.retention(),
			LogMonitoringRetention:       s.LogMonitoringRetention.retention(),
			UserActionsPerMinute:         s.UserActionsPerMinute.limit(),
			TransactionTrafficQuota:      s.TransactionTrafficQuota.limit(),
		}
	}
	return out
}

type tokenManagementTokenIn struct {
	Name      *string    `json:"name"`
	ExpiresIn *expiresIn `json:"expiresIn"`
}

// includes reads the include flags. includeUncachedConsumptionInfo, which the
// reference also has, means includeConsumptionInfo here: usage is never
// cached because none is reported.
func (p *queryParams) includes() (quotas, storage bool) {
	quotas = p.flag("includeConsumptionInfo")
	quotas = p.flag("includeUncachedConsumptionInfo") || quotas
	return quotas, p.flag("includeStorageInfo")
}

func (a *API) listEnvironments(w http.ResponseWriter, r *http.Request) {
	p := queryParams{q: r.URL.Query()}
	var (
		page *environment.Page
		err  error
	)
	if _, ok := p.q["nextPageKey"]; ok {
		// The key stands for every other parameter; the credential is not one.
		var others []string
		for name := range p.q {
			if name != "nextPageKey" && !strings.EqualFold(name, "api-token") {
				others = append(others, name)
			}
		}
		sort.Strings(others)
		for _, name := range others {
			p.bad(name, "must not be given together with nextPageKey, which carries the parameters of the first page")
		}
		if err := p.err(); err != nil {
			a.writeError(w, r, err)
			return
		}
		key, _ := p.single("nextPageKey")
		if err := p.err(); err != nil {
			a.writeError(w, r, err)
			return
		}
		page, err = a.envs.ListNext(r.Context(), key)
	} else {
		filter, _ := p.single("filter")
		sortBy, _ := p.single("sort")
		o := environment.ListOptions{Filter: filter, Sort: environment.Sort(sortBy), PageSize: environment.DefaultPageSize}
		if s, ok := p.single("pageSize"); ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > environment.MaxPageSize {
				p.bad("pageSize", "must be an integer between 1 and 1000")
			}
			o.PageSize = n
		}
		o.IncludeQuotas, o.IncludeStorage = p.includes()
		if err := p.err(); err != nil {
			a.writeError(w, r, err)
			return
		}
		page, err = a.envs.List(r.Context(), o)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := environmentListOut{
		TotalCount: page.TotalCount, PageSize: page.Options.PageSize,
		Environments: make([]environmentOut, 0, len(page.Environments)),
	}
	if page.NextPageKey != "" {
		out.NextPageKey = &page.NextPageKey
	}
	for _, e := range page.Environments {
		out.Environments = append(out.Environments, toEnvironmentOut(e, page.Options.IncludeQuotas, page.Options.IncludeStorage))
	}
	encode(w, r, http.StatusOK, out)
}

// created writes the 201 short form of a create, with its Location.
func created(w http.ResponseWriter, r *http.Request, res *environment.Result) {
	out := environmentCreatedOut{ID: res.Environment.ID, Name: res.Environment.Name}
	detail := "created " + res.Environment.Name
	if res.Token != "" {
		t := res.Token.Reveal()
		out.TokenManagementToken = &t
		detail += ", with a token-management token " + t[:token.IDLen]
	}
	noteAudit(r, "environment.create", res.Environment.ID, detail)
	w.Header().Set("Location", environmentsPath+"/"+res.Environment.ID)
	encode(w, r, http.StatusCreated, out)
}

func (a *API) createEnvironment(w http.ResponseWriter, r *http.Request) {
	p := queryParams{q: r.URL.Query()}
	createToken := p.flag("createToken")
	if err := p.err(); err != nil {
		a.writeError(w, r, err)
		return
	}
	in, err := decode[environmentIn](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := a.envs.Create(r.Context(), principal(r).Actor(), in.input(), createToken)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	created(w, r, res)
}

func (a *API) getEnvironment(w http.ResponseWriter, r *http.Request) {
	p := queryParams{q: r.URL.Query()}
	quotas, storage := p.includes()
	if err := p.err(); err != nil {
		a.writeError(w, r, err)
		return
	}
	e, err := a.envs.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	encode(w, r, http.StatusOK, toEnvironmentOut(e, quotas, storage))
}

func (a *API) putEnvironment(w http.ResponseWriter, r *http.Request) {
	p := queryParams{q: r.URL.Query()}
	createToken := p.flag("createToken")
	if err := p.err(); err != nil {
		a.writeError(w, r, err)
		return
	}
	// The body is optional in the reference: an empty PUT changes nothing.
	in, _, err := decodeOptional[environmentIn](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := a.envs.Put(r.Context(), principal(r).Actor(), r.PathValue("id"), in.input(), createToken)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if res.Created {
		created(w, r, res)
		return
	}
	encode(w, r, http.StatusNoContent, nil)
}

func (a *API) deleteEnvironment(w http.ResponseWriter, r *http.Request) {
	if err := a.envs.Delete(r.Context(), r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	encode(w, r, http.StatusNoContent, nil)
}

func (a *API) createTokenManagementToken(w http.ResponseWriter, r *http.Request) {
	// The body is optional (ours): without one the token gets a default
	// name and never expires.
	in, _, err := decodeOptional[tokenManagementTokenIn](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	d, err := in.ExpiresIn.duration("expiresIn")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var name string
	if in.Name != nil {
		name = *in.Name
		if name == "" {
			a.writeError(w, r, errs.Field(errs.Payload, "name", "must not be empty"))
			return
		}
	}
	t, secret, err := a.envs.CreateToken(r.Context(), principal(r).Actor(), r.PathValue("id"), name, d)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	noteAudit(r, "", r.PathValue("id"), "minted token-management token "+t.ID)
	encode(w, r, http.StatusCreated, createTokenResponse{Token: secret.Reveal()})
}
