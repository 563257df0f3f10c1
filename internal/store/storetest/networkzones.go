package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/errs"
	"clusterapi/internal/networkzone"
)

func newZone(id string, mode networkzone.FallbackMode, alts ...string) *networkzone.Zone {
	if alts == nil {
		alts = []string{}
	}
	return &networkzone.Zone{ID: id, AlternativeZones: alts, FallbackMode: mode}
}

func mustCreateZone(t *testing.T, s Store, z *networkzone.Zone) {
	t.Helper()
	if err := s.CreateNetworkZone(context.Background(), z); err != nil {
		t.Fatalf("CreateNetworkZone(%s) = %v", z.ID, err)
	}
}

func zoneIDs(zs []*networkzone.Zone) []string {
	out := []string{}
	for _, z := range zs {
		out = append(out, z.ID)
	}
	return out
}

func testNetworkZones(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("CreateFind", func(t *testing.T) {
		s := open(t)
		want := newZone("aws.us-east-1.dc_1", networkzone.OnlyDefaultZone, "aws.us-east-2", "aws", "z.last")
		want.Description = "Prod ✓ 名前 \"quoted\""
		mustCreateZone(t, s, want)
		got, err := s.FindNetworkZone(ctx, want.ID)
		if err != nil {
			t.Fatalf("FindNetworkZone = %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("FindNetworkZone mismatch (-want +got):\n%s", diff)
		}
		// No alternatives read back as an empty list, never nil.
		bare := newZone("bare", networkzone.AnyActiveGate)
		bare.AlternativeZones = nil
		mustCreateZone(t, s, bare)
		got, err = s.FindNetworkZone(ctx, "bare")
		if err != nil {
			t.Fatalf("FindNetworkZone(bare) = %v", err)
		}
		if diff := cmp.Diff(newZone("bare", networkzone.AnyActiveGate), got); diff != "" {
			t.Errorf("FindNetworkZone(bare) mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustCreateZone(t, s, newZone("other", networkzone.None))
		if _, err := s.FindNetworkZone(ctx, "nope"); !errs.Is(err, errs.NotFound) {
			t.Errorf("FindNetworkZone(unknown) = %v, want NotFound", err)
		}
		if err := s.UpdateNetworkZone(ctx, newZone("nope", networkzone.None)); !errs.Is(err, errs.NotFound) {
			t.Errorf("UpdateNetworkZone(unknown) = %v, want NotFound", err)
		}
		if err := s.DeleteNetworkZone(ctx, "nope"); !errs.Is(err, errs.NotFound) {
			t.Errorf("DeleteNetworkZone(unknown) = %v, want NotFound", err)
		}
		// Ids are stored as given (the service normalizes them): another
		// case is another id to the store.
		if _, err := s.FindNetworkZone(ctx, "OTHER"); !errs.Is(err, errs.NotFound) {
			t.Errorf("FindNetworkZone(OTHER) = %v, want NotFound", err)
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		first := newZone("dup", networkzone.None, "a")
		first.Description = "first"
		mustCreateZone(t, s, first)
		second := newZone("dup", networkzone.AnyActiveGate, "b")
		second.Description = "second"
		if err := s.CreateNetworkZone(ctx, second); !errs.Is(err, errs.Conflict) {
			t.Errorf("CreateNetworkZone(duplicate) = %v, want Conflict", err)
		}
		got, err := s.FindNetworkZone(ctx, "dup")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("the failed create changed the zone (-want +got):\n%s", diff)
		}
	})

	t.Run("Update", func(t *testing.T) {
		s := open(t)
		before := newZone("zone", networkzone.None, "a", "b")
		before.Description = "before"
		mustCreateZone(t, s, before)
		mustCreateZone(t, s, newZone("neighbour", networkzone.None, "zone"))
		want := newZone("zone", networkzone.OnlyDefaultZone, "c")
		if err := s.UpdateNetworkZone(ctx, want); err != nil {
			t.Fatalf("UpdateNetworkZone = %v", err)
		}
		got, err := s.FindNetworkZone(ctx, "zone")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after UpdateNetworkZone (-want +got):\n%s", diff)
		}
		// The update replaced one record only.
		if got, err := s.FindNetworkZone(ctx, "neighbour"); err != nil || cmp.Diff(newZone("neighbour", networkzone.None, "zone"), got) != "" {
			t.Errorf("neighbour after the update = %+v, %v", got, err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		mustCreateZone(t, s, newZone("gone", networkzone.None, "x"))
		mustCreateZone(t, s, newZone("kept", networkzone.None, "gone"))
		if err := s.DeleteNetworkZone(ctx, "gone"); err != nil {
			t.Fatalf("DeleteNetworkZone = %v", err)
		}
		if _, err := s.FindNetworkZone(ctx, "gone"); !errs.Is(err, errs.NotFound) {
			t.Errorf("FindNetworkZone after delete = %v, want NotFound", err)
		}
		if err := s.DeleteNetworkZone(ctx, "gone"); !errs.Is(err, errs.NotFound) {
			t.Errorf("DeleteNetworkZone twice = %v, want NotFound", err)
		}
		// A zone naming the deleted one as an alternative keeps naming it.
		if got, err := s.FindNetworkZone(ctx, "kept"); err != nil || cmp.Diff([]string{"gone"}, got.AlternativeZones) != "" {
			t.Errorf("kept after delete = %+v, %v", got, err)
		}
		// The id is free again.
		mustCreateZone(t, s, newZone("gone", networkzone.AnyActiveGate))
	})

	t.Run("FindNetworkZones", func(t *testing.T) {
		s := open(t)
		zs, err := s.FindNetworkZones(ctx)
		if err != nil || zs == nil || len(zs) != 0 {
			t.Fatalf("FindNetworkZones on an empty store = %v, %v; want an empty list", zs, err)
		}
		// Bytewise order: '-' < '.' < digits < '_' < letters, and a prefix
		// before what extends it.
		for _, id := range []string{"b", "a_b", "a.b", "a-b", "a", "a0", "ab", "z.z", "a.a"} {
			mustCreateZone(t, s, newZone(id, networkzone.None))
		}
		zs, err = s.FindNetworkZones(ctx)
		if err != nil {
			t.Fatalf("FindNetworkZones = %v", err)
		}
		want := []string{"a", "a-b", "a.a", "a.b", "a0", "a_b", "ab", "b", "z.z"}
		if diff := cmp.Diff(want, zoneIDs(zs)); diff != "" {
			t.Errorf("FindNetworkZones order (-want +got):\n%s", diff)
		}
		if zs[0].AlternativeZones == nil || zs[0].FallbackMode != networkzone.None {
			t.Errorf("listed zone %+v, want its fields read back", zs[0])
		}
	})
}
