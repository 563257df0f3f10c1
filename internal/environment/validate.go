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
		case strings.TrimSpace(t) == "":
			vs.add(path, "must not be blank") // as names: whitespace only is as good as empty
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

func (vs *violations) limit(path string, l *LimitInput, lo, hi int64, unit string) {
	if l != nil {
		vs.between(path+".maxLimit", l.MaxLimit.Value, lo, hi, unit)
	}
}

func (vs *violations) period(path, monthly, annual string, p *PeriodInput) {
	if p != nil {
		vs.between(path+"."+monthly, p.MonthlyLimit.Value, 0, math.MaxInt64, "")
		vs.between(path+"."+annual, p.AnnualLimit.Value, 0, math.MaxInt64, "")
	}
}

func (vs *violations) retention(path string, r *RetentionInput, lo, hi int64) {
	if r != nil {
		vs.between(path+".maxLimitInDays", r.MaxLimitInDays.Value, lo, hi, "days")
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

func (vs *violations) quotas(q *QuotasInput) {
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

func (vs *violations) storage(s *StorageInput) {
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
// not given keep their stored value. Inside a given sub-object, each limit
// sent replaces the stored one (null: unlimited) and each limit left out is
// kept, so that a client changing one limit, or sending usage figures back,
// loses nothing it did not name (SPEC 4).
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
		merge(&e.Quotas.HostUnits, q.HostUnits, (*LimitInput).applyTo)
		merge(&e.Quotas.DEMUnits, q.DEMUnits, (*PeriodInput).applyTo)
		merge(&e.Quotas.UserSessions, q.UserSessions, (*PeriodInput).applyTo)
		merge(&e.Quotas.SyntheticMonitors, q.SyntheticMonitors, (*PeriodInput).applyTo)
		merge(&e.Quotas.CustomMetrics, q.CustomMetrics, (*LimitInput).applyTo)
		merge(&e.Quotas.DavisDataUnits, q.DavisDataUnits, (*PeriodInput).applyTo)
		merge(&e.Quotas.LogMonitoring, q.LogMonitoring, (*PeriodInput).applyTo)
	}
	if s := in.Storage; s != nil {
		merge(&e.Storage.TransactionStorage, s.TransactionStorage, (*LimitInput).applyTo)
		merge(&e.Storage.SessionReplayStorage, s.SessionReplayStorage, (*LimitInput).applyTo)
		merge(&e.Storage.SymbolFilesFromMobileApps, s.SymbolFilesFromMobileApps, (*LimitInput).applyTo)
		merge(&e.Storage.LogMonitoringStorage, s.LogMonitoringStorage, (*LimitInput).applyTo)
		merge(&e.Storage.ServiceRequestLevelRetention, s.ServiceRequestLevelRetention, (*RetentionInput).applyTo)
		merge(&e.Storage.ServiceCodeLevelRetention, s.ServiceCodeLevelRetention, (*RetentionInput).applyTo)
		merge(&e.Storage.RealUserMonitoringRetention, s.RealUserMonitoringRetention, (*RetentionInput).applyTo)
		merge(&e.Storage.SyntheticMonitoringRetention, s.SyntheticMonitoringRetention, (*RetentionInput).applyTo)
		merge(&e.Storage.SessionReplayRetention, s.SessionReplayRetention, (*RetentionInput).applyTo)
		merge(&e.Storage.LogMonitoringRetention, s.LogMonitoringRetention, (*RetentionInput).applyTo)
		merge(&e.Storage.UserActionsPerMinute, s.UserActionsPerMinute, (*LimitInput).applyTo)
		merge(&e.Storage.TransactionTrafficQuota, s.TransactionTrafficQuota, (*LimitInput).applyTo)
	}
}

func (in *LimitInput) applyTo(l *Limit) { in.MaxLimit.applyTo(&l.MaxLimit) }

func (in *PeriodInput) applyTo(p *PeriodLimits) {
	in.MonthlyLimit.applyTo(&p.MonthlyLimit)
	in.AnnualLimit.applyTo(&p.AnnualLimit)
}

func (in *RetentionInput) applyTo(r *Retention) { in.MaxLimitInDays.applyTo(&r.MaxLimitInDays) }

// merge applies a sent sub-object to a copy of the stored one (or to an
// all-unlimited one) and stores the result in *dst, as nil when every limit
// in it is unlimited, so that a stored record has one form for "all
// unlimited". A nil src was not sent and leaves *dst alone.
func merge[T comparable, In any](dst **T, src *In, apply func(*In, *T)) {
	if src == nil {
		return
	}
	var v T
	if *dst != nil {
		v = **dst
	}
	apply(src, &v)
	var zero T
	if v == zero {
		*dst = nil
		return
	}
	*dst = &v
}
