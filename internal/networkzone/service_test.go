package networkzone_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/errs"
	"clusterapi/internal/networkzone"
	"clusterapi/internal/store/sqlite"
)

// newService is a Service over a real SQLite store.
func newService(t *testing.T) *networkzone.Service {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("sqlite.Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return networkzone.NewService(db)
}

func ptr[T any](v T) *T { return &v }

// wantViolation checks that err is a 400 naming path at loc.
func wantViolation(t *testing.T, what string, err error, path string, loc errs.Location) {
	t.Helper()
	e, ok := err.(*errs.Error)
	if !ok || e.Kind != errs.Invalid || len(e.Violations) == 0 {
		t.Fatalf("%s = %v, want a violation of %s", what, err, path)
	}
	if v := e.Violations[0]; v.Path != path || v.Location != loc {
		t.Errorf("%s violation = %+v, want path %s in %s", what, v, path, loc)
	}
}

func TestPutGetListDelete(t *testing.T) {
	ctx := context.Background()
	s := newService(t)

	r, err := s.Put(ctx, "AWS.US-East-1", networkzone.Input{
		Description: ptr("Virginia"), AlternativeZones: []string{"AWS.US-East-2"}, FallbackMode: ptr(networkzone.None),
	})
	if err != nil {
		t.Fatalf("Put(create) = %v", err)
	}
	want := &networkzone.Zone{ID: "aws.us-east-1", Description: "Virginia", AlternativeZones: []string{"aws.us-east-2"}, FallbackMode: networkzone.None}
	if !r.Created {
		t.Errorf("Put on a new id: Created = false")
	}
	if diff := cmp.Diff(want, r.Zone); diff != "" {
		t.Errorf("Put(create) zone (-want +got):\n%s", diff)
	}
	// Any case finds it.
	for _, id := range []string{"aws.us-east-1", "AWS.US-EAST-1"} {
		got, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%s) = %v", id, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get(%s) (-want +got):\n%s", id, diff)
		}
	}

	// A second PUT replaces the whole zone: what it leaves out takes its default.
	r, err = s.Put(ctx, "aws.us-east-1", networkzone.Input{ID: ptr("AWS.us-east-1"), Description: ptr("Virginia 2")})
	if err != nil {
		t.Fatalf("Put(update) = %v", err)
	}
	want = &networkzone.Zone{ID: "aws.us-east-1", Description: "Virginia 2", AlternativeZones: []string{}, FallbackMode: networkzone.AnyActiveGate}
	if r.Created {
		t.Errorf("Put on an existing id: Created = true")
	}
	if got, err := s.Get(ctx, "aws.us-east-1"); err != nil || cmp.Diff(want, got) != "" {
		t.Errorf("after Put(update), Get = %+v, %v; want %+v", got, err, want)
	}

	if _, err := s.Put(ctx, "b", networkzone.Input{}); err != nil {
		t.Fatalf("Put(b) = %v", err)
	}
	zs, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List = %v", err)
	}
	var ids []string
	for _, z := range zs {
		ids = append(ids, z.ID)
	}
	if diff := cmp.Diff([]string{"aws.us-east-1", "b"}, ids); diff != "" {
		t.Errorf("List ids (-want +got):\n%s", diff)
	}

	if err := s.Delete(ctx, "AWS.US-EAST-1"); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	if _, err := s.Get(ctx, "aws.us-east-1"); !errs.Is(err, errs.NotFound) || err.Error() != "Network zone aws.us-east-1 not found" {
		t.Errorf("Get after Delete = %v, want NotFound naming the zone", err)
	}
	if err := s.Delete(ctx, "aws.us-east-1"); !errs.Is(err, errs.NotFound) {
		t.Errorf("Delete twice = %v, want NotFound", err)
	}
}

func TestListEmpty(t *testing.T) {
	zs, err := newService(t).List(context.Background())
	if err != nil || zs == nil || len(zs) != 0 {
		t.Errorf("List on an empty store = %v, %v; want an empty, non-nil list", zs, err)
	}
}

// Bad ids are refused as path parameters by every method, and a bad body
// stores nothing.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	for _, id := range []string{"", "a b", "a/b", ".a", "a.", "a..b", "é", "\u212a"} {
		_, err := s.Get(ctx, id)
		wantViolation(t, "Get("+id+")", err, "id", errs.Path)
		_, err = s.Put(ctx, id, networkzone.Input{})
		wantViolation(t, "Put("+id+")", err, "id", errs.Path)
		err = s.Delete(ctx, id)
		wantViolation(t, "Delete("+id+")", err, "id", errs.Path)
	}
	_, err := s.Put(ctx, "zone", networkzone.Input{FallbackMode: ptr(networkzone.FallbackMode("SOMETIMES"))})
	wantViolation(t, "Put(unknown fallbackMode)", err, "fallbackMode", errs.Payload)
	_, err = s.Put(ctx, "zone", networkzone.Input{ID: ptr("other")})
	wantViolation(t, "Put(mismatched id)", err, "id", errs.Payload)
	_, err = s.Put(ctx, "zone", networkzone.Input{AlternativeZones: []string{"a", "ZONE"}})
	wantViolation(t, "Put(itself as an alternative)", err, "alternativeZones[1]", errs.Payload)
	if zs, err := s.List(ctx); err != nil || len(zs) != 0 {
		t.Errorf("after bad PUTs, List = %d zones, %v; want none", len(zs), err)
	}
}

// Concurrent PUTs of one new id: exactly one creates, the others update.
func TestConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	const n = 16
	var created atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			r, err := s.Put(ctx, "race", networkzone.Input{FallbackMode: ptr(networkzone.None)})
			if err != nil {
				t.Errorf("Put = %v", err)
				return
			}
			if r.Created {
				created.Add(1)
			}
		})
	}
	wg.Wait()
	if got := created.Load(); got != 1 {
		t.Errorf("%d concurrent PUTs of one new id created it %d times, want once", n, got)
	}
}
