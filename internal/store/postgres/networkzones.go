package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

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

func scanNetworkZone(row pgx.Row) (*networkzone.Zone, error) {
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
	_, err = db.pool.Exec(ctx, `INSERT INTO network_zones (`+networkZoneColumns+`) VALUES ($1,$2,$3,$4)`,
		z.ID, z.Description, alts, string(z.FallbackMode))
	return formatError(err, "network zone")
}

// FindNetworkZone returns the zone with the given id.
func (db *DB) FindNetworkZone(ctx context.Context, id string) (*networkzone.Zone, error) {
	z, err := scanNetworkZone(db.pool.QueryRow(ctx, `SELECT `+networkZoneColumns+` FROM network_zones WHERE id = $1`, id))
	if err != nil {
		return nil, formatError(err, "network zone")
	}
	return z, nil
}

// FindNetworkZones returns every zone, sorted by id.
func (db *DB) FindNetworkZones(ctx context.Context) ([]*networkzone.Zone, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+networkZoneColumns+` FROM network_zones ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list network zones: %w", formatError(err, "network zone"))
	}
	defer rows.Close()
	out := []*networkzone.Zone{}
	for rows.Next() {
		z, err := scanNetworkZone(rows)
		if err != nil {
			return nil, formatError(err, "network zone")
		}
		out = append(out, z)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list network zones: %w", formatError(err, "network zone"))
	}
	return out, nil
}

// UpdateNetworkZone replaces the stored zone with z's id by z.
func (db *DB) UpdateNetworkZone(ctx context.Context, z *networkzone.Zone) error {
	alts, err := encodeAlternatives(z)
	if err != nil {
		return fmt.Errorf("update network zone %s: %w", z.ID, err)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE network_zones SET description = $1, alternative_zones = $2, fallback_mode = $3 WHERE id = $4`,
		z.Description, alts, string(z.FallbackMode), z.ID)
	return affected(tag, err, "network zone")
}

// DeleteNetworkZone removes the zone with the given id.
func (db *DB) DeleteNetworkZone(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM network_zones WHERE id = $1`, id)
	return affected(tag, err, "network zone")
}
