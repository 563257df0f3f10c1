package environment

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"clusterapi/internal/errs"
)

// The size rules of SPEC 4.
const (
	MaxIDLen   = 70
	MaxNameLen = 100 // code points
	MaxTags    = 1024
	MaxTagLen  = 100 // code points
)

// ValidID reports whether id matches [a-zA-Z0-9_-]{1,70}.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// checkPathID rejects a malformed {id} before any storage work.
func checkPathID(id string) error {
	if !ValidID(id) {
		return errs.Field(errs.Path, "id", "must match [a-zA-Z0-9_-]{1,70}")
	}
	return nil
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

func (vs *violations) name(name string) {
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		vs.add("name", "must be valid UTF-8")
	case n == 0:
		vs.add("name", "must not be empty")
	case n > MaxNameLen:
		vs.add("name", "must be at most %d characters long", MaxNameLen)
	case strings.TrimSpace(name) == "":
		vs.add("name", "must not be blank")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		vs.add("name", "must not contain control characters")
	}
}

// tags checks tags and returns them as a set: duplicates are dropped, the
// first occurrence keeps its place (ours: tags are a set in the reference).
func (vs *violations) tags(tags []string) []string {
	if len(tags) > MaxTags {
		vs.add("tags", "must hold at most %d tags", MaxTags)
		return nil
	}
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		path := fmt.Sprintf("tags[%d]", i)
		n := utf8.RuneCountInString(t)
		switch {
		case !utf8.ValidString(t):
			vs.add(path, "must be valid UTF-8")
		case n == 0:
			vs.add(path, "must not be empty")
		case n > MaxTagLen:
			vs.add(path, "must be at most %d characters long", MaxTagLen)
		case strings.IndexFunc(t, unicode.IsControl) >= 0:
			vs.add(path, "must not contain control characters")
		case !seen[t]:
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func (vs *violations) state(s State) {
	if !s.Known() {
		vs.add("state", "must be ENABLED or DISABLED")
	}
}

// between checks one limit; nil (unlimited) is always allowed.
func (vs *violations) between(path string, v *int64, lo, hi int64, unit string) {
	if v == nil || lo <= *v && *v <= hi {
		return
	}
	switch {
	case hi == math.MaxInt64:
		vs.add(path, "must be %d or greater", lo)
	case unit != "":
		vs.add(path, "must be between %d and %d %s", lo, hi, unit)
	default:
		vs.add(path, "must be between %d and %d", lo, hi)
	}
}

func (vs *violations) limit(path string, l *Limit, lo, hi int64, unit string) {
	if l != nil {
		vs.between(path+".maxLimit", l.MaxLimit, lo, hi, unit)
	}
}

func (vs *violations) period(path, monthly, annual string, p *PeriodLimits) {
	if p != nil {
		vs.between(path+"."+monthly, p.MonthlyLimit, 0, math.MaxInt64, "")
		vs.between(path+"."+annual, p.AnnualLimit, 0, math.MaxInt64, "")
	}
}

func (vs *violations) retention(path string, r *Retention, lo, hi int64) {
	if r != nil {
		vs.between(path+".maxLimitInDays", r.MaxLimitInDays, lo, hi, "days")
	}
}

// The documented ranges of the reference API. Quotas and storage sizes have
// no documented upper bound; they must not be negative (ours).
const (
	maxServiceRetentionDays = 365 // "both can't exceed one year"
	maxRUMRetentionDays     = 35
	minLogRetentionDays     = 5
	maxLogRetentionDays     = 90
	maxUserActionsPerMinute = 2147483646
	minTransactionTraffic   = 100
	maxTransactionTraffic   = 100000
)

func (vs *violations) quotas(q *Quotas) {
	if q == nil {
		return
	}
	vs.limit("quotas.hostUnits", q.HostUnits, 0, math.MaxInt64, "")
	vs.period("quotas.demUnits", "monthlyLimit", "annualLimit", q.DEMUnits)
	vs.period("quotas.userSessions", "totalMonthlyLimit", "totalAnnualLimit", q.UserSessions)
	vs.period("quotas.syntheticMonitors", "monthlyLimit", "annualLimit", q.SyntheticMonitors)
	vs.limit("quotas.customMetrics", q.CustomMetrics, 0, math.MaxInt64, "")
	vs.period("quotas.davisDataUnits", "monthlyLimit", "annualLimit", q.DavisDataUnits)
	vs.period("quotas.logMonitoring", "monthlyLimit", "annualLimit", q.LogMonitoring)
}

func (vs *violations) storage(s *Storage) {
	if s == nil {
		return
	}
	vs.limit("storage.transactionStorage", s.TransactionStorage, 0, math.MaxInt64, "")
	vs.limit("storage.sessionReplayStorage", s.SessionReplayStorage, 0, math.MaxInt64, "")
	vs.limit("storage.symbolFilesFromMobileApps", s.SymbolFilesFromMobileApps, 0, math.MaxInt64, "")
	vs.limit("storage.logMonitoringStorage", s.LogMonitoringStorage, 0, math.MaxInt64, "")
	vs.retention("storage.serviceRequestLevelRetention", s.ServiceRequestLevelRetention, 1, maxServiceRetentionDays)
	vs.retention("storage.serviceCodeLevelRetention", s.ServiceCodeLevelRetention, 1, maxServiceRetentionDays)
	vs.retention("storage.realUserMonitoringRetention", s.RealUserMonitoringRetention, 1, maxRUMRetentionDays)
	vs.retention("storage.syntheticMonitoringRetention", s.SyntheticMonitoringRetention, 1, maxRUMRetentionDays)
	vs.retention("storage.sessionReplayRetention", s.SessionReplayRetention, 1, maxRUMRetentionDays)
	vs.retention("storage.logMonitoringRetention", s.LogMonitoringRetention, minLogRetentionDays, maxLogRetentionDays)
	vs.limit("storage.userActionsPerMinute", s.UserActionsPerMinute, 1, maxUserActionsPerMinute, "per minute")
	vs.limit("storage.transactionTrafficQuota", s.TransactionTrafficQuota, minTransactionTraffic, maxTransactionTraffic, "per minute")
}

// merged checks the rules that span fields, on the record as it would be
// stored: service code level retention may not exceed service request level
// retention. Unlimited on either side is not compared (ours), so that setting
// one of the two alone never fails.
func (vs *violations) merged(s *Storage) {
	req, code := s.ServiceRequestLevelRetention, s.ServiceCodeLevelRetention
	if req == nil || code == nil || req.MaxLimitInDays == nil || code.MaxLimitInDays == nil {
		return
	}
	if *code.MaxLimitInDays > *req.MaxLimitInDays {
		vs.add("storage.serviceCodeLevelRetention.maxLimitInDays",
			"must not be greater than storage.serviceRequestLevelRetention.maxLimitInDays (%d)", *req.MaxLimitInDays)
	}
}

// check validates the fields of in that are given, and returns its tags as a
// set (nil when not given).
func (in *Input) check() ([]string, violations) {
	var vs violations
	if in.Name != nil {
		vs.name(*in.Name)
	}
	if in.State != nil {
		vs.state(*in.State)
	}
	var tags []string
	if in.Tags != nil {
		tags = vs.tags(in.Tags)
	}
	vs.quotas(in.Quotas)
	vs.storage(in.Storage)
	return tags, vs
}

// apply merges the given fields of in into e: fields and sub-objects that are
// not given keep their stored value; a given sub-object replaces the stored
// one whole, so a limit left out or null inside it becomes unlimited.
func (in *Input) apply(e *Environment, tags []string) {
	if in.Name != nil {
		e.Name = *in.Name
	}
	if in.Trial != nil {
		e.Trial = *in.Trial
	}
	if in.State != nil {
		e.State = *in.State
	}
	if in.Tags != nil {
		e.Tags = tags
	}
	if q := in.Quotas; q != nil {
		replace(&e.Quotas.HostUnits, q.HostUnits)
		replace(&e.Quotas.DEMUnits, q.DEMUnits)
		replace(&e.Quotas.UserSessions, q.UserSessions)
		replace(&e.Quotas.SyntheticMonitors, q.SyntheticMonitors)
		replace(&e.Quotas.CustomMetrics, q.CustomMetrics)
		replace(&e.Quotas.DavisDataUnits, q.DavisDataUnits)
		replace(&e.Quotas.LogMonitoring, q.LogMonitoring)
	}
	if s := in.Storage; s != nil {
		replace(&e.Storage.TransactionStorage, s.TransactionStorage)
		replace(&e.Storage.SessionReplayStorage, s.SessionReplayStorage)
		replace(&e.Storage.SymbolFilesFromMobileApps, s.SymbolFilesFromMobileApps)
		replace(&e.Storage.LogMonitoringStorage, s.LogMonitoringStorage)
		replace(&e.Storage.ServiceRequestLevelRetention, s.ServiceRequestLevelRetention)
		replace(&e.Storage.ServiceCodeLevelRetention, s.ServiceCodeLevelRetention)
		replace(&e.Storage.RealUserMonitoringRetention, s.RealUserMonitoringRetention)
		replace(&e.Storage.SyntheticMonitoringRetention, s.SyntheticMonitoringRetention)
		replace(&e.Storage.SessionReplayRetention, s.SessionReplayRetention)
		replace(&e.Storage.LogMonitoringRetention, s.LogMonitoringRetention)
		replace(&e.Storage.UserActionsPerMinute, s.UserActionsPerMinute)
		replace(&e.Storage.TransactionTrafficQuota, s.TransactionTrafficQuota)
	}
}

// replace sets *dst to a copy of a given sub-object, or to nil when every
// limit in it is unlimited, so that a stored record has one form for
// "all unlimited". A nil src was not given and leaves *dst alone.
func replace[T comparable](dst **T, src *T) {
	if src == nil {
		return
	}
	var zero T
	if *src == zero {
		*dst = nil
		return
	}
	c := *src
	*dst = &c
}
