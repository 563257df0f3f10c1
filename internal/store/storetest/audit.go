package storetest

import (
	"context"
	"testing"
	"time"

	"clusterapi/internal/audit"
)

func testAudit(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	ev := func(min int, action, user, tok, target string) audit.Event {
		return audit.Event{Time: base.Add(time.Duration(min) * time.Minute), Action: action, User: user, TokenID: tok,
			ClientAddr: "192.0.2.1", Target: target, Outcome: audit.Success, Detail: "d ☃", Count: 1}
	}
	batch := []audit.Event{
		ev(0, "token.create", "alice", "dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA", "dt0c01.BBBBBBBBBBBBBBBBBBBBBBBB"),
		ev(1, "token.update", "alice", "dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA", "dt0c01.BBBBBBBBBBBBBBBBBBBBBBBB"),
		ev(2, "environment.create", "bob", "", "env-1"),
		ev(3, "tokens.other", "carol", "", "x"),
	}
	if err := s.AppendAudit(ctx, batch); err != nil {
		t.Fatalf("AppendAudit = %v", err)
	}
	for i := 1; i < len(batch); i++ {
		if batch[i].Seq <= batch[i-1].Seq {
			t.Fatalf("AppendAudit gave seqs %d then %d: not increasing", batch[i-1].Seq, batch[i].Seq)
		}
	}
	failed := audit.Event{Time: base.Add(4 * time.Minute), Action: "auth.failed", ClientAddr: "198.51.100.7",
		Outcome: "failure: 401 Token Authentication failed", Count: 42}
	if err := s.AppendAudit(ctx, []audit.Event{failed}); err != nil {
		t.Fatal(err)
	}
	seqs := func(es []audit.Event) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	all, err := s.FindAudit(ctx, audit.Query{Limit: 100})
	if err != nil || len(all) != 5 {
		t.Fatalf("FindAudit(all) = %d events, %v; want 5", len(all), err)
	}
	if all[0].Action != "auth.failed" || all[0].Count != 42 || all[4].Action != "token.create" {
		t.Errorf("FindAudit is not newest first: %v", seqs(all))
	}
	got := all[4]
	want := batch[0]
	if !got.Time.Equal(want.Time) || got.User != want.User || got.TokenID != want.TokenID || got.Target != want.Target ||
		got.Detail != want.Detail || got.ClientAddr != want.ClientAddr || got.Outcome != want.Outcome || got.Seq != want.Seq {
		t.Errorf("event read back = %+v, want %+v", got, want)
	}
	for _, tc := range []struct {
		name string
		q    audit.Query
		want int
	}{
		{"time range", audit.Query{From: base.Add(time.Minute), To: base.Add(3 * time.Minute), Limit: 100}, 2},
		{"actor as user", audit.Query{Actor: "alice", Limit: 100}, 2},
		{"actor as token", audit.Query{Actor: "dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA", Limit: 100}, 2},
		{"target", audit.Query{Target: "env-1", Limit: 100}, 1},
		{"action prefix", audit.Query{Action: "token.", Limit: 100}, 2}, // not tokens.other
		{"exact action", audit.Query{Action: "token.update", Limit: 100}, 1},
		{"limit", audit.Query{Limit: 2}, 2},
		{"before", audit.Query{Before: all[1].Seq, Limit: 100}, 3},
		{"nothing", audit.Query{Actor: "nobody", Limit: 100}, 0},
	} {
		es, err := s.FindAudit(ctx, tc.q)
		if err != nil || len(es) != tc.want {
			t.Errorf("FindAudit(%s) = %v, %v; want %d events", tc.name, seqs(es), err, tc.want)
		}
	}
	n, err := s.DeleteAuditBefore(ctx, base.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("DeleteAuditBefore = %d, %v; want 2", n, err)
	}
	if es, _ := s.FindAudit(ctx, audit.Query{Limit: 100}); len(es) != 3 {
		t.Errorf("after DeleteAuditBefore, %d events, want 3", len(es))
	}
}
