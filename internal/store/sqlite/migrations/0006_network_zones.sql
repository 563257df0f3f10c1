-- Network zones (SPEC 4.7). id is the lower-case form networkzone.Normalize
-- returns, compared bytewise (BINARY) like Go strings, which is the list
-- order. alternative_zones holds the alternative zone ids as a JSON array in
-- the order given; they need not name stored zones.
CREATE TABLE network_zones (
    id                TEXT PRIMARY KEY,
    description       TEXT NOT NULL DEFAULT '',
    alternative_zones TEXT NOT NULL DEFAULT '[]',
    fallback_mode     TEXT NOT NULL
);
