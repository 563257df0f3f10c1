package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"clusterapi/internal/networkzone"
)

var _ networkzone.Store = (*DB)(nil)

const networkZoneColumns = `id, description, alternative_zones, fallback_mode`

// encodeAlternatives is the stored form of a zone's alternative zones.
func encodeAlternatives(z *networkzone.Zone) (string, error) {
	alts := z.AlternativeZones
	if alts == nil {
		alts = []string{}
	}
	b, err := json.Marshal(alts)
	return string(b), err
}

func scanNetworkZone(row scanner) (*networkzone.Zone, error) {
	var (
		z          networkzone.Zone
		alts, mode string
	)
	if err := row.Scan(&z.ID, &z.Description, &alts, &mode); err != nil {
		return nil, err
	}
	z.FallbackMode = networkzone.FallbackMode(mode)
	if err := json.Unmarshal([]byte(alts), &z.AlternativeZones); err != nil {
		return nil, fmt.Errorf("network zone %s: stored alternative zones: %w", z.ID, err)
	}
	if z.AlternativeZones == nil {
		z.AlternativeZones = []string{}
	}
	return &z, nil
}

// CreateNetworkZone stores a new zone.
func (db *DB) CreateNetworkZone(ctx context.Context, z *networkzone.Zone) error {
	alts, err := encodeAlternatives(z)
	if err != nil {
		return fmt.Errorf("create network zone %s: %w", z.ID, err)
	}
	_, err = db.write.ExecContext(ctx, `INSERT INTO network_zones (`+networkZoneColumns+`) VALUES (?,?,?,?)`,
		z.ID, z.Description, alts, string(z.FallbackMode))
	return formatError(err, "network zone")
}

// FindNetworkZone returns the zone with the given id.
func (db *DB) FindNetworkZone(ctx context.Context, id string) (*networkzone.Zone, error) {
	z, err := scanNetworkZone(db.read.QueryRowContext(ctx, `SELECT `+networkZoneColumns+` FROM network_zones WHERE id = ?`, id))
	if err != nil {
		return nil, formatError(err, "network zone")
	}
	return z, nil
}

// FindNetworkZones returns every zone, sorted by id.
func (db *DB) FindNetworkZones(ctx context.Context) ([]*networkzone.Zone, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+networkZoneColumns+` FROM network_zones ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list network zones: %w", err)
	}
	defer rows.Close()
	out := []*networkzone.Zone{}
	for rows.Next() {
		z, err := scanNetworkZone(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, z)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list network zones: %w", err)
	}
	return out, nil
}

// UpdateNetworkZone replaces the stored zone with z's id by z.
func (db *DB) UpdateNetworkZone(ctx context.Context, z *networkzone.Zone) error {
	alts, err := encodeAlternatives(z)
	if err != nil {
		return fmt.Errorf("update network zone %s: %w", z.ID, err)
	}
	res, err := db.write.ExecContext(ctx, `UPDATE network_zones SET description = ?, alternative_zones = ?, fallback_mode = ? WHERE id = ?`,
		z.Description, alts, string(z.FallbackMode), z.ID)
	return affected(res, err, "network zone")
}

// DeleteNetworkZone removes the zone with the given id.
func (db *DB) DeleteNetworkZone(ctx context.Context, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM network_zones WHERE id = ?`, id)
	return affected(res, err, "network zone")
}
