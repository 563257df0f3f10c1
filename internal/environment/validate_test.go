package environment

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/errs"
)

func ptr[T any](v T) *T { return &v }

// set and null are the limits a client sends: a number, or null.
func set(v int64) Opt { return SetTo(&v) }

var null = SetTo(nil)

func payload(path, msg string) errs.Violation {
	return errs.Violation{Path: path, Message: msg, Location: errs.Payload}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"be22c776-1414-00e0-a00a-00b0dcf56443321", true},
		{"Under_score-and-Dash09", true},
		{strings.Repeat("x", 70), true},
		{strings.Repeat("x", 71), false},
		{"", false},
		{"a b", false},
		{"a/b", false},
		{"a.b", false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestInputCheck(t *testing.T) {
	tests := []struct {
		name     string
		in       Input
		wantTags []string
		want     violations
	}{
		{name: "empty input is valid (nothing given)", in: Input{}},
		{
			name: "good",
			in: Input{
				Name: ptr("Prod ✓"), State: ptr(Disabled), Trial: ptr(true), Tags: []string{"a", "b"},
				Quotas: &QuotasInput{
					HostUnits:    &LimitInput{MaxLimit: set(0)},
					UserSessions: &PeriodInput{MonthlyLimit: set(10), AnnualLimit: null},
				},
				Storage: &StorageInput{
					RealUserMonitoringRetention:  &RetentionInput{MaxLimitInDays: set(35)},
					SessionReplayRetention:       &RetentionInput{MaxLimitInDays: set(1)},
					ServiceRequestLevelRetention: &RetentionInput{MaxLimitInDays: set(365)},
					LogMonitoringRetention:       &RetentionInput{MaxLimitInDays: set(5)},
					TransactionTrafficQuota:      &LimitInput{MaxLimit: set(100000)},
					UserActionsPerMinute:         &LimitInput{MaxLimit: set(2147483646)},
				},
			},
			wantTags: []string{"a", "b"},
		},
		{name: "name of 100 characters", in: Input{Name: ptr(strings.Repeat("é", 100))}},
		{name: "empty name", in: Input{Name: ptr("")}, want: violations{payload("name", "must not be empty")}},
		{name: "blank name", in: Input{Name: ptr("  ")}, want: violations{payload("name", "must not be blank")}},
		{name: "long name", in: Input{Name: ptr(strings.Repeat("é", 101))},
			want: violations{payload("name", "must be at most 100 characters long")}},
		{name: "control character", in: Input{Name: ptr("a\nb")},
			want: violations{payload("name", "must not contain control characters")}},
		{name: "bad state", in: Input{State: ptr(State("enabled"))},
			want: violations{payload("state", "must be ENABLED or DISABLED")}},
		{name: "duplicate tags collapse", in: Input{Tags: []string{"b", "a", "b"}}, wantTags: []string{"b", "a"}},
		{name: "empty tag list", in: Input{Tags: []string{}}, wantTags: []string{}},
		{name: "bad tags", in: Input{Tags: []string{"ok", "", strings.Repeat("t", 101), strings.Repeat("t", 100), " ", "\t\u00a0\u3000"}},
			wantTags: []string{"ok", strings.Repeat("t", 100)},
			want: violations{
				payload("tags[1]", "must not be empty"),
				payload("tags[2]", "must be at most 100 characters long"),
				payload("tags[4]", "must not be blank"),
				payload("tags[5]", "must not be blank"),
			}},
		{name: "tags with spaces inside or around are kept as sent", in: Input{Tags: []string{" a", "b c", "d "}},
			wantTags: []string{" a", "b c", "d "}},
		{name: "too many tags", in: Input{Tags: make([]string, 1025)},
			want: violations{payload("tags", "must hold at most 1024 tags")}},
		{
			name: "quota ranges",
			in: Input{Quotas: &QuotasInput{
				HostUnits:      &LimitInput{MaxLimit: set(-1)},
				UserSessions:   &PeriodInput{MonthlyLimit: set(-1), AnnualLimit: set(-2)},
				DavisDataUnits: &PeriodInput{AnnualLimit: set(-5)},
			}},
			want: violations{
				payload("quotas.hostUnits.maxLimit", "must be 0 or greater"),
				payload("quotas.userSessions.totalMonthlyLimit", "must be 0 or greater"),
				payload("quotas.userSessions.totalAnnualLimit", "must be 0 or greater"),
				payload("quotas.davisDataUnits.annualLimit", "must be 0 or greater"),
			},
		},
		{
			name: "storage ranges",
			in: Input{Storage: &StorageInput{
				SessionReplayRetention:       &RetentionInput{MaxLimitInDays: set(36)},
				RealUserMonitoringRetention:  &RetentionInput{MaxLimitInDays: set(0)},
				SyntheticMonitoringRetention: &RetentionInput{MaxLimitInDays: set(100)},
				ServiceCodeLevelRetention:    &RetentionInput{MaxLimitInDays: set(366)},
				LogMonitoringRetention:       &RetentionInput{MaxLimitInDays: set(4)},
				TransactionStorage:           &LimitInput{MaxLimit: set(-1)},
				TransactionTrafficQuota:      &LimitInput{MaxLimit: set(99)},
				UserActionsPerMinute:         &LimitInput{MaxLimit: set(0)},
			}},
			want: violations{
				payload("storage.transactionStorage.maxLimit", "must be 0 or greater"),
				payload("storage.serviceCodeLevelRetention.maxLimitInDays", "must be between 1 and 365 days"),
				payload("storage.realUserMonitoringRetention.maxLimitInDays", "must be between 1 and 35 days"),
				payload("storage.syntheticMonitoringRetention.maxLimitInDays", "must be between 1 and 35 days"),
				payload("storage.sessionReplayRetention.maxLimitInDays", "must be between 1 and 35 days"),
				payload("storage.logMonitoringRetention.maxLimitInDays", "must be between 5 and 90 days"),
				payload("storage.userActionsPerMinute.maxLimit", "must be between 1 and 2147483646 per minute"),
				payload("storage.transactionTrafficQuota.maxLimit", "must be between 100 and 100000 per minute"),
			},
		},
		{name: "null limits are unlimited and always valid",
			in: Input{Storage: &StorageInput{SessionReplayRetention: &RetentionInput{MaxLimitInDays: null},
				TransactionTrafficQuota: &LimitInput{MaxLimit: null}}}},
		{name: "limits left out are not checked",
			in: Input{Storage: &StorageInput{SessionReplayRetention: &RetentionInput{}, TransactionTrafficQuota: &LimitInput{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags, vs := tt.in.check()
			if diff := cmp.Diff(tt.want, vs); diff != "" {
				t.Errorf("check() violations (-want +got):\n%s", diff)
			}
			if len(tt.want) == 0 {
				if diff := cmp.Diff(tt.wantTags, tags); diff != "" {
					t.Errorf("check() tags (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestMergedRetention(t *testing.T) {
	days := func(n int64) *Retention { return &Retention{MaxLimitInDays: &n} }
	tests := []struct {
		name      string
		req, code *Retention
		wantErr   bool
	}{
		{"both unlimited", nil, nil, false},
		{"code below request", days(10), days(5), false},
		{"equal", days(10), days(10), false},
		{"code above request", days(10), days(11), true},
		{"request unlimited", nil, days(300), false},
		{"code unlimited", days(3), nil, false},
	}
	for _, tt := range tests {
		var vs violations
		vs.merged(&Storage{ServiceRequestLevelRetention: tt.req, ServiceCodeLevelRetention: tt.code})
		if got := len(vs) > 0; got != tt.wantErr {
			t.Errorf("%s: merged() = %v, want error %v", tt.name, vs, tt.wantErr)
		}
		if tt.wantErr && vs[0].Path != "storage.serviceCodeLevelRetention.maxLimitInDays" {
			t.Errorf("%s: violation path = %q", tt.name, vs[0].Path)
		}
	}
}

func TestApply(t *testing.T) {
	stored := func() *Environment {
		return &Environment{
			ID: "e", Name: "old", State: Enabled, Tags: []string{"x"},
			Quotas: Quotas{
				HostUnits: &Limit{MaxLimit: ptr[int64](10)},
				DEMUnits:  &PeriodLimits{MonthlyLimit: ptr[int64](1), AnnualLimit: ptr[int64](12)},
			},
			Storage: Storage{SessionReplayRetention: &Retention{MaxLimitInDays: ptr[int64](7)}},
		}
	}
	tests := []struct {
		name string
		in   Input
		want func(e *Environment)
	}{
		{"nothing given keeps everything", Input{}, func(*Environment) {}},
		{"state only", Input{State: ptr(Disabled)}, func(e *Environment) { e.State = Disabled }},
		{"empty tags clear", Input{Tags: []string{}}, func(e *Environment) { e.Tags = []string{} }},
		{"quotas without sub-objects keep them", Input{Quotas: &QuotasInput{}}, func(*Environment) {}},
		{"a limit sent replaces that limit only",
			Input{Quotas: &QuotasInput{DEMUnits: &PeriodInput{AnnualLimit: set(99)}}},
			func(e *Environment) {
				e.Quotas.DEMUnits = &PeriodLimits{MonthlyLimit: ptr[int64](1), AnnualLimit: ptr[int64](99)}
			}},
		{"a null limit is unlimited, the other is kept",
			Input{Quotas: &QuotasInput{DEMUnits: &PeriodInput{MonthlyLimit: null}}},
			func(e *Environment) { e.Quotas.DEMUnits = &PeriodLimits{AnnualLimit: ptr[int64](12)} }},
		{"a sub-object without limits (usage figures only) keeps them",
			Input{Quotas: &QuotasInput{HostUnits: &LimitInput{}, DEMUnits: &PeriodInput{}},
				Storage: &StorageInput{SessionReplayRetention: &RetentionInput{}}},
			func(*Environment) {}},
		{"a sub-object with null limits is unlimited",
			Input{Quotas: &QuotasInput{HostUnits: &LimitInput{MaxLimit: null}, DEMUnits: &PeriodInput{MonthlyLimit: null, AnnualLimit: null}},
				Storage: &StorageInput{SessionReplayRetention: &RetentionInput{MaxLimitInDays: null}}},
			func(e *Environment) {
				e.Quotas.HostUnits = nil
				e.Quotas.DEMUnits = nil
				e.Storage.SessionReplayRetention = nil
			}},
		{"new sub-object",
			Input{Storage: &StorageInput{TransactionTrafficQuota: &LimitInput{MaxLimit: set(500)}}},
			func(e *Environment) { e.Storage.TransactionTrafficQuota = &Limit{MaxLimit: ptr[int64](500)} }},
		{"new sub-object, one limit: the other is unlimited",
			Input{Quotas: &QuotasInput{LogMonitoring: &PeriodInput{MonthlyLimit: set(3)}}},
			func(e *Environment) { e.Quotas.LogMonitoring = &PeriodLimits{MonthlyLimit: ptr[int64](3)} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stored()
			tags, _ := tt.in.check()
			tt.in.apply(got, tags)
			want := stored()
			tt.want(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("apply (-want +got):\n%s", diff)
			}
		})
	}
}
