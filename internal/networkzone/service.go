package networkzone

import (
	"context"
	"fmt"

	"clusterapi/internal/errs"
)

// Service applies the rules of the Network zones API over a Store.
type Service struct {
	store Store
}

// NewService returns a Service over store.
func NewService(store Store) *Service {
	return &Service{store: store}
}

// Result is the outcome of a PUT.
type Result struct {
	Zone    *Zone
	Created bool // false when the PUT replaced an existing zone
}

func notFound(id string) error {
	return errs.E(errs.NotFound, fmt.Sprintf("Network zone %s not found", id))
}

// List returns every zone, sorted by id.
func (s *Service) List(ctx context.Context) ([]*Zone, error) {
	zs, err := s.store.FindNetworkZones(ctx)
	if err != nil {
		return nil, fmt.Errorf("list network zones: %w", err)
	}
	if zs == nil {
		zs = []*Zone{}
	}
	return zs, nil
}

// Get returns the zone with the given id, in any case.
func (s *Service) Get(ctx context.Context, id string) (*Zone, error) {
	id, err := checkPathID(id)
	if err != nil {
		return nil, err
	}
	z, err := s.store.FindNetworkZone(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find network zone %s: %w", id, err)
	}
	return z, nil
}

// maxTries bounds the update-or-create loop of Put; past it the client gets
// a 409 and may try again.
const maxTries = 20

// Put creates the zone with the given id from in or, when it exists,
// replaces it: fields in leaves out take their defaults, not the stored
// values (a PUT states the whole zone). An id in the input must name the same
// zone as the path.
func (s *Service) Put(ctx context.Context, id string, in Input) (*Result, error) {
	id, err := checkPathID(id)
	if err != nil {
		return nil, err
	}
	z, vs := in.zone(id)
	if err := vs.err(); err != nil {
		return nil, err
	}
	// Update first, the common case of declarative tools. A zone created
	// by a concurrent PUT between our update and our create makes the
	// create fail with Conflict: then it is there to update. Only a storm
	// of creates and deletes of the same id keeps this loop going, so it
	// needs no pause between tries.
	for range maxTries {
		err := s.store.UpdateNetworkZone(ctx, z)
		if err == nil {
			return &Result{Zone: z}, nil
		}
		if !errs.Is(err, errs.NotFound) {
			return nil, fmt.Errorf("update network zone %s: %w", id, err)
		}
		err = s.store.CreateNetworkZone(ctx, z)
		if err == nil {
			return &Result{Zone: z, Created: true}, nil
		}
		if !errs.Is(err, errs.Conflict) {
			return nil, fmt.Errorf("create network zone %s: %w", id, err)
		}
	}
	return nil, errs.E(errs.Conflict, fmt.Sprintf("Network zone %s changed concurrently; try again.", id))
}

// Delete removes the zone with the given id, in any case. Zones that name it
// as an alternative keep naming it.
func (s *Service) Delete(ctx context.Context, id string) error {
	id, err := checkPathID(id)
	if err != nil {
		return err
	}
	err = s.store.DeleteNetworkZone(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return notFound(id)
	}
	if err != nil {
		return fmt.Errorf("delete network zone %s: %w", id, err)
	}
	return nil
}
