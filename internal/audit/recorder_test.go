package audit_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/audit"
	"clusterapi/internal/store/sqlite"
	"clusterapi/internal/token"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newRecorder(t *testing.T) (*audit.Recorder, *clock, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	return audit.NewRecorder(db, audit.Options{Now: c.Now, Retention: 24 * time.Hour}), c, db
}

func TestRecorderRedactsAndBatches(t *testing.T) {
	ctx := context.Background()
	r, _, db := newRecorder(t)
	tok := token.Generate().Reveal()
	r.Record(audit.Event{Action: "token.lookup", Target: tok, Detail: "looked up " + tok, Outcome: audit.Success})
	if es, _ := db.FindAudit(ctx, audit.Query{Limit: 10}); len(es) != 0 {
		t.Fatalf("an event reached the store before a flush: %+v", es)
	}
	if err := r.Flush(ctx, false); err != nil {
		t.Fatal(err)
	}
	es, err := db.FindAudit(ctx, audit.Query{Limit: 10})
	if err != nil || len(es) != 1 {
		t.Fatalf("after a flush: %+v, %v", es, err)
	}
	e := es[0]
	if strings.Contains(e.Target+e.Detail, tok[32:]) || !strings.HasPrefix(e.Target, tok[:31]) || e.Count != 1 || e.Time.IsZero() {
		t.Errorf("stored event %+v: want the token id kept, the secret redacted, count 1, a time", e)
	}
}

func TestRecorderAggregatesFailedAuth(t *testing.T) {
	ctx := context.Background()
	r, c, db := newRecorder(t)
	for i := 0; i < 500; i++ {
		r.FailedAuth("198.51.100.7", "", 401, "Token Authentication failed")
	}
	r.FailedAuth("198.51.100.8", "", 401, "Token has been revoked")
	r.FailedAuth("198.51.100.8", "dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA", 403, "Token is missing required scope")
	// The window is still open: nothing is written yet.
	if err := r.Flush(ctx, false); err != nil {
		t.Fatal(err)
	}
	if es, _ := db.FindAudit(ctx, audit.Query{Limit: 10}); len(es) != 0 {
		t.Fatalf("failures written before their window closed: %+v", es)
	}
	c.Add(time.Minute)
	if err := r.Flush(ctx, false); err != nil {
		t.Fatal(err)
	}
	es, _ := db.FindAudit(ctx, audit.Query{Action: "auth.failed", Limit: 10})
	if len(es) != 3 {
		t.Fatalf("500 + 1 + 1 refusals of three kinds wrote %d events, want 3: %+v", len(es), es)
	}
	counts := map[string]int{}
	for _, e := range es {
		counts[e.ClientAddr+" "+e.TokenID+" "+e.Outcome] = e.Count
	}
	want := map[string]int{
		"198.51.100.7  failure: 401 Token Authentication failed":                                    500,
		"198.51.100.8  failure: 401 Token has been revoked":                                         1,
		"198.51.100.8 dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA failure: 403 Token is missing required scope": 1,
	}
	if !cmp.Equal(counts, want) {
		t.Errorf("counts = %v, want %v", counts, want)
	}
}

func TestRecorderRetention(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, c, db := newRecorder(t)
	r.Record(audit.Event{Action: "old", Outcome: audit.Success})
	if err := r.Flush(ctx, true); err != nil {
		t.Fatal(err)
	}
	c.Add(25 * time.Hour)
	r.Record(audit.Event{Action: "new", Outcome: audit.Success})
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }() // prunes at start, flushes at the end
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	es, _ := db.FindAudit(context.Background(), audit.Query{Limit: 10})
	if len(es) != 1 || es[0].Action != "new" {
		t.Errorf("after retention of 24 h and a final flush: %+v, want only the new event", es)
	}
}
