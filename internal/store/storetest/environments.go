package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/environment"
	"clusterapi/internal/errs"
)

// envTime is a fixed, millisecond-precise instant for environment creation times.
var envTime = time.Date(2026, 12, 3, 18, 59, 8, 123_000_000, time.UTC)

func i64(v int64) *int64 { return &v }

// newEnvironment returns an environment record created n seconds after envTime.
func newEnvironment(id, name string, n int, tags ...string) *environment.Environment {
	if tags == nil {
		tags = []string{}
	}
	return &environment.Environment{
		ID: id, Name: name, State: environment.Enabled, Tags: tags,
		Created: envTime.Add(time.Duration(n) * time.Second),
	}
}

func mustCreateEnvironment(t *testing.T, s Store, e *environment.Environment) {
	t.Helper()
	if err := s.CreateEnvironment(context.Background(), e); err != nil {
		t.Fatalf("CreateEnvironment(%s) = %v", e.ID, err)
	}
}

func envIDs(es []*environment.Environment) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func testEnvironments(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("CreateFind", func(t *testing.T) {
		s := open(t)
		want := newEnvironment("be22c776-1414-00e0-a00a-00b0dcf56443", "Prod ✓ 名前", 0, "team-a", "Ünï", "eu")
		want.Trial = true
		want.State = environment.Disabled
		want.Quotas = environment.Quotas{
			HostUnits:      &environment.Limit{MaxLimit: i64(0)},
			DEMUnits:       &environment.PeriodLimits{MonthlyLimit: i64(50001)},
			UserSessions:   &environment.PeriodLimits{MonthlyLimit: i64(1), AnnualLimit: i64(9_007_199_254_740_993)}, // beyond float64
			DavisDataUnits: &environment.PeriodLimits{AnnualLimit: i64(18162)},
		}
		want.Storage = environment.Storage{
			TransactionStorage:          &environment.Limit{MaxLimit: i64(1 << 40)},
			SessionReplayRetention:      &environment.Retention{MaxLimitInDays: i64(35)},
			RealUserMonitoringRetention: &environment.Retention{MaxLimitInDays: i64(1)},
			TransactionTrafficQuota:     &environment.Limit{MaxLimit: i64(100)},
		}
		mustCreateEnvironment(t, s, want)
		got, err := s.FindEnvironment(ctx, want.ID)
		if err != nil {
			t.Fatalf("FindEnvironment = %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("FindEnvironment mismatch (-want +got):\n%s", diff)
		}

		// No tags and no limits read back as an empty set and all unlimited.
		bare := newEnvironment("bare", "Bare", 1)
		bare.Tags = nil
		mustCreateEnvironment(t, s, bare)
		got, err = s.FindEnvironment(ctx, "bare")
		if err != nil {
			t.Fatalf("FindEnvironment(bare) = %v", err)
		}
		if diff := cmp.Diff(newEnvironment("bare", "Bare", 1), got); diff != "" {
			t.Errorf("FindEnvironment(bare) mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		if _, err := s.FindEnvironment(ctx, "nope"); !errs.Is(err, errs.NotFound) {
			t.Errorf("FindEnvironment(unknown) = %v, want NotFound", err)
		}
		if err := s.UpdateEnvironment(ctx, newEnvironment("nope", "x", 0)); !errs.Is(err, errs.NotFound) {
			t.Errorf("UpdateEnvironment(unknown) = %v, want NotFound", err)
		}
		if err := s.DeleteEnvironment(ctx, "nope", 0); !errs.Is(err, errs.NotFound) {
			t.Errorf("DeleteEnvironment(unknown) = %v, want NotFound", err)
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		mustCreateEnvironment(t, s, newEnvironment("dup", "a", 0, "x"))
		if err := s.CreateEnvironment(ctx, newEnvironment("dup", "b", 1, "y")); !errs.Is(err, errs.Conflict) {
			t.Errorf("CreateEnvironment(duplicate) = %v, want Conflict", err)
		}
		// The failed create left the first one and its tags alone.
		es, n, err := s.FindEnvironments(ctx, environment.Query{Filter: environment.Filter{Tags: [][]string{{"y"}}}, Sort: environment.ByName, Limit: 10})
		if err != nil || n != 0 || len(es) != 0 {
			t.Errorf("tag(y) after failed create = %v, %d, %v; want nothing", envIDs(es), n, err)
		}
		got, err := s.FindEnvironment(ctx, "dup")
		if err != nil || got.Name != "a" {
			t.Errorf("FindEnvironment(dup) = %+v, %v; want the first", got, err)
		}
	})

	t.Run("Update", func(t *testing.T) {
		s := open(t)
		e := newEnvironment("env", "Before", 0, "old", "kept")
		e.Quotas.HostUnits = &environment.Limit{MaxLimit: i64(10)}
		mustCreateEnvironment(t, s, e)
		want := newEnvironment("env", "After", 0, "kept", "new")
		want.Trial, want.State = true, environment.Disabled
		want.Quotas.DEMUnits = &environment.PeriodLimits{AnnualLimit: i64(5)}
		want.Storage.LogMonitoringRetention = &environment.Retention{MaxLimitInDays: i64(90)}
		change := *want
		change.Created = envTime.Add(time.Hour) // creation time never changes
		if err := s.UpdateEnvironment(ctx, &change); err != nil {
			t.Fatalf("UpdateEnvironment = %v", err)
		}
		if change.Revision != 1 {
			t.Errorf("after UpdateEnvironment the record's Revision = %d, want 1", change.Revision)
		}
		got, err := s.FindEnvironment(ctx, "env")
		if err != nil {
			t.Fatal(err)
		}
		want.Revision = 1
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after UpdateEnvironment (-want +got):\n%s", diff)
		}
		// A write based on a stale read is refused and changes nothing.
		stale := *want
		stale.Revision, stale.Name = 0, "Stale"
		if err := s.UpdateEnvironment(ctx, &stale); !errs.Is(err, errs.Conflict) {
			t.Errorf("UpdateEnvironment(stale revision) = %v, want Conflict", err)
		}
		if err := s.DeleteEnvironment(ctx, "env", 0); !errs.Is(err, errs.Conflict) {
			t.Errorf("DeleteEnvironment(stale revision) = %v, want Conflict", err)
		}
		if got, _ := s.FindEnvironment(ctx, "env"); got == nil || got.Name != "After" {
			t.Errorf("stale writes changed the record: %+v", got)
		}
		// Filters see the new name and tags, not the old ones.
		for _, tt := range []struct {
			f    environment.Filter
			want int
		}{
			{environment.Filter{Tags: [][]string{{"old"}}}, 0},
			{environment.Filter{Tags: [][]string{{"new"}}}, 1},
			{environment.Filter{Tags: [][]string{{"kept"}}}, 1},
			{environment.Filter{Names: []string{"before"}}, 0},
			{environment.Filter{Names: []string{"after"}}, 1},
		} {
			_, n, err := s.FindEnvironments(ctx, environment.Query{Filter: tt.f, Sort: environment.ByName, Limit: 10})
			if err != nil || n != tt.want {
				t.Errorf("FindEnvironments(%+v) count = %d, %v; want %d", tt.f, n, err, tt.want)
			}
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		mustCreateEnvironment(t, s, newEnvironment("gone", "Gone", 0, "t"))
		if err := s.DeleteEnvironment(ctx, "gone", 0); err != nil {
			t.Fatalf("DeleteEnvironment = %v", err)
		}
		if _, err := s.FindEnvironment(ctx, "gone"); !errs.Is(err, errs.NotFound) {
			t.Errorf("FindEnvironment after delete = %v, want NotFound", err)
		}
		// The id is free again, and the old tags are gone with the record.
		mustCreateEnvironment(t, s, newEnvironment("gone", "Again", 1))
		_, n, err := s.FindEnvironments(ctx, environment.Query{Filter: environment.Filter{Tags: [][]string{{"t"}}}, Sort: environment.ByName, Limit: 10})
		if err != nil || n != 0 {
			t.Errorf("tag(t) after delete and re-create = %d, %v; want 0", n, err)
		}
	})

	t.Run("FindEnvironments", func(t *testing.T) {
		s := open(t)
		// Names that differ only in case sort together, by id; c and d share a creation time.
		es := []*environment.Environment{
			newEnvironment("a", "beta", 3, "x"),
			newEnvironment("b", "Alpha", 1, "x", "y"),
			newEnvironment("c", "alpha", 2),
			newEnvironment("d", "Gamma ray", 2, "y"),
			newEnvironment("e", "ALPHA", 0, "z"),
		}
		es[2].Trial = true
		es[3].Trial = true
		es[3].State = environment.Disabled
		for _, e := range es {
			mustCreateEnvironment(t, s, e)
		}
		after := func(id string) *environment.Key {
			for _, e := range es {
				if e.ID == id {
					k := environment.KeyOf(e)
					return &k
				}
			}
			panic(id)
		}
		tests := []struct {
			name      string
			q         environment.Query
			want      []string
			wantTotal int
		}{
			{"by name, ties by id", environment.Query{Sort: environment.ByName, Limit: 10}, []string{"b", "c", "e", "a", "d"}, 5},
			{"by name desc", environment.Query{Sort: environment.ByNameDesc, Limit: 10}, []string{"d", "a", "e", "c", "b"}, 5},
			{"by creation", environment.Query{Sort: environment.ByCreationDate, Limit: 10}, []string{"e", "b", "c", "d", "a"}, 5},
			{"by creation desc", environment.Query{Sort: environment.ByCreationDateDesc, Limit: 10}, []string{"a", "d", "c", "b", "e"}, 5},
			{"limit", environment.Query{Sort: environment.ByName, Limit: 2}, []string{"b", "c"}, 5},
			{"after, in a run of equal names", environment.Query{Sort: environment.ByName, After: after("c"), Limit: 2}, []string{"e", "a"}, 5},
			{"after desc", environment.Query{Sort: environment.ByNameDesc, After: after("e"), Limit: 10}, []string{"c", "b"}, 5},
			{"after, equal creation times", environment.Query{Sort: environment.ByCreationDate, After: after("c"), Limit: 10}, []string{"d", "a"}, 5},
			{"after desc, equal creation times", environment.Query{Sort: environment.ByCreationDateDesc, After: after("d"), Limit: 10}, []string{"c", "b", "e"}, 5},
			{"after the last", environment.Query{Sort: environment.ByName, After: after("d"), Limit: 10}, []string{}, 5},
			{"name substring ignores case", environment.Query{Filter: environment.Filter{Names: []string{"LPH"}}, Sort: environment.ByName, Limit: 10}, []string{"b", "c", "e"}, 3},
			{"name with a space", environment.Query{Filter: environment.Filter{Names: []string{"a r"}}, Sort: environment.ByName, Limit: 10}, []string{"d"}, 1},
			{"names all", environment.Query{Filter: environment.Filter{Names: []string{"al", "ph"}}, Sort: environment.ByName, Limit: 10}, []string{"b", "c", "e"}, 3},
			{"name: LIKE wildcards are literal", environment.Query{Filter: environment.Filter{Names: []string{"%"}}, Sort: environment.ByName, Limit: 10}, []string{}, 0},
			{"trial", environment.Query{Filter: environment.Filter{Trials: []bool{true}}, Sort: environment.ByName, Limit: 10}, []string{"c", "d"}, 2},
			{"not trial", environment.Query{Filter: environment.Filter{Trials: []bool{false}}, Sort: environment.ByName, Limit: 10}, []string{"b", "e", "a"}, 3},
			{"state", environment.Query{Filter: environment.Filter{States: []environment.State{environment.Disabled}}, Sort: environment.ByName, Limit: 10}, []string{"d"}, 1},
			{"tags any of", environment.Query{Filter: environment.Filter{Tags: [][]string{{"y", "z"}}}, Sort: environment.ByName, Limit: 10}, []string{"b", "e", "d"}, 3},
			{"tags all of", environment.Query{Filter: environment.Filter{Tags: [][]string{{"x"}, {"y"}}}, Sort: environment.ByName, Limit: 10}, []string{"b"}, 1},
			{"tags are case-sensitive", environment.Query{Filter: environment.Filter{Tags: [][]string{{"X"}}}, Sort: environment.ByName, Limit: 10}, []string{}, 0},
			{"empty tag group matches nothing", environment.Query{Filter: environment.Filter{Tags: [][]string{{}}}, Sort: environment.ByName, Limit: 10}, []string{}, 0},
			{"everything", environment.Query{Filter: environment.Filter{
				Names: []string{"a"}, Trials: []bool{true}, States: []environment.State{environment.Enabled}, Tags: [][]string{{"x", "nope"}, {}},
			}, Sort: environment.ByName, Limit: 10}, []string{}, 0},
			{"total ignores after and limit", environment.Query{Filter: environment.Filter{Tags: [][]string{{"x", "y"}}}, Sort: environment.ByName, After: after("b"), Limit: 1}, []string{"a"}, 3},
		}
		for _, tt := range tests {
			got, total, err := s.FindEnvironments(ctx, tt.q)
			if err != nil {
				t.Fatalf("%s: FindEnvironments = %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, envIDs(got)); diff != "" {
				t.Errorf("%s: FindEnvironments (-want +got):\n%s", tt.name, diff)
			}
			if total != tt.wantTotal {
				t.Errorf("%s: total = %d, want %d", tt.name, total, tt.wantTotal)
			}
		}
		// Records come back whole from a list, too.
		got, _, err := s.FindEnvironments(ctx, environment.Query{Filter: environment.Filter{Names: []string{"gamma"}}, Sort: environment.ByName, Limit: 1})
		if err != nil || len(got) != 1 {
			t.Fatalf("FindEnvironments(gamma) = %v, %v", got, err)
		}
		if diff := cmp.Diff(es[3], got[0]); diff != "" {
			t.Errorf("listed record (-want +got):\n%s", diff)
		}
	})

	// Walking the pages returns every environment that exists throughout
	// exactly once, in order, while others are created and deleted.
	t.Run("PagingStable", func(t *testing.T) {
		for _, sort := range []environment.Sort{environment.ByName, environment.ByNameDesc, environment.ByCreationDate, environment.ByCreationDateDesc} {
			t.Run(string(sort), func(t *testing.T) {
				s := open(t)
				stable := map[string]bool{}
				for i := range 20 {
					// Pairs of equal names and creation times exercise the id tie-break.
					e := newEnvironment(fmt.Sprintf("s%02d", i), fmt.Sprintf("env %02d", i/2), i/2)
					mustCreateEnvironment(t, s, e)
					stable[e.ID] = true
				}
				doomed := []string{}
				for i := range 6 {
					e := newEnvironment(fmt.Sprintf("d%02d", i), fmt.Sprintf("env %02d", i*3), i*3)
					mustCreateEnvironment(t, s, e)
					doomed = append(doomed, e.ID)
				}
				seen := map[string]int{}
				var after *environment.Key
				var last *environment.Environment
				for page := 0; ; page++ {
					es, _, err := s.FindEnvironments(ctx, environment.Query{Sort: sort, After: after, Limit: 3})
					if err != nil {
						t.Fatalf("page %d: FindEnvironments = %v", page, err)
					}
					if len(es) == 0 {
						break
					}
					for _, e := range es {
						seen[e.ID]++
						if last != nil && !inOrder(sort, last, e) {
							t.Errorf("page %d: %s after %s is out of %s order", page, e.ID, last.ID, sort)
						}
						last = e
					}
					k := environment.KeyOf(es[len(es)-1])
					after = &k
					// Meanwhile: new environments on both sides of the cursor,
					// and a not yet visited one deleted.
					mustCreateEnvironment(t, s, newEnvironment(fmt.Sprintf("n%02da", page), "env 00 new", 0))
					mustCreateEnvironment(t, s, newEnvironment(fmt.Sprintf("n%02db", page), "env 99 new", 99))
					if page < len(doomed) {
						if err := s.DeleteEnvironment(ctx, doomed[len(doomed)-1-page], 0); err != nil {
							t.Fatalf("DeleteEnvironment = %v", err)
						}
					}
					if page > 100 {
						t.Fatal("paging does not end")
					}
				}
				for id := range stable {
					if seen[id] != 1 {
						t.Errorf("environment %s seen %d times, want once", id, seen[id])
					}
				}
				for id, n := range seen {
					if n > 1 {
						t.Errorf("environment %s seen %d times", id, n)
					}
				}
			})
		}
	})
}

// inOrder reports whether b may follow a in order s.
func inOrder(s environment.Sort, a, b *environment.Environment) bool {
	ka, kb := environment.KeyOf(a), environment.KeyOf(b)
	var c int
	switch s {
	case environment.ByName, environment.ByNameDesc:
		c = strings.Compare(ka.Name, kb.Name)
	default:
		c = ka.Created.Compare(kb.Created)
	}
	if c == 0 {
		c = strings.Compare(ka.ID, kb.ID)
	}
	if s.Desc() {
		return c > 0
	}
	return c < 0
}
